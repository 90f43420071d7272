//! pinlog-bench's own Kafka client: glommio, pipelined, on pinlog's protocol crate.
//!
//! A [`Connection`] is one TCP connection shared (`Rc`) by any number of tasks on one glommio
//! executor. Each call encodes its request, queues the frame for the connection's writer task
//! and waits for the response the reader task matches to it by correlation id, so many
//! requests are in flight at once (up to [`REQUESTS_IN_FLIGHT_MAX`]) and a few cores can
//! saturate a broker. Calls are in [`calls`]: Metadata, CreateTopics, Produce, Fetch,
//! ListOffsets — what a load generator needs, at fixed versions that Apache Kafka 2.7+,
//! Redpanda and pinlog serve (no ApiVersions negotiation yet).
//!
//! Record data is never copied by the client: Produce sends the caller's `Bytes` as their own
//! chunks, and Fetch hands back slices of the response frame.

mod calls;
mod connection;

use pinlog_protocol::generated::ApiKey;

pub use self::calls::{
    ClusterMetadata, FetchPosition, FetchSpec, FetchedPartition, PartitionMetadata, ProduceBatch,
    ProducePartitionResult, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP,
};
pub use self::connection::Connection;

/// Requests one connection keeps in flight; further calls wait for a slot.
pub const REQUESTS_IN_FLIGHT_MAX: usize = 256;
/// Largest response frame accepted; a larger size prefix means a broken stream.
pub const RESPONSE_BYTES_MAX: usize = 128 * 1024 * 1024;
/// How long a response may take beyond the request's own timeout or max wait.
pub const RESPONSE_GRACE_MS: u64 = 30_000;
/// Bound on establishing a connection.
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Socket read size of the reader task.
const READ_CHUNK_BYTES: usize = 256 * 1024;
/// Small chunks are gathered into one write up to this size.
const COALESCE_BYTES_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("connection to {address} failed: {reason}")]
    Broken { address: String, reason: String },
    #[error("{api:?} request to {address}: no response within {waited_ms} ms")]
    Timeout {
        address: String,
        api: ApiKey,
        waited_ms: u64,
    },
    #[error("encoding the {api:?} request: {reason}")]
    Encode { api: ApiKey, reason: String },
    #[error("decoding the {api:?} response from {address}: {reason}")]
    Decode {
        address: String,
        api: ApiKey,
        reason: String,
    },
    #[error("a {api:?} request was answered with a {got:?} response")]
    UnexpectedResponse { api: ApiKey, got: ApiKey },
    #[error("{api:?} answered error code {code} ({name}) for {context}")]
    Kafka {
        api: ApiKey,
        code: i16,
        name: String,
        context: String,
    },
}

impl ClientError {
    /// The error for Kafka error `code` (non-zero) of `api` about `context`.
    pub fn kafka(api: ApiKey, code: i16, context: impl Into<String>) -> ClientError {
        ClientError::Kafka {
            api,
            code,
            name: error_name(code),
            context: context.into(),
        }
    }
}

/// The Kafka name of error `code`, or "unknown".
pub fn error_name(code: i16) -> String {
    pinlog_protocol::error_code::ErrorCode::from_code(code)
        .map_or_else(|| "unknown".to_string(), |error| format!("{error}"))
}

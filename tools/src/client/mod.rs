//! A small blocking Kafka client on pinlog's own protocol crate, for the operator commands.
//!
//! [`Connection`] is one TCP connection that sends a request and waits for its response
//! (no pipelining): frames are bounded ([`RESPONSE_BYTES_MAX`]) and every read and write has a
//! timeout, so a broker that hangs or sends garbage gives an error, never a stuck command.
//! [`Client`] holds the bootstrap connection and one connection per other broker it had to
//! reach: a group coordinator found with FindCoordinator, or a partition leader named by
//! Metadata (pinlog is a single node, so both are normally the bootstrap broker itself).
//! The typed calls the commands use live by concern: [`groups`], [`topics`] (partitions and
//! offsets), [`admin`] (create, delete, configs), [`cluster`] (ApiVersions, DescribeCluster,
//! Metadata) and [`records`] (Produce, Fetch).
//!
//! Request versions are fixed per API (the newest that pinlog and Kafka 2.4+ brokers both
//! serve); ApiVersions negotiation can come when the client talks to other brokers.

pub mod admin;
pub mod cluster;
mod connection;
pub mod groups;
pub mod membership;
pub mod records;
pub mod topics;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::time::Duration;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::{ApiKey, RequestBody, ResponseBody};

pub use self::connection::Connection;

/// Largest response frame accepted; a larger size prefix means a broken stream.
pub const RESPONSE_BYTES_MAX: usize = 100 * 1024 * 1024;
/// Bound on connecting, and on each read and write of a request or response.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// `client.id` in request headers, as the broker logs it.
pub const CLIENT_ID: &str = "pinlog-cli";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot resolve {address}: {source}")]
    Resolve {
        address: String,
        source: std::io::Error,
    },
    #[error("connecting to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("{api:?} request to {address}: {source}")]
    Io {
        address: String,
        api: ApiKey,
        source: std::io::Error,
    },
    #[error(
        "{api:?} response from {address} announces {size} bytes (at most {RESPONSE_BYTES_MAX})"
    )]
    FrameTooLarge {
        address: String,
        api: ApiKey,
        size: i64,
    },
    #[error("{api:?} response from {address} carries correlation id {got}, expected {expected}")]
    CorrelationMismatch {
        address: String,
        api: ApiKey,
        expected: i32,
        got: i32,
    },
    #[error("decoding the {api:?} response from {address}: {reason}")]
    Decode {
        address: String,
        api: ApiKey,
        reason: String,
    },
    #[error("the {api:?} response has no answer for {what}")]
    Missing { api: ApiKey, what: String },
    #[error("a {api:?} request was answered with a {got:?} response")]
    UnexpectedResponse { api: ApiKey, got: ApiKey },
    #[error("encoding the {api:?} request: {reason}")]
    Encode { api: ApiKey, reason: String },
    #[error("{api:?} answered {error}{}", context.as_deref().map(|c| format!(" for {c}")).unwrap_or_default())]
    Kafka {
        api: ApiKey,
        error: KafkaError,
        context: Option<String>,
    },
}

/// A Kafka error code, known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaError {
    Known(ErrorCode),
    Unknown(i16),
}

impl KafkaError {
    /// `None` for code 0, the error otherwise.
    pub fn from_code(code: i16) -> Option<KafkaError> {
        match ErrorCode::from_code(code) {
            Some(ErrorCode::None) => None,
            Some(error) => Some(KafkaError::Known(error)),
            None => Some(KafkaError::Unknown(code)),
        }
    }
}

impl std::fmt::Display for KafkaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KafkaError::Known(error) => write!(f, "{error}"),
            KafkaError::Unknown(code) => write!(f, "unknown error code {code}"),
        }
    }
}

/// The bootstrap connection and the connections to other brokers, by address.
pub struct Client {
    bootstrap: Connection,
    others: HashMap<String, Connection>,
}

impl Client {
    /// Connects to the first broker of `bootstrap` (`host:port[,host:port...]`, Kafka's
    /// `bootstrap.servers`) that answers, trying them in order.
    pub fn connect(bootstrap: &str) -> Result<Client, ClientError> {
        let mut last_error = None;
        for address in bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match Connection::open(address) {
                Ok(connection) => {
                    return Ok(Client {
                        bootstrap: connection,
                        others: HashMap::new(),
                    })
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| ClientError::Resolve {
            address: bootstrap.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no broker address"),
        }))
    }

    /// Sends `body` at `version` to the bootstrap broker.
    pub fn send(&mut self, version: i16, body: RequestBody) -> Result<ResponseBody, ClientError> {
        self.bootstrap.send(version, body)
    }

    /// The connection to the broker at `address`, opened on first use.
    pub(crate) fn connection_to(&mut self, address: &str) -> Result<&mut Connection, ClientError> {
        if address == self.bootstrap.address() {
            return Ok(&mut self.bootstrap);
        }
        Ok(match self.others.entry(address.to_string()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(Connection::open(address)?),
        })
    }
}

/// `Err` with `context` when `code` is an error.
fn check(api: ApiKey, code: i16, context: impl FnOnce() -> String) -> Result<(), ClientError> {
    match KafkaError::from_code(code) {
        None => Ok(()),
        Some(error) => Err(ClientError::Kafka {
            api,
            error,
            context: Some(context()),
        }),
    }
}

/// [`check`], with the broker's error message (when it sent one) after the context.
fn check_with_message(
    api: ApiKey,
    code: i16,
    message: Option<&str>,
    context: impl FnOnce() -> String,
) -> Result<(), ClientError> {
    check(api, code, || match message.filter(|m| !m.is_empty()) {
        Some(message) => format!("{} ({message})", context()),
        None => context(),
    })
}

/// The error for a response of another API than the request's.
fn unexpected(api: ApiKey, body: &ResponseBody) -> ClientError {
    ClientError::UnexpectedResponse {
        api,
        got: body.api_key(),
    }
}

//! The Kafka wire protocol, sans I/O.
//!
//! - [`wire`]: the bounded reader and chunked writer that all codecs use.
//! - [`generated`]: every request, response and data message of Apache Kafka's JSON specs, with
//!   `decode`, `encode` and `encoded_len` at every valid version (emitted by `pinlog-codegen`).
//! - [`frame`] and [`header`]: length-prefixed frames and request/response headers.
//! - [`records`]: RecordBatch v2 view, validation, builder, CRC32C and compression.
//! - [`error_code`]: Kafka's error table, the one place error codes are defined.
//!
//! Nothing here touches a socket, a file or a runtime, so every decoder can be fuzzed.

pub mod error_code;
pub mod frame;
pub mod limits;
pub mod wire;
#[rustfmt::skip]
pub mod generated;
pub mod header;
pub mod records;
#[cfg(feature = "testing")]
pub mod testing;

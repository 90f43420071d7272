//! RecordBatch v2: view, validation, builder, CRC32C and compression.
//!
//! Kafka stores and serves record batches as opaque bytes; so does pinlog. This module reads
//! them in place rather than decoding them into owned structures:
//!
//! - [`Batches`] splits a buffer of concatenated batches into [`RecordBatch`] views (slices of
//!   the same `Bytes`, no copy).
//! - [`RecordBatch`] reads header fields where they lie and validates in three steps of
//!   increasing cost (see [`batch`]): header + CRC32C, the produce rules, every record.
//! - [`RecordBatch::records`] iterates [`Record`]s lazily; keys, values and headers are slices
//!   of the batch, or of the single buffer a compressed batch is decompressed into.
//! - [`set_base_offset`] and [`set_partition_leader_epoch`] patch a batch in place on append;
//!   the CRC does not cover them, so the bytes a client sent are the bytes a fetch returns.
//! - [`BatchBuilder`] writes batches (clients, tests, transaction markers).
//! - [`compression`] holds the codecs, with decompression capped against bombs; [`crc`] the
//!   SIMD CRC32C.
//!
//! Everything is bounded by the input: no length or count read from a batch sizes an
//! allocation before it has been checked against the bytes that remain or a named limit.
//! Errors are typed and name the field and its byte position.

pub mod batch;
pub mod batches;
pub mod builder;
pub mod compression;
pub mod control;
pub mod crc;
pub mod layout;
mod parse;
pub mod record;
mod snappy;
pub mod varint;

pub use batch::{BatchError, RecordBatch, TimestampType, MAGIC_V2};
pub use batches::{set_base_offset, set_log_append_time, set_partition_leader_epoch, Batches};
pub use builder::{BatchBuilder, BuildError, NewRecord, ProducerFields};
pub use compression::{compress, decompress, Compression, CompressionError};
pub use control::{ControlError, ControlKey, ControlMarker, ControlType, EndTxnMarker};
pub use crc::{crc32c, Crc32c};
pub use record::{
    Header, HeaderIter, Headers, Record, RecordError, RecordErrorKind, RecordField, Records,
};

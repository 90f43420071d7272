//! RecordBatch v2: view, validation, builder, CRC32C and compression.
//!
//! - [`compression`] holds the codecs, with decompression capped against bombs; [`crc`] the
//!   SIMD CRC32C.

pub mod compression;
pub mod crc;
pub mod layout;
mod snappy;

pub use compression::{compress, decompress, Compression, CompressionError};
pub use crc::{crc32c, Crc32c};

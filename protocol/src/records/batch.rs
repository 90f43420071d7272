//! The RecordBatch v2 view: header accessors over the batch's own bytes, and validation.
//!
//! ```text
//! byte  field                 type  notes
//!    0  baseOffset            i64   rewritten by the broker on append (not under the CRC)
//!    8  batchLength           i32   bytes after this field: total length - 12
//!   12  partitionLeaderEpoch  i32   rewritten by the broker on append (not under the CRC)
//!   16  magic                 i8    2
//!   17  crc                   u32   CRC32C of bytes 21..end
//!   21  attributes            i16   bits 0-2 codec, 3 timestamp type, 4 transactional,
//!                                   5 control, 6 delete horizon
//!   23  lastOffsetDelta       i32
//!   27  baseTimestamp         i64
//!   35  maxTimestamp          i64
//!   43  producerId            i64
//!   51  producerEpoch         i16
//!   53  baseSequence          i32
//!   57  recordsCount          i32
//!   61  records               the records, compressed as a whole when the codec is not none
//! ```
//!
//! Validation is split by cost, and by who may send what:
//!
//! - [`RecordBatch::validate_header`]: lengths, magic, CRC32C, codec id, recordsCount and
//!   lastOffsetDelta. One pass over the bytes (the CRC), no allocation. Enough for recovery:
//!   the CRC proves the batch is the one that was validated when it was appended.
//! - [`RecordBatch::validate_produce`]: header-only rules Kafka's `LogValidator` applies to
//!   batches from clients (baseOffset 0, lastOffsetDelta + 1 == recordsCount, no control
//!   batches, a sequence when there is a producer id).
//! - [`RecordBatch::validate_records`]: the framing of every record, decompressing under a cap
//!   when the batch is compressed. This is the costly one.
//!
//! On produce the broker calls all three (then rewrites baseOffset and partitionLeaderEpoch,
//! see [`set_base_offset`](super::set_base_offset)); a fetch serves the stored bytes untouched.

use bytes::Bytes;

use super::compression::{decompress, Compression, CompressionError};
use super::crc::crc32c;
use super::layout::{self, attributes as attr};
use super::record::{BatchContext, RecordError, Records};

/// The only batch format pinlog accepts (Kafka 4 accepts only this one on produce).
pub const MAGIC_V2: i8 = 2;

/// What the timestamps of a batch mean (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Set by the producer.
    Create,
    /// Set by the broker on append; every record's timestamp is then the batch's maxTimestamp.
    LogAppend,
}

/// Why a batch is invalid, naming the field and its byte position in the batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("batch at byte {position}: needs {needed} bytes, {available} available")]
    Truncated {
        position: usize,
        needed: usize,
        available: usize,
    },
    #[error("batchLength at byte 8 is {batch_length}, but {actual} bytes follow it")]
    LengthMismatch { batch_length: i32, actual: usize },
    #[error("batchLength at byte {position} is {batch_length}, below the 49-byte minimum")]
    LengthTooSmall { position: usize, batch_length: i32 },
    #[error("magic at byte 16 is {0}, only 2 is supported")]
    UnsupportedMagic(i8),
    #[error("crc at byte 17 is {stored:#010x}, but bytes 21..{end} give {computed:#010x}")]
    CrcMismatch {
        stored: u32,
        computed: u32,
        end: usize,
    },
    #[error("attributes at byte 21: {0}")]
    Attributes(CompressionError),
    #[error("recordsCount at byte 57 is negative: {0}")]
    NegativeRecordsCount(i32),
    #[error(
        "lastOffsetDelta at byte 23 is {last_offset_delta}, too small for {records_count} records"
    )]
    LastOffsetDeltaTooSmall {
        last_offset_delta: i32,
        records_count: i32,
    },
    #[error("baseOffset at byte 0 is {0}; a produced batch must start at 0")]
    ProducedBaseOffset(i64),
    #[error("a produced batch must hold at least one record")]
    ProducedEmpty,
    #[error("lastOffsetDelta {last_offset_delta} + 1 != recordsCount {records_count} in a produced batch")]
    ProducedOffsetRange {
        last_offset_delta: i32,
        records_count: i32,
    },
    #[error("clients may not write control batches")]
    ProducedControl,
    #[error("baseSequence at byte 53 is {base_sequence} for producerId {producer_id}")]
    ProducedSequence {
        producer_id: i64,
        base_sequence: i32,
    },
    #[error("decompressing records at byte 61: {0}")]
    Decompress(CompressionError),
    #[error("{0}")]
    Record(RecordError),
    #[error("{codec:?}-decompressed {source}")]
    DecompressedRecord {
        codec: Compression,
        source: RecordError,
    },
}

/// A view of one RecordBatch v2 over its bytes: accessors read the header in place, records are
/// slices of the same buffer. Construction checks only that the fixed header is present; call
/// the `validate_*` methods (see the module docs) before trusting anything else.
///
/// Owned data (`Bytes`), no shard-local state: it may be moved between shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    bytes: Bytes,
}

impl RecordBatch {
    /// A view over `bytes`, which must hold at least the 61-byte header.
    pub fn new(bytes: Bytes) -> Result<Self, BatchError> {
        if bytes.len() < layout::HEADER_BYTES {
            return Err(BatchError::Truncated {
                position: 0,
                needed: layout::HEADER_BYTES,
                available: bytes.len(),
            });
        }
        Ok(RecordBatch { bytes })
    }

    /// The whole batch, header included.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Total size in bytes, header included.
    pub fn size_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The records section (compressed if the codec is not none), without copying.
    pub fn records_bytes(&self) -> Bytes {
        self.bytes.slice(layout::HEADER_BYTES..)
    }

    pub fn base_offset(&self) -> i64 {
        i64::from_be_bytes(self.field(layout::BASE_OFFSET))
    }

    pub fn batch_length(&self) -> i32 {
        i32::from_be_bytes(self.field(layout::BATCH_LENGTH))
    }

    pub fn partition_leader_epoch(&self) -> i32 {
        i32::from_be_bytes(self.field(layout::PARTITION_LEADER_EPOCH))
    }

    pub fn magic(&self) -> i8 {
        i8::from_be_bytes(self.field(layout::MAGIC))
    }

    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(self.field(layout::CRC))
    }

    pub fn attributes(&self) -> i16 {
        i16::from_be_bytes(self.field(layout::ATTRIBUTES))
    }

    pub fn compression(&self) -> Result<Compression, CompressionError> {
        Compression::from_attributes(self.attributes())
    }

    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes() & attr::TIMESTAMP_TYPE != 0 {
            TimestampType::LogAppend
        } else {
            TimestampType::Create
        }
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes() & attr::TRANSACTIONAL != 0
    }

    pub fn is_control(&self) -> bool {
        self.attributes() & attr::CONTROL != 0
    }

    pub fn has_delete_horizon(&self) -> bool {
        self.attributes() & attr::DELETE_HORIZON != 0
    }

    pub fn last_offset_delta(&self) -> i32 {
        i32::from_be_bytes(self.field(layout::LAST_OFFSET_DELTA))
    }

    /// baseOffset + lastOffsetDelta (wrapping, like Java, on a hostile header).
    pub fn last_offset(&self) -> i64 {
        self.base_offset()
            .wrapping_add(i64::from(self.last_offset_delta()))
    }

    pub fn base_timestamp(&self) -> i64 {
        i64::from_be_bytes(self.field(layout::BASE_TIMESTAMP))
    }

    pub fn max_timestamp(&self) -> i64 {
        i64::from_be_bytes(self.field(layout::MAX_TIMESTAMP))
    }

    pub fn producer_id(&self) -> i64 {
        i64::from_be_bytes(self.field(layout::PRODUCER_ID))
    }

    pub fn producer_epoch(&self) -> i16 {
        i16::from_be_bytes(self.field(layout::PRODUCER_EPOCH))
    }

    pub fn base_sequence(&self) -> i32 {
        i32::from_be_bytes(self.field(layout::BASE_SEQUENCE))
    }

    pub fn records_count(&self) -> i32 {
        i32::from_be_bytes(self.field(layout::RECORDS_COUNT))
    }

    /// CRC32C of the covered region (attributes to the end).
    pub fn compute_crc(&self) -> u32 {
        crc32c(self.bytes.get(layout::CRC_START..).unwrap_or_default())
    }

    /// Checks the header and the CRC. See the module docs for what each validation covers.
    ///
    /// Kafka's `DefaultRecordBatch` does not compare lastOffsetDelta with recordsCount at all;
    /// its `LogValidator` demands `lastOffsetDelta == recordsCount - 1` of client batches only
    /// (that is [`validate_produce`](Self::validate_produce)), because the log cleaner removes
    /// records and keeps lastOffsetDelta, down to batches with no records. pinlog requires here
    /// what any batch must satisfy for its records' strictly increasing deltas to fit in
    /// `0..=lastOffsetDelta`: lastOffsetDelta >= 0 and >= recordsCount - 1.
    pub fn validate_header(&self) -> Result<(), BatchError> {
        let actual = self.bytes.len() - layout::LOG_OVERHEAD_BYTES;
        let batch_length = self.batch_length();
        if usize::try_from(batch_length) != Ok(actual) {
            return Err(BatchError::LengthMismatch {
                batch_length,
                actual,
            });
        }
        if self.magic() != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(self.magic()));
        }
        let computed = self.compute_crc();
        if computed != self.crc() {
            return Err(BatchError::CrcMismatch {
                stored: self.crc(),
                computed,
                end: self.bytes.len(),
            });
        }
        self.compression().map_err(BatchError::Attributes)?;
        let records_count = self.records_count();
        if records_count < 0 {
            return Err(BatchError::NegativeRecordsCount(records_count));
        }
        let last_offset_delta = self.last_offset_delta();
        if last_offset_delta < 0 || last_offset_delta < records_count - 1 {
            return Err(BatchError::LastOffsetDeltaTooSmall {
                last_offset_delta,
                records_count,
            });
        }
        Ok(())
    }

    /// The rules of Kafka's `LogValidator.validateBatch` and `UnifiedLog` for batches that come
    /// from a client, on top of [`validate_header`](Self::validate_header).
    pub fn validate_produce(&self) -> Result<(), BatchError> {
        if self.base_offset() != 0 {
            return Err(BatchError::ProducedBaseOffset(self.base_offset()));
        }
        let records_count = self.records_count();
        if records_count <= 0 {
            return Err(BatchError::ProducedEmpty);
        }
        let last_offset_delta = self.last_offset_delta();
        if i64::from(last_offset_delta) + 1 != i64::from(records_count) {
            return Err(BatchError::ProducedOffsetRange {
                last_offset_delta,
                records_count,
            });
        }
        if self.is_control() {
            return Err(BatchError::ProducedControl);
        }
        if self.producer_id() >= 0 && self.base_sequence() < 0 {
            return Err(BatchError::ProducedSequence {
                producer_id: self.producer_id(),
                base_sequence: self.base_sequence(),
            });
        }
        Ok(())
    }

    /// Checks every record (decompressing into at most `decompressed_bytes_max` bytes, see
    /// `limits::DECOMPRESSED_BATCH_BYTES_MAX`); returns the number of records.
    pub fn validate_records(&self, decompressed_bytes_max: usize) -> Result<u32, BatchError> {
        let codec = self.compression().map_err(BatchError::Attributes)?;
        self.records(decompressed_bytes_max)?
            .validate()
            .map_err(|source| match codec {
                Compression::None => BatchError::Record(source),
                codec => BatchError::DecompressedRecord { codec, source },
            })
    }

    /// The records, lazily. A compressed batch is decompressed here, into one buffer of at
    /// most `decompressed_bytes_max` bytes that the records then slice.
    pub fn records(&self, decompressed_bytes_max: usize) -> Result<Records, BatchError> {
        let records_count = u32::try_from(self.records_count())
            .map_err(|_| BatchError::NegativeRecordsCount(self.records_count()))?;
        let log_append_time = match self.timestamp_type() {
            TimestampType::LogAppend => Some(self.max_timestamp()),
            TimestampType::Create => None,
        };
        let context = BatchContext {
            base_offset: self.base_offset(),
            base_timestamp: self.base_timestamp(),
            last_offset_delta: self.last_offset_delta(),
            log_append_time,
            records_count,
        };
        let body = self.records_bytes();
        match self.compression().map_err(BatchError::Attributes)? {
            Compression::None => Ok(Records::new(body, layout::HEADER_BYTES, context)),
            codec => {
                let plain = decompress(codec, &body, decompressed_bytes_max)
                    .map_err(BatchError::Decompress)?;
                Ok(Records::new(Bytes::from(plain), 0, context))
            }
        }
    }

    /// The `N` header bytes at `at`.
    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        // `new` refused buffers shorter than the header and `Bytes` is immutable, so every
        // header field is present; the fallback only keeps this free of panics.
        self.bytes
            .get(at..at + N)
            .and_then(|bytes| bytes.try_into().ok())
            .unwrap_or([0; N])
    }
}

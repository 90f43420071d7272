//! Byte positions of the RecordBatch v2 header and the meaning of its attribute bits (the
//! table is in [`batch`](super::batch)).

/// Size of the fixed header; records start here.
pub const HEADER_BYTES: usize = 61;
/// baseOffset and batchLength, the part of a batch that batchLength does not count.
pub const LOG_OVERHEAD_BYTES: usize = 12;
/// Smallest valid batchLength: a header with no records.
pub const BATCH_LENGTH_MIN: usize = HEADER_BYTES - LOG_OVERHEAD_BYTES;

pub const BASE_OFFSET: usize = 0;
pub const BATCH_LENGTH: usize = 8;
pub const PARTITION_LEADER_EPOCH: usize = 12;
pub const MAGIC: usize = 16;
pub const CRC: usize = 17;
pub const ATTRIBUTES: usize = 21;
pub const LAST_OFFSET_DELTA: usize = 23;
pub const BASE_TIMESTAMP: usize = 27;
pub const MAX_TIMESTAMP: usize = 35;
pub const PRODUCER_ID: usize = 43;
pub const PRODUCER_EPOCH: usize = 51;
pub const BASE_SEQUENCE: usize = 53;
pub const RECORDS_COUNT: usize = 57;

/// The CRC covers everything from the attributes to the end of the batch, so the fields before
/// it (baseOffset, batchLength, partitionLeaderEpoch, magic) can be rewritten without it.
pub const CRC_START: usize = ATTRIBUTES;

const _: () = assert!(RECORDS_COUNT + 4 == HEADER_BYTES);
const _: () = assert!(CRC + 4 == CRC_START);

/// Attribute bits.
pub mod attributes {
    /// Bits 0-2: the codec (see `Compression::from_attributes`).
    pub const COMPRESSION_MASK: i16 = 0x07;
    /// Bit 3: LogAppendTime when set, CreateTime when clear.
    pub const TIMESTAMP_TYPE: i16 = 1 << 3;
    pub const TRANSACTIONAL: i16 = 1 << 4;
    pub const CONTROL: i16 = 1 << 5;
    /// Bit 6: baseTimestamp holds the delete horizon of a compacted batch (KIP-534).
    pub const DELETE_HORIZON: i16 = 1 << 6;
}

//! The producer state snapshot: a `<offset:020>.snapshot` file's contents.
//!
//! The log writes one periodically; on recovery it loads the newest snapshot whose offset is
//! at most the recovered log end (a snapshot beyond a truncated tail describes batches that are
//! gone) and replays the batches from that offset on. The offset is the *next* offset: every
//! batch below it is in the snapshot, no batch at or above it is (Kafka names its snapshot
//! files the same way).
//!
//! Layout, all integers big-endian:
//!
//! ```text
//! magic           4  b"PLPS"
//! version         2  u16, 1
//! crc             4  u32, CRC32C of every byte after this field
//! next_offset     8  i64 >= 0
//! producer_count  4  u32 <= PRODUCER_STATE_PRODUCERS_MAX
//! producer_count times, least recently appended first:
//!   producer_id     8  i64 >= 0, each at most once
//!   epoch           2  i16
//!   last_timestamp  8  i64
//!   batch_count     1  u8 <= PRODUCER_BATCHES_RETAINED_MAX
//!   batch_count times, oldest first:
//!     first_sequence  4  i32 >= 0
//!     last_sequence   4  i32 >= 0
//!     first_offset    8  i64, 0 <= first_offset <= last_offset < next_offset
//!     last_offset     8  i64, above the previous batch's last_offset
//!     max_timestamp   8  i64
//! ```
//!
//! Unlike Kafka's snapshot, which keeps one batch per producer, all retained batches are kept,
//! so a retry that crosses a restart is still recognised as a duplicate.
//!
//! Decoding checks the CRC before it reads anything else, and checks every count against the
//! bytes that remain before it reserves memory for it.

use pinlog_protocol::records::crc32c;

use super::{AppendedBatch, BatchMetadata, ProducerStateTable};
use crate::limits::{PRODUCER_BATCHES_RETAINED_MAX, PRODUCER_STATE_PRODUCERS_MAX};

const MAGIC: [u8; 4] = *b"PLPS";
const VERSION: u16 = 1;
const CRC_START: usize = 4 + 2;
const BODY_START: usize = CRC_START + 4;
const HEADER_BYTES: usize = BODY_START + 8 + 4;
const PRODUCER_FIXED_BYTES: usize = 8 + 2 + 8 + 1;
const BATCH_BYTES: usize = 4 + 4 + 8 + 8 + 8;

/// Largest snapshot [`ProducerStateTable::encode_snapshot`] can produce.
pub const SNAPSHOT_BYTES_MAX: usize = HEADER_BYTES
    + PRODUCER_STATE_PRODUCERS_MAX
        * (PRODUCER_FIXED_BYTES + PRODUCER_BATCHES_RETAINED_MAX * BATCH_BYTES);

/// Why a snapshot is not used; the log then falls back to an older one or to the log itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot of {len} bytes is shorter than its {HEADER_BYTES}-byte header")]
    TooShort { len: usize },
    #[error("snapshot does not start with the magic bytes")]
    BadMagic,
    #[error("snapshot version {0} is not supported")]
    UnsupportedVersion(u16),
    #[error("snapshot CRC32C is {stored:#010x}, contents give {computed:#010x}")]
    CrcMismatch { stored: u32, computed: u32 },
    #[error("snapshot ends inside {what} at byte {position}")]
    Truncated { what: &'static str, position: usize },
    #[error("snapshot holds {count} producers, more than the {max} allowed")]
    TooManyProducers { count: u32, max: usize },
    #[error("snapshot next offset {0} is negative")]
    InvalidOffset(i64),
    #[error("snapshot producer {producer_id} is invalid: {reason}")]
    InvalidProducer {
        producer_id: i64,
        reason: &'static str,
    },
    #[error("snapshot has {0} bytes after its last producer")]
    TrailingBytes(usize),
}

impl ProducerStateTable {
    /// Encodes the table; `next_offset` is the offset after the last batch applied to it.
    pub fn encode_snapshot(&self, next_offset: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            HEADER_BYTES + self.len() * (PRODUCER_FIXED_BYTES + 2 * BATCH_BYTES),
        );
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&next_offset.to_be_bytes());
        let count = u32::try_from(self.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for (producer_id, entry) in self.producers_in_recency_order() {
            out.extend_from_slice(&producer_id.to_be_bytes());
            out.extend_from_slice(&entry.epoch.to_be_bytes());
            out.extend_from_slice(&entry.last_timestamp.to_be_bytes());
            out.push(entry.batches.len() as u8);
            for batch in &entry.batches {
                out.extend_from_slice(&batch.first_sequence.to_be_bytes());
                out.extend_from_slice(&batch.last_sequence.to_be_bytes());
                out.extend_from_slice(&batch.appended.first_offset.to_be_bytes());
                out.extend_from_slice(&batch.appended.last_offset.to_be_bytes());
                out.extend_from_slice(&batch.appended.max_timestamp.to_be_bytes());
            }
        }
        let crc = crc32c(&out[BODY_START..]);
        out[CRC_START..BODY_START].copy_from_slice(&crc.to_be_bytes());
        assert!(out.len() <= SNAPSHOT_BYTES_MAX);
        out
    }

    /// Decodes a snapshot into a table bounded by [`PRODUCER_STATE_PRODUCERS_MAX`] and the
    /// snapshot's next offset.
    pub fn decode_snapshot(bytes: &[u8]) -> Result<(ProducerStateTable, i64), SnapshotError> {
        let mut r = Reader { bytes, position: 0 };
        if bytes.len() < HEADER_BYTES {
            return Err(SnapshotError::TooShort { len: bytes.len() });
        }
        if r.array::<4>("magic")? != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let version = u16::from_be_bytes(r.array("version")?);
        if version != VERSION {
            return Err(SnapshotError::UnsupportedVersion(version));
        }
        let stored = u32::from_be_bytes(r.array("crc")?);
        let computed = crc32c(r.rest());
        if stored != computed {
            return Err(SnapshotError::CrcMismatch { stored, computed });
        }
        let next_offset = r.i64("next offset")?;
        if next_offset < 0 {
            return Err(SnapshotError::InvalidOffset(next_offset));
        }
        let count = u32::from_be_bytes(r.array("producer count")?);
        let fits = (count as usize).saturating_mul(PRODUCER_FIXED_BYTES) <= r.rest().len();
        if count as usize > PRODUCER_STATE_PRODUCERS_MAX {
            return Err(SnapshotError::TooManyProducers {
                count,
                max: PRODUCER_STATE_PRODUCERS_MAX,
            });
        }
        if !fits {
            return Err(SnapshotError::Truncated {
                what: "the producer list",
                position: r.position,
            });
        }
        let mut table = ProducerStateTable::new();
        table.producers.reserve(count as usize);
        for _ in 0..count {
            let (producer_id, epoch, batches, last_timestamp) =
                decode_producer(&mut r, next_offset)?;
            if table.producers.contains_key(&producer_id) {
                return Err(invalid(producer_id, "appears twice"));
            }
            table.insert_most_recent(producer_id, epoch, batches, last_timestamp);
        }
        if !r.rest().is_empty() {
            return Err(SnapshotError::TrailingBytes(r.rest().len()));
        }
        assert_eq!(table.len(), count as usize);
        Ok((table, next_offset))
    }
}

type DecodedProducer = (i64, i16, Vec<BatchMetadata>, i64);

fn decode_producer(r: &mut Reader<'_>, next_offset: i64) -> Result<DecodedProducer, SnapshotError> {
    let producer_id = r.i64("producer id")?;
    if producer_id < 0 {
        return Err(invalid(producer_id, "negative producer id"));
    }
    let epoch = i16::from_be_bytes(r.array("epoch")?);
    let last_timestamp = r.i64("last timestamp")?;
    let [batch_count] = r.array::<1>("batch count")?;
    let batch_count = usize::from(batch_count);
    if batch_count > PRODUCER_BATCHES_RETAINED_MAX {
        return Err(invalid(producer_id, "more batches than are retained"));
    }
    if batch_count * BATCH_BYTES > r.rest().len() {
        return Err(SnapshotError::Truncated {
            what: "a producer's batches",
            position: r.position,
        });
    }
    let mut batches = Vec::with_capacity(batch_count);
    let mut previous_last_offset = -1;
    for _ in 0..batch_count {
        let batch = BatchMetadata {
            first_sequence: r.i32("first sequence")?,
            last_sequence: r.i32("last sequence")?,
            appended: AppendedBatch {
                first_offset: r.i64("first offset")?,
                last_offset: r.i64("last offset")?,
                max_timestamp: r.i64("max timestamp")?,
            },
        };
        if batch.first_sequence < 0 || batch.last_sequence < 0 {
            return Err(invalid(producer_id, "negative sequence"));
        }
        let a = batch.appended;
        if a.first_offset <= previous_last_offset
            || a.first_offset > a.last_offset
            || a.last_offset >= next_offset
        {
            return Err(invalid(
                producer_id,
                "batch offsets out of order or beyond the snapshot",
            ));
        }
        previous_last_offset = a.last_offset;
        batches.push(batch);
    }
    Ok((producer_id, epoch, batches, last_timestamp))
}

fn invalid(producer_id: i64, reason: &'static str) -> SnapshotError {
    SnapshotError::InvalidProducer {
        producer_id,
        reason,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &[u8] {
        self.bytes.get(self.position..).unwrap_or_default()
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], SnapshotError> {
        let truncated = || SnapshotError::Truncated {
            what,
            position: self.position,
        };
        let slice = self.rest().get(..N).ok_or_else(truncated)?;
        let array = <[u8; N]>::try_from(slice).map_err(|_| truncated())?;
        self.position += N;
        Ok(array)
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, SnapshotError> {
        self.array(what).map(i32::from_be_bytes)
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, SnapshotError> {
        self.array(what).map(i64::from_be_bytes)
    }
}

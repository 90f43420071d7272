//! The sparse indexes of a segment, in Kafka's file formats, without I/O.
//!
//! - [`OffsetIndex`] (`.index`): entries of 8 bytes, `relative offset: u32 BE` then
//!   `position: u32 BE`. An entry `(o, p)` says the batch whose last offset is `o` starts at
//!   byte `p` of the `.log` file. Offsets and positions strictly increase.
//! - [`TimeIndex`] (`.timeindex`): entries of 12 bytes, `timestamp: i64 BE` then
//!   `relative offset: u32 BE`. An entry `(t, o)` says that `t` is the largest timestamp of the
//!   batches up to offset `o`: any record with a timestamp above `t` comes after `o`.
//!   Timestamps strictly increase; offsets never decrease.
//!
//! Offsets are stored relative to the segment's base offset and must fit Kafka's non-negative
//! `int` (at most `i32::MAX` above the base); the APIs take and return absolute offsets.
//!
//! [`SegmentIndexes`] drives both as Kafka's `LogSegment` does (`append`, `recover`,
//! `onBecomeInactiveSegment`, `findOffsetByTimestamp`): for every appended batch it tracks the
//! largest timestamp so far, and once more than `index.interval.bytes` bytes were appended
//! since the last entry it adds an offset index entry for the batch and a time index entry for
//! the largest timestamp so far.
//!
//! Files may be pre-allocated with zeros and are never trusted: [`OffsetIndex::from_bytes`] and
//! [`TimeIndex::from_bytes`] stop at the first all-zero entry, require zeros after it, and
//! check the entry size, the monotonic order and the entry count. No real entry is all zeros:
//! an offset entry always has a non-zero position, and the time index never stores
//! `(timestamp 0, base offset)`, which tells a lookup nothing (it answers the base offset
//! either way). An index that fails these checks, or [`OffsetIndex::sanity_check`] /
//! [`TimeIndex::sanity_check`] against the recovered segment, is rebuilt by recovery from the
//! log.
//!
//! Owned by the shard that owns the segment; not thread-safe.

mod offset;
mod time;

pub use offset::{OffsetIndex, OffsetPosition};
pub use time::{TimeIndex, TimestampOffset};

/// Kafka's `RecordBatch.NO_TIMESTAMP`: what a time lookup below the first entry answers.
pub const NO_TIMESTAMP: i64 = -1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("index of {len} bytes is not a whole number of {entry_bytes}-byte entries")]
    PartialEntry { len: usize, entry_bytes: usize },
    #[error("index of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("index is full ({entries} entries)")]
    Full { entries: usize },
    #[error("offset {offset} is not within i32::MAX above the base offset {base_offset}")]
    OffsetOutOfRange { offset: i64, base_offset: i64 },
    #[error("entry {entry}: offset {offset} does not follow {last_offset}")]
    OffsetNotIncreasing {
        entry: usize,
        offset: i64,
        last_offset: i64,
    },
    #[error("entry {entry}: position {position} does not follow {last_position}")]
    PositionNotIncreasing {
        entry: usize,
        position: u32,
        last_position: u32,
    },
    #[error("entry {entry}: timestamp {timestamp} does not follow {last_timestamp}")]
    TimestampNotIncreasing {
        entry: usize,
        timestamp: i64,
        last_timestamp: i64,
    },
    #[error("non-zero bytes at byte {position}, after the zero entry that ends the index")]
    GarbageAfterEnd { position: usize },
    #[error(
        "last entry points at position {position}, beyond the {data_len} bytes of the segment"
    )]
    PositionBeyondData { position: u32, data_len: u64 },
    #[error("last entry points at offset {offset}, at or beyond the segment's next offset {next_offset}")]
    OffsetBeyondEnd { offset: i64, next_offset: i64 },
    #[error("time index of {time_entries} entries for an offset index of {offset_entries}")]
    TimeIndexLongerThanOffsetIndex {
        time_entries: usize,
        offset_entries: usize,
    },
}

/// What [`SegmentIndexes`] needs to know of an appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedBatch {
    pub last_offset: i64,
    pub max_timestamp: i64,
    /// Byte position of the batch's first byte in the segment's `.log` file.
    pub position: u32,
}

/// The offset and time indexes of one segment, maintained as Kafka's `LogSegment` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentIndexes {
    pub offset: OffsetIndex,
    pub time: TimeIndex,
    /// Largest batch max timestamp seen and the last offset of its batch; `(NO_TIMESTAMP,
    /// base)` before any.
    max_timestamp_so_far: TimestampOffset,
}

impl SegmentIndexes {
    /// Empty indexes of a new segment.
    pub fn new(base_offset: i64, interval_bytes: u32) -> Self {
        Self::from_indexes(
            OffsetIndex::new(base_offset, interval_bytes),
            TimeIndex::new(base_offset),
        )
    }

    /// Indexes loaded from files. The largest timestamp so far starts at the time index's last
    /// entry, as Kafka's does; batches after that entry must be fed to [`Self::observe`] (or
    /// the indexes rebuilt) for it to be exact.
    pub fn from_indexes(offset: OffsetIndex, time: TimeIndex) -> Self {
        assert_eq!(offset.base_offset(), time.base_offset());
        let max_timestamp_so_far = time.last_entry();
        SegmentIndexes {
            offset,
            time,
            max_timestamp_so_far,
        }
    }

    pub fn base_offset(&self) -> i64 {
        self.offset.base_offset()
    }

    /// The largest batch max timestamp seen and the last offset of that batch.
    pub fn max_timestamp_so_far(&self) -> TimestampOffset {
        self.max_timestamp_so_far
    }

    /// Whether the segment must roll: either index has no room for another entry (the time
    /// index keeps its last slot for [`Self::on_roll`]).
    pub fn is_full(&self) -> bool {
        self.offset.is_full() || self.time.is_full()
    }

    /// Whether a batch ending at `last_offset` can go into this segment: its offset must be
    /// representable relative to the base (Kafka's `canConvertToRelativeOffset`); if not, the
    /// log rolls first.
    pub fn can_index(&self, last_offset: i64) -> bool {
        relative_offset(last_offset, self.base_offset()).is_ok()
    }

    /// Indexes a batch just appended to the segment (or read back by recovery). Batches must
    /// come in log order. Returns whether an index entry was added. The log rolls when
    /// [`Self::is_full`]; a batch appended to full indexes is only left unindexed, which costs
    /// lookups a longer scan and nothing else.
    pub fn on_append(&mut self, batch: IndexedBatch) -> Result<bool, IndexError> {
        self.observe(batch.max_timestamp, batch.last_offset);
        if self.is_full() {
            return Ok(false);
        }
        if !self
            .offset
            .maybe_append(batch.last_offset, batch.position)?
        {
            return Ok(false);
        }
        let max = self.max_timestamp_so_far;
        self.time.maybe_append(max.timestamp, max.offset)?;
        Ok(true)
    }

    /// Takes a batch's max timestamp into account without indexing it.
    pub fn observe(&mut self, max_timestamp: i64, last_offset: i64) {
        if max_timestamp > self.max_timestamp_so_far.timestamp {
            self.max_timestamp_so_far = TimestampOffset {
                timestamp: max_timestamp,
                offset: last_offset,
            };
        }
    }

    /// Appends the largest timestamp so far to the time index when the segment stops being the
    /// active one (rolled, closed, recovered), so that retention by time can read a closed
    /// segment's largest timestamp from its time index.
    pub fn on_roll(&mut self) -> Result<(), IndexError> {
        let max = self.max_timestamp_so_far;
        self.time
            .append_final(max.timestamp, max.offset)
            .map(|_| ())
    }

    /// Drops every entry at or beyond `offset` (recovery truncating a torn tail, a replica
    /// truncating a diverged one). The largest timestamp so far falls back to the time index's
    /// last entry; the caller feeds the surviving batches after it to [`Self::observe`].
    pub fn truncate_to(&mut self, offset: i64) {
        self.offset.truncate_to(offset);
        self.time.truncate_to(offset);
        if self.max_timestamp_so_far.offset >= offset {
            self.max_timestamp_so_far = self.time.last_entry();
        }
    }

    /// Recovery's consistency check of both indexes against the segment (Kafka's
    /// `sanityCheck`: the last entries point inside its data and below its next offset) and
    /// against each other: a time index entry is only ever added with an offset index entry,
    /// plus the final one of a rolled segment, so a longer time index belongs elsewhere.
    pub fn sanity_check(
        &self,
        segment_data_len: u64,
        segment_next_offset: i64,
    ) -> Result<(), IndexError> {
        if self.time.len() > self.offset.len() + 1 {
            return Err(IndexError::TimeIndexLongerThanOffsetIndex {
                time_entries: self.time.len(),
                offset_entries: self.offset.len(),
            });
        }
        self.offset.sanity_check(segment_data_len)?;
        self.time.sanity_check(segment_next_offset)
    }

    /// The position from which to scan the segment for the first record with a timestamp at
    /// least `timestamp` and an offset at least `starting_offset` (Kafka's
    /// `LogSegment.findOffsetByTimestamp`). Every batch before the indexed offset has smaller
    /// timestamps, so the scan misses nothing.
    pub fn timestamp_scan_start(&self, timestamp: i64, starting_offset: i64) -> u32 {
        let entry = self.time.lookup(timestamp);
        self.offset
            .lookup(entry.offset.max(starting_offset))
            .position
    }
}

/// `offset - base_offset` when it fits Kafka's relative offset (`0..=i32::MAX`).
fn relative_offset(offset: i64, base_offset: i64) -> Result<u32, IndexError> {
    offset
        .checked_sub(base_offset)
        .filter(|relative| (0..=i64::from(i32::MAX)).contains(relative))
        .map(|relative| relative as u32)
        .ok_or(IndexError::OffsetOutOfRange {
            offset,
            base_offset,
        })
}

/// Validates a file's length and yields its entries: whole entries up to the first all-zero
/// one, which must be followed by zeros only.
fn entries_of<const N: usize>(
    bytes: &[u8],
    entries_max: usize,
) -> Result<impl Iterator<Item = [u8; N]> + '_, IndexError> {
    if !bytes.len().is_multiple_of(N) {
        return Err(IndexError::PartialEntry {
            len: bytes.len(),
            entry_bytes: N,
        });
    }
    let max = entries_max.saturating_mul(N);
    if bytes.len() > max {
        return Err(IndexError::TooLarge {
            len: bytes.len(),
            max,
        });
    }
    let end = bytes
        .chunks_exact(N)
        .position(|chunk| chunk.iter().all(|b| *b == 0))
        .unwrap_or(bytes.len() / N);
    let tail_start = end * N;
    if let Some(garbage) = bytes
        .get(tail_start..)
        .unwrap_or_default()
        .iter()
        .position(|b| *b != 0)
    {
        return Err(IndexError::GarbageAfterEnd {
            position: tail_start + garbage,
        });
    }
    let valid = bytes.get(..tail_start).unwrap_or_default();
    Ok(valid
        .chunks_exact(N)
        .filter_map(|chunk| <[u8; N]>::try_from(chunk).ok()))
}

#[cfg(test)]
mod tests;

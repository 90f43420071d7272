//! The time index (`.timeindex`): Kafka's `TimeIndex`.

use super::{entries_of, relative_offset, IndexError, NO_TIMESTAMP};
use crate::limits::TIME_INDEX_ENTRIES_MAX;

/// A timestamp and an offset: a time index entry, or the answer of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    pub timestamp: i64,
    pub offset: i64,
}

/// Sparse map from the largest timestamp so far to the offset where it was reached.
/// Timestamps strictly increase, offsets never decrease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeIndex {
    base_offset: i64,
    /// (timestamp, relative offset)
    entries: Vec<(i64, u32)>,
}

impl TimeIndex {
    pub const ENTRY_BYTES: usize = 12;

    pub fn new(base_offset: i64) -> Self {
        TimeIndex {
            base_offset,
            entries: Vec::new(),
        }
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Full when only the slot kept for the final entry of a rolled segment is left (Kafka's
    /// `TimeIndex.isFull`).
    pub fn is_full(&self) -> bool {
        self.entries.len() + 1 >= TIME_INDEX_ENTRIES_MAX
    }

    pub fn entries(&self) -> impl ExactSizeIterator<Item = TimestampOffset> + '_ {
        self.entries
            .iter()
            .map(|&(timestamp, relative)| self.absolute(timestamp, relative))
    }

    /// The last entry, or `(NO_TIMESTAMP, base_offset)` when empty (Kafka's `lastEntry`).
    pub fn last_entry(&self) -> TimestampOffset {
        match self.entries.last() {
            Some(&(timestamp, relative)) => self.absolute(timestamp, relative),
            None => self.absolute(NO_TIMESTAMP, 0),
        }
    }

    /// Adds `(timestamp, offset)` if `timestamp` is above the last entry's (Kafka's
    /// `maybeAppend`): the index only records new maxima, and a negative timestamp (no
    /// timestamp) is never indexed. An offset or timestamp below the last entry's is an error.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> Result<bool, IndexError> {
        if self.is_full() {
            return Err(IndexError::Full {
                entries: self.entries.len(),
            });
        }
        self.append_final(timestamp, offset)
    }

    /// [`Self::maybe_append`] into the slot kept for a segment that rolls.
    pub(super) fn append_final(&mut self, timestamp: i64, offset: i64) -> Result<bool, IndexError> {
        let relative = relative_offset(offset, self.base_offset)?;
        let last = self.last_entry();
        if !self.entries.is_empty() && offset < last.offset {
            return Err(IndexError::OffsetNotIncreasing {
                entry: self.entries.len(),
                offset,
                last_offset: last.offset,
            });
        }
        if !self.entries.is_empty() && timestamp < last.timestamp {
            return Err(IndexError::TimestampNotIncreasing {
                entry: self.entries.len(),
                timestamp,
                last_timestamp: last.timestamp,
            });
        }
        // (0, base offset) would read back as the zeros that end a pre-allocated file.
        if timestamp <= last.timestamp || (timestamp, relative) == (0, 0) {
            return Ok(false);
        }
        if self.entries.len() >= TIME_INDEX_ENTRIES_MAX {
            return Err(IndexError::Full {
                entries: self.entries.len(),
            });
        }
        self.entries.push((timestamp, relative));
        Ok(true)
    }

    /// The entry with the largest timestamp at or below `timestamp`, or
    /// `(NO_TIMESTAMP, base_offset)` when there is none (Kafka's `TimeIndex.lookup`). A search
    /// for the first record at or after `timestamp` starts at that entry's offset.
    pub fn lookup(&self, timestamp: i64) -> TimestampOffset {
        let count = self.entries.partition_point(|&(t, _)| t <= timestamp);
        match count.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(&(t, relative)) => self.absolute(t, relative),
            None => self.absolute(NO_TIMESTAMP, 0),
        }
    }

    /// Drops the entries whose offset is at or beyond `offset`.
    pub fn truncate_to(&mut self, offset: i64) {
        let keep = match offset.checked_sub(self.base_offset) {
            Some(relative) if relative > 0 => {
                let relative = u32::try_from(relative).unwrap_or(u32::MAX);
                self.entries.partition_point(|&(_, r)| r < relative)
            }
            _ => 0,
        };
        self.entries.truncate(keep);
    }

    /// The file contents: the entries, no padding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.entries_bytes_from(0)
    }

    /// How many entries name an offset below `offset` (entries are in offset order).
    pub fn entries_below(&self, offset: i64) -> usize {
        let relative = (offset - self.base_offset).clamp(0, i64::from(u32::MAX)) as u32;
        self.entries.partition_point(|entry| entry.1 < relative)
    }

    /// The file bytes of the entries from the `first`-th on (see `OffsetIndex`).
    pub fn entries_bytes_from(&self, first: usize) -> Vec<u8> {
        self.entries_bytes(first, self.entries.len())
    }

    /// The file bytes of the entries `first..end` (clamped to the entries there are).
    pub fn entries_bytes(&self, first: usize, end: usize) -> Vec<u8> {
        let end = end.min(self.entries.len());
        let entries = self.entries.get(first..end).unwrap_or_default();
        let mut out = Vec::with_capacity(entries.len() * Self::ENTRY_BYTES);
        for &(timestamp, relative) in entries {
            out.extend_from_slice(&timestamp.to_be_bytes());
            out.extend_from_slice(&relative.to_be_bytes());
        }
        out
    }

    /// Parses a `.timeindex` file (possibly pre-allocated with zeros); see the module doc for
    /// what is checked.
    pub fn from_bytes(bytes: &[u8], base_offset: i64) -> Result<Self, IndexError> {
        let mut index = TimeIndex::new(base_offset);
        for (entry, raw) in
            entries_of::<{ Self::ENTRY_BYTES }>(bytes, TIME_INDEX_ENTRIES_MAX)?.enumerate()
        {
            let [t0, t1, t2, t3, t4, t5, t6, t7, r0, r1, r2, r3] = raw;
            let timestamp = i64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7]);
            let relative = u32::from_be_bytes([r0, r1, r2, r3]);
            let offset = base_offset.saturating_add(i64::from(relative));
            if relative > i32::MAX as u32 {
                return Err(IndexError::OffsetOutOfRange {
                    offset,
                    base_offset,
                });
            }
            let last = index.last_entry();
            if timestamp <= last.timestamp {
                return Err(IndexError::TimestampNotIncreasing {
                    entry,
                    timestamp,
                    last_timestamp: last.timestamp,
                });
            }
            if offset < last.offset {
                return Err(IndexError::OffsetNotIncreasing {
                    entry,
                    offset,
                    last_offset: last.offset,
                });
            }
            index.entries.push((timestamp, relative));
        }
        Ok(index)
    }

    /// Recovery's consistency check against the segment's recovered next offset (one past its
    /// last batch): the last entry must point at an offset the segment holds.
    pub fn sanity_check(&self, segment_next_offset: i64) -> Result<(), IndexError> {
        match self.entries.last() {
            Some(&(timestamp, relative))
                if self.absolute(timestamp, relative).offset >= segment_next_offset =>
            {
                Err(IndexError::OffsetBeyondEnd {
                    offset: self.absolute(timestamp, relative).offset,
                    next_offset: segment_next_offset,
                })
            }
            _ => Ok(()),
        }
    }

    fn absolute(&self, timestamp: i64, relative: u32) -> TimestampOffset {
        TimestampOffset {
            timestamp,
            offset: self.base_offset.saturating_add(i64::from(relative)),
        }
    }
}

//! The offset index (`.index`): Kafka's `OffsetIndex`.

use super::{entries_of, relative_offset, IndexError};
use crate::limits::OFFSET_INDEX_ENTRIES_MAX;

/// An offset and the byte position in the segment to start reading at for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPosition {
    pub offset: i64,
    pub position: u32,
}

/// Sparse map from offset to file position. Entries: relative offset and position, both
/// strictly increasing; positions are never 0 (an entry is added only after more than
/// `interval_bytes` bytes), which lets an all-zero entry mark the end of a pre-allocated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetIndex {
    base_offset: i64,
    interval_bytes: u32,
    /// (relative offset, position)
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    pub const ENTRY_BYTES: usize = 8;

    /// An empty index; `interval_bytes` is Kafka's `index.interval.bytes`.
    pub fn new(base_offset: i64, interval_bytes: u32) -> Self {
        OffsetIndex {
            base_offset,
            interval_bytes,
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

    /// No room for another entry: the segment must roll.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= OFFSET_INDEX_ENTRIES_MAX
    }

    pub fn entries(&self) -> impl ExactSizeIterator<Item = OffsetPosition> + '_ {
        self.entries
            .iter()
            .map(|&(relative, position)| self.absolute(relative, position))
    }

    pub fn last_entry(&self) -> Option<OffsetPosition> {
        self.entries
            .last()
            .map(|&(relative, position)| self.absolute(relative, position))
    }

    /// Adds `(offset, position)` if more than `interval_bytes` bytes lie between the last
    /// entry's position (0 when empty) and `position`, as Kafka's `LogSegment` decides.
    /// `offset` is the last offset of the batch that starts at `position`. Returns whether the
    /// entry was added. An offset or position not above the last entry's is an error, whether
    /// or not the interval has passed: it means the caller's log order is broken.
    pub fn maybe_append(&mut self, offset: i64, position: u32) -> Result<bool, IndexError> {
        let relative = relative_offset(offset, self.base_offset)?;
        let (last_relative, last_position) = self.entries.last().copied().unwrap_or((0, 0));
        if !self.entries.is_empty() && relative <= last_relative {
            return Err(IndexError::OffsetNotIncreasing {
                entry: self.entries.len(),
                offset,
                last_offset: self.base_offset + i64::from(last_relative),
            });
        }
        if !self.entries.is_empty() && position <= last_position {
            return Err(IndexError::PositionNotIncreasing {
                entry: self.entries.len(),
                position,
                last_position,
            });
        }
        if position.saturating_sub(last_position) <= self.interval_bytes {
            return Ok(false);
        }
        if self.is_full() {
            return Err(IndexError::Full {
                entries: self.entries.len(),
            });
        }
        self.entries.push((relative, position));
        assert!(position > 0);
        Ok(true)
    }

    /// The greatest entry at or below `target_offset`, or `(base_offset, 0)` when there is
    /// none: where a scan for `target_offset` starts (Kafka's `OffsetIndex.lookup`).
    pub fn lookup(&self, target_offset: i64) -> OffsetPosition {
        let Some(target) = target_offset
            .checked_sub(self.base_offset)
            .filter(|t| *t >= 0)
        else {
            return self.absolute(0, 0);
        };
        let target = u32::try_from(target).unwrap_or(u32::MAX);
        let count = self
            .entries
            .partition_point(|&(relative, _)| relative <= target);
        match count.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(&(relative, position)) => self.absolute(relative, position),
            None => self.absolute(0, 0),
        }
    }

    /// Where a scan for `target_offset` may start, most precise first: the entry [`Self::lookup`]
    /// gives, the one before it, then the segment start `(base_offset, 0)`. Only the last entry
    /// is checked against the data on open, so a reader checks that an entry names the batch
    /// it should and falls back to the next start when it does not (a damaged index).
    pub fn scan_starts(&self, target_offset: i64) -> Vec<OffsetPosition> {
        const INDEX_ENTRIES_TRIED: usize = 2;
        let mut starts = Vec::with_capacity(INDEX_ENTRIES_TRIED + 1);
        let mut entry = self.lookup(target_offset);
        while entry.position != 0 && starts.len() < INDEX_ENTRIES_TRIED {
            starts.push(entry);
            entry = self.lookup(entry.offset.saturating_sub(1));
        }
        starts.push(self.absolute(0, 0));
        starts
    }

    /// Drops the entries at or beyond `offset`.
    pub fn truncate_to(&mut self, offset: i64) {
        let keep = match offset.checked_sub(self.base_offset) {
            Some(relative) if relative > 0 => {
                let relative = u32::try_from(relative).unwrap_or(u32::MAX);
                self.entries.partition_point(|&(r, _)| r < relative)
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
        self.entries.partition_point(|entry| entry.0 < relative)
    }

    /// The file bytes of the entries from the `first`-th on: what to append to a file that
    /// already holds the first `first` entries.
    pub fn entries_bytes_from(&self, first: usize) -> Vec<u8> {
        self.entries_bytes(first, self.entries.len())
    }

    /// The file bytes of the entries `first..end` (clamped to the entries there are).
    pub fn entries_bytes(&self, first: usize, end: usize) -> Vec<u8> {
        let end = end.min(self.entries.len());
        let entries = self.entries.get(first..end).unwrap_or_default();
        let mut out = Vec::with_capacity(entries.len() * Self::ENTRY_BYTES);
        for &(relative, position) in entries {
            out.extend_from_slice(&relative.to_be_bytes());
            out.extend_from_slice(&position.to_be_bytes());
        }
        out
    }

    /// Parses a `.index` file (possibly pre-allocated with zeros); see the module doc for what
    /// is checked.
    pub fn from_bytes(
        bytes: &[u8],
        base_offset: i64,
        interval_bytes: u32,
    ) -> Result<Self, IndexError> {
        let mut index = OffsetIndex::new(base_offset, interval_bytes);
        for (entry, raw) in
            entries_of::<{ Self::ENTRY_BYTES }>(bytes, OFFSET_INDEX_ENTRIES_MAX)?.enumerate()
        {
            let [r0, r1, r2, r3, p0, p1, p2, p3] = raw;
            let relative = u32::from_be_bytes([r0, r1, r2, r3]);
            let position = u32::from_be_bytes([p0, p1, p2, p3]);
            let offset = base_offset.saturating_add(i64::from(relative));
            if relative > i32::MAX as u32 {
                return Err(IndexError::OffsetOutOfRange {
                    offset,
                    base_offset,
                });
            }
            if let Some(&(last_relative, last_position)) = index.entries.last() {
                if relative <= last_relative {
                    return Err(IndexError::OffsetNotIncreasing {
                        entry,
                        offset,
                        last_offset: base_offset.saturating_add(i64::from(last_relative)),
                    });
                }
                if position <= last_position {
                    return Err(IndexError::PositionNotIncreasing {
                        entry,
                        position,
                        last_position,
                    });
                }
            } else if position == 0 {
                return Err(IndexError::PositionNotIncreasing {
                    entry,
                    position,
                    last_position: 0,
                });
            }
            index.entries.push((relative, position));
        }
        Ok(index)
    }

    /// Recovery's consistency check against the segment's recovered length: the last entry
    /// must point inside the data.
    pub fn sanity_check(&self, segment_data_len: u64) -> Result<(), IndexError> {
        match self.entries.last() {
            Some(&(_, position)) if u64::from(position) >= segment_data_len => {
                Err(IndexError::PositionBeyondData {
                    position,
                    data_len: segment_data_len,
                })
            }
            _ => Ok(()),
        }
    }

    fn absolute(&self, relative: u32, position: u32) -> OffsetPosition {
        OffsetPosition {
            offset: self.base_offset.saturating_add(i64::from(relative)),
            position,
        }
    }
}

//! Where the last few disk reads of a log ended, so that a read continuing from there starts
//! at its batch instead of at the index entry before it.
//!
//! The offset index maps a batch's *last* offset to the batch's start (Kafka's format), so the
//! lookup for the first offset of a batch lands on the batch before it. A consumer reading on
//! from where its last fetch ended would read that earlier batch again with every fetch: with
//! 256 KiB batches and 1 MiB fetches, 1.4 bytes read from the device for every byte served.
//!
//! A hint is only a place to try: the read checks that the batch there begins at the offset
//! asked for, and falls back to the index when it does not. Truncation clears the hints (the
//! one way the bytes at a hinted position can change while the segment lives).

use crate::limits::READ_HINTS_MAX;

/// The batch at `position` of segment `segment_base` begins at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadHint {
    pub segment_base: i64,
    pub offset: i64,
    pub position: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ReadHints {
    hints: [Option<ReadHint>; READ_HINTS_MAX],
    /// The slot the next new hint replaces (oldest first).
    next_slot: usize,
}

impl ReadHints {
    /// Where the batch beginning at `offset` of segment `segment_base` starts, if a read ended
    /// there.
    pub fn find(&self, segment_base: i64, offset: i64) -> Option<u64> {
        self.hints
            .iter()
            .flatten()
            .find(|hint| hint.segment_base == segment_base && hint.offset == offset)
            .map(|hint| hint.position)
    }

    /// Records where a read from `from_offset` ended; it takes the place of the hint that read
    /// started at, so one reader reading on keeps one slot.
    pub fn record(&mut self, from_offset: i64, ended: ReadHint) {
        let slot = self
            .hints
            .iter()
            .position(|hint| {
                hint.is_some_and(|hint| {
                    hint.segment_base == ended.segment_base && hint.offset == from_offset
                })
            })
            .unwrap_or_else(|| {
                let slot = self.next_slot;
                self.next_slot = (slot + 1) % READ_HINTS_MAX;
                slot
            });
        self.hints[slot] = Some(ended);
    }

    pub fn clear(&mut self) {
        *self = ReadHints::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(segment_base: i64, offset: i64, position: u64) -> ReadHint {
        ReadHint {
            segment_base,
            offset,
            position,
        }
    }

    #[test]
    fn a_reader_reading_on_keeps_its_slot() {
        let mut hints = ReadHints::default();
        hints.record(0, hint(0, 100, 4096));
        for step in 1..(3 * READ_HINTS_MAX as i64) {
            hints.record(
                step * 100,
                hint(0, (step + 1) * 100, (step as u64 + 1) * 4096),
            );
        }
        let last = 3 * READ_HINTS_MAX as i64 * 100;
        assert_eq!(hints.find(0, last), Some(3 * READ_HINTS_MAX as u64 * 4096));
        assert_eq!(hints.hints.iter().flatten().count(), 1);
    }

    #[test]
    fn new_readers_replace_the_oldest_hint_and_clear_forgets_all() {
        let mut hints = ReadHints::default();
        for reader in 0..=READ_HINTS_MAX as i64 {
            hints.record(-1, hint(reader, reader * 10, 8192));
        }
        assert_eq!(hints.find(0, 0), None, "the oldest was replaced");
        for reader in 1..=READ_HINTS_MAX as i64 {
            assert_eq!(hints.find(reader, reader * 10), Some(8192));
        }
        assert_eq!(hints.find(1, 11), None, "only the exact offset matches");
        hints.clear();
        assert_eq!(hints.find(1, 10), None);
    }
}

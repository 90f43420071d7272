use proptest::prelude::*;

use super::*;
use crate::limits::{INDEX_FILE_BYTES_MAX, OFFSET_INDEX_ENTRIES_MAX, TIME_INDEX_ENTRIES_MAX};

const BASE: i64 = 1_000;

fn op(offset: i64, position: u32) -> OffsetPosition {
    OffsetPosition { offset, position }
}

fn to(timestamp: i64, offset: i64) -> TimestampOffset {
    TimestampOffset { timestamp, offset }
}

#[test]
fn offset_entries_are_added_after_more_than_the_interval() {
    let mut index = OffsetIndex::new(BASE, 100);
    assert_eq!(index.maybe_append(BASE + 4, 0), Ok(false));
    assert_eq!(index.maybe_append(BASE + 9, 100), Ok(false)); // Kafka: strictly more
    assert_eq!(index.maybe_append(BASE + 14, 101), Ok(true));
    assert_eq!(index.maybe_append(BASE + 19, 201), Ok(false));
    assert_eq!(index.maybe_append(BASE + 24, 202), Ok(true));
    assert_eq!(
        index.entries().collect::<Vec<_>>(),
        [op(BASE + 14, 101), op(BASE + 24, 202)]
    );
}

#[test]
fn offset_entries_must_increase() {
    let mut index = OffsetIndex::new(BASE, 0);
    assert_eq!(index.maybe_append(BASE + 5, 50), Ok(true));
    assert!(matches!(
        index.maybe_append(BASE + 5, 60),
        Err(IndexError::OffsetNotIncreasing { .. })
    ));
    assert!(matches!(
        index.maybe_append(BASE + 6, 50),
        Err(IndexError::PositionNotIncreasing { .. })
    ));
    assert!(matches!(
        index.maybe_append(BASE - 1, 70),
        Err(IndexError::OffsetOutOfRange { .. })
    ));
    let too_far = BASE + i64::from(i32::MAX) + 1;
    assert!(matches!(
        index.maybe_append(too_far, 70),
        Err(IndexError::OffsetOutOfRange { .. })
    ));
    assert_eq!(index.maybe_append(BASE + i64::from(i32::MAX), 70), Ok(true));
}

#[test]
fn offset_lookup_finds_the_greatest_entry_at_or_below() {
    let mut index = OffsetIndex::new(BASE, 0);
    assert_eq!(index.lookup(BASE + 10), op(BASE, 0));
    for (relative, position) in [(10, 100), (20, 200), (30, 300)] {
        assert_eq!(index.maybe_append(BASE + relative, position), Ok(true));
    }
    assert_eq!(index.lookup(i64::MIN), op(BASE, 0));
    assert_eq!(index.lookup(BASE + 9), op(BASE, 0));
    assert_eq!(index.lookup(BASE + 10), op(BASE + 10, 100));
    assert_eq!(index.lookup(BASE + 29), op(BASE + 20, 200));
    assert_eq!(index.lookup(i64::MAX), op(BASE + 30, 300));
}

#[test]
fn offset_scan_starts_fall_back_to_earlier_entries_then_the_segment_start() {
    let mut index = OffsetIndex::new(BASE, 0);
    assert_eq!(index.scan_starts(BASE + 10), [op(BASE, 0)]);
    for (relative, position) in [(10, 100), (20, 200), (30, 300)] {
        assert_eq!(index.maybe_append(BASE + relative, position), Ok(true));
    }
    assert_eq!(
        index.scan_starts(BASE + 35),
        [op(BASE + 30, 300), op(BASE + 20, 200), op(BASE, 0)]
    );
    assert_eq!(
        index.scan_starts(BASE + 19),
        [op(BASE + 10, 100), op(BASE, 0)]
    );
    assert_eq!(index.scan_starts(BASE + 5), [op(BASE, 0)]);
    assert_eq!(index.scan_starts(i64::MIN), [op(BASE, 0)]);
}

#[test]
fn offset_truncation_drops_entries_at_or_beyond() {
    let mut index = OffsetIndex::new(BASE, 0);
    for (relative, position) in [(10, 100), (20, 200), (30, 300)] {
        assert_eq!(index.maybe_append(BASE + relative, position), Ok(true));
    }
    index.truncate_to(BASE + 31);
    assert_eq!(index.len(), 3);
    index.truncate_to(BASE + 30);
    assert_eq!(index.last_entry(), Some(op(BASE + 20, 200)));
    index.truncate_to(BASE + 15);
    assert_eq!(index.last_entry(), Some(op(BASE + 10, 100)));
    // The interval counts from the new last entry.
    assert_eq!(index.maybe_append(BASE + 12, 150), Ok(true));
    index.truncate_to(BASE);
    assert!(index.is_empty());
}

#[test]
fn offset_index_file_round_trips_and_stops_at_zeros() {
    let mut index = OffsetIndex::new(BASE, 0);
    for (relative, position) in [(10, 100), (20, 0x0102_0304)] {
        assert_eq!(index.maybe_append(BASE + relative, position), Ok(true));
    }
    let bytes = index.to_bytes();
    assert_eq!(bytes, [0, 0, 0, 10, 0, 0, 0, 100, 0, 0, 0, 20, 1, 2, 3, 4]);
    assert_eq!(OffsetIndex::from_bytes(&bytes, BASE, 0), Ok(index.clone()));

    let mut preallocated = bytes.clone();
    preallocated.resize(4096, 0);
    assert_eq!(OffsetIndex::from_bytes(&preallocated, BASE, 0), Ok(index));
    assert_eq!(
        OffsetIndex::from_bytes(&[0; 4096], BASE, 0).map(|i| i.len()),
        Ok(0)
    );
    assert_eq!(
        OffsetIndex::from_bytes(&[], BASE, 0).map(|i| i.len()),
        Ok(0)
    );

    preallocated[4000] = 1;
    assert_eq!(
        OffsetIndex::from_bytes(&preallocated, BASE, 0),
        Err(IndexError::GarbageAfterEnd { position: 4000 })
    );
}

#[test]
fn offset_index_file_is_validated() {
    let bad = |bytes: &[u8]| OffsetIndex::from_bytes(bytes, BASE, 0).expect_err("invalid");
    assert!(matches!(
        bad(&[0; 7]),
        IndexError::PartialEntry { len: 7, .. }
    ));
    assert!(matches!(
        bad(&[0, 0, 0, 5, 0, 0, 0, 0]),
        IndexError::PositionNotIncreasing { .. }
    ));
    assert!(matches!(
        bad(&[0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 10]),
        IndexError::OffsetNotIncreasing { entry: 1, .. }
    ));
    assert!(matches!(
        bad(&[0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 6, 0, 0, 0, 9]),
        IndexError::PositionNotIncreasing { entry: 1, .. }
    ));
    assert!(matches!(
        bad(&[0x80, 0, 0, 0, 0, 0, 0, 9]),
        IndexError::OffsetOutOfRange { .. }
    ));
    let too_large = vec![0; INDEX_FILE_BYTES_MAX + 8];
    assert!(matches!(bad(&too_large), IndexError::TooLarge { .. }));
}

#[test]
fn offset_sanity_check_requires_the_last_entry_inside_the_data() {
    let mut index = OffsetIndex::new(BASE, 0);
    assert_eq!(index.sanity_check(0), Ok(()));
    assert_eq!(index.maybe_append(BASE + 3, 500), Ok(true));
    assert_eq!(index.sanity_check(501), Ok(()));
    assert!(matches!(
        index.sanity_check(500),
        Err(IndexError::PositionBeyondData { .. })
    ));
}

#[test]
fn offset_index_fills_up() {
    let mut index = OffsetIndex::new(0, 0);
    for i in 0..OFFSET_INDEX_ENTRIES_MAX {
        assert_eq!(index.maybe_append(i as i64, i as u32 + 1), Ok(true));
    }
    assert!(index.is_full());
    let next = OFFSET_INDEX_ENTRIES_MAX as i64;
    assert!(matches!(
        index.maybe_append(next, next as u32 + 1),
        Err(IndexError::Full { .. })
    ));
    let bytes = index.to_bytes();
    assert_eq!(bytes.len(), INDEX_FILE_BYTES_MAX);
    assert_eq!(
        OffsetIndex::from_bytes(&bytes, 0, 0).map(|i| i.len()),
        Ok(OFFSET_INDEX_ENTRIES_MAX)
    );
}

#[test]
fn time_entries_record_new_maxima_only() {
    let mut index = TimeIndex::new(BASE);
    assert_eq!(index.last_entry(), to(NO_TIMESTAMP, BASE));
    assert_eq!(index.maybe_append(-1, BASE), Ok(false)); // no timestamp: never indexed
    assert_eq!(index.maybe_append(100, BASE + 5), Ok(true));
    assert_eq!(index.maybe_append(100, BASE + 5), Ok(false)); // the roll entry repeated
    assert_eq!(index.maybe_append(100, BASE + 9), Ok(false));
    assert!(matches!(
        index.maybe_append(99, BASE + 9),
        Err(IndexError::TimestampNotIncreasing { .. })
    ));
    assert!(matches!(
        index.maybe_append(200, BASE + 4),
        Err(IndexError::OffsetNotIncreasing { .. })
    ));
    assert_eq!(index.maybe_append(200, BASE + 5), Ok(true)); // equal offsets are allowed
    assert_eq!(
        index.entries().collect::<Vec<_>>(),
        [to(100, BASE + 5), to(200, BASE + 5)]
    );
}

#[test]
fn time_lookup_finds_the_largest_timestamp_at_or_below() {
    let mut index = TimeIndex::new(BASE);
    assert_eq!(index.lookup(50), to(NO_TIMESTAMP, BASE));
    for (timestamp, relative) in [(100, 5), (200, 9), (300, 20)] {
        assert_eq!(index.maybe_append(timestamp, BASE + relative), Ok(true));
    }
    assert_eq!(index.lookup(99), to(NO_TIMESTAMP, BASE));
    assert_eq!(index.lookup(100), to(100, BASE + 5));
    assert_eq!(index.lookup(299), to(200, BASE + 9));
    assert_eq!(index.lookup(i64::MAX), to(300, BASE + 20));
}

#[test]
fn time_truncation_drops_entries_at_or_beyond() {
    let mut index = TimeIndex::new(BASE);
    for (timestamp, relative) in [(100, 5), (200, 9), (300, 20)] {
        assert_eq!(index.maybe_append(timestamp, BASE + relative), Ok(true));
    }
    index.truncate_to(BASE + 9);
    assert_eq!(index.last_entry(), to(100, BASE + 5));
    index.truncate_to(BASE + 5);
    assert!(index.is_empty());
}

#[test]
fn time_index_file_round_trips_and_stops_at_zeros() {
    let mut index = TimeIndex::new(BASE);
    // Would be all zeros on disk: not stored, and a lookup answers the same without it.
    assert_eq!(index.maybe_append(0, BASE), Ok(false));
    assert_eq!(index.lookup(0), to(NO_TIMESTAMP, BASE));
    assert_eq!(index.maybe_append(0, BASE + 1), Ok(true));
    assert_eq!(index.maybe_append(0x0102, BASE + 7), Ok(true));
    let bytes = index.to_bytes();
    #[rustfmt::skip]
    assert_eq!(bytes, [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 7,
    ]);
    assert_eq!(
        TimeIndex::from_bytes(&[0; 1200], BASE).map(|i| i.len()),
        Ok(0)
    );
    let mut preallocated = bytes.clone();
    preallocated.resize(1200, 0);
    assert_eq!(TimeIndex::from_bytes(&preallocated, BASE), Ok(index));
    preallocated[1199] = 9;
    assert!(matches!(
        TimeIndex::from_bytes(&preallocated, BASE),
        Err(IndexError::GarbageAfterEnd { .. })
    ));
    let bad = |bytes: &[u8]| TimeIndex::from_bytes(bytes, BASE).expect_err("invalid");
    assert!(matches!(bad(&[0; 13]), IndexError::PartialEntry { .. }));
    let decreasing = [
        0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2,
    ];
    assert!(matches!(
        bad(&decreasing),
        IndexError::TimestampNotIncreasing { entry: 1, .. }
    ));
    let backwards = [
        0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1,
    ];
    assert!(matches!(
        bad(&backwards),
        IndexError::OffsetNotIncreasing { entry: 1, .. }
    ));
    let negative = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1];
    assert!(matches!(
        bad(&negative),
        IndexError::TimestampNotIncreasing { entry: 0, .. }
    ));
}

#[test]
fn time_sanity_check_requires_an_offset_the_segment_holds() {
    let mut index = TimeIndex::new(BASE);
    assert_eq!(index.sanity_check(BASE), Ok(()));
    assert_eq!(index.maybe_append(10, BASE + 4), Ok(true));
    assert_eq!(index.sanity_check(BASE + 5), Ok(()));
    assert!(matches!(
        index.sanity_check(BASE + 4),
        Err(IndexError::OffsetBeyondEnd { .. })
    ));
}

#[test]
fn time_index_keeps_its_last_slot_for_the_roll() {
    let mut indexes = SegmentIndexes::new(0, 0);
    for i in 0..(TIME_INDEX_ENTRIES_MAX - 1) {
        assert_eq!(indexes.time.maybe_append(i as i64 + 1, i as i64), Ok(true));
    }
    assert!(indexes.time.is_full() && indexes.is_full());
    let last = TIME_INDEX_ENTRIES_MAX as i64;
    assert!(matches!(
        indexes.time.maybe_append(last, last),
        Err(IndexError::Full { .. })
    ));
    // A batch appended to full indexes is left unindexed, without an error.
    let batch = IndexedBatch {
        last_offset: last,
        max_timestamp: last,
        position: 1 << 20,
    };
    assert_eq!(indexes.on_append(batch), Ok(false));
    assert_eq!(indexes.on_roll(), Ok(()));
    assert_eq!(indexes.time.len(), TIME_INDEX_ENTRIES_MAX);
    assert_eq!(indexes.time.last_entry(), to(last, last));
}

#[test]
fn segment_indexes_follow_kafka_log_segment() {
    let mut indexes = SegmentIndexes::new(BASE, 100);
    // (last offset, max timestamp, position); 60-byte batches.
    let batches = [
        (BASE + 1, 50, 0),
        (BASE + 3, 40, 60),
        (BASE + 4, 70, 120),
        (BASE + 9, 60, 180),
    ];
    let mut added = Vec::new();
    for (last_offset, max_timestamp, position) in batches {
        let batch = IndexedBatch {
            last_offset,
            max_timestamp,
            position,
        };
        added.push(indexes.on_append(batch).expect("in order"));
    }
    assert_eq!(added, [false, false, true, false]);
    assert_eq!(
        indexes.offset.entries().collect::<Vec<_>>(),
        [op(BASE + 4, 120)]
    );
    assert_eq!(
        indexes.time.entries().collect::<Vec<_>>(),
        [to(70, BASE + 4)]
    );
    assert_eq!(indexes.max_timestamp_so_far(), to(70, BASE + 4));
    assert_eq!(indexes.timestamp_scan_start(69, BASE), 0);
    assert_eq!(indexes.timestamp_scan_start(70, BASE), 120);
    assert_eq!(indexes.timestamp_scan_start(10, BASE + 5), 120);
    assert!(indexes.can_index(BASE + i64::from(i32::MAX)));
    assert!(!indexes.can_index(BASE + i64::from(i32::MAX) + 1));

    indexes.truncate_to(BASE + 4);
    assert!(indexes.offset.is_empty() && indexes.time.is_empty());
    assert_eq!(indexes.max_timestamp_so_far(), to(NO_TIMESTAMP, BASE));
    indexes.observe(50, BASE + 1);
    indexes.on_roll().expect("roll");
    assert_eq!(
        indexes.time.entries().collect::<Vec<_>>(),
        [to(50, BASE + 1)]
    );

    let reloaded = SegmentIndexes::from_indexes(
        OffsetIndex::from_bytes(&indexes.offset.to_bytes(), BASE, 100).expect("valid"),
        TimeIndex::from_bytes(&indexes.time.to_bytes(), BASE).expect("valid"),
    );
    assert_eq!(reloaded, indexes);
}

#[test]
fn segment_sanity_check_relates_the_two_indexes_to_each_other_and_the_data() {
    let mut indexes = SegmentIndexes::new(BASE, 0);
    for (last, max_timestamp, position) in [(BASE + 1, 10, 100), (BASE + 3, 20, 200)] {
        let batch = IndexedBatch {
            last_offset: last,
            max_timestamp,
            position,
        };
        assert_eq!(indexes.on_append(batch), Ok(true));
    }
    indexes.observe(30, BASE + 5);
    indexes.on_roll().expect("roll");
    assert_eq!(indexes.sanity_check(300, BASE + 6), Ok(()));
    assert!(matches!(
        indexes.sanity_check(200, BASE + 6),
        Err(IndexError::PositionBeyondData { .. })
    ));
    assert!(matches!(
        indexes.sanity_check(300, BASE + 5),
        Err(IndexError::OffsetBeyondEnd { .. })
    ));
    // Another segment's longer time index in this one's place.
    let mut time = TimeIndex::new(BASE);
    for (timestamp, offset) in [(1, BASE + 1), (2, BASE + 2), (3, BASE + 3), (4, BASE + 4)] {
        assert_eq!(time.maybe_append(timestamp, offset), Ok(true));
    }
    let mismatched = SegmentIndexes::from_indexes(indexes.offset.clone(), time);
    assert!(matches!(
        mismatched.sanity_check(300, BASE + 6),
        Err(IndexError::TimeIndexLongerThanOffsetIndex { .. })
    ));
}

/// A batch of the generated segments: (last offset, max timestamp, position, size).
fn segment() -> impl Strategy<Value = (i64, Vec<(i64, i64, u32, u32)>)> {
    let batch = (0i64..5, -1i64..1_000, 61u32..3_000);
    (0i64..1_000_000, proptest::collection::vec(batch, 0..300)).prop_map(|(base, raw)| {
        let mut next_offset = base;
        let mut position = 0u32;
        let batches = raw
            .into_iter()
            .map(|(delta, timestamp, size)| {
                let b = (next_offset + delta, timestamp, position, size);
                next_offset += delta + 1;
                position += size;
                b
            })
            .collect();
        (base, batches)
    })
}

fn build(base: i64, interval: u32, batches: &[(i64, i64, u32, u32)]) -> SegmentIndexes {
    let mut indexes = SegmentIndexes::new(base, interval);
    for &(last_offset, max_timestamp, position, _) in batches {
        let batch = IndexedBatch {
            last_offset,
            max_timestamp,
            position,
        };
        indexes.on_append(batch).expect("in order");
    }
    indexes
}

proptest! {
    #[test]
    fn lookups_match_a_linear_scan((base, batches) in segment(), interval in 0u32..8_192, targets in proptest::collection::vec(-10i64..2_000, 1..20)) {
        let indexes = build(base, interval, &batches);
        let entries: Vec<_> = indexes.offset.entries().collect();
        for target in targets.iter().map(|t| base + t) {
            let expected = entries.iter().rev().find(|e| e.offset <= target).copied().unwrap_or(op(base, 0));
            prop_assert_eq!(indexes.offset.lookup(target), expected);
            // The start position never skips the batch that holds `target`.
            let position = indexes.offset.lookup(target).position;
            for &(last_offset, _, start, _) in &batches {
                if start < position {
                    prop_assert!(last_offset < target);
                }
            }
        }
        let times: Vec<_> = indexes.time.entries().collect();
        for &t in &targets {
            let expected = times.iter().rev().find(|e| e.timestamp <= t).copied().unwrap_or(to(NO_TIMESTAMP, base));
            prop_assert_eq!(indexes.time.lookup(t), expected);
        }
    }

    #[test]
    fn timestamp_scan_skips_only_batches_that_cannot_match((base, batches) in segment(), interval in 0u32..8_192, roll: bool, t in 0i64..1_000, start in 0i64..1_000) {
        let mut indexes = build(base, interval, &batches);
        if roll {
            indexes.on_roll().expect("room");
        }
        let starting_offset = base + start;
        let position = indexes.timestamp_scan_start(t, starting_offset);
        for &(last_offset, max_timestamp, batch_start, _) in &batches {
            if batch_start < position {
                prop_assert!(max_timestamp < t || last_offset < starting_offset);
            }
        }
    }

    #[test]
    fn files_round_trip_and_truncate_like_the_model((base, batches) in segment(), interval in 0u32..8_192, cut in 0i64..1_200, zeros in 0usize..64) {
        let mut indexes = build(base, interval, &batches);
        indexes.on_roll().expect("room");
        let mut offset_file = indexes.offset.to_bytes();
        offset_file.resize(offset_file.len() + zeros * OffsetIndex::ENTRY_BYTES, 0);
        let mut time_file = indexes.time.to_bytes();
        time_file.resize(time_file.len() + zeros * TimeIndex::ENTRY_BYTES, 0);
        prop_assert_eq!(OffsetIndex::from_bytes(&offset_file, base, interval), Ok(indexes.offset.clone()));
        prop_assert_eq!(TimeIndex::from_bytes(&time_file, base), Ok(indexes.time.clone()));
        let data_len = batches.last().map_or(0, |b| u64::from(b.2 + b.3));
        prop_assert_eq!(indexes.offset.sanity_check(data_len), Ok(()));
        let next_offset = batches.last().map_or(base, |b| b.0 + 1);
        prop_assert_eq!(indexes.time.sanity_check(next_offset), Ok(()));

        let cut = base + cut;
        let offsets_kept: Vec<_> = indexes.offset.entries().filter(|e| e.offset < cut).collect();
        let times_kept: Vec<_> = indexes.time.entries().filter(|e| e.offset < cut).collect();
        indexes.truncate_to(cut);
        prop_assert_eq!(indexes.offset.entries().collect::<Vec<_>>(), offsets_kept);
        prop_assert_eq!(indexes.time.entries().collect::<Vec<_>>(), times_kept);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), base in any::<i64>()) {
        if let Ok(index) = OffsetIndex::from_bytes(&bytes, base, 4096) {
            let encoded = index.to_bytes();
            prop_assert!(bytes.starts_with(&encoded));
            prop_assert_eq!(OffsetIndex::from_bytes(&encoded, base, 4096), Ok(index.clone()));
            let _ = index.lookup(base.wrapping_add(bytes.len() as i64));
        }
        if let Ok(index) = TimeIndex::from_bytes(&bytes, base) {
            let encoded = index.to_bytes();
            prop_assert!(bytes.starts_with(&encoded));
            prop_assert_eq!(TimeIndex::from_bytes(&encoded, base), Ok(index.clone()));
            let _ = index.lookup(bytes.len() as i64);
        }
    }
}

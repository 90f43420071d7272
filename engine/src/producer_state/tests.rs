use std::collections::HashMap;

use pinlog_protocol::error_code::ErrorCode;
use proptest::prelude::*;

use super::*;

const PID: i64 = 1000;

fn batch(epoch: i16, first: i32, last: i32) -> ProducerBatch {
    ProducerBatch {
        producer_id: PID,
        producer_epoch: epoch,
        first_sequence: first,
        last_sequence: last,
    }
}

fn at(first_offset: i64, last_offset: i64) -> AppendedBatch {
    AppendedBatch {
        first_offset,
        last_offset,
        max_timestamp: 1_000 + first_offset,
    }
}

/// Checks and records `b` at `offsets`; panics unless the check says New.
fn append(table: &mut ProducerStateTable, b: ProducerBatch, offsets: AppendedBatch) {
    assert_eq!(table.check(&b), Ok(Check::New), "{b:?}");
    table.record(&b, &offsets);
}

fn code(result: Result<Check, ProducerError>) -> ErrorCode {
    result.expect_err("expected an error").error_code()
}

#[test]
fn batches_without_producer_id_are_not_tracked() {
    let mut table = ProducerStateTable::new();
    for producer_id in [-1, -7] {
        let b = ProducerBatch {
            producer_id,
            producer_epoch: -1,
            first_sequence: -1,
            last_sequence: -1,
        };
        assert_eq!(table.check(&b), Ok(Check::New));
        table.record(&b, &at(0, 0));
    }
    assert!(table.is_empty());
}

#[test]
fn negative_sequence_is_invalid_record() {
    let table = ProducerStateTable::new();
    assert_eq!(
        code(table.check(&batch(0, -1, 3))),
        ErrorCode::InvalidRecord
    );
}

#[test]
fn unknown_producer_accepts_any_sequence() {
    // KIP-360: state may have been deleted by retention; the broker does not answer
    // UNKNOWN_PRODUCER_ID.
    let mut table = ProducerStateTable::new();
    assert_eq!(table.check(&batch(3, 42, 45)), Ok(Check::New));
    append(&mut table, batch(3, 42, 45), at(0, 3));
    assert_eq!(
        table.producer(PID).map(ProducerEntry::last_sequence),
        Some(Some(45))
    );
}

#[test]
fn sequences_must_follow_without_gaps() {
    let mut table = ProducerStateTable::new();
    append(&mut table, batch(0, 0, 4), at(0, 4));
    append(&mut table, batch(0, 5, 9), at(5, 9));
    for first in [11, 9, 4, 0, 6] {
        let err = table
            .check(&batch(0, first, first + 2))
            .expect_err("gap or overlap");
        assert_eq!(err.error_code(), ErrorCode::OutOfOrderSequenceNumber);
        assert!(matches!(
            err,
            ProducerError::OutOfOrderSequence {
                current_last_sequence: Some(9),
                ..
            }
        ));
    }
    append(&mut table, batch(0, 10, 10), at(10, 10));
}

#[test]
fn each_of_the_last_five_batches_is_a_duplicate_and_the_sixth_is_not() {
    let mut table = ProducerStateTable::new();
    for i in 0..6 {
        append(
            &mut table,
            batch(2, i * 10, i * 10 + 9),
            at(i64::from(i) * 100, i64::from(i) * 100 + 9),
        );
    }
    for i in 1..6 {
        let original = at(i64::from(i) * 100, i64::from(i) * 100 + 9);
        assert_eq!(
            table.check(&batch(2, i * 10, i * 10 + 9)),
            Ok(Check::Duplicate(original))
        );
    }
    // The oldest is no longer retained: its sequence is now behind the end.
    assert_eq!(
        code(table.check(&batch(2, 0, 9))),
        ErrorCode::OutOfOrderSequenceNumber
    );
    // Same first sequence, different range: not a duplicate.
    assert_eq!(
        code(table.check(&batch(2, 50, 52))),
        ErrorCode::OutOfOrderSequenceNumber
    );
}

#[test]
fn duplicates_are_matched_in_the_current_epoch_only() {
    let mut table = ProducerStateTable::new();
    append(&mut table, batch(1, 0, 4), at(0, 4));
    // A retry of the same range in a newer epoch is new data at sequence 0.
    assert_eq!(table.check(&batch(2, 0, 4)), Ok(Check::New));
}

#[test]
fn sequence_wraps_after_i32_max() {
    let mut table = ProducerStateTable::new();
    let b = ProducerBatch::new(PID, 0, i32::MAX - 1, 3);
    assert_eq!(b.last_sequence, 1);
    append(&mut table, b, at(0, 3));
    append(&mut table, batch(0, 2, 2), at(4, 4));

    let mut table = ProducerStateTable::new();
    append(&mut table, batch(0, i32::MAX - 4, i32::MAX), at(0, 4));
    assert_eq!(
        code(table.check(&batch(0, i32::MAX, i32::MAX))),
        ErrorCode::OutOfOrderSequenceNumber
    );
    append(&mut table, batch(0, 0, 0), at(5, 5));
    assert_eq!(
        table.check(&batch(0, i32::MAX - 4, i32::MAX)),
        Ok(Check::Duplicate(at(0, 4)))
    );
}

#[test]
fn an_older_epoch_is_fenced_with_invalid_producer_epoch() {
    let mut table = ProducerStateTable::new();
    append(&mut table, batch(5, 0, 0), at(0, 0));
    let err = table.check(&batch(4, 1, 1)).expect_err("fenced");
    assert_eq!(err.error_code(), ErrorCode::InvalidProducerEpoch);
    // Even a range that was a duplicate in the old epoch.
    append(&mut table, batch(6, 0, 0), at(1, 1));
    assert_eq!(
        code(table.check(&batch(5, 0, 0))),
        ErrorCode::InvalidProducerEpoch
    );
}

#[test]
fn a_new_epoch_starts_at_sequence_zero_and_forgets_the_old_batches() {
    let mut table = ProducerStateTable::new();
    append(&mut table, batch(0, 0, 9), at(0, 9));
    append(&mut table, batch(0, 10, 19), at(10, 19));
    assert_eq!(
        code(table.check(&batch(1, 20, 29))),
        ErrorCode::OutOfOrderSequenceNumber
    );
    assert_eq!(
        code(table.check(&batch(1, 1, 2))),
        ErrorCode::OutOfOrderSequenceNumber
    );
    append(&mut table, batch(1, 0, 2), at(20, 22));
    let entry = table.producer(PID).expect("tracked");
    assert_eq!(entry.epoch(), 1);
    assert_eq!(entry.batches().len(), 1);
    append(&mut table, batch(1, 3, 3), at(23, 23));
}

#[test]
fn recovery_applies_without_checks() {
    let mut table = ProducerStateTable::new();
    table.apply_batch_for_recovery(&batch(3, 0, 0), &at(0, 0));
    table.apply_batch_for_recovery(&batch(3, 7, 7), &at(1, 1));
    table.apply_batch_for_recovery(&batch(2, 9, 9), &at(2, 2));
    let entry = table.producer(PID).expect("tracked");
    assert_eq!((entry.epoch(), entry.last_sequence()), (2, Some(9)));
}

#[test]
fn least_recently_appended_producer_is_evicted_beyond_the_bound() {
    let mut table = ProducerStateTable::with_producers_max(3);
    let of = |producer_id| ProducerBatch {
        producer_id,
        ..batch(0, 0, 0)
    };
    for producer_id in 1..=3 {
        table.record(&of(producer_id), &at(producer_id, producer_id));
    }
    // Producer 1 appends again: 2 is now the least recent.
    table.record(
        &ProducerBatch {
            first_sequence: 1,
            last_sequence: 1,
            ..of(1)
        },
        &at(10, 10),
    );
    table.record(&of(4), &at(11, 11));
    assert_eq!(table.len(), 3);
    assert!(table.producer(2).is_none());
    let order: Vec<i64> = table
        .producers_in_recency_order()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, [3, 1, 4]);
}

#[test]
fn producers_expire_by_their_last_batch_timestamp() {
    let mut table = ProducerStateTable::new();
    for (producer_id, max_timestamp) in [(1, 1_000), (2, 5_000), (3, 9_000)] {
        let b = ProducerBatch {
            producer_id,
            ..batch(0, 0, 0)
        };
        let appended = AppendedBatch {
            first_offset: producer_id,
            last_offset: producer_id,
            max_timestamp,
        };
        table.record(&b, &appended);
    }
    assert_eq!(table.expire(10_000, 5_000), 2); // inclusive, as Kafka's `>=`
    assert_eq!(
        table
            .producers_in_recency_order()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(table.expire(i64::MIN, 1), 0);
}

fn sample_table() -> ProducerStateTable {
    let mut table = ProducerStateTable::new();
    let mut offset = 0;
    for producer_id in [7, 3, 11] {
        for i in 0..(producer_id as i32 % 7) {
            let b = ProducerBatch {
                producer_id,
                producer_epoch: 1,
                first_sequence: i * 2,
                last_sequence: i * 2 + 1,
            };
            table.record(&b, &at(offset, offset + 1));
            offset += 2;
        }
    }
    table
}

#[test]
fn snapshot_round_trips_state_and_recency() {
    let table = sample_table();
    let bytes = table.encode_snapshot(100);
    let (decoded, next_offset) = ProducerStateTable::decode_snapshot(&bytes).expect("valid");
    assert_eq!(next_offset, 100);
    assert_eq!(decoded, table);
    assert_eq!(decoded.encode_snapshot(100), bytes);
    // Duplicate detection survives the restart.
    let b = ProducerBatch {
        producer_id: 11,
        producer_epoch: 1,
        first_sequence: 2,
        last_sequence: 3,
    };
    assert!(matches!(decoded.check(&b), Ok(Check::Duplicate(_))));
}

#[test]
fn snapshot_golden_bytes() {
    let mut table = ProducerStateTable::new();
    let b = ProducerBatch {
        producer_id: 0x0102,
        producer_epoch: 3,
        first_sequence: 0,
        last_sequence: 4,
    };
    let appended = AppendedBatch {
        first_offset: 5,
        last_offset: 9,
        max_timestamp: 0x10,
    };
    table.record(&b, &appended);
    let bytes = table.encode_snapshot(10);
    #[rustfmt::skip]
    let mut expected = vec![
        b'P', b'L', b'P', b'S', 0, 1, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 10,         // next offset
        0, 0, 0, 1,                      // producer count
        0, 0, 0, 0, 0, 0, 1, 2,          // producer id
        0, 3,                            // epoch
        0, 0, 0, 0, 0, 0, 0, 0x10,       // last timestamp
        1,                               // batch count
        0, 0, 0, 0, 0, 0, 0, 4,          // sequences
        0, 0, 0, 0, 0, 0, 0, 5,          // first offset
        0, 0, 0, 0, 0, 0, 0, 9,          // last offset
        0, 0, 0, 0, 0, 0, 0, 0x10,       // max timestamp
    ];
    let crc = pinlog_protocol::records::crc32c(&expected[10..]);
    expected[6..10].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(bytes, expected);
}

#[test]
fn every_single_byte_corruption_is_rejected() {
    let bytes = sample_table().encode_snapshot(100);
    for position in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[position] ^= flip;
            assert!(
                ProducerStateTable::decode_snapshot(&corrupt).is_err(),
                "flip {flip:#x} at byte {position} accepted"
            );
        }
    }
    for len in 0..bytes.len() {
        assert!(
            ProducerStateTable::decode_snapshot(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(ProducerStateTable::decode_snapshot(&longer).is_err());
}

/// Rewrites the CRC so that the decoder's structural checks are what is tested.
fn with_crc(mut bytes: Vec<u8>) -> Vec<u8> {
    let crc = pinlog_protocol::records::crc32c(&bytes[10..]);
    bytes[6..10].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn counts_are_checked_before_anything_is_allocated() {
    let mut bytes = ProducerStateTable::new().encode_snapshot(0);
    bytes[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        ProducerStateTable::decode_snapshot(&with_crc(bytes.clone())),
        Err(SnapshotError::TooManyProducers { .. })
    ));
    bytes[18..22].copy_from_slice(&1000u32.to_be_bytes());
    assert!(matches!(
        ProducerStateTable::decode_snapshot(&with_crc(bytes)),
        Err(SnapshotError::Truncated { .. })
    ));
}

#[test]
fn structurally_invalid_snapshots_are_rejected() {
    let good = sample_table().encode_snapshot(100);
    // Version.
    let mut bytes = good.clone();
    bytes[5] = 2;
    assert_eq!(
        ProducerStateTable::decode_snapshot(&bytes),
        Err(SnapshotError::UnsupportedVersion(2))
    );
    // Next offset below a batch's last offset.
    let mut bytes = good.clone();
    bytes[10..18].copy_from_slice(&3i64.to_be_bytes());
    assert!(matches!(
        ProducerStateTable::decode_snapshot(&with_crc(bytes)),
        Err(SnapshotError::InvalidProducer { .. })
    ));
    // A batch count above the retained maximum (first producer's count byte).
    let mut bytes = good.clone();
    bytes[22 + 18] = 6;
    assert!(ProducerStateTable::decode_snapshot(&with_crc(bytes)).is_err());
    // The same producer twice.
    let mut table = ProducerStateTable::new();
    for producer_id in [1, 2] {
        let b = ProducerBatch {
            producer_id,
            producer_epoch: 0,
            first_sequence: 0,
            last_sequence: 0,
        };
        table.record(&b, &at(producer_id, producer_id));
    }
    let mut bytes = table.encode_snapshot(10);
    let second = 22 + 19 + 32;
    bytes[second..second + 8].copy_from_slice(&1i64.to_be_bytes());
    assert!(matches!(
        ProducerStateTable::decode_snapshot(&with_crc(bytes)),
        Err(SnapshotError::InvalidProducer { producer_id: 1, .. })
    ));
}

/// The rules written as plainly as possible over a producer's full history.
#[derive(Default, Clone)]
struct Model {
    producers: HashMap<i64, (i16, Vec<BatchMetadata>)>,
}

impl Model {
    fn check(&self, b: &ProducerBatch) -> Result<Check, ErrorCode> {
        if b.producer_id < 0 {
            return Ok(Check::New);
        }
        if b.first_sequence < 0 {
            return Err(ErrorCode::InvalidRecord);
        }
        let Some((epoch, history)) = self.producers.get(&b.producer_id) else {
            return Ok(Check::New);
        };
        let recent = &history[history.len().saturating_sub(5)..];
        if b.producer_epoch == *epoch {
            if let Some(d) = recent.iter().find(|d| {
                (d.first_sequence, d.last_sequence) == (b.first_sequence, b.last_sequence)
            }) {
                return Ok(Check::Duplicate(d.appended));
            }
        }
        if b.producer_epoch < *epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if *epoch == NO_PRODUCER_EPOCH {
            // Kafka treats a producer without an epoch like an unknown one.
            return Ok(Check::New);
        }
        let expected = if b.producer_epoch > *epoch {
            0
        } else {
            match history.last() {
                Some(last) if last.last_sequence == i32::MAX => 0,
                Some(last) => last.last_sequence + 1,
                None => 0,
            }
        };
        if b.first_sequence == expected {
            Ok(Check::New)
        } else {
            Err(ErrorCode::OutOfOrderSequenceNumber)
        }
    }

    fn record(&mut self, b: &ProducerBatch, appended: &AppendedBatch) {
        let (epoch, history) = self
            .producers
            .entry(b.producer_id)
            .or_insert((b.producer_epoch, Vec::new()));
        if *epoch != b.producer_epoch {
            *epoch = b.producer_epoch;
            history.clear();
        }
        history.push(BatchMetadata {
            first_sequence: b.first_sequence,
            last_sequence: b.last_sequence,
            appended: *appended,
        });
    }
}

#[derive(Debug, Clone)]
enum Op {
    Produce {
        producer: usize,
        epoch_delta: i16,
        seq: SeqChoice,
        delta: i32,
    },
    Restart,
}

#[derive(Debug, Clone)]
enum SeqChoice {
    Next,
    Zero,
    Retry(usize),
    Any(i32),
    NearMax,
}

fn op() -> impl Strategy<Value = Op> {
    let seq = prop_oneof![
        4 => Just(SeqChoice::Next),
        1 => Just(SeqChoice::Zero),
        3 => (0usize..8).prop_map(SeqChoice::Retry),
        1 => (-2i32..40).prop_map(SeqChoice::Any),
        1 => Just(SeqChoice::NearMax),
    ];
    prop_oneof![
        20 => (0usize..4, prop_oneof![8 => Just(0i16), 1 => Just(1), 1 => Just(-1)], seq, 0i32..4)
            .prop_map(|(producer, epoch_delta, seq, delta)| Op::Produce { producer, epoch_delta, seq, delta }),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #[test]
    fn table_matches_the_model(ops in proptest::collection::vec(op(), 1..200)) {
        let ids = [-1i64, 0, 1, 5];
        let mut table = ProducerStateTable::new();
        let mut model = Model::default();
        let mut next_offset = 0i64;
        for op in ops {
            match op {
                Op::Restart => {
                    let bytes = table.encode_snapshot(next_offset);
                    let (decoded, offset) = ProducerStateTable::decode_snapshot(&bytes).expect("valid");
                    prop_assert_eq!(offset, next_offset);
                    prop_assert_eq!(&decoded, &table);
                    table = decoded;
                }
                Op::Produce { producer, epoch_delta, seq, delta } => {
                    let producer_id = ids[producer];
                    let (epoch, history) = model.producers.get(&producer_id).cloned().unwrap_or((0, Vec::new()));
                    let first = match seq {
                        SeqChoice::Next => history.last().map_or(0, |b| sequence_add(b.last_sequence, 1)),
                        SeqChoice::Zero => 0,
                        SeqChoice::Retry(back) => match history.len().checked_sub(back + 1) {
                            Some(i) => history[i].first_sequence,
                            None => 0,
                        },
                        SeqChoice::Any(s) => s,
                        SeqChoice::NearMax => i32::MAX - 1,
                    };
                    let mut b = ProducerBatch::new(producer_id, epoch.saturating_add(epoch_delta), first, delta);
                    if let SeqChoice::Retry(back) = seq {
                        if let Some(i) = history.len().checked_sub(back + 1) {
                            b.last_sequence = history[i].last_sequence;
                        }
                    }
                    let expected = model.check(&b);
                    let actual = table.check(&b).map_err(|e| e.error_code());
                    prop_assert_eq!(actual, expected, "{:?}", b);
                    if actual == Ok(Check::New) {
                        let appended = AppendedBatch {
                            first_offset: next_offset,
                            last_offset: next_offset + i64::from(delta),
                            max_timestamp: next_offset,
                        };
                        next_offset += i64::from(delta) + 1;
                        table.record(&b, &appended);
                        model.record(&b, &appended);
                    }
                }
            }
        }
    }

    #[test]
    fn decoding_noise_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ProducerStateTable::decode_snapshot(&bytes);
        let _ = ProducerStateTable::decode_snapshot(&with_crc_if_long(bytes));
    }
}

fn with_crc_if_long(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() >= 10 {
        bytes[..6].copy_from_slice(b"PLPS\0\x01");
        bytes = with_crc(bytes);
    }
    bytes
}

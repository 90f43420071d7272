//! Model-based property test of the partition log: random sequences of appends (of every
//! durability, with batches from a few bytes to over 1 MiB), reads, rolls, retention,
//! truncation, DeleteRecords and close/crash + reopen, checked after every step against an
//! in-memory model of segments of batches.
//!
//! The model is exact about offsets, the log start, the log end, segment boundaries and the
//! stored bytes of every batch. It is not exact about the high watermark, which trails the
//! log end while writes are on their way: it checks that the high watermark lies on a batch
//! boundary, at or above what Written and Durable appends guaranteed, and that reads serve
//! exactly the model's batches below it. Retention is exact when everything appended has been
//! written (it sizes closed segments by their written bytes); otherwise it may delete fewer
//! segments, and the model follows what the log did.
//!
//! Bugs it found have tests of their own in `model_scenarios.rs`; the model and the checks
//! against it are in `support/model.rs`.
//!
//! `PROPTEST_CASES` sets the number of cases (32 by default, to keep `cargo test` quick);
//! `PINLOG_MODEL_TRACE=1` (with `--nocapture`) prints every case and step as it runs.

mod support;

use std::rc::Rc;

use pinlog_engine::{Durability, EngineError, PartitionLog, ShardStorage};
use pinlog_protocol::records::{Compression, RecordBatch};
use proptest::prelude::*;
use proptest::sample::Index;
use support::model::{
    check_read, check_state, config, follow_retention, open_files_under, read_all, BatchSpec,
    Model, Setup, ValueSource,
};
use support::{run, test_dir};

const CASES_DEFAULT: u32 = 32;
const OPS_MAX: usize = 60;
/// A value this large makes its batch larger than the appender's 1 MiB buffer.
const HUGE_VALUE_BYTES_MIN: usize = 1024 * 1024 + 512;
const HUGE_VALUE_BYTES_MAX: usize = 1536 * 1024;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES_DEFAULT)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_log_behaves_like_its_model(
        setup in setup(),
        ops in prop::collection::vec(op(), 1..OPS_MAX),
    ) {
        run_case(&setup, &ops);
    }
}
// ---------------------------------------------------------------------------------------------
// Generated cases.

#[derive(Debug, Clone)]
enum Op {
    Append {
        batches: Vec<BatchSpec>,
        durability: Durability,
        leader_epoch: i32,
    },
    Read {
        at: ReadAt,
        max_bytes: usize,
    },
    /// Reads the whole log from its start, batch run by batch run.
    ReadAll {
        max_bytes: usize,
    },
    Roll,
    Retention {
        retention_bytes: Option<u64>,
    },
    Truncate {
        at: TruncateAt,
    },
    AdvanceStart {
        at: AdvanceAt,
    },
    /// `close` then open; with `crash`, everything is flushed and the log dropped unclosed
    /// (the active segment's indexes are not persisted).
    Reopen {
        crash: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum ReadAt {
    BelowStart,
    Start,
    Inside(Index),
    HighWatermark,
    AboveHighWatermark,
}

#[derive(Debug, Clone, Copy)]
enum TruncateAt {
    Inside(Index),
    LogEnd,
    BelowStart(Index),
}

#[derive(Debug, Clone, Copy)]
enum AdvanceAt {
    Inside(Index),
    BelowStart,
    AboveHighWatermark,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        16u64..=64,
        prop_oneof![Just(128u32), 256u32..4096],
        prop_oneof![Just(0usize), Just(64 * 1024), Just(32 * 1024 * 1024)],
    )
        .prop_map(|(kib, index_interval_bytes, cache_bytes)| Setup {
            segment_bytes: kib * 1024,
            index_interval_bytes,
            cache_bytes,
        })
}

fn value_size() -> impl Strategy<Value = usize> {
    prop_oneof![20 => 0usize..300, 3 => 4096usize..10_000]
}

fn batch_spec() -> impl Strategy<Value = BatchSpec> {
    let compression = prop_oneof![
        8 => Just(Compression::None),
        1 => Just(Compression::Lz4),
        1 => Just(Compression::Zstd),
    ];
    prop_oneof![
        60 => (prop::collection::vec(value_size(), 1..=20), compression)
            .prop_map(|(value_sizes, compression)| BatchSpec { value_sizes, compression }),
        1 => (HUGE_VALUE_BYTES_MIN..HUGE_VALUE_BYTES_MAX).prop_map(|size| BatchSpec {
            value_sizes: vec![size],
            compression: Compression::None,
        }),
    ]
}

fn durability() -> impl Strategy<Value = Durability> {
    prop_oneof![
        Just(Durability::None),
        Just(Durability::Written),
        Just(Durability::Durable)
    ]
}

fn max_bytes() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..200, 200usize..20_000, 20_000usize..3_000_000]
}

fn op() -> impl Strategy<Value = Op> {
    let read_at = prop_oneof![
        1 => Just(ReadAt::BelowStart),
        2 => Just(ReadAt::Start),
        8 => any::<Index>().prop_map(ReadAt::Inside),
        1 => Just(ReadAt::HighWatermark),
        1 => Just(ReadAt::AboveHighWatermark),
    ];
    let truncate_at = prop_oneof![
        6 => any::<Index>().prop_map(TruncateAt::Inside),
        1 => Just(TruncateAt::LogEnd),
        1 => any::<Index>().prop_map(TruncateAt::BelowStart),
    ];
    let advance_at = prop_oneof![
        6 => any::<Index>().prop_map(AdvanceAt::Inside),
        1 => Just(AdvanceAt::BelowStart),
        1 => Just(AdvanceAt::AboveHighWatermark),
    ];
    prop_oneof![
        40 => (prop::collection::vec(batch_spec(), 1..=5), durability(), 0i32..4).prop_map(
            |(batches, durability, leader_epoch)| Op::Append { batches, durability, leader_epoch }
        ),
        20 => (read_at, max_bytes()).prop_map(|(at, max_bytes)| Op::Read { at, max_bytes }),
        3 => max_bytes().prop_map(|max_bytes| Op::ReadAll { max_bytes }),
        5 => Just(Op::Roll),
        5 => prop_oneof![Just(None), (16u64..256).prop_map(|kib| Some(kib * 1024))]
            .prop_map(|retention_bytes| Op::Retention { retention_bytes }),
        5 => truncate_at.prop_map(|at| Op::Truncate { at }),
        4 => advance_at.prop_map(|at| Op::AdvanceStart { at }),
        4 => any::<bool>().prop_map(|crash| Op::Reopen { crash }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Running a case.

fn run_case(setup: &Setup, ops: &[Op]) {
    let dir = test_dir("model");
    let path = dir.join("t-0");
    run(async {
        let storage = ShardStorage::new(&dir, setup.cache_bytes);
        let mut model = Model::new(setup.segment_bytes);
        let mut log = PartitionLog::open(&storage, &path, config(setup, None))
            .await
            .unwrap();
        let mut values = ValueSource::default();
        let trace = std::env::var_os("PINLOG_MODEL_TRACE").is_some();
        if trace {
            eprintln!("case: {setup:?}");
        }
        for (step, op) in ops.iter().enumerate() {
            let context = format!("step {step}: {}", describe(op));
            if trace {
                eprintln!("{context}");
            }
            apply(
                &storage,
                &path,
                setup,
                &mut log,
                &mut model,
                &mut values,
                op,
                &context,
            )
            .await;
            check_state(&log, &model, &context);
        }
        // Whatever happened, a clean close and reopen gives back the same log.
        log.close().await.unwrap();
        drop(log);
        let log = PartitionLog::open(&storage, &path, config(setup, model.retention_bytes))
            .await
            .unwrap();
        model.reopened();
        check_state(&log, &model, "final reopen");
        read_all(&log, &model, 64 * 1024, "final reopen").await;
        log.close().await.unwrap();
        // Closing closes the files (a leak would keep the space of deleted segments too).
        assert_eq!(open_files_under(&path), Vec::<std::path::PathBuf>::new());
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn describe(op: &Op) -> String {
    match op {
        Op::Append {
            batches,
            durability,
            leader_epoch,
        } => {
            let sizes: Vec<usize> = batches
                .iter()
                .map(|b| b.value_sizes.iter().sum::<usize>())
                .collect();
            format!("append {durability:?} epoch {leader_epoch}, value bytes per batch {sizes:?}")
        }
        other => format!("{other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    storage: &Rc<ShardStorage>,
    path: &std::path::Path,
    setup: &Setup,
    log: &mut PartitionLog,
    model: &mut Model,
    values: &mut ValueSource,
    op: &Op,
    context: &str,
) {
    match op {
        Op::Append {
            batches,
            durability,
            leader_epoch,
        } => {
            let batches: Vec<RecordBatch> = batches.iter().map(|spec| values.batch(spec)).collect();
            let outcome = log
                .append(&batches, *durability, *leader_epoch)
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            let (base, last) = model.append(&batches, *leader_epoch);
            assert_eq!(
                (outcome.base_offset, outcome.last_offset),
                (base, last),
                "{context}: offsets"
            );
            assert!(!outcome.duplicate, "{context}");
            assert_eq!(outcome.log_start_offset, model.log_start, "{context}");
            if *durability != Durability::None {
                model.written_at_least = model.log_end;
                assert_eq!(log.high_watermark(), model.log_end, "{context}: after ack");
            }
        }
        Op::Read { at, max_bytes } => {
            let hw = log.high_watermark();
            let offset = match at {
                ReadAt::BelowStart => model.log_start - 1,
                ReadAt::Start => model.log_start,
                ReadAt::Inside(index) => {
                    model.log_start + index.index((hw - model.log_start + 1).max(1) as usize) as i64
                }
                ReadAt::HighWatermark => hw,
                ReadAt::AboveHighWatermark => hw + 1,
            };
            check_read(log, model, offset, *max_bytes, context).await;
        }
        Op::ReadAll { max_bytes } => read_all(log, model, *max_bytes, context).await,
        Op::Roll => {
            log.roll_now()
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            model.roll();
        }
        Op::Retention { retention_bytes } => {
            model.retention_bytes = *retention_bytes;
            log.set_config(config(setup, *retention_bytes));
            let exact = log.high_watermark() == model.log_end;
            let deleted = log
                .enforce_retention()
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            follow_retention(model, deleted, exact, context);
        }
        Op::Truncate { at } => {
            let offset = match at {
                TruncateAt::Inside(index) => {
                    model.log_start
                        + index.index((model.log_end - model.log_start + 1) as usize) as i64
                }
                TruncateAt::LogEnd => model.log_end,
                TruncateAt::BelowStart(index) => {
                    index.index(model.log_start.max(1) as usize) as i64
                }
            };
            let new_end = log
                .truncate_to(offset)
                .await
                .unwrap_or_else(|e| panic!("{context}: truncate_to({offset}): {e}"));
            assert_eq!(
                new_end,
                model.truncate(offset),
                "{context}: truncate_to({offset})"
            );
        }
        Op::AdvanceStart { at } => {
            let hw = log.high_watermark();
            let offset = match at {
                AdvanceAt::Inside(index) => {
                    model.log_start + index.index((hw - model.log_start + 1).max(1) as usize) as i64
                }
                AdvanceAt::BelowStart => (model.log_start - 1).max(0),
                AdvanceAt::AboveHighWatermark => hw + 1,
            };
            let exact = hw == model.log_end;
            match log.advance_log_start(offset).await {
                Ok(new_start) => {
                    assert!(
                        offset <= hw,
                        "{context}: advanced to {offset} above the hw {hw}"
                    );
                    model.log_start = model.log_start.max(offset);
                    assert_eq!(new_start, model.log_start, "{context}: new log start");
                    let deleted = model.segments.len() - log.segment_count();
                    follow_retention(model, deleted, exact, context);
                }
                Err(EngineError::OffsetOutOfRange { .. }) => {
                    assert!(
                        offset > hw,
                        "{context}: advance_log_start({offset}) refused"
                    )
                }
                Err(e) => panic!("{context}: advance_log_start({offset}): {e}"),
            }
        }
        Op::Reopen { crash } => {
            if *crash {
                log.flush()
                    .await
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
                // A crash: whatever the flusher has not done yet (closing a rolled segment) is
                // for recovery to finish.
            } else {
                log.close()
                    .await
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
            }
            *log = PartitionLog::open(storage, path, config(setup, model.retention_bytes))
                .await
                .unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
            model.reopened();
            assert_eq!(
                log.high_watermark(),
                model.log_end,
                "{context}: after reopen"
            );
        }
    }
}

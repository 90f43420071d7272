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
//! Bugs it found have tests of their own below.
//!
//! `PROPTEST_CASES` sets the number of cases (32 by default, to keep `cargo test` quick);
//! `PINLOG_MODEL_TRACE=1` (with `--nocapture`) prints every case and step as it runs.

mod support;

use std::rc::Rc;

use bytes::Bytes;
use pinlog_engine::{Durability, EngineError, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{BatchBuilder, Compression, NewRecord, ProducerFields, RecordBatch};
use proptest::prelude::*;
use proptest::sample::Index;
use support::{run, split_batches, stored_bytes, test_dir};

const CASES_DEFAULT: u32 = 32;
const OPS_MAX: usize = 60;
/// A value this large makes its batch larger than the appender's 1 MiB buffer.
const HUGE_VALUE_BYTES_MIN: usize = 1024 * 1024 + 512;
const HUGE_VALUE_BYTES_MAX: usize = 1536 * 1024;
const MAX_MESSAGE_BYTES: u32 = 2 * 1024 * 1024;
const TIMESTAMP_BASE_MS: i64 = 1_700_000_000_000;

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

/// Truncation below the log start (a follower diverging before the leader's DeleteRecords
/// point, or any cut inside the batch that holds the log start) lowers the log start in
/// memory, but the `log-start-offset` file keeps the old value, so a reopen raises it again
/// and hides the records appended since.
#[test]
fn truncating_below_the_log_start_survives_a_reopen() {
    let dir = test_dir("model-truncate-start");
    let path = dir.join("t-0");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let setup = Setup {
            segment_bytes: 1 << 20,
            index_interval_bytes: 4096,
            cache_bytes: 0,
        };
        let log = PartitionLog::open(&storage, &path, config(&setup, None))
            .await
            .unwrap();
        log.append(&[support::batch(0, 2)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(log.advance_log_start(1).await.unwrap(), 1);
        assert_eq!(log.truncate_to(0).await.unwrap(), 0);
        assert_eq!(log.log_start_offset(), 0);
        log.append(&[support::batch(10, 2)], Durability::Durable, 0)
            .await
            .unwrap();
        log.close().await.unwrap();
        let log = PartitionLog::open(&storage, &path, config(&setup, None))
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(log.log_start_offset(), 0, "the log start before the reopen");
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// `truncate_locked` sets the new active segment's `start_total` to `appended_total -
/// data_len`; after a reopen `appended_total` counts only the active segment's bytes, so
/// cutting an older, larger segment underflows (a panic in debug builds; in release the
/// wrapped value happens to cancel out in later sums).
#[test]
fn truncating_into_a_segment_from_before_the_open() {
    let dir = test_dir("model-truncate-underflow");
    let path = dir.join("t-0");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let setup = Setup {
            segment_bytes: 1 << 20,
            index_interval_bytes: 4096,
            cache_bytes: 0,
        };
        let log = PartitionLog::open(&storage, &path, config(&setup, None))
            .await
            .unwrap();
        for i in 0..20 {
            log.append(&[support::batch(i * 10, 10)], Durability::Written, 0)
                .await
                .unwrap();
        }
        log.roll_now().await.unwrap();
        log.append(&[support::batch(200, 1)], Durability::Durable, 0)
            .await
            .unwrap();
        log.close().await.unwrap();
        let log = PartitionLog::open(&storage, &path, config(&setup, None))
            .await
            .unwrap();
        assert_eq!(log.truncate_to(150).await.unwrap(), 150);
        log.append(&[support::batch(150, 5)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(log.high_watermark(), 155);
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Retention sizes closed segments by their written bytes and deletes them whether or not
/// their batches reached the device, so right after unwaited appends it can delete segments
/// above the high watermark: the log start passes the high watermark, and a fetch at the log
/// start is out of range. Kafka deletes only segments wholly below the high watermark.
#[test]
fn retention_deletes_nothing_above_the_high_watermark() {
    let dir = test_dir("model-retention-hw");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let setup = Setup {
            segment_bytes: 16 * 1024,
            index_interval_bytes: 4096,
            cache_bytes: 0,
        };
        // Whether the writes are still on their way at the call depends on the flusher's
        // timing: try a few times.
        for round in 0..20 {
            let path = dir.join(format!("t-{round}"));
            let log = PartitionLog::open(&storage, &path, config(&setup, Some(10 * 1024)))
                .await
                .unwrap();
            let mut values = ValueSource::default();
            for _ in 0..3 {
                let batch = values.batch(&BatchSpec {
                    value_sizes: vec![12 * 1024],
                    compression: Compression::None,
                });
                log.append(&[batch], Durability::None, 0).await.unwrap();
            }
            assert_eq!(log.segment_count(), 3);
            let hw = log.high_watermark();
            log.enforce_retention().await.unwrap();
            assert!(
                log.log_start_offset() <= hw,
                "round {round}: log start {} above the high watermark {hw} at the call",
                log.log_start_offset()
            );
            log.close().await.unwrap();
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// `close` used to collect the segments' `Rc<SegmentFile>`s with `.clone()` while the
/// segments kept theirs, so `Rc::try_unwrap` never succeeded and no file was closed: every
/// descriptor stayed open until the log was dropped, and then closed only if the executor ran
/// another I/O cycle. Now the files close with the log, and the closed log refuses every later
/// call with `EngineError::Closed` instead of panicking on its missing segments.
#[test]
fn close_closes_the_segment_files() {
    let dir = test_dir("model-close-fds");
    let path = dir.join("t-0");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &path, LogConfig::default())
            .await
            .unwrap();
        log.append(&[support::batch(0, 2)], Durability::Durable, 0)
            .await
            .unwrap();
        log.roll_now().await.unwrap();
        log.append(&[support::batch(2, 2)], Durability::Durable, 0)
            .await
            .unwrap();
        assert!(!open_files_under(&path).is_empty());
        log.close().await.unwrap();
        assert_eq!(open_files_under(&path), Vec::<std::path::PathBuf>::new());

        let closed = |result: Result<(), EngineError>, call: &str| match result {
            Err(EngineError::Closed { .. }) => {}
            other => panic!("{call} on a closed log: {other:?}"),
        };
        closed(
            log.append(&[support::batch(4, 1)], Durability::Durable, 0)
                .await
                .map(drop),
            "append",
        );
        closed(log.read(0, 1024).await.map(drop), "read");
        closed(
            log.offset_for_timestamp(0).await.map(drop),
            "offset_for_timestamp",
        );
        closed(log.wait_for_data(4).await, "wait_for_data");
        closed(log.roll_now().await, "roll_now");
        closed(log.truncate_to(1).await.map(drop), "truncate_to");
        closed(
            log.advance_log_start(1).await.map(drop),
            "advance_log_start",
        );
        closed(log.enforce_retention().await.map(drop), "enforce_retention");
        closed(log.close().await, "close");
        assert_eq!(log.size_bytes(), 0);
        assert_eq!(log.segment_count(), 0);
        assert_eq!(log.log_end_offset(), 4);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files under `dir` this process has open.
fn open_files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("procfs") {
        let Ok(target) = std::fs::read_link(entry.expect("an fd entry").path()) else {
            continue;
        };
        if target.starts_with(dir) {
            out.push(target);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generated cases.

#[derive(Debug, Clone)]
struct Setup {
    segment_bytes: u64,
    index_interval_bytes: u32,
    cache_bytes: usize,
}

#[derive(Debug, Clone)]
struct BatchSpec {
    value_sizes: Vec<usize>,
    compression: Compression,
}

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
// The model.

#[derive(Debug, Clone)]
struct ModelBatch {
    base: i64,
    last: i64,
    /// As stored: baseOffset and partitionLeaderEpoch rewritten.
    bytes: Bytes,
}

#[derive(Debug, Clone)]
struct ModelSegment {
    base: i64,
    batches: Vec<ModelBatch>,
}

impl ModelSegment {
    fn bytes(&self) -> u64 {
        self.batches.iter().map(|b| b.bytes.len() as u64).sum()
    }
}

#[derive(Debug)]
struct Model {
    segment_bytes: u64,
    retention_bytes: Option<u64>,
    /// The last is the active segment.
    segments: Vec<ModelSegment>,
    log_start: i64,
    log_end: i64,
    /// What Written and Durable appends guaranteed the high watermark to be at least.
    written_at_least: i64,
}

impl Model {
    fn new(segment_bytes: u64) -> Model {
        Model {
            segment_bytes,
            retention_bytes: None,
            segments: vec![ModelSegment {
                base: 0,
                batches: Vec::new(),
            }],
            log_start: 0,
            log_end: 0,
            written_at_least: 0,
        }
    }

    fn active(&self) -> &ModelSegment {
        self.segments.last().expect("an active segment")
    }

    fn batches(&self) -> impl Iterator<Item = &ModelBatch> {
        self.segments.iter().flat_map(|s| s.batches.iter())
    }

    fn size_bytes(&self) -> u64 {
        self.segments.iter().map(ModelSegment::bytes).sum()
    }

    fn first_data_offset(&self) -> i64 {
        self.segments[0].base
    }

    /// Rolls as the log does: before an append that would take a non-empty active segment
    /// beyond `segment.bytes`; the append's batches all go to one segment.
    fn append(&mut self, batches: &[RecordBatch], leader_epoch: i32) -> (i64, i64) {
        let incoming: u64 = batches.iter().map(|b| b.size_bytes() as u64).sum();
        let active_bytes = self.active().bytes();
        if active_bytes > 0 && active_bytes + incoming > self.segment_bytes {
            self.roll();
        }
        let base = self.log_end;
        let mut next = base;
        for batch in batches {
            let last = next + i64::from(batch.last_offset_delta());
            let bytes = stored_bytes(batch, next, leader_epoch);
            let active = self.segments.last_mut().expect("an active segment");
            active.batches.push(ModelBatch {
                base: next,
                last,
                bytes,
            });
            next = last + 1;
        }
        self.log_end = next;
        (base, next - 1)
    }

    fn roll(&mut self) {
        if self.active().bytes() > 0 {
            self.segments.push(ModelSegment {
                base: self.log_end,
                batches: Vec::new(),
            });
        }
    }

    /// How many of the oldest closed segments retention deletes.
    fn retention_victims(&self) -> usize {
        let mut size = self.size_bytes();
        let mut victims = 0;
        for pair in self.segments.windows(2) {
            let (segment, next) = (&pair[0], &pair[1]);
            let by_bytes = self
                .retention_bytes
                .is_some_and(|limit| size.saturating_sub(segment.bytes()) >= limit);
            let below_start = next.base <= self.log_start;
            if !(by_bytes || below_start) {
                break;
            }
            size -= segment.bytes();
            victims += 1;
        }
        victims
    }

    fn delete_oldest(&mut self, count: usize) {
        assert!(count < self.segments.len(), "never the active segment");
        self.segments.drain(..count);
        self.log_start = self.log_start.max(self.segments[0].base);
    }

    /// Removes the batch containing `offset` and everything after; returns the new log end.
    fn truncate(&mut self, offset: i64) -> i64 {
        if offset >= self.log_end {
            return self.log_end;
        }
        if offset < self.first_data_offset() {
            self.segments = vec![ModelSegment {
                base: offset,
                batches: Vec::new(),
            }];
            self.log_end = offset;
        } else {
            let keep = self
                .segments
                .iter()
                .rposition(|s| s.base <= offset)
                .expect("a segment at or below the offset");
            self.segments.truncate(keep + 1);
            let segment = &mut self.segments[keep];
            let cut = segment
                .batches
                .iter()
                .position(|b| b.last >= offset)
                .expect("the batch containing the offset");
            self.log_end = segment.batches[cut].base;
            segment.batches.truncate(cut);
        }
        self.log_start = self.log_start.min(self.log_end);
        self.written_at_least = self.log_end;
        self.log_end
    }

    /// After a reopen everything is written.
    fn reopened(&mut self) {
        self.written_at_least = self.log_end;
    }

    fn containing(&self, offset: i64) -> Option<usize> {
        self.batches()
            .position(|b| b.base <= offset && offset <= b.last)
    }

    fn boundaries(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self.batches().map(|b| b.base).collect();
        out.push(self.log_end);
        out.extend(self.segments.iter().map(|s| s.base));
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Running a case.

fn config(setup: &Setup, retention_bytes: Option<u64>) -> LogConfig {
    LogConfig {
        segment_bytes: setup.segment_bytes,
        segment_ms: None,
        retention_bytes,
        retention_ms: None,
        index_interval_bytes: setup.index_interval_bytes,
        max_message_bytes: MAX_MESSAGE_BYTES,
        ..LogConfig::default()
    }
}

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

/// Applies to the model the retention the log did: exactly the model's when everything was
/// written, otherwise any number of the oldest closed segments up to the model's choice.
fn follow_retention(model: &mut Model, deleted: usize, exact: bool, context: &str) {
    let victims = model.retention_victims();
    if exact {
        assert_eq!(deleted, victims, "{context}: segments deleted by retention");
    } else {
        assert!(
            deleted < model.segments.len(),
            "{context}: retention deleted {deleted} of {} segments",
            model.segments.len()
        );
    }
    model.delete_oldest(deleted);
}

fn check_state(log: &PartitionLog, model: &Model, context: &str) {
    assert_eq!(log.log_end_offset(), model.log_end, "{context}: log end");
    assert_eq!(
        log.log_start_offset(),
        model.log_start,
        "{context}: log start"
    );
    assert_eq!(
        log.segment_count(),
        model.segments.len(),
        "{context}: segments"
    );
    let hw = log.high_watermark();
    assert!(
        model.log_start <= hw,
        "{context}: log start {} above the high watermark {hw}",
        model.log_start
    );
    assert!(
        model.written_at_least <= hw && hw <= model.log_end,
        "{context}: high watermark {hw} outside [{}, {}]",
        model.written_at_least,
        model.log_end
    );
    assert!(
        model.boundaries().contains(&hw),
        "{context}: high watermark {hw} inside a batch"
    );
    if hw == model.log_end {
        assert_eq!(log.size_bytes(), model.size_bytes(), "{context}: size");
    }
}

/// One read, checked against the model: whole batches from the one containing `offset`,
/// consecutive, below the high watermark, byte for byte as stored, within `max_bytes` unless
/// there is just one.
async fn check_read(
    log: &PartitionLog,
    model: &Model,
    offset: i64,
    max_bytes: usize,
    context: &str,
) -> Vec<Bytes> {
    let hw = log.high_watermark();
    let result = log.read(offset, max_bytes).await;
    let context = format!("{context}: read({offset}, {max_bytes}) with hw {hw}");
    let read = match result {
        Err(EngineError::OffsetOutOfRange { .. }) if offset < model.log_start || offset > hw => {
            return Vec::new()
        }
        Err(e) => panic!("{context}: {e}"),
        Ok(_) if offset < model.log_start || offset > hw => {
            panic!("{context}: served outside [{}, {hw}]", model.log_start)
        }
        Ok(read) => read,
    };
    assert_eq!(read.high_watermark, hw, "{context}");
    assert_eq!(read.log_start_offset, model.log_start, "{context}");
    let got = split_batches(&read.chunks);
    if offset == hw {
        assert!(got.is_empty(), "{context}: batches at the high watermark");
        return got;
    }
    let first = model
        .containing(offset)
        .unwrap_or_else(|| panic!("{context}: the model has no batch containing it"));
    let expected: Vec<&ModelBatch> = model
        .batches()
        .skip(first)
        .take_while(|b| b.last < hw)
        .collect();
    assert!(
        !got.is_empty(),
        "{context}: no batch below the high watermark"
    );
    assert!(
        got.len() <= expected.len(),
        "{context}: {} batches, at most {} expected",
        got.len(),
        expected.len()
    );
    for (i, (bytes, want)) in got.iter().zip(&expected).enumerate() {
        let batch = RecordBatch::new(bytes.clone()).expect("a batch header");
        batch
            .validate_header()
            .unwrap_or_else(|e| panic!("{context}: batch {i} invalid: {e}"));
        assert!(
            *bytes == want.bytes,
            "{context}: batch {i} (offsets {}..={}) differs from what was appended \
             (got base {} with {} bytes, want {} bytes)",
            want.base,
            want.last,
            batch.base_offset(),
            bytes.len(),
            want.bytes.len()
        );
    }
    let total: usize = got.iter().map(Bytes::len).sum();
    assert!(
        got.len() == 1 || total <= max_bytes,
        "{context}: {} batches of {total} bytes",
        got.len()
    );
    got
}

/// Reads from the log start to the high watermark, each read continuing after the last batch
/// of the one before.
async fn read_all(log: &PartitionLog, model: &Model, max_bytes: usize, context: &str) {
    let hw = log.high_watermark();
    let mut offset = model.log_start;
    while offset < hw {
        let got = check_read(log, model, offset, max_bytes, context).await;
        let last = RecordBatch::new(got.last().expect("a batch").clone())
            .expect("a batch header")
            .last_offset();
        offset = last + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Batches.

/// Builds batches whose every value is distinct (a running number, then filler).
#[derive(Default)]
struct ValueSource {
    next: u64,
}

impl ValueSource {
    fn batch(&mut self, spec: &BatchSpec) -> RecordBatch {
        let mut builder = BatchBuilder::new()
            .compression(spec.compression)
            .producer(ProducerFields::NONE);
        for &size in &spec.value_sizes {
            let id = self.next;
            self.next += 1;
            let mut value = format!("v{id}:").into_bytes();
            value.extend((0..size).map(|i| b'a' + ((id as usize + i) % 26) as u8));
            builder.push(NewRecord {
                key: (!id.is_multiple_of(3)).then(|| Bytes::from(format!("k{}", id % 10))),
                value: Some(Bytes::from(value)),
                headers: Vec::new(),
                timestamp: TIMESTAMP_BASE_MS + id as i64,
            });
        }
        RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
    }
}

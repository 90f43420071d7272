//! Idempotent producers through the log: retries return the original offsets, gaps and fenced
//! epochs are refused with Kafka's errors, and the state survives a clean reopen (snapshot)
//! and a crash (snapshot plus replay of the tail); and the flush.messages / flush.ms policies.

mod support;

use std::rc::Rc;
use std::time::Duration;

use pinlog_engine::{Durability, EngineError, FaultPlan, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{Compression, ProducerFields, RecordBatch};
use support::{batch, batch_with, run, test_dir, values};

const PRODUCER: i64 = 4242;

fn producer_batch(epoch: i16, sequence: i32, count: u64) -> RecordBatch {
    let producer = ProducerFields {
        producer_id: PRODUCER,
        producer_epoch: epoch,
        base_sequence: sequence,
    };
    batch_with(
        sequence as u64,
        count,
        Compression::None,
        producer,
        1_700_000_000_000,
    )
}

fn error_code(error: EngineError) -> i16 {
    error.error_code().code()
}

fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes: 2 * 1024,
        index_interval_bytes: 512,
        // The batches carry old timestamps: retention by time at each roll would delete the
        // segments this test reopens.
        retention_eager: false,
        ..LogConfig::default()
    }
}

#[test]
fn a_retried_batch_returns_its_original_offsets_and_is_not_appended_again() {
    let dir = test_dir("idempotent-retry");
    run(async move {
        let storage = ShardStorage::new(&dir, 1 << 20);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        log.append(&[batch(0, 3)], Durability::Written, 0)
            .await
            .unwrap();
        let first = log
            .append(&[producer_batch(0, 0, 5)], Durability::Written, 0)
            .await
            .unwrap();
        let second = log
            .append(&[producer_batch(0, 5, 5)], Durability::Written, 0)
            .await
            .unwrap();
        assert_eq!(
            (first.base_offset, first.last_offset, first.duplicate),
            (3, 7, false)
        );
        let retry = log
            .append(&[producer_batch(0, 0, 5)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(
            (retry.base_offset, retry.last_offset, retry.duplicate),
            (3, 7, true)
        );
        let retry = log
            .append(&[producer_batch(0, 5, 5)], Durability::Written, 0)
            .await
            .unwrap();
        assert_eq!(
            (retry.base_offset, retry.duplicate),
            (second.base_offset, true)
        );
        assert_eq!(log.log_end_offset(), 13);
        assert_eq!(
            values(&log.read(0, 1 << 20).await.unwrap().chunks).len(),
            13
        );
        log.close().await.unwrap();
    });
}

#[test]
fn gaps_and_fenced_epochs_get_kafkas_errors() {
    let dir = test_dir("idempotent-errors");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        log.append(&[producer_batch(3, 0, 2)], Durability::Written, 0)
            .await
            .unwrap();
        let gap = log
            .append(&[producer_batch(3, 5, 1)], Durability::Written, 0)
            .await
            .unwrap_err();
        assert_eq!(error_code(gap), 45, "OUT_OF_ORDER_SEQUENCE_NUMBER");
        let fenced = log
            .append(&[producer_batch(2, 2, 1)], Durability::Written, 0)
            .await
            .unwrap_err();
        assert_eq!(error_code(fenced), 47, "INVALID_PRODUCER_EPOCH");
        // A new epoch starts again at sequence 0.
        log.append(&[producer_batch(4, 0, 1)], Durability::Written, 0)
            .await
            .unwrap();
        let restart = log
            .append(&[producer_batch(5, 3, 1)], Durability::Written, 0)
            .await
            .unwrap_err();
        assert_eq!(error_code(restart), 45);
        assert_eq!(log.log_end_offset(), 3, "refused batches append nothing");
        log.close().await.unwrap();
    });
}

#[test]
fn duplicates_are_recognised_after_a_clean_reopen_and_after_a_crash() {
    let dir = test_dir("idempotent-restart");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        let mut sequence = 0;
        let mut offsets = Vec::new();
        // Enough batches for several rolls: snapshots are written at each.
        for _ in 0..60 {
            let outcome = log
                .append(&[producer_batch(0, sequence, 4)], Durability::Durable, 0)
                .await
                .unwrap();
            offsets.push((sequence, outcome.base_offset));
            sequence += 4;
        }
        assert!(log.segment_count() > 3);
        log.close().await.unwrap();
        let snapshots = std::fs::read_dir(&path)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "snapshot")
            })
            .count();
        assert!((1..=2).contains(&snapshots), "{snapshots} snapshots kept");

        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        let (last_sequence, last_offset) = *offsets.last().unwrap();
        let retry = log
            .append(
                &[producer_batch(0, last_sequence, 4)],
                Durability::Written,
                0,
            )
            .await
            .unwrap();
        assert_eq!((retry.base_offset, retry.duplicate), (last_offset, true));
        // More, then a crash (no close): the tail after the last snapshot is replayed.
        for _ in 0..7 {
            let outcome = log
                .append(&[producer_batch(0, sequence, 4)], Durability::Durable, 0)
                .await
                .unwrap();
            offsets.push((sequence, outcome.base_offset));
            sequence += 4;
        }
        drop(log);
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        for &(seq, offset) in offsets.iter().rev().take(5) {
            let retry = log
                .append(&[producer_batch(0, seq, 4)], Durability::Written, 0)
                .await
                .unwrap();
            assert_eq!(
                (retry.base_offset, retry.duplicate),
                (offset, true),
                "sequence {seq}"
            );
        }
        let gap = log
            .append(
                &[producer_batch(0, sequence + 4, 4)],
                Durability::Written,
                0,
            )
            .await
            .unwrap_err();
        assert_eq!(error_code(gap), 45);
        let next = log
            .append(&[producer_batch(0, sequence, 4)], Durability::Written, 0)
            .await
            .unwrap();
        assert!(!next.duplicate);
        log.close().await.unwrap();
    });
}

#[test]
fn several_batches_of_one_producer_in_one_append_see_each_other() {
    let dir = test_dir("idempotent-multi");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        let outcome = log
            .append(
                &[producer_batch(0, 0, 5), producer_batch(0, 5, 5)],
                Durability::Written,
                0,
            )
            .await
            .unwrap();
        assert_eq!((outcome.base_offset, outcome.last_offset), (0, 9));
        let retry = log
            .append(&[producer_batch(0, 5, 5)], Durability::Written, 0)
            .await
            .unwrap();
        assert_eq!((retry.base_offset, retry.duplicate), (5, true));
        let mixed = log
            .append(
                &[producer_batch(0, 10, 1), producer_batch(0, 5, 5)],
                Durability::Written,
                0,
            )
            .await
            .unwrap_err();
        assert_eq!(error_code(mixed), 46, "DUPLICATE_SEQUENCE_NUMBER");
        assert_eq!(log.log_end_offset(), 10);
        log.close().await.unwrap();
    });
}

#[test]
fn flush_messages_and_flush_ms_sync_without_durable_appends() {
    let dir = test_dir("flush-policy");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        // Neither policy: Written appends never sync.
        let log = PartitionLog::open(&storage, &dir.join("none"), LogConfig::default())
            .await
            .unwrap();
        let before = plan.syncs();
        for i in 0..20 {
            log.append(&[batch(i, 1)], Durability::Written, 0)
                .await
                .unwrap();
        }
        glommio::timer::sleep(Duration::from_millis(50)).await;
        assert_eq!(plan.syncs(), before);

        let config = LogConfig {
            flush_messages: Some(5),
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &dir.join("messages"), config)
            .await
            .unwrap();
        let before = plan.syncs();
        for i in 0..20 {
            log.append(&[batch(i, 1)], Durability::Written, 0)
                .await
                .unwrap();
        }
        // The sync runs in the background: wait for it, as slow as the machine may be.
        wait_until(|| plan.syncs() > before).await;
        let synced = plan.syncs() - before;
        assert!(
            (1..=20).contains(&synced),
            "flush.messages=5 over 20 records: {synced} syncs"
        );
        // Bursts of appends that interleave with the syncs: once a burst is written, fewer
        // than flush.messages records stay unsynced.
        for round in 0..20u64 {
            let batches: Vec<_> = (0..7).map(|i| [batch(100 + 7 * round + i, 1)]).collect();
            let appends = batches
                .iter()
                .map(|batch| log.append(batch, Durability::Written, 0));
            for outcome in futures::future::join_all(appends).await {
                outcome.unwrap();
            }
            wait_until(|| log.unflushed_messages() < 5).await;
        }

        let config = LogConfig {
            flush_ms: Some(30),
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &dir.join("ms"), config)
            .await
            .unwrap();
        let before = plan.syncs();
        // Before the append: the policy's clock starts when its data is written.
        let waited = std::time::Instant::now();
        log.append(&[batch(0, 1)], Durability::Written, 0)
            .await
            .unwrap();
        assert_eq!(plan.syncs(), before, "not yet due");
        wait_until(|| plan.syncs() > before).await;
        assert!(
            waited.elapsed() >= Duration::from_millis(25),
            "flush.ms=30 synced early, {:?} after the append began",
            waited.elapsed()
        );
    });
}

/// Polls `done` until it holds; a bound far above any machine's slowness turns a policy that
/// never syncs into a failure instead of a hang.
async fn wait_until(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "no sync within 10 s");
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}

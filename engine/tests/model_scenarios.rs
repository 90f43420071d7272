//! Single scenarios of the partition log that the model-based test (`model.rs`) found bugs in,
//! each pinned by a test of its own.

mod support;

use pinlog_engine::{Durability, EngineError, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::Compression;
use support::model::{config, open_files_under, BatchSpec, Setup, ValueSource};
use support::{run, test_dir};

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

//! Injected I/O faults (failed write, failed fdatasync, full disk) through the FaultPlan seam:
//! the caller gets the error, acknowledged data stays readable, nothing half-written is served,
//! and reopening the log recovers it.

mod support;

use std::rc::Rc;

use pinlog_engine::{Durability, EngineError, FaultPlan, LogConfig, PartitionLog, ShardStorage};
use support::{batch, run, test_dir, values};

/// Appends `count` single-record batches from `first`, each acknowledged Written.
async fn append_written(log: &PartitionLog, first: u64, count: u64) {
    for i in first..first + count {
        log.append(&[batch(i, 1)], Durability::Written, 0)
            .await
            .unwrap();
    }
}

async fn assert_reads_exactly(log: &PartitionLog, count: u64) {
    let got = values(&log.read(0, 1 << 24).await.unwrap().chunks);
    assert_eq!(got.len() as u64, count);
    for (i, (offset, value)) in got.iter().enumerate() {
        assert_eq!(*offset, i as i64);
        assert!(value.starts_with(format!("value-{i}-").as_bytes()));
    }
}

#[test]
fn a_failed_write_fails_the_append_and_keeps_what_was_acknowledged() {
    let dir = test_dir("fault-write");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, LogConfig::default())
            .await
            .unwrap();
        append_written(&log, 0, 20).await;
        plan.fail_next_write(libc::EIO);
        let error = log
            .append(&[batch(20, 1)], Durability::Written, 0)
            .await
            .unwrap_err();
        assert!(matches!(error, EngineError::LogFailed { .. }), "{error}");
        assert_eq!(error.error_code().code(), 56, "KAFKA_STORAGE_ERROR");
        // The log refuses writes until reopened, but serves what reached the device.
        assert!(matches!(
            log.append(&[batch(20, 1)], Durability::None, 0).await,
            Err(EngineError::LogFailed { .. })
        ));
        assert_eq!(log.high_watermark(), 20);
        assert!(
            !log.failed_for_space(),
            "an I/O error waits for an operator"
        );
        assert_reads_exactly(&log, 20).await;
        drop(log);
        let log = PartitionLog::open(&ShardStorage::new(&dir, 0), &path, LogConfig::default())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 20);
        append_written(&log, 20, 5).await;
        assert_reads_exactly(&log, 25).await;
        log.close().await.unwrap();
    });
}

#[test]
fn a_failed_fdatasync_fails_durable_appends() {
    let dir = test_dir("fault-sync");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, LogConfig::default())
            .await
            .unwrap();
        for i in 0..10 {
            log.append(&[batch(i, 1)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        plan.fail_next_sync(libc::EIO);
        let error = log
            .append(&[batch(10, 1)], Durability::Durable, 0)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("fdatasync"), "{error}");
        // After a failed fdatasync nothing can be trusted to be durable: no more writes.
        assert!(matches!(
            log.append(&[batch(10, 1)], Durability::Written, 0).await,
            Err(EngineError::LogFailed { .. })
        ));
        drop(log);
        let log = PartitionLog::open(&ShardStorage::new(&dir, 0), &path, LogConfig::default())
            .await
            .unwrap();
        // The ten durable batches survive; the eleventh may or may not (it was written).
        assert!(log.log_end_offset() >= 10);
        let got = values(&log.read(0, 1 << 20).await.unwrap().chunks);
        assert!(got.len() >= 10);
        log.close().await.unwrap();
    });
}

#[test]
fn a_full_disk_is_reported_and_leaves_the_log_consistent() {
    let dir = test_dir("fault-enospc");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, LogConfig::default())
            .await
            .unwrap();
        append_written(&log, 0, 10).await;
        plan.set_space_left(Some(0));
        let error = log
            .append(&[batch(10, 1)], Durability::Written, 0)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("no space left"), "{error}");
        assert!(log.failed_for_space(), "a full disk is a failure to retry");
        assert_reads_exactly(&log, 10).await;
        drop(log);
        plan.set_space_left(None);
        let log = PartitionLog::open(&storage, &path, LogConfig::default())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 10);
        append_written(&log, 10, 10).await;
        assert_reads_exactly(&log, 20).await;
        log.close().await.unwrap();
    });
}

#[test]
fn appends_queued_behind_a_failed_write_fail_too() {
    let dir = test_dir("fault-queued");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        append_written(&log, 0, 3).await;
        plan.fail_next_write(libc::EIO);
        let appends: Vec<_> = (3..13u64)
            .map(|i| {
                let log = log.clone();
                glommio::spawn_local(async move {
                    log.append(&[batch(i, 1)], Durability::Written, 0).await
                })
            })
            .collect();
        let mut failed = 0;
        for append in appends {
            if append.await.is_err() {
                failed += 1;
            }
        }
        assert!(failed >= 1);
        // Whatever was acknowledged is exactly what can be read: no gaps, nothing extra.
        let hw = log.high_watermark();
        assert_eq!(hw, 3 + (10 - failed));
        assert_reads_exactly(&log, hw as u64).await;
    });
}

#[test]
fn a_disk_without_room_for_a_whole_preallocation_step_is_filled_to_the_last_page() {
    const RECORD_BYTES: usize = 16 * 1024;
    let dir = test_dir("fault-preallocate");
    run(async move {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        // Room for the first 1 MiB step and 256 KiB more, not for the next (2 MiB) step.
        let room = (1024 + 256) * 1024;
        plan.limit_preallocation(Some(room));
        let mut appended = 0;
        let mut offset = 0;
        while appended + 2 * RECORD_BYTES < room as usize {
            let batch = support::batch_with_value_size(offset, RECORD_BYTES);
            appended += batch.size_bytes();
            log.append(&[batch], Durability::Durable, 0)
                .await
                .unwrap_or_else(|error| panic!("append at {appended} bytes: {error}"));
            offset += 1;
        }
        assert!(
            appended > 1024 * 1024,
            "the appends went past the first step"
        );
        // Past the room, the log fails for want of space, keeping what it acknowledged: all
        // but the last batch's worth of the room.
        let error = loop {
            let batch = support::batch_with_value_size(offset, RECORD_BYTES);
            let bytes = batch.size_bytes();
            match log.append(&[batch], Durability::Durable, 0).await {
                Ok(_) => {
                    offset += 1;
                    appended += bytes;
                }
                Err(error) => break error,
            }
            assert!(appended <= room as usize, "appended past the room");
        };
        assert!(log.failed_for_space(), "{error}");
        assert!(
            appended + 2 * RECORD_BYTES > room as usize,
            "the log stopped {} bytes short of the room",
            room as usize - appended
        );
        assert_eq!(log.high_watermark(), offset as i64);
        log.close().await.ok();
    });
}

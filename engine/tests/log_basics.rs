//! The partition log end to end on a real disk: append, read, reopen, roll, retention,
//! truncation, timestamps, long polls, the directory lock and the tmpfs check.

mod support;

use std::rc::Rc;
use std::time::Duration;

use pinlog_engine::io::SegmentFile;
use pinlog_engine::log::is_deleted_log_dir;
use pinlog_engine::{
    DataDir, Durability, EngineError, IoMode, LogConfig, PartitionLog, ShardStorage,
};
use support::{batch, run, test_dir, values};

fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 1024,
        // Deletions happen only when the test enforces retention, so that it can count them.
        retention_eager: false,
        ..LogConfig::default()
    }
}

#[test]
fn appended_batches_read_back_with_assigned_offsets() {
    let dir = test_dir("append-read");
    run(async move {
        let storage = ShardStorage::new(&dir, 1 << 20);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        let mut next = 0u64;
        for i in 0..50u64 {
            let count = 1 + i % 7;
            let outcome = log
                .append(&[batch(next, count)], Durability::Written, 3)
                .await
                .unwrap();
            assert_eq!(outcome.base_offset, next as i64);
            assert_eq!(outcome.last_offset, (next + count - 1) as i64);
            next += count;
        }
        assert_eq!(log.log_end_offset(), next as i64);
        assert_eq!(log.high_watermark(), next as i64);
        let read = log.read(0, 1 << 20).await.unwrap();
        let got = values(&read.chunks);
        assert_eq!(got.len() as u64, next);
        for (i, (offset, value)) in got.iter().enumerate() {
            assert_eq!(*offset, i as i64);
            assert!(value.starts_with(format!("value-{i}-").as_bytes()));
        }
        // From the middle of a batch: the whole batch containing it comes first.
        let read = log.read(10, 1).await.unwrap();
        let first = values(&read.chunks);
        assert!(first[0].0 <= 10 && first.last().unwrap().0 >= 10);
        assert_eq!(log.read(next as i64, 100).await.unwrap().chunks.len(), 0);
        assert!(matches!(
            log.read(next as i64 + 1, 100).await,
            Err(EngineError::OffsetOutOfRange { .. })
        ));
        log.close().await.unwrap();
    });
}

#[test]
fn reopening_recovers_every_written_batch_and_continues_at_the_end() {
    let dir = test_dir("reopen");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        for i in 0..200u64 {
            log.append(&[batch(i * 3, 3)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        let segments = log.segment_count();
        assert!(segments > 1, "small segments roll");
        // The active segment's index entries reach its file after each sync, without a close.
        let active_index = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "index"))
            .max()
            .unwrap();
        assert!(
            std::fs::metadata(&active_index).unwrap().len() > 0,
            "{} is empty",
            active_index.display()
        );
        // No close: as after a crash, nothing but what is on disk survives.
        drop(log);
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 600);
        assert_eq!(log.segment_count(), segments);
        let mut offset = 0;
        let mut seen = 0;
        while offset < 600 {
            let read = log.read(offset, 4096).await.unwrap();
            let got = values(&read.chunks);
            for (o, value) in &got {
                if *o >= offset {
                    assert!(value.starts_with(format!("value-{o}-").as_bytes()));
                    seen += 1;
                }
            }
            offset = got.last().unwrap().0 + 1;
        }
        assert_eq!(seen, 600);
        let outcome = log
            .append(&[batch(600, 2)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(outcome.base_offset, 600);
        log.close().await.unwrap();
    });
}

#[test]
fn retention_by_bytes_deletes_whole_closed_segments() {
    let dir = test_dir("retention");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            retention_bytes: Some(128 * 1024),
            retention_ms: None,
            ..small_segments()
        };
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config)
            .await
            .unwrap();
        for i in 0..2000u64 {
            log.append(&[batch(i, 1)], Durability::Written, 0)
                .await
                .unwrap();
        }
        let before = log.segment_count();
        let deleted = log.enforce_retention().await.unwrap();
        assert!(deleted > 0);
        assert_eq!(log.segment_count(), before - deleted);
        assert!(log.size_bytes() >= 128 * 1024 - 16 * 1024);
        let start = log.log_start_offset();
        assert!(start > 0);
        assert!(matches!(
            log.read(0, 100).await,
            Err(EngineError::OffsetOutOfRange { .. })
        ));
        assert_eq!(
            values(&log.read(start, 100).await.unwrap().chunks)[0].0,
            start
        );
        log.close().await.unwrap();
    });
}

#[test]
fn truncation_removes_the_tail_and_appends_continue() {
    let dir = test_dir("truncate");
    run(async move {
        let storage = ShardStorage::new(&dir, 1 << 20);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        for i in 0..100u64 {
            log.append(&[batch(i * 10, 10)], Durability::Written, 0)
                .await
                .unwrap();
        }
        // 455 lies inside the batch 450..459: that whole batch goes.
        let segments = log.segment_count();
        assert_eq!(log.truncate_to(455).await.unwrap(), 450);
        assert_eq!(log.log_end_offset(), 450);
        assert!(log.segment_count() < segments);
        assert_eq!(
            log.append(&[batch(450, 5)], Durability::Durable, 0)
                .await
                .unwrap()
                .base_offset,
            450
        );
        // The removed segments' files are erased in the background; a close waits for it.
        let kept = log.segment_count();
        log.close().await.unwrap();
        let names: Vec<String> = std::fs::read_dir(&path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|name| name.ends_with(".deleted")),
            "{names:?}"
        );
        assert_eq!(
            names.iter().filter(|name| name.ends_with(".log")).count(),
            kept
        );
        drop(log);
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 455);
        let all = values(&log.read(440, 1 << 20).await.unwrap().chunks);
        assert_eq!(all.last().unwrap().0, 454);
        log.close().await.unwrap();
    });
}

#[test]
fn offsets_by_timestamp_find_the_first_record_at_or_after() {
    let dir = test_dir("timestamps");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), small_segments())
            .await
            .unwrap();
        for i in 0..100u64 {
            let b = support::batch_with(
                i * 4,
                4,
                pinlog_protocol::records::Compression::None,
                pinlog_protocol::records::ProducerFields::NONE,
                10_000 + (i as i64) * 100,
            );
            log.append(&[b], Durability::Written, 0).await.unwrap();
        }
        // Batch i holds timestamps 10000 + 100 i + 0..3, at offsets 4 i + 0..3.
        assert_eq!(
            log.offset_for_timestamp(0).await.unwrap(),
            Some((0, 10_000))
        );
        assert_eq!(
            log.offset_for_timestamp(10_502).await.unwrap(),
            Some((22, 10_502))
        );
        assert_eq!(
            log.offset_for_timestamp(10_550).await.unwrap(),
            Some((24, 10_600))
        );
        assert_eq!(log.offset_for_timestamp(1_000_000).await.unwrap(), None);
        log.close().await.unwrap();
    });
}

#[test]
fn a_waiting_reader_is_woken_by_the_append() {
    let dir = test_dir("long-poll");
    run(async move {
        let storage = ShardStorage::new(&dir, 1 << 20);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        let reader = log.clone();
        let waiter = glommio::spawn_local(async move {
            let started = std::time::Instant::now();
            reader.wait_for_data(0).await.unwrap();
            (started.elapsed(), reader.read(0, 1024).await.unwrap())
        });
        glommio::timer::sleep(Duration::from_millis(50)).await;
        log.append(&[batch(0, 1)], Durability::None, 0)
            .await
            .unwrap();
        let (waited, read) = waiter.await;
        assert!(waited >= Duration::from_millis(50));
        assert!(waited < Duration::from_millis(1000));
        assert_eq!(values(&read.chunks).len(), 1);
        log.close().await.unwrap();
    });
}

#[test]
fn a_second_process_cannot_open_a_locked_data_directory() {
    let dir = test_dir("lock");
    let first = DataDir::open(&dir, IoMode::Direct).unwrap();
    match DataDir::open(&dir, IoMode::Direct) {
        Err(error @ EngineError::DirectoryLocked { .. }) => {
            assert!(error.to_string().contains("locked by another process"));
            assert!(error.to_string().contains(&std::process::id().to_string()));
        }
        other => panic!("expected DirectoryLocked, got {:?}", other.map(|_| ())),
    }
    drop(first);
    DataDir::open(&dir, IoMode::Direct).unwrap();
}

#[test]
fn tmpfs_is_refused_for_direct_io_and_allowed_when_buffered_io_is_chosen() {
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        eprintln!("SKIPPED: no /dev/shm tmpfs on this machine");
        return;
    }
    let dir = shm.join(format!("pinlog-engine-test-{}", std::process::id()));
    match DataDir::open(&dir, IoMode::Direct) {
        Err(error @ EngineError::DirectIoUnsupported { .. }) => {
            assert!(error.to_string().contains("tmpfs"))
        }
        other => panic!("expected DirectIoUnsupported, got {:?}", other.map(|_| ())),
    }
    let data_dir = DataDir::open(&dir, IoMode::AllowBuffered).unwrap();
    let path = dir.clone();
    run(async move {
        let storage = ShardStorage::new(&path, 0);
        let config = LogConfig {
            io_mode: IoMode::AllowBuffered,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &path.join("t-0"), config)
            .await
            .unwrap();
        log.append(&[batch(0, 3)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(values(&log.read(0, 1024).await.unwrap().chunks).len(), 3);
        log.close().await.unwrap();
    });
    drop(data_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn durable_appends_share_fdatasyncs() {
    let dir = test_dir("group-commit");
    run(async move {
        let plan = Rc::new(pinlog_engine::FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
            .await
            .unwrap();
        let syncs_before = plan.syncs();
        let appends: Vec<_> = (0..200u64)
            .map(|i| {
                let log = log.clone();
                glommio::spawn_local(async move {
                    log.append(&[batch(i, 1)], Durability::Durable, 0)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for append in appends {
            append.await;
        }
        let syncs = plan.syncs() - syncs_before;
        assert!(syncs >= 1);
        assert!(
            syncs < 50,
            "200 concurrent durable appends took {syncs} fdatasyncs"
        );
        log.close().await.unwrap();
    });
}

#[test]
fn a_read_steps_over_a_batch_larger_than_its_read_chunk() {
    let dir = test_dir("big-batch-skip");
    run(async move {
        // No cache, and an index so sparse that the read starts at the big batch.
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            index_interval_bytes: 64 << 20,
            max_message_bytes: 8 << 20,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config)
            .await
            .unwrap();
        let big = pinlog_protocol::records::BatchBuilder::new()
            .record(pinlog_protocol::records::NewRecord {
                value: Some(bytes::Bytes::from(vec![7u8; 2 << 20])),
                timestamp: 1_700_000_000_000,
                ..Default::default()
            })
            .build()
            .unwrap();
        let big = pinlog_protocol::records::RecordBatch::new(big).unwrap();
        log.append(&[big], Durability::Written, 0).await.unwrap();
        log.append(&[batch(1, 1)], Durability::Written, 0)
            .await
            .unwrap();
        let got = values(&log.read(1, 100).await.unwrap().chunks);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1);
        // And the big batch itself is returned whole although it exceeds max_bytes.
        let got = values(&log.read(0, 100).await.unwrap().chunks);
        assert_eq!((got[0].0, got[0].1.len()), (0, 2 << 20));
        log.close().await.unwrap();
    });
}

#[test]
fn retention_by_time_deletes_closed_segments_whose_newest_record_is_too_old() {
    let dir = test_dir("retention-time");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            retention_ms: Some(60 * 60 * 1000),
            retention_bytes: None,
            segment_ms: None,
            ..small_segments()
        };
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config)
            .await
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let none = pinlog_protocol::records::ProducerFields::NONE;
        let plain = pinlog_protocol::records::Compression::None;
        // Two days old, then recent: only segments holding nothing but old records may go.
        for i in 0..300u64 {
            let timestamp = now - 2 * 24 * 3600 * 1000 + i as i64;
            log.append(
                &[support::batch_with(i, 1, plain, none, timestamp)],
                Durability::Written,
                0,
            )
            .await
            .unwrap();
        }
        log.roll_now().await.unwrap();
        for i in 300..400u64 {
            log.append(
                &[support::batch_with(i, 1, plain, none, now)],
                Durability::Written,
                0,
            )
            .await
            .unwrap();
        }
        let deleted = log.enforce_retention().await.unwrap();
        assert!(deleted >= 2, "deleted {deleted}");
        assert_eq!(
            log.log_start_offset(),
            300,
            "every old segment went, no recent one"
        );
        assert_eq!(values(&log.read(300, 100).await.unwrap().chunks)[0].0, 300);
        assert_eq!(log.enforce_retention().await.unwrap(), 0);
        log.close().await.unwrap();
    });
}

#[test]
fn deleting_a_log_removes_its_directory() {
    let dir = test_dir("delete");
    run(async move {
        let storage = ShardStorage::new(&dir, 1 << 20);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        for i in 0..100u64 {
            log.append(&[batch(i, 1)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        let erasure = log.delete().await.unwrap();
        // Out of the way at once, under a name no one opens as a log; the files go later.
        assert!(!path.exists());
        let deleted = erasure.dir().to_path_buf();
        let name = deleted.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.starts_with("t-0.") && is_deleted_log_dir(&name),
            "{name}"
        );
        assert!(std::fs::read_dir(&deleted).unwrap().count() > 1);
        assert!(matches!(
            log.append(&[batch(0, 1)], Durability::Written, 0).await,
            Err(EngineError::Deleted { .. })
        ));
        // A log opened again at the same place starts empty, before the erasure has run.
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 0);
        // A set-aside directory inside goes too.
        let aside = deleted.join("set-aside-1");
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("00000000000000000000.log"), [1u8; 8192]).unwrap();
        erasure.run().await.unwrap();
        assert!(!deleted.exists());
        // Deleted twice in a row: two distinct names.
        let first = log.delete().await.unwrap();
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        let second = log.delete().await.unwrap();
        assert_ne!(first.dir(), second.dir());
        first.run().await.unwrap();
        second.run().await.unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    });
}

#[test]
fn retention_erases_deleted_segments_and_an_open_removes_what_a_crash_left() {
    let dir = test_dir("retention-erase");
    let path = dir.join("t-0");
    let storage_dir = dir.clone();
    run(async move {
        let storage = ShardStorage::new(&storage_dir, 0);
        let config = LogConfig {
            retention_bytes: Some(32 * 1024),
            // By size only: the batches' timestamps are years old.
            retention_ms: None,
            ..small_segments()
        };
        let log = PartitionLog::open(&storage, &path, config.clone())
            .await
            .unwrap();
        let mut next = 0;
        for _ in 0..200 {
            log.append(&[batch(next, 4)], Durability::Durable, 0)
                .await
                .unwrap();
            next += 4;
        }
        let leftovers = |path: &std::path::Path| {
            std::fs::read_dir(path)
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    name.to_string_lossy().ends_with(".deleted")
                })
                .count()
        };
        assert!(log.enforce_retention().await.unwrap() > 0);
        // Retention returns once the deleted segments are erased.
        assert_eq!(leftovers(&path), 0);
        let start = log.log_start_offset();
        assert!(start > 0);
        log.close().await.unwrap();

        // A crash in the middle of an erasure leaves a renamed file: not a segment.
        std::fs::write(path.join("00000000000000000000.log.deleted"), [7u8; 4096]).unwrap();
        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        assert_eq!(log.log_start_offset(), start);
        assert_eq!(log.high_watermark(), next as i64);
        let got = values(&log.read(start, 1 << 20).await.unwrap().chunks);
        assert_eq!(got[0].0, start);
        // Erased in the background once the log is open.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while leftovers(&path) > 0 {
            assert!(std::time::Instant::now() < deadline, "the leftover stayed");
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each sync appends the active segment's new offset-index entries to its file, also after a
/// truncation replaced that file, so a crash recovers from the last entry, not the start.
#[test]
fn durable_appends_keep_the_active_index_file_current_across_a_truncation() {
    let dir = test_dir("index-tail");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let config = LogConfig {
            index_interval_bytes: 1024,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        let index = path.join(format!("{:020}.index", 0));
        for i in 0..60u64 {
            log.append(&[batch(i * 3, 3)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        let before = relative_offsets(&index);
        assert!(before.len() >= 5, "{before:?}");
        assert!(*before.last().unwrap() >= 150, "{before:?}");

        log.truncate_to(90).await.unwrap();
        for i in 30..80u64 {
            log.append(&[batch(i * 3, 3)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        let after = relative_offsets(&index);
        assert!(after.windows(2).all(|w| w[0] < w[1]), "{after:?}");
        assert!(
            *after.last().unwrap() >= 210,
            "entries of the appends after the truncation: {after:?}"
        );
        log.close().await.unwrap();
    });
}

/// The relative offsets of an offset index file's entries (4 bytes offset, 4 bytes position).
fn relative_offsets(path: &std::path::Path) -> Vec<u32> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks_exact(8)
        .map(|entry| u32::from_be_bytes(entry[..4].try_into().unwrap()))
        .collect()
}

/// With size jitter, logs that fill alike roll at different sizes, none above `segment.bytes`
/// nor below its jittered share; without it every segment rolls at the same size.
#[test]
fn size_jitter_spreads_the_sizes_segments_roll_at() {
    let dir = test_dir("roll-jitter");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        const SEGMENT_BYTES: u64 = 64 * 1024;
        let mut sizes_by_jitter = Vec::new();
        for percent in [0u8, 30] {
            let config = LogConfig {
                segment_bytes: SEGMENT_BYTES,
                segment_bytes_jitter_percent: percent,
                // The test batches' timestamps are years old.
                retention_ms: None,
                ..LogConfig::default()
            };
            let mut sizes = Vec::new();
            for partition in 0..4 {
                let path = dir.join(format!("jitter-{percent}-{partition}"));
                let log = PartitionLog::open(&storage, &path, config.clone())
                    .await
                    .unwrap();
                for i in 0..2000u64 {
                    log.append(&[batch(i * 2, 2)], Durability::Written, 0)
                        .await
                        .unwrap();
                }
                log.close().await.unwrap();
                sizes.extend(closed_segment_sizes(&path));
            }
            sizes_by_jitter.push(sizes);
        }
        let batch_bytes_max = 2 * 1024;
        let spread = |sizes: &[u64]| sizes.iter().max().unwrap() - sizes.iter().min().unwrap();
        let (plain, jittered) = (&sizes_by_jitter[0], &sizes_by_jitter[1]);
        assert!(
            plain.len() >= 8 && jittered.len() >= 8,
            "{plain:?} {jittered:?}"
        );
        assert!(spread(plain) <= batch_bytes_max, "{plain:?}");
        assert!(spread(jittered) > SEGMENT_BYTES / 10, "{jittered:?}");
        let low = SEGMENT_BYTES - SEGMENT_BYTES * 30 / 100 - batch_bytes_max;
        assert!(
            jittered.iter().all(|s| (low..=SEGMENT_BYTES).contains(s)),
            "{jittered:?}"
        );
    });
}

/// The sizes of a closed log's segment files, the last (active) one left out.
fn closed_segment_sizes(path: &std::path::Path) -> Vec<u64> {
    let mut segments: Vec<(String, u64)> = std::fs::read_dir(path)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".log"))
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, entry.metadata().unwrap().len())
        })
        .collect();
    segments.sort();
    segments.pop();
    segments.into_iter().map(|(_, size)| size).collect()
}

/// A log shares the device flush only for files whose writes the kernel confirms bypass the
/// page cache: on a disk they do; on tmpfs (buffered, as ext4's data-journalled files are)
/// they do not.
#[test]
fn direct_io_is_confirmed_per_file_on_a_disk_and_not_on_tmpfs() {
    let dir = test_dir("direct-io-confirmed");
    std::fs::create_dir_all(&dir).unwrap();
    let shm = std::path::Path::new("/dev/shm");
    let on_tmpfs = shm
        .is_dir()
        .then(|| shm.join(format!("pinlog-direct-io-test-{}", std::process::id())));
    let (on_disk, moved) = (dir.join("file"), on_tmpfs.clone());
    run(async move {
        let file = SegmentFile::open(&on_disk, true, None).await.unwrap();
        assert!(file.direct_io_confirmed(), "a file on the test disk");
        file.close().await.unwrap();
        match moved {
            Some(path) => {
                let file = SegmentFile::open(&path, true, None).await.unwrap();
                assert!(!file.direct_io_confirmed(), "a file on tmpfs");
                file.close().await.unwrap();
            }
            None => eprintln!("SKIPPED the tmpfs half: no /dev/shm tmpfs on this machine"),
        }
    });
    if let Some(path) = on_tmpfs {
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pre-allocation reserves real blocks: a new log takes one small step of disk, not a large
/// step per partition, and its file grows by doubling as data comes.
#[test]
fn a_new_log_reserves_a_small_first_step_and_grows_by_doubling() {
    use pinlog_engine::limits::PREALLOCATE_FIRST_BYTES;
    use std::os::unix::fs::MetadataExt;
    let dir = test_dir("preallocation-steps");
    let log_dir = dir.join("t-0");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &log_dir, LogConfig::default())
            .await
            .unwrap();
        let segment = log_dir.join(format!("{:020}.log", 0));
        let reserved = |path: &std::path::Path| std::fs::metadata(path).unwrap().blocks() * 512;
        assert!(
            reserved(&segment) <= PREALLOCATE_FIRST_BYTES,
            "a new log reserved {} bytes",
            reserved(&segment)
        );
        // 3 MiB of data: the file doubles 1 -> 2 -> 4 MiB.
        let mut written = 0;
        let mut next = 0;
        while written < 3 * PREALLOCATE_FIRST_BYTES {
            log.append(&[batch(next, 64)], Durability::Written, 0)
                .await
                .unwrap();
            next += 64;
            written = log.size_bytes();
        }
        log.flush().await.unwrap();
        let size = std::fs::metadata(&segment).unwrap().len();
        assert_eq!(size, 4 * PREALLOCATE_FIRST_BYTES, "{written} bytes of data");
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

//! Segment recycling: a segment retention deleted becomes the file of the next roll, and the
//! old batches left in it past the new data are never served or recovered as new ones.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use pinlog_engine::{Durability, FaultPlan, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{BatchBuilder, NewRecord, RecordBatch};
use support::{run, test_dir, values};

/// Every batch has this size, a divisor of a page: new batches end where old batches began,
/// so a page-aligned end of the new data is followed by a whole old batch with a valid CRC.
const BATCH_BYTES: usize = 512;
const SEGMENT_BYTES: u64 = 16 * 1024;
/// One and a half segments: the oldest segment becomes due halfway through the active one,
/// between two rolls.
const RETENTION_BYTES: u64 = SEGMENT_BYTES * 3 / 2;
const BATCHES_PER_PAGE: usize = 4096 / BATCH_BYTES;

/// Retention only where a test enforces it, so that it knows when the spare appears.
fn config() -> LogConfig {
    LogConfig {
        retention_bytes: Some(SEGMENT_BYTES),
        retention_eager: false,
        ..config_eager()
    }
}

/// As a broker's logs are: eager retention.
fn config_eager() -> LogConfig {
    LogConfig {
        segment_bytes: SEGMENT_BYTES,
        retention_bytes: Some(RETENTION_BYTES),
        retention_ms: None,
        index_interval_bytes: 1024,
        ..LogConfig::default()
    }
}

/// A one-record batch of exactly `BATCH_BYTES` whose value names `tag`.
fn sized_batch(tag: u64) -> RecordBatch {
    let build = |padding: usize| {
        let mut builder = BatchBuilder::new();
        builder.push(NewRecord {
            key: None,
            value: Some(Bytes::from(format!(
                "value-{tag:08}-{}",
                "x".repeat(padding)
            ))),
            headers: Vec::new(),
            timestamp: 1_700_000_000_000 + tag as i64,
        });
        RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
    };
    let mut padding = 300;
    for _ in 0..8 {
        let size = build(padding).size_bytes();
        if size == BATCH_BYTES {
            return build(padding);
        }
        padding = (padding + BATCH_BYTES).saturating_sub(size);
    }
    panic!("no padding gives a batch of {BATCH_BYTES} bytes");
}

fn spare(dir: &Path) -> PathBuf {
    dir.join("spare-segment")
}

/// Waits (boundedly) for the background deletion to leave a spare.
async fn wait_for_spare(dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !spare(dir).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "retention deleted a segment but left no spare"
        );
        glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
    }
}

fn newest_segment(dir: &Path) -> PathBuf {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("listing the log")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    logs.pop().expect("a segment")
}

/// Appends batches tagged from `*next` on until the log holds `target_segments` segments.
async fn append_until_segments(log: &PartitionLog, next: &mut u64, target_segments: usize) {
    while log.segment_count() < target_segments {
        log.append(&[sized_batch(*next)], Durability::Written, 0)
            .await
            .expect("an append");
        *next += 1;
    }
}

/// Fills a few segments, lets retention delete the oldest, and returns the spare's inode.
async fn log_with_spare(log: &PartitionLog, next: &mut u64, dir: &Path) -> u64 {
    append_until_segments(log, next, 4).await;
    log.flush().await.expect("a flush");
    let deleted = log.enforce_retention().await.expect("retention");
    assert!(deleted > 0, "retention deleted nothing");
    std::fs::metadata(spare(dir))
        .expect("retention kept a deleted segment as the spare")
        .ino()
}

/// What the log must hold: (offset, value) of every batch from `first` to `end`.
fn expected_values(first: u64, end: u64) -> Vec<(i64, Bytes)> {
    (first..end)
        .map(|tag| {
            let batch = sized_batch(tag);
            let chunk = batch.as_bytes().clone();
            let (_, value) = values(&[chunk]).remove(0);
            (tag as i64, value)
        })
        .collect()
}

async fn read_all(log: &PartitionLog) -> Vec<(i64, Bytes)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, 64 * 1024).await.expect("a read");
        let got = values(&read.chunks);
        offset = got.last().expect("progress").0 + 1;
        out.extend(got);
    }
    out
}

/// The roll after retention writes into the deleted segment's file; a crash then leaves old
/// batches, CRC-valid and at batch boundaries, right after the new data's page-aligned end.
/// Recovery must end the log at the new data: the old batches' offsets go back.
#[test]
fn a_recycled_segment_recovers_to_its_new_data_only() {
    let root = test_dir("recycle-crash");
    let dir = root.join("t-0");
    run(async {
        let storage = ShardStorage::new(&root, 0);
        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        let mut next = 0;
        let spare_inode = log_with_spare(&log, &mut next, &dir).await;
        let segments = log.segment_count();
        append_until_segments(&log, &mut next, segments + 1).await;
        let active = newest_segment(&dir);
        assert_eq!(
            std::fs::metadata(&active).unwrap().ino(),
            spare_inode,
            "the roll reused the spare"
        );
        assert!(!spare(&dir).exists(), "the spare was taken");
        // A page of new batches in the recycled file, durable, then a crash.
        for _ in 1..BATCHES_PER_PAGE {
            log.append(&[sized_batch(next)], Durability::Durable, 0)
                .await
                .unwrap();
            next += 1;
        }
        let start = log.log_start_offset() as u64;
        assert_eq!(log.log_end_offset(), next as i64);
        drop(log);
        glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        let file_len = std::fs::metadata(&active).unwrap().len();
        assert!(
            file_len >= 4096 + BATCH_BYTES as u64,
            "old batches follow the new data ({file_len} bytes)"
        );

        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        assert_eq!(
            log.log_end_offset(),
            next as i64,
            "the log ends at the new data"
        );
        assert_eq!(read_all(&log).await, expected_values(start, next));
        let outcome = log
            .append(&[sized_batch(next)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(outcome.base_offset, next as i64, "appends continue");
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// Reads across the recycled segment serve only new batches, and a clean close cuts the old
/// bytes off so that the closed log ends where its data ends.
#[test]
fn a_recycled_segment_serves_new_data_and_is_cut_at_close() {
    let root = test_dir("recycle-close");
    let dir = root.join("t-0");
    run(async {
        let storage = ShardStorage::new(&root, 0);
        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        let mut next = 0;
        let spare_inode = log_with_spare(&log, &mut next, &dir).await;
        let segments = log.segment_count();
        append_until_segments(&log, &mut next, segments + 1).await;
        for _ in 0..3 {
            log.append(&[sized_batch(next)], Durability::Written, 0)
                .await
                .unwrap();
            next += 1;
        }
        let active = newest_segment(&dir);
        assert_eq!(std::fs::metadata(&active).unwrap().ino(), spare_inode);
        let start = log.log_start_offset() as u64;
        assert_eq!(read_all(&log).await, expected_values(start, next));
        log.close().await.unwrap();
        drop(log);
        glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        assert_eq!(
            std::fs::metadata(&active).unwrap().len(),
            4 * BATCH_BYTES as u64,
            "close cut the old bytes"
        );
        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        assert_eq!(read_all(&log).await, expected_values(start, next));
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// A truncation may take offsets back below the spare's old batches, and a reopen cannot know
/// where a spare came from: both discard it, and the next roll starts a fresh file.
#[test]
fn truncation_and_reopen_discard_the_spare() {
    let root = test_dir("recycle-discard");
    let dir = root.join("t-0");
    run(async {
        let storage = ShardStorage::new(&root, 0);
        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        let mut next = 0;
        log_with_spare(&log, &mut next, &dir).await;
        let end = log.log_end_offset();
        assert_eq!(log.truncate_to(end - 2).await.unwrap(), end - 2);
        next = (end - 2) as u64;
        assert!(!spare(&dir).exists(), "truncation discarded the spare");
        let segments = log.segment_count();
        append_until_segments(&log, &mut next, segments + 1).await;
        // One batch in the new segment; a recycled file would hold old batches after it.
        let fresh = std::fs::read(newest_segment(&dir)).unwrap();
        assert!(
            fresh[BATCH_BYTES..].iter().all(|&b| b == 0),
            "the roll started a fresh file"
        );
        log.close().await.unwrap();
        drop(log);

        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        log_with_spare(&log, &mut next, &dir).await;
        log.close().await.unwrap();
        drop(log);
        glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        assert!(spare(&dir).exists(), "a closed log keeps its spare on disk");
        let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
        assert!(!spare(&dir).exists(), "reopening discarded the spare");
        // Not unlinked by the open, whose cost must not grow with the log: renamed, and erased
        // by the log's background work on the blocking pool (already under way: no check of
        // the renamed file here, it may be gone).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !deleted_files(&dir).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the spare was not erased"
            );
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// The files of `dir` renamed for erasing.
fn deleted_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("listing the log")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|x| x == "deleted"))
        .collect()
}

/// With eager retention and no periodic check at all, a log at its limit keeps reusing the
/// same few files: each roll takes the spare that the deletion since the last roll left.
/// Retention never goes below the limit, and every retained batch reads back, also after a
/// reopen.
#[test]
fn eager_retention_keeps_a_log_at_its_limit_writing_into_recycled_files() {
    let root = test_dir("recycle-on-roll");
    let dir = root.join("t-0");
    run(async {
        let storage = ShardStorage::new(&root, 0);
        let log = PartitionLog::open(&storage, &dir, config_eager())
            .await
            .unwrap();
        let mut next = 0;
        let mut inodes = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let segments = log.segment_count();
            let before = newest_segment(&dir);
            // Until the next roll (the count may also drop: retention at that roll).
            while newest_segment(&dir) == before {
                let start = log.log_start_offset();
                log.append(&[sized_batch(next)], Durability::Durable, 0)
                    .await
                    .unwrap();
                next += 1;
                if log.log_start_offset() != start {
                    // Eager retention deletes in the background; a roll that comes before the
                    // deletion has finished rightly takes a fresh file. Wait, as a slower
                    // writer would, so that each roll here has a spare to take.
                    wait_for_spare(&dir).await;
                }
            }
            inodes.insert(std::fs::metadata(newest_segment(&dir)).unwrap().ino());
            assert!(
                log.segment_count() <= segments.max(2) + 1,
                "retention keeps up"
            );
            let retained = (next - log.log_start_offset() as u64) * BATCH_BYTES as u64;
            assert!(
                retained >= RETENTION_BYTES.min(next * BATCH_BYTES as u64),
                "retention went below its limit: {retained} bytes left"
            );
        }
        // A fresh file for each of the first rolls, before retention has deleted anything;
        // then the same files over and over.
        assert!(inodes.len() <= 3, "{} distinct segment files", inodes.len());
        let start = log.log_start_offset() as u64;
        assert_eq!(read_all(&log).await, expected_values(start, next));
        log.close().await.unwrap();
        drop(log);
        let log = PartitionLog::open(&storage, &dir, config_eager())
            .await
            .unwrap();
        assert_eq!(read_all(&log).await, expected_values(start, next));
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// Logs writing into recycled files, within their old length, have no metadata to sync: their
/// Durable appends share the shard's device flush instead of an fdatasync each. Logs writing
/// into fresh (fallocated, unwritten) extents still sync their own files.
#[test]
fn logs_overwriting_recycled_files_share_one_device_flush() {
    const LOGS: usize = 8;
    const ROUNDS: usize = 5;
    let root = test_dir("shared-flush");
    run(async {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&root, 0, plan.clone());
        let mut logs = Vec::new();
        for i in 0..LOGS {
            let dir = root.join(format!("t-{i}"));
            let log = PartitionLog::open(&storage, &dir, config()).await.unwrap();
            logs.push((log, dir));
        }
        let mut next = 0;
        let fresh = syncs_of_concurrent_durable_appends(&logs, &plan, &mut next, ROUNDS).await;
        assert!(
            fresh >= LOGS * ROUNDS,
            "fresh files synced {fresh} times for {ROUNDS} rounds of {LOGS} logs"
        );

        for (log, dir) in &logs {
            log_with_spare(log, &mut next, dir).await;
            log.roll_now().await.unwrap();
            // The first sync in the recycled file is its own (the roll, the rename).
            log.append(&[sized_batch(next)], Durability::Durable, 0)
                .await
                .unwrap();
            next += 1;
        }
        let recycled = syncs_of_concurrent_durable_appends(&logs, &plan, &mut next, ROUNDS).await;
        assert!(
            recycled <= LOGS * ROUNDS / 2,
            "recycled files synced {recycled} times for {ROUNDS} rounds of {LOGS} logs"
        );

        // Past the old length the file grows into fresh extents again: its own fdatasyncs.
        for (log, _) in &logs {
            log.set_config(LogConfig {
                segment_bytes: 4 * SEGMENT_BYTES,
                ..config()
            });
            // A segment's worth more: the active one ends past the old length.
            for _ in 0..SEGMENT_BYTES as usize / BATCH_BYTES {
                log.append(&[sized_batch(next)], Durability::Written, 0)
                    .await
                    .unwrap();
                next += 1;
            }
            log.flush().await.unwrap();
        }
        let grown = syncs_of_concurrent_durable_appends(&logs, &plan, &mut next, ROUNDS).await;
        assert!(
            grown >= LOGS * ROUNDS,
            "grown files synced {grown} times for {ROUNDS} rounds of {LOGS} logs"
        );
        for (log, _) in &logs {
            let start = log.log_start_offset();
            assert!(!read_all(log).await.is_empty() && start > 0);
            log.close().await.unwrap();
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// Rounds of one Durable append on every log at once; the fdatasyncs they took.
async fn syncs_of_concurrent_durable_appends(
    logs: &[(PartitionLog, PathBuf)],
    plan: &FaultPlan,
    next: &mut u64,
    rounds: usize,
) -> usize {
    settle_syncs(plan).await;
    let before = plan.syncs();
    for _ in 0..rounds {
        let appends: Vec<_> = logs
            .iter()
            .map(|(log, _)| {
                let (log, tag) = (log.clone(), *next);
                *next += 1;
                glommio::spawn_local(async move {
                    log.append(&[sized_batch(tag)], Durability::Durable, 0)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for append in appends {
            append.await;
        }
    }
    (plan.syncs() - before) as usize
}

/// Waits until the background work of earlier rolls (the closes' fdatasyncs) is over: no
/// sync for 50 ms.
async fn settle_syncs(plan: &FaultPlan) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = plan.syncs();
    loop {
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
        let now = plan.syncs();
        if now == seen || std::time::Instant::now() > deadline {
            return;
        }
        seen = now;
    }
}

/// A young log with `prewrite_spare` writes zeros over its next segment's file once the active
/// one is half full, and the roll takes that written file: no retention needed. Its Durable
/// appends then share the device flush as a recycled file's do, and the zeros past its data
/// read as the end of the log, before and after a reopen.
#[test]
fn a_young_log_with_prewrite_rolls_into_a_written_file_that_shares_the_flush() {
    const LOGS: usize = 8;
    const ROUNDS: usize = 5;
    let root = test_dir("prewrite");
    run(async {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&root, 0, plan.clone());
        let config = LogConfig {
            retention_bytes: None,
            prewrite_spare: true,
            ..config_eager()
        };
        let mut logs = Vec::new();
        for i in 0..LOGS {
            let dir = root.join(format!("t-{i}"));
            let log = PartitionLog::open(&storage, &dir, config.clone())
                .await
                .unwrap();
            logs.push((log, dir));
        }
        let mut next = 0;
        for (log, dir) in &logs {
            // Just past half a segment: the spare is pre-written in the background.
            for _ in 0..SEGMENT_BYTES as usize / BATCH_BYTES / 2 + 1 {
                log.append(&[sized_batch(next)], Durability::Written, 0)
                    .await
                    .unwrap();
                next += 1;
            }
            wait_for_spare(dir).await;
            let spare_bytes = std::fs::read(spare(dir)).unwrap();
            assert_eq!(spare_bytes.len() as u64, SEGMENT_BYTES);
            assert!(spare_bytes.iter().all(|&b| b == 0), "a spare of zeros");
            let spare_inode = std::fs::metadata(spare(dir)).unwrap().ino();
            log.roll_now().await.unwrap();
            let active_inode = std::fs::metadata(newest_segment(dir)).unwrap().ino();
            assert_eq!(
                active_inode, spare_inode,
                "the roll took the pre-written file"
            );
            // The first sync in it is its own (the roll, the rename).
            log.append(&[sized_batch(next)], Durability::Durable, 0)
                .await
                .unwrap();
            next += 1;
        }
        let syncs = syncs_of_concurrent_durable_appends(&logs, &plan, &mut next, ROUNDS).await;
        assert!(
            syncs <= LOGS * ROUNDS / 2,
            "pre-written files synced {syncs} times for {ROUNDS} rounds of {LOGS} logs"
        );
        for (index, (log, dir)) in logs.into_iter().enumerate() {
            let held = read_all(&log).await;
            assert_eq!(held.len() as i64, log.log_end_offset());
            log.flush().await.unwrap();
            // Half the logs as after a crash: not closed, so the zeros of the pre-written file
            // still follow the data and recovery scans into them.
            if index % 2 == 0 {
                log.close().await.unwrap();
            }
            drop(log);
            let log = PartitionLog::open(&storage, &dir, config.clone())
                .await
                .unwrap();
            assert_eq!(read_all(&log).await, held, "the same after a reopen");
            assert!(
                !dir.join("spare-segment.prewrite").exists(),
                "no half-written spare is left"
            );
            log.close().await.unwrap();
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// A pre-write that fails (its fdatasync here) leaves neither a spare nor its file behind (the
/// file is erased in the background), and the log goes on: the next roll takes a fresh file.
#[test]
fn a_failed_prewrite_leaves_no_file_and_the_log_goes_on() {
    let root = test_dir("prewrite-failed");
    run(async {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&root, 0, plan.clone());
        let config = LogConfig {
            retention_bytes: None,
            prewrite_spare: true,
            ..config_eager()
        };
        let dir = root.join("t-0");
        let log = PartitionLog::open(&storage, &dir, config).await.unwrap();
        // Written appends only: the log itself syncs nothing, so the failing fdatasync is the
        // pre-write's.
        plan.fail_next_sync(libc::EIO);
        let half = SEGMENT_BYTES as usize / BATCH_BYTES / 2 + 1;
        for tag in 0..half as u64 {
            log.append(&[sized_batch(tag)], Durability::Written, 0)
                .await
                .unwrap();
        }
        let leftovers =
            || dir.join("spare-segment.prewrite").exists() || !deleted_files(&dir).is_empty();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        // Started, failed, erased.
        while plan.sync_failure_pending() || leftovers() {
            assert!(
                std::time::Instant::now() < deadline,
                "the pre-written file stayed"
            );
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(!spare(&dir).exists());
        log.roll_now().await.unwrap();
        let outcome = log
            .append(&[sized_batch(half as u64)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(outcome.base_offset, half as i64);
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&root);
}

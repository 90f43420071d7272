//! What opening a log leaves behind: index files that recovery found exact are not written
//! again (opening cost follows the unflushed tail, not the log), and a producer snapshot that a
//! crash made stale does not come back to life once the log grows past it.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use std::rc::Rc;

use pinlog_engine::{Durability, FaultPlan, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{Batches, Compression, ProducerFields, RecordBatch};
use support::{batch, batch_with, batch_with_value_size, run, test_dir};

fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes: 2 * 1024,
        index_interval_bytes: 256,
        // The batches carry old timestamps: retention by time would delete what is reopened.
        retention_eager: false,
        ..LogConfig::default()
    }
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<(String, u64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().extension().is_some_and(|x| x == suffix))
        .map(|entry| {
            let inode = entry.metadata().unwrap().ino();
            (entry.file_name().to_string_lossy().into_owned(), inode)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_clean_reopen_writes_no_index_file_again() {
    let dir = test_dir("reopen-indexes");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        for first in (0..400).step_by(4) {
            log.append(&[batch(first, 4)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        assert!(log.segment_count() > 5);
        log.close().await.unwrap();
        let before = [
            files_with_suffix(&path, "index"),
            files_with_suffix(&path, "timeindex"),
        ];
        assert!(before[0]
            .iter()
            .any(|(name, _)| name != "00000000000000000000.index"));

        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        let after = [
            files_with_suffix(&path, "index"),
            files_with_suffix(&path, "timeindex"),
        ];
        // An atomic rewrite renames a new file over the old one: a new inode.
        assert_eq!(before, after, "index files were written again");
        // They are still what the log uses: reads through them and appends after them work.
        let read = log.read(200, 1).await.unwrap();
        let first = Batches::new(read.chunks[0].clone())
            .next()
            .unwrap()
            .unwrap();
        assert!(first.base_offset() <= 200 && first.last_offset() >= 200);
        log.append(&[batch(400, 4)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), 404);
        log.close().await.unwrap();
    });
}

fn producer_batch(producer_id: i64, sequence: i32) -> RecordBatch {
    let producer = ProducerFields {
        producer_id,
        producer_epoch: 0,
        base_sequence: sequence,
    };
    batch_with(
        sequence as u64,
        4,
        Compression::None,
        producer,
        1_700_000_000_000,
    )
}

/// (byte position, base offset) of every batch of the segment file at `path`.
fn batch_positions(path: &Path) -> Vec<(u64, i64)> {
    let bytes = bytes::Bytes::from(std::fs::read(path).unwrap());
    let mut position = 0u64;
    let mut batches = Vec::new();
    for batch in Batches::new(bytes) {
        let Ok(batch) = batch else { break };
        batches.push((position, batch.base_offset()));
        position += batch.size_bytes() as u64;
    }
    batches
}

#[test]
fn a_snapshot_beyond_a_crashed_tail_is_not_used_once_the_log_grows_past_it() {
    const FIRST: i64 = 7001;
    const SECOND: i64 = 7002;
    let dir = test_dir("reopen-stale-snapshot");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, small_segments())
            .await
            .unwrap();
        let mut sequence = 0;
        while log.segment_count() < 3 {
            log.append(&[producer_batch(FIRST, sequence)], Durability::Durable, 0)
                .await
                .unwrap();
            sequence += 4;
        }
        // The roll's snapshot is written in the background: the crash comes once it is there.
        let newest_log = files_with_suffix(&path, "log").last().unwrap().0.clone();
        let its_snapshot = newest_log.replace(".log", ".snapshot");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !path.join(&its_snapshot).exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "no snapshot at the roll"
            );
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(log);
        // The crash lost the tail: the newest segment never reached the disk, nor the last
        // two batches of the one before; the snapshot its roll wrote did.
        let snapshots = files_with_suffix(&path, "snapshot");
        let (newest, _) = snapshots.last().expect("a roll wrote a snapshot");
        let rolled_at: i64 = newest.trim_end_matches(".snapshot").parse().unwrap();
        let logs = files_with_suffix(&path, "log");
        let (last, _) = logs.last().unwrap();
        assert_eq!(last, &format!("{rolled_at:020}.log"));
        for suffix in ["log", "index", "timeindex"] {
            // The new segment's index files may not exist yet.
            let _ = std::fs::remove_file(path.join(format!("{rolled_at:020}.{suffix}")));
        }
        let (previous, _) = &logs[logs.len() - 2];
        let previous = path.join(previous);
        let batches = batch_positions(&previous);
        let (cut_at, recovered_end) = batches[batches.len() - 2];
        std::fs::OpenOptions::new()
            .write(true)
            .open(&previous)
            .unwrap()
            .set_len(cut_at)
            .unwrap();

        // Large segments from here on: the log grows past the stale snapshot without a roll.
        let large = LogConfig {
            segment_bytes: 1 << 20,
            ..small_segments()
        };
        let log = PartitionLog::open(&storage, &path, large.clone())
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), recovered_end);
        let next_sequence = recovered_end as i32;
        // Another producer takes the log past the offset of the stale snapshot; then a crash.
        let mut other = 0;
        while log.log_end_offset() <= rolled_at + 8 {
            log.append(&[producer_batch(SECOND, other)], Durability::Durable, 0)
                .await
                .unwrap();
            other += 4;
        }
        drop(log);

        let log = PartitionLog::open(&storage, &path, large).await.unwrap();
        let end = log.log_end_offset();
        // The first producer's batches after `recovered_end` were lost: its next sequence is
        // new, not a duplicate of a batch the stale snapshot remembers.
        let outcome = log
            .append(
                &[producer_batch(FIRST, next_sequence)],
                Durability::Durable,
                0,
            )
            .await
            .expect("the first producer's next batch is appended");
        assert!(!outcome.duplicate, "a lost batch taken for a duplicate");
        assert_eq!(outcome.base_offset, end);
        // And the second producer's state came through the crash whole.
        let retry = log
            .append(&[producer_batch(SECOND, other - 4)], Durability::Durable, 0)
            .await
            .unwrap();
        assert!(retry.duplicate);
        log.close().await.unwrap();
    });
}

#[test]
fn a_damaged_tail_of_an_old_segment_sets_the_later_segments_aside_instead_of_deleting_them() {
    let dir = test_dir("reopen-set-aside");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let config = LogConfig {
            segment_bytes: 64 * 1024,
            retention_eager: false,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &path, config.clone())
            .await
            .unwrap();
        // Far more than a crash can leave after a lost write: acknowledged data.
        let mut offset = 0;
        while log.size_bytes() < 8 << 20 {
            log.append(
                &[support::batch_with_value_size(offset, 8 * 1024)],
                Durability::Durable,
                0,
            )
            .await
            .unwrap();
            offset += 1;
        }
        let segments = log.segment_count();
        log.close().await.unwrap();

        // One flipped byte in the records of the second segment's last batch.
        let logs = files_with_suffix(&path, "log");
        let second = path.join(&logs[1].0);
        let batches = batch_positions(&second);
        let (last_position, damaged_offset) = *batches.last().unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&second)
            .unwrap();
        let mut byte = [0u8; 1];
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut byte, last_position + 100).unwrap();
        file.write_all_at(&[byte[0] ^ 0x5a], last_position + 100)
            .unwrap();
        drop(file);

        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        assert_eq!(
            log.log_end_offset(),
            damaged_offset,
            "the log ends at the damage"
        );
        assert_eq!(log.segment_count(), 2);
        let aside: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(aside.len(), 1, "one set-aside directory: {aside:?}");
        assert!(aside[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("set-aside-"));
        let kept = files_with_suffix(&aside[0], "log");
        assert_eq!(kept.len(), segments - 2, "every later segment kept");
        let kept_bytes: u64 = kept
            .iter()
            .map(|(name, _)| std::fs::metadata(aside[0].join(name)).unwrap().len())
            .sum();
        assert!(kept_bytes > 4 << 20, "{kept_bytes} bytes kept");
        // The log goes on from the damage.
        let outcome = log
            .append(
                &[support::batch_with_value_size(0, 100)],
                Durability::Durable,
                0,
            )
            .await
            .unwrap();
        assert_eq!(outcome.base_offset, damaged_offset);
        log.close().await.unwrap();
    });
}

#[test]
fn index_entries_reach_the_file_only_for_batches_a_sync_made_durable() {
    let dir = test_dir("reopen-index-durable");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let config = LogConfig {
            index_interval_bytes: 256,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        // Written appends keep coming while Durable ones wait for their syncs: each sync
        // finds entries of batches it does not cover.
        for round in 0..20u64 {
            let first = [batch(round * 100, 4)];
            let durable = log.append(&first, Durability::Durable, 0);
            let written = async {
                for i in 1..25 {
                    log.append(&[batch(round * 100 + i * 4, 4)], Durability::Written, 0)
                        .await
                        .unwrap();
                }
            };
            let (durable, ()) = futures::future::join(durable, written).await;
            durable.unwrap();
            let synced = log.log_end_offset() - log.unflushed_messages();
            // Created with its first persisted entry.
            let bytes = std::fs::read(path.join("00000000000000000000.index")).unwrap_or_default();
            for entry in bytes.chunks_exact(8) {
                let relative = u32::from_be_bytes(entry[..4].try_into().unwrap());
                assert!(
                    i64::from(relative) < synced,
                    "round {round}: an entry for offset {relative}, synced below {synced}"
                );
            }
        }
        let persisted = std::fs::read(path.join("00000000000000000000.index")).unwrap();
        assert!(
            persisted.len() >= 8 * 10,
            "the synced batches' entries are there"
        );
        log.close().await.unwrap();
    });
}

/// After a clean close the log ends with a producer snapshot and exact indexes: reopening it
/// reads the tail past its last index entry, not its active segment (which it read whole to
/// replay producer state from the segment's start, though the snapshot covered all of it).
#[test]
fn a_clean_reopen_reads_the_tail_not_the_active_segment() {
    const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
    const DATA_BYTES: usize = 16 * 1024 * 1024;
    const VALUE_BYTES: usize = 64 * 1024;
    let dir = test_dir("reopen-reads");
    run(async {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let config = LogConfig {
            segment_bytes: SEGMENT_BYTES,
            retention_eager: false,
            ..LogConfig::default()
        };
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, config.clone())
            .await
            .unwrap();
        for offset in 0..(DATA_BYTES / VALUE_BYTES) as u64 {
            log.append(
                &[batch_with_value_size(offset, VALUE_BYTES)],
                Durability::Written,
                0,
            )
            .await
            .unwrap();
        }
        assert_eq!(log.segment_count(), 1);
        log.close().await.unwrap();

        let before = plan.read_bytes();
        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        let read = plan.read_bytes() - before;
        assert_eq!(log.log_end_offset(), (DATA_BYTES / VALUE_BYTES) as i64);
        // The scan from the last index entry reads a chunk or two; the segment is 16 MiB.
        assert!(read <= 4 * 1024 * 1024, "opening read {read} bytes");
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Between rolls the log takes a producer snapshot every `producer_snapshot_interval_bytes`,
/// written once its offset is durable: a reopen after a crash (no snapshot at the end)
/// replays from it, reading the tail of the active segment rather than all of it, and the
/// producer's retries are still recognised.
#[test]
fn a_reopen_after_a_crash_replays_from_the_last_periodic_snapshot() {
    const VALUE_BYTES: usize = 64 * 1024;
    const BIG_BATCHES: u64 = 256;
    let dir = test_dir("reopen-periodic-snapshot");
    run(async {
        let plan = Rc::new(FaultPlan::default());
        let storage = ShardStorage::with_faults(&dir, 0, plan.clone());
        let config = LogConfig {
            segment_bytes: 64 * 1024 * 1024,
            retention_eager: false,
            producer_snapshot_interval_bytes: 1024 * 1024,
            ..LogConfig::default()
        };
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, config.clone())
            .await
            .unwrap();
        let (mut offset, mut sequence, mut last_producer_base) = (0u64, 0, 0);
        for i in 0..BIG_BATCHES {
            let big = batch_with_value_size(offset, VALUE_BYTES);
            log.append(&[big], Durability::Written, 0).await.unwrap();
            offset += 1;
            if i % 16 == 15 {
                let outcome = log
                    .append(&[producer_batch(7, sequence)], Durability::Durable, 0)
                    .await
                    .unwrap();
                last_producer_base = outcome.base_offset;
                sequence += 4;
                offset += 4;
            }
        }
        let end = log.log_end_offset();
        assert_eq!(end, offset as i64);
        assert_eq!(log.segment_count(), 1);
        // The snapshot of the last sync is written in the background: wait for one past 14 MiB.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !files_with_suffix(&path, "snapshot")
            .iter()
            .any(|(name, _)| name[..20].parse::<i64>().unwrap() > end - 40)
        {
            assert!(std::time::Instant::now() < deadline, "no periodic snapshot");
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        // A crash: no close, so no snapshot at the end.
        drop(log);

        let before = plan.read_bytes();
        let log = PartitionLog::open(&storage, &path, config).await.unwrap();
        let read = plan.read_bytes() - before;
        assert_eq!(log.log_end_offset(), end);
        assert!(
            read <= 4 * 1024 * 1024,
            "opening read {read} bytes of a 16 MiB segment"
        );
        let retry = log
            .append(&[producer_batch(7, sequence - 4)], Durability::Durable, 0)
            .await
            .unwrap();
        assert!(retry.duplicate);
        assert_eq!(retry.base_offset, last_producer_base);
        let next = log
            .append(&[producer_batch(7, sequence)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!((next.base_offset, next.duplicate), (end, false));
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// A periodic producer snapshot taken before a truncation describes batches the truncation
/// removes. Truncation flushes first (the snapshot is written, then removed with the others
/// beyond the cut) and drops one still pending: never written afterwards, when the log is
/// durable past its byte count again, where the rebuild after a crash would take the removed
/// batches for producer state and answer a new batch of theirs as a duplicate.
#[test]
fn a_truncation_drops_the_periodic_snapshot_it_makes_stale() {
    const VALUE_BYTES: usize = 64 * 1024;
    let dir = test_dir("truncate-periodic-snapshot");
    run(async {
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            segment_bytes: 64 * 1024 * 1024,
            retention_eager: false,
            producer_snapshot_interval_bytes: 1024 * 1024,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config.clone())
            .await
            .unwrap();
        let big = |offset: u64| batch_with_value_size(offset, VALUE_BYTES);
        for offset in 0..10 {
            log.append(&[big(offset)], Durability::Written, 0)
                .await
                .unwrap();
        }
        let producer = log
            .append(&[producer_batch(9, 0)], Durability::Written, 0)
            .await
            .unwrap();
        assert_eq!(producer.base_offset, 10);
        // Past 1 MiB appended: a periodic snapshot (with producer 9 in it) waits for a sync.
        for offset in 14..23 {
            log.append(&[big(offset)], Durability::Written, 0)
                .await
                .unwrap();
        }
        assert_eq!(log.truncate_to(10).await.unwrap(), 10);
        // Durable again past the snapshot's byte count, and past its offset.
        for offset in 10..22 {
            log.append(&[big(offset)], Durability::Durable, 0)
                .await
                .unwrap();
        }
        let end = log.log_end_offset();
        // A cut at the end removes nothing; it waits for the log's background work (the
        // snapshot writes) first.
        assert_eq!(log.truncate_to(end).await.unwrap(), end);
        // A crash: no snapshot at the end, so the rebuild starts from the newest one below.
        drop(log);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config)
            .await
            .unwrap();
        assert_eq!(log.log_end_offset(), end);
        let again = log
            .append(&[producer_batch(9, 0)], Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!((again.base_offset, again.duplicate), (end, false));
        log.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

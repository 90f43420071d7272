//! Crashes around a roll: the rolled segment left pre-allocated, or torn (see
//! `crash_cuts_log.rs` for the cuts in the data).

mod support;

use pinlog_engine::{PartitionLog, ShardStorage};
use support::crash_checks::{check_contents, check_reopen_inner, close};
use support::crash_cuts::{build, config, Acked, Expected};
use support::{run, test_dir};

/// A roll followed by a crash before the flusher closed the old segment: its file is still
/// pre-allocated (zeros after the data, up to a 64 MiB step) while its index files, appended
/// after each sync, are present and pass their checks. Recovery must size the segment by its batches,
/// not by the file, or `size_bytes` and retention by bytes count the zeros.
#[test]
fn a_rolled_segment_left_preallocated_counts_only_its_batches() {
    let root = test_dir("crash-cuts-unclosed");
    run(async {
        let original = build(&root.join("original")).await;
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        original.restore(&work);
        let last_closed = original.segment_bases[original.segment_bases.len() - 2];
        let path = work.join(format!("{last_closed:020}.log"));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(64 * 1024 * 1024))
            .expect("extending the closed segment");
        let expected = Expected {
            end_index: original.batches.len(),
            epoch_only: None,
            damaged_bytes: None,
        };
        let log = check_reopen_inner(&storage, &work, &original, &expected)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let data: u64 = original.batches.iter().map(|b| b.bytes.len() as u64).sum();
        assert_eq!(log.size_bytes(), data, "bytes of the log");
        close(log).await;
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// Written (not Durable) appends fill a segment, it rolls, and the crash loses the unsynced
/// tail of the rolled segment while the new, empty active segment's file (created and synced
/// at the roll) survives. Recovery ends the log where the rolled segment's intact batches end,
/// as Kafka does (a truncated segment drops every later one); a log end beyond them leaves a
/// gap no read can cross and appends continue after it.
#[test]
fn a_torn_rolled_segment_ends_the_log() {
    let root = test_dir("crash-cuts-torn-closed");
    run(async {
        let original = build(&root.join("original")).await;
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        // The active segment holds the final batches; pretend it is empty (just rolled) and
        // that the rolled one lost its last batches.
        original.restore(&work);
        let active_base = original.active_base();
        for suffix in ["log", "index", "timeindex"] {
            let path = work.join(format!("{active_base:020}.{suffix}"));
            std::fs::write(&path, b"").expect("emptying the active segment");
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(work.join(format!("{active_base:020}.log")))
            .and_then(|f| f.set_len(64 * 1024 * 1024))
            .expect("pre-allocating the active segment");
        let rolled: Vec<&Acked> = original
            .batches
            .iter()
            .filter(|b| b.segment == original.segment_bases[original.segment_bases.len() - 2])
            .collect();
        let lost_from = rolled[rolled.len() - 2];
        let rolled_path = work.join(format!("{:020}.log", lost_from.segment));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&rolled_path)
            .and_then(|f| f.set_len(lost_from.position))
            .expect("cutting the rolled segment");
        let log = PartitionLog::open(&storage, &work, config())
            .await
            .expect("reopening");
        let end_index = original
            .batches
            .iter()
            .position(|b| b.base == lost_from.base)
            .expect("the lost batch");
        let expected = Expected {
            end_index,
            epoch_only: None,
            damaged_bytes: None,
        };
        let result = check_contents(&log, &original, &expected).await;
        close(log).await;
        result.unwrap_or_else(|e| panic!("{e}"));
    });
    let _ = std::fs::remove_dir_all(&root);
}

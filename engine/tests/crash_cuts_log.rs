//! Crash cuts in the `.log` of a segment (the scenarios are in `crash_cuts_indexes.rs` and
//! `crash_cuts_rolled.rs` too).
//!
//! Crash cuts: a log built with Durable appends is left unclosed (as a crash leaves it), and
//! copies of its directory are damaged the ways a crash or the disk can damage them, at every
//! byte of the last batches of the active segment and of its indexes. Each copy is reopened and
//! must give back every batch before the damage byte for byte, serve nothing corrupt, end where
//! the intact data ends, and take further appends that survive another reopen.
//!
//! Damage confined to a batch's partitionLeaderEpoch, which no checksum covers, may keep the
//! batch (serving the damaged bytes) or end the log there; anything else ends the log at the
//! damaged batch.
//!
//! One glommio executor runs all the reopens of a test. The log and its damage are in
//! `support/crash_cuts.rs`, the checks in `support/crash_checks.rs`.

mod support;

use pinlog_engine::{EngineError, PartitionLog, ShardStorage};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::RecordBatch;
use support::crash_checks::{check_reopen, close};
use support::crash_cuts::{build, config, Cut, Original, FINAL_BATCH_RECORDS, ZERO_REGION_BYTES};
use support::{run, split_batches, test_dir};

#[test]
fn every_cut_in_the_last_batches_keeps_what_precedes_it() {
    log_cuts("crash-cuts-log", Original::active_base, ZERO_REGION_BYTES);
}

/// The same cuts in the last batches of the segment before the active one: recovery ends the
/// log at the damaged batch there and drops the active segment, as Kafka does.
#[test]
fn every_cut_in_a_rolled_segment_ends_the_log_there() {
    log_cuts("crash-cuts-rolled", Original::last_closed_base, 0);
}

/// Recovery validates a segment from the batch its last index entry names; a changed byte
/// inside an earlier batch (bit rot: a crash only tears what was never synced, which lies after
/// that entry) is not seen there, as in Kafka below its recovery point. Reads from disk check
/// every batch's CRC and refuse it.
#[test]
fn a_flipped_byte_before_the_last_index_entry_is_not_served() {
    let root = test_dir("crash-cuts-rot");
    run(async {
        let original = build(&root.join("original")).await;
        let base = original.last_closed_base();
        let batches = original.batches_of(base);
        let victim = batches[batches.len() - FINAL_BATCH_RECORDS.len()];
        assert!(victim.position < original.scan_start(base));
        // A byte of the first record, covered by the CRC.
        let cut = Cut::Flip(victim.position + 70);
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        original.restore_with(&work, base, cut);
        let log = PartitionLog::open(&storage, &work, config())
            .await
            .expect("reopening");
        // Ending the log before the batch and refusing to read it are both fine; serving it
        // is not.
        let mut offset = log.log_start_offset();
        while offset < log.high_watermark() {
            let Ok(read) = log.read(offset, 1 << 20).await else {
                break;
            };
            for bytes in split_batches(&read.chunks) {
                let batch = RecordBatch::new(bytes).expect("a batch header");
                if let Err(e) = batch.validate_header() {
                    panic!("{cut:?}: served the batch at {offset}: {e}");
                }
                offset = batch.last_offset() + 1;
            }
        }
        if log.high_watermark() > victim.base {
            // Kept in the log: every batch before it is served, and a read at it is refused
            // as Kafka's read path refuses a corrupt record.
            assert_eq!(
                offset, victim.base,
                "reads stopped before the damaged batch"
            );
            match log.read(victim.base, 1 << 20).await {
                Err(error @ EngineError::Corruption { .. }) => {
                    assert_eq!(error.error_code(), ErrorCode::CorruptMessage)
                }
                other => panic!("read at the damaged batch: {other:?}"),
            }
        }
        close(log).await;
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// Reopens copies of the log with the `.log` of the segment at `segment(original)` damaged at
/// every byte of its last [`FINAL_BATCH_RECORDS`]`.len()` batches and of `zeros` bytes after:
/// truncated and zeroed everywhere; flipped and overwritten where recovery validates, from the
/// batch the segment's last index entry names (see
/// `a_flipped_byte_before_the_last_index_entry_is_not_served`).
fn log_cuts(name: &str, segment: fn(&Original) -> i64, zeros: u64) {
    let root = test_dir(name);
    run(async {
        let original = build(&root.join("original")).await;
        let base = segment(&original);
        let batches = original.batches_of(base);
        let first_cut = batches[batches.len() - FINAL_BATCH_RECORDS.len()].position;
        let last = batches.last().expect("batches");
        let last_cut = last.position + last.bytes.len() as u64 + zeros;
        let scan_start = original.scan_start(base);
        if base == original.active_base() {
            assert!(
                scan_start <= first_cut,
                "recovery validates all the final batches of the active segment"
            );
        }
        let mut cuts = Vec::new();
        for position in first_cut..last_cut {
            cuts.push(Cut::Truncate(position));
            cuts.push(Cut::ZeroFrom(position));
            if position >= scan_start {
                cuts.push(Cut::Flip(position));
                if position % 3 == 0 {
                    cuts.push(Cut::Garbage(position));
                }
            }
        }
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        for (i, cut) in cuts.iter().enumerate() {
            let damaged = original.restore_with(&work, base, *cut);
            let expected = original.expected_after(base, &damaged);
            // Appending and reopening again is the slow part: every few cuts, and after every
            // cut confined to a leader epoch (which the log may keep or cut at).
            let continue_after = i % 8 == 0 || expected.epoch_only.is_some();
            check_reopen(&storage, &work, &original, &expected, continue_after)
                .await
                .unwrap_or_else(|e| panic!("segment {base}, {cut:?}: {e}"));
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}

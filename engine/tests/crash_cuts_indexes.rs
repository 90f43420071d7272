//! Crash cuts in the offset and time indexes of the active segment: whatever the damage,
//! nothing is lost and every batch is found by offset and by timestamp (see
//! `crash_cuts_log.rs` for the cuts in the data).

mod support;

use pinlog_engine::{PartitionLog, ShardStorage};
use support::crash_checks::{
    check_contents, check_reopen_inner, close, continue_appending, crash, point_reads,
    timestamp_lookups,
};
use support::crash_cuts::{build, config, Expected, IndexCut, Original};
use support::{run, test_dir};

#[test]
fn damaged_indexes_of_the_active_segment_lose_nothing() {
    index_cuts("crash-cuts-index", |original| {
        let mut cuts = Vec::new();
        for suffix in ["index", "timeindex"] {
            let len = original.file(&original.active_file(suffix)).bytes.len() as u64;
            assert!(len >= 24, "the active {suffix} has entries ({len} bytes)");
            for position in 0..len {
                cuts.push(IndexCut::Truncate(suffix, position));
                cuts.push(IndexCut::Flip(suffix, position));
                cuts.push(IndexCut::ZeroFrom(suffix, position));
            }
            cuts.push(IndexCut::Delete(suffix));
            cuts.push(IndexCut::Garbage(suffix));
            cuts.push(IndexCut::ZeroPages(suffix));
            cuts.push(IndexCut::FromClosedSegment(suffix));
        }
        cuts
    });
}

/// An offset index entry whose position byte flipped still increases, so the file passes its
/// checks, and recovery verifies only the last entry: reads between that entry and the next
/// would start at a byte inside a batch. They must notice and start earlier.
#[test]
fn a_corrupt_offset_index_entry_is_not_trusted() {
    index_cuts("crash-cuts-index-position", |_| {
        vec![IndexCut::Flip("index", 7), IndexCut::Flip("index", 15)]
    });
}

/// Truncation looks for its cut from the index entry before the offset: a flipped position in
/// that entry must not move the cut into the middle of a batch.
#[test]
fn truncation_does_not_trust_a_corrupt_offset_index_entry() {
    let root = test_dir("crash-cuts-index-truncate");
    run(async {
        let original = build(&root.join("original")).await;
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        let index = &original.file(&original.active_file("index")).bytes;
        let entry_offsets: Vec<i64> = index
            .chunks_exact(8)
            .map(|entry| {
                let relative = u32::from_be_bytes(entry[..4].try_into().expect("four bytes"));
                original.active_base() + i64::from(relative)
            })
            .collect();
        for (entry, window) in entry_offsets.windows(2).enumerate().take(2) {
            // The batch after the entry's: the lookup for it lands on the damaged entry.
            let target = window[0] + 1;
            assert!(target < window[1]);
            original.restore(&work);
            original.damage_index(&work, IndexCut::Flip("index", entry as u64 * 8 + 7));
            let log = PartitionLog::open(&storage, &work, config())
                .await
                .expect("reopening");
            let end = log.truncate_to(target).await.expect("truncating");
            assert_eq!(end, target, "entry {entry}: the log end after truncating");
            let expected = Expected {
                end_index: original
                    .batches
                    .iter()
                    .position(|b| b.base == target)
                    .expect("a batch at the target"),
                epoch_only: None,
                damaged_bytes: None,
            };
            let result = check_contents(&log, &original, &expected).await;
            close(log).await;
            result.unwrap_or_else(|e| panic!("entry {entry}: {e}"));
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}

/// A time index with a flipped timestamp byte, or another segment's time index, may pass its
/// file checks (increasing, last offset below the segment's end); trusted, it makes ListOffsets
/// by time answer a later offset than the first record at or after the timestamp.
#[test]
fn a_damaged_time_index_is_not_trusted() {
    index_cuts("crash-cuts-timeindex", |_| {
        vec![
            IndexCut::Flip("timeindex", 3),
            IndexCut::FromClosedSegment("timeindex"),
        ]
    });
}

/// Reopens a copy of the log damaged by each of `cuts` in turn: nothing may be lost, every
/// batch of the active segment must be found by offset and by timestamp, and (every few cuts)
/// appends continue.
fn index_cuts(name: &str, make_cuts: impl FnOnce(&Original) -> Vec<IndexCut>) {
    let root = test_dir(name);
    run(async {
        let original = build(&root.join("original")).await;
        let cuts = make_cuts(&original);
        let storage = ShardStorage::new(&root, 0);
        let work = root.join("work");
        let expected = Expected {
            end_index: original.batches.len(),
            epoch_only: None,
            damaged_bytes: None,
        };
        let mut failures = Vec::new();
        for (i, cut) in cuts.iter().enumerate() {
            original.restore(&work);
            original.damage_index(&work, *cut);
            let result = async {
                let log = check_reopen_inner(&storage, &work, &original, &expected).await?;
                point_reads(&log, &original).await?;
                timestamp_lookups(&log, &original).await?;
                if i % 8 == 0 {
                    continue_appending(&storage, &work, &original, log).await?;
                } else {
                    crash(log).await;
                }
                Ok::<(), String>(())
            };
            if let Err(e) = result.await {
                failures.push(format!("{cut:?}: {e}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cuts failed:\n{}",
            failures.len(),
            cuts.len(),
            failures.join("\n")
        );
    });
    let _ = std::fs::remove_dir_all(&root);
}

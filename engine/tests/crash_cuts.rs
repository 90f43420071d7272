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
//! One glommio executor runs all the reopens of a test; the copies are restored from memory
//! (the active segment's pre-allocated tail as a sparse hole, which reads as the zeros the
//! engine left there). Tests of their own pin the bugs found: damaged indexes that pass their
//! checks, bit rot before the last index entry, and closed segments that a crash left unclosed
//! or torn.

mod support;

use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use pinlog_engine::{Durability, EngineError, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::{BatchBuilder, Compression, NewRecord, ProducerFields, RecordBatch};
use support::{run, split_batches, stored_bytes, test_dir};

const SEGMENT_BYTES: u64 = 32 * 1024;
const INDEX_INTERVAL_BYTES: u32 = 1024;
/// Batches appended before a roll (enough for a few closed segments).
const LEADING_BATCHES: u64 = 150;
/// Batches in the active segment before the final ones (enough for index entries).
const ACTIVE_BATCHES: u64 = 40;
/// Record counts of the final batches, every byte of which is cut.
const FINAL_BATCH_RECORDS: [u64; 3] = [1, 2, 1];
/// Bytes after the data (pre-allocated zeros) that are cut too.
const ZERO_REGION_BYTES: u64 = 128;
/// Bytes a garbage overwrite covers.
const GARBAGE_BYTES: usize = 37;
const LEADER_EPOCH: i32 = 7;
const TIMESTAMP_BASE_MS: i64 = 1_700_000_000_000;
/// Byte range of partitionLeaderEpoch in a batch: the CRC does not cover it.
const EPOCH_FIELD: std::ops::Range<usize> = 12..16;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: SEGMENT_BYTES,
        segment_ms: None,
        retention_ms: None,
        index_interval_bytes: INDEX_INTERVAL_BYTES,
        ..LogConfig::default()
    }
}

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

/// A roll followed by a crash before the flusher closed the old segment: its file is still
/// pre-allocated (64 MiB of zeros after the data) while its index files, appended after each
/// sync, are present and pass their checks. Recovery must size the segment by its batches,
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

// ---------------------------------------------------------------------------------------------
// Building the original log.

/// An appended batch, acknowledged Durable.
#[derive(Debug, Clone)]
struct Acked {
    base: i64,
    last: i64,
    /// As stored (baseOffset and partitionLeaderEpoch rewritten).
    bytes: Bytes,
    /// Base offset of the segment holding it, and its byte position there.
    segment: i64,
    position: u64,
}

struct SavedFile {
    name: String,
    /// The file's bytes; for the active segment only its data and the zeros just after.
    bytes: Vec<u8>,
    len: u64,
}

struct Original {
    batches: Vec<Acked>,
    /// The value of every record, by offset.
    values: Vec<Bytes>,
    files: Vec<SavedFile>,
    segment_bases: Vec<i64>,
}

/// The value of the record at `offset`: a function of the offset alone, short for the final
/// batches (whose every byte is cut, so their size sets the test's duration).
fn value(offset: i64, short: bool) -> Bytes {
    if short {
        return Bytes::from(format!("s{offset}"));
    }
    let filler = "y".repeat((offset as usize * 13) % 200);
    Bytes::from(format!("value-{offset}-{filler}"))
}

fn timestamp(offset: i64) -> i64 {
    TIMESTAMP_BASE_MS + offset * 10
}

/// A batch of `count` records meant for offsets `first..`, each with [`value`] of its offset.
fn batch_at(first: i64, count: u64, short: bool) -> RecordBatch {
    let mut builder = BatchBuilder::new()
        .compression(Compression::None)
        .producer(ProducerFields::NONE);
    for offset in first..first + count as i64 {
        builder.push(NewRecord {
            key: (!short).then(|| Bytes::from(format!("key-{offset}"))),
            value: Some(value(offset, short)),
            headers: Vec::new(),
            timestamp: timestamp(offset),
        });
    }
    RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
}

async fn build(dir: &Path) -> Original {
    let storage = ShardStorage::new(dir, 0);
    let log = PartitionLog::open(&storage, dir, config())
        .await
        .expect("opening the original log");
    let counts = (0..LEADING_BATCHES + ACTIVE_BATCHES)
        .map(|i| 1 + i % 5)
        .chain(FINAL_BATCH_RECORDS);
    let mut batches = Vec::new();
    let mut next = 0i64;
    let mut values = Vec::new();
    for (i, count) in counts.enumerate() {
        if i as u64 == LEADING_BATCHES {
            log.roll_now().await.expect("a roll");
        }
        let short = (LEADING_BATCHES - FINAL_BATCH_RECORDS.len() as u64..LEADING_BATCHES)
            .contains(&(i as u64))
            || i as u64 >= LEADING_BATCHES + ACTIVE_BATCHES;
        let batch = batch_at(next, count, short);
        values.extend((next..next + count as i64).map(|o| value(o, short)));
        let outcome = log
            .append(
                std::slice::from_ref(&batch),
                Durability::Durable,
                LEADER_EPOCH,
            )
            .await
            .expect("a durable append");
        assert_eq!(outcome.base_offset, next);
        batches.push(Acked {
            base: next,
            last: outcome.last_offset,
            bytes: stored_bytes(&batch, next, LEADER_EPOCH),
            segment: 0,
            position: 0,
        });
        next = outcome.last_offset + 1;
    }
    // A crash: nothing closed. Let the executor close the dropped descriptors.
    drop(log);
    glommio::timer::sleep(std::time::Duration::from_millis(1)).await;

    let mut segment_bases: Vec<i64> = std::fs::read_dir(dir)
        .expect("listing the log")
        .filter_map(|e| {
            let name = e.expect("an entry").file_name().into_string().ok()?;
            name.strip_suffix(".log")?.parse().ok()
        })
        .collect();
    segment_bases.sort_unstable();
    assert!(segment_bases.len() >= 3, "segments: {segment_bases:?}");
    let mut position = 0;
    let mut segment = 0;
    for batch in &mut batches {
        let holder = *segment_bases
            .iter()
            .rev()
            .find(|&&b| b <= batch.base)
            .expect("a segment");
        if holder != segment {
            segment = holder;
            position = 0;
        }
        batch.segment = segment;
        batch.position = position;
        position += batch.bytes.len() as u64;
    }
    let active_base = *segment_bases.last().expect("an active segment");
    let active_data_end = position;
    let final_in_active = batches
        .iter()
        .rev()
        .take(FINAL_BATCH_RECORDS.len())
        .all(|b| b.segment == active_base);
    assert!(
        final_in_active,
        "the final batches share the active segment"
    );
    assert!(
        batches.iter().filter(|b| b.segment == active_base).count() > 8,
        "the active segment holds enough batches for index entries"
    );

    let active_log = format!("{active_base:020}.log");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("listing the log") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().into_string().expect("a UTF-8 name");
        let len = entry.metadata().expect("metadata").len();
        let mut bytes = std::fs::read(entry.path()).expect("reading a log file");
        if name == active_log {
            bytes.truncate((active_data_end + 2 * ZERO_REGION_BYTES) as usize);
            assert!(
                bytes[active_data_end as usize..].iter().all(|&b| b == 0),
                "zeros after the data"
            );
        }
        files.push(SavedFile { name, bytes, len });
    }
    Original {
        batches,
        values,
        files,
        segment_bases,
    }
}

impl Original {
    fn active_base(&self) -> i64 {
        *self.segment_bases.last().expect("an active segment")
    }

    fn active_file(&self, suffix: &str) -> String {
        format!("{:020}.{suffix}", self.active_base())
    }

    fn file(&self, name: &str) -> &SavedFile {
        self.files
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name} in the original log"))
    }

    /// Where recovery starts validating the segment at `base`: the batch its last index entry
    /// names (0 without entries).
    fn scan_start(&self, base: i64) -> u64 {
        let index = &self.file(&format!("{base:020}.index")).bytes;
        index
            .chunks_exact(8)
            .rev()
            .find(|entry| entry.iter().any(|&b| b != 0))
            .map_or(0, |entry| {
                u64::from(u32::from_be_bytes(
                    entry[4..8].try_into().expect("four bytes"),
                ))
            })
    }

    fn last_closed_base(&self) -> i64 {
        self.segment_bases[self.segment_bases.len() - 2]
    }

    fn active_batches(&self) -> Vec<&Acked> {
        self.batches_of(self.active_base())
    }

    fn batches_of(&self, base: i64) -> Vec<&Acked> {
        self.batches.iter().filter(|b| b.segment == base).collect()
    }

    /// Makes `work` an exact copy of the original log directory.
    fn restore(&self, work: &Path) {
        let _ = std::fs::remove_dir_all(work);
        std::fs::create_dir_all(work).expect("creating the copy");
        for file in &self.files {
            let path = work.join(&file.name);
            std::fs::write(&path, &file.bytes).expect("writing the copy");
            if file.len > file.bytes.len() as u64 {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_len(file.len))
                    .expect("restoring the pre-allocated length");
            }
        }
    }

    /// Restores the copy with `cut` applied to the `.log` of the segment at `base`; returns
    /// the damaged image of its saved bytes (and the file length).
    fn restore_with(&self, work: &Path, base: i64, cut: Cut) -> Damaged {
        self.restore(work);
        let saved = self.file(&format!("{base:020}.log"));
        let mut bytes = saved.bytes.clone();
        let mut len = saved.len;
        match cut {
            Cut::Truncate(at) => {
                len = at;
                bytes.truncate(at as usize);
            }
            Cut::ZeroFrom(at) => bytes[at as usize..].fill(0),
            Cut::Flip(at) => bytes[at as usize] ^= 0xff,
            Cut::Garbage(at) => {
                let mut state = at.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
                let end = (at as usize + GARBAGE_BYTES).min(bytes.len());
                for byte in &mut bytes[at as usize..end] {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *byte = state as u8;
                }
            }
        }
        let path = work.join(&saved.name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("opening the copy");
        file.set_len(0).expect("emptying the copy");
        std::fs::write(&path, &bytes).expect("writing the damaged copy");
        file.set_len(len).expect("setting the damaged length");
        Damaged { bytes, len }
    }

    /// What recovery must give back from a damaged segment at `base`: the batches up to the
    /// first one whose bytes changed (none of a later segment if one did). A change confined
    /// to partitionLeaderEpoch, which no checksum covers, may keep the batch (with the changed
    /// bytes) or end the log there.
    fn expected_after(&self, base: i64, damaged: &Damaged) -> Expected {
        let saved = self.file(&format!("{base:020}.log"));
        let mut epoch_only = None;
        let mut damaged_bytes = None;
        for (index, batch) in self.batches.iter().enumerate() {
            if batch.segment != base {
                continue;
            }
            let range = batch.position as usize..batch.position as usize + batch.bytes.len();
            if range.end as u64 > damaged.len || range.end > damaged.bytes.len() {
                return Expected {
                    end_index: index,
                    epoch_only,
                    damaged_bytes,
                };
            }
            let (now, was) = (&damaged.bytes[range.clone()], &saved.bytes[range]);
            if now == was {
                continue;
            }
            let outside_epoch = now
                .iter()
                .zip(was)
                .enumerate()
                .any(|(i, (a, b))| a != b && !EPOCH_FIELD.contains(&i));
            if outside_epoch {
                return Expected {
                    end_index: index,
                    epoch_only,
                    damaged_bytes,
                };
            }
            epoch_only.get_or_insert(index);
            damaged_bytes.get_or_insert((index, Bytes::copy_from_slice(now)));
        }
        Expected {
            end_index: self.batches.len(),
            epoch_only,
            damaged_bytes,
        }
    }

    fn damage_index(&self, work: &Path, cut: IndexCut) {
        let suffix = cut.suffix();
        let name = self.active_file(suffix);
        let path = work.join(&name);
        let mut bytes = self.file(&name).bytes.clone();
        match cut {
            IndexCut::Truncate(_, at) => bytes.truncate(at as usize),
            IndexCut::Flip(_, at) => bytes[at as usize] ^= 0xff,
            IndexCut::ZeroFrom(_, at) => bytes[at as usize..].fill(0),
            IndexCut::Delete(_) => {
                std::fs::remove_file(&path).expect("deleting an index");
                return;
            }
            IndexCut::Garbage(_) => {
                for (i, byte) in bytes.iter_mut().enumerate() {
                    *byte = (i as u8).wrapping_mul(151).wrapping_add(7);
                }
            }
            IndexCut::ZeroPages(_) => bytes.resize(bytes.len() + 8192, 0),
            IndexCut::FromClosedSegment(_) => {
                let closed = self.segment_bases[self.segment_bases.len() - 2];
                bytes = self.file(&format!("{closed:020}.{suffix}")).bytes.clone();
            }
        }
        std::fs::write(&path, &bytes).expect("writing the damaged index");
    }
}

#[derive(Debug, Clone, Copy)]
enum Cut {
    /// The file ends at this byte.
    Truncate(u64),
    /// Zeros from this byte on (the write never reached the disk).
    ZeroFrom(u64),
    /// This byte inverted.
    Flip(u64),
    /// Pseudo-random bytes from here.
    Garbage(u64),
}

#[derive(Debug, Clone, Copy)]
enum IndexCut {
    Truncate(&'static str, u64),
    Flip(&'static str, u64),
    ZeroFrom(&'static str, u64),
    Delete(&'static str),
    Garbage(&'static str),
    /// Zero pages after the entries, as a pre-allocated index would have.
    ZeroPages(&'static str),
    /// The index of the previous segment in its place.
    FromClosedSegment(&'static str),
}

impl IndexCut {
    fn suffix(self) -> &'static str {
        match self {
            IndexCut::Truncate(s, _)
            | IndexCut::Flip(s, _)
            | IndexCut::ZeroFrom(s, _)
            | IndexCut::Delete(s)
            | IndexCut::Garbage(s)
            | IndexCut::ZeroPages(s)
            | IndexCut::FromClosedSegment(s) => s,
        }
    }
}

struct Damaged {
    bytes: Vec<u8>,
    len: u64,
}

/// The outcome a reopen must have.
struct Expected {
    /// Batches `..end_index` of the original survive (the log ends at the next one's base).
    end_index: usize,
    /// A batch changed only in its partitionLeaderEpoch: the log may also end at it.
    epoch_only: Option<usize>,
    /// That batch's bytes as damaged, which a log that keeps it serves.
    damaged_bytes: Option<(usize, Bytes)>,
}

// ---------------------------------------------------------------------------------------------
// Checking a reopened copy.

async fn check_reopen(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    expected: &Expected,
    continue_after: bool,
) -> Result<(), String> {
    let log = check_reopen_inner(storage, work, original, expected).await?;
    if continue_after {
        continue_appending(storage, work, original, log).await
    } else {
        crash(log).await;
        Ok(())
    }
}

async fn check_reopen_inner(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    expected: &Expected,
) -> Result<PartitionLog, String> {
    let log = PartitionLog::open(storage, work, config())
        .await
        .map_err(|e| format!("reopening: {e}"))?;
    match check_contents(&log, original, expected).await {
        Ok(()) => Ok(log),
        Err(e) => {
            close(log).await;
            Err(e)
        }
    }
}

/// (a) every batch before the damage, byte for byte; (b) every batch served valid; (c) the log
/// ends where the intact batches end.
async fn check_contents(
    log: &PartitionLog,
    original: &Original,
    expected: &Expected,
) -> Result<(), String> {
    let end = log.log_end_offset();
    let end_of = |index: usize| {
        original.batches.get(index).map_or_else(
            || original.batches.last().expect("batches").last + 1,
            |b| b.base,
        )
    };
    let end_index = if expected.epoch_only.is_some_and(|i| end == end_of(i)) {
        expected.epoch_only.expect("checked")
    } else {
        expected.end_index
    };
    if end != end_of(end_index) {
        return Err(format!(
            "log end {end}, expected {} (the first {end_index} batches intact)",
            end_of(end_index)
        ));
    }
    if log.high_watermark() != end {
        return Err(format!(
            "high watermark {} below {end}",
            log.high_watermark()
        ));
    }
    let got = read_everything(log).await?;
    if got.len() != end_index {
        return Err(format!("{} batches read, {end_index} intact", got.len()));
    }
    for (index, (bytes, want)) in got.iter().zip(&original.batches).enumerate() {
        let want = match &expected.damaged_bytes {
            Some((damaged, bytes)) if *damaged == index => bytes,
            _ => &want.bytes,
        };
        if bytes != want {
            return Err(format!(
                "batch {index} (offset {}) differs",
                original.batches[index].base
            ));
        }
    }
    let values = support::values(
        &log.read(0, 1 << 20)
            .await
            .map_err(|e| e.to_string())?
            .chunks,
    );
    for (offset, got) in values {
        if got != original.values[offset as usize] {
            return Err(format!("value of offset {offset} differs"));
        }
    }
    Ok(())
}

/// Every batch from the log start to the high watermark, each validated.
async fn read_everything(log: &PartitionLog) -> Result<Vec<Bytes>, String> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    let hw = log.high_watermark();
    while offset < hw {
        let read = log
            .read(offset, 1 << 20)
            .await
            .map_err(|e| format!("read({offset}): {e}"))?;
        let batches = split_batches(&read.chunks);
        if batches.is_empty() {
            return Err(format!(
                "read({offset}) below the high watermark {hw} is empty"
            ));
        }
        for bytes in batches {
            let batch = RecordBatch::new(bytes.clone()).map_err(|e| e.to_string())?;
            batch
                .validate_header()
                .map_err(|e| format!("served an invalid batch at {}: {e}", batch.base_offset()))?;
            if batch.base_offset() != offset {
                return Err(format!(
                    "read from {offset} gave a batch at {}",
                    batch.base_offset()
                ));
            }
            offset = batch.last_offset() + 1;
            out.push(bytes);
        }
    }
    Ok(out)
}

/// (d) appends continue at the log end and read back, with everything before, after another
/// reopen.
async fn continue_appending(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    log: PartitionLog,
) -> Result<(), String> {
    let end = log.log_end_offset();
    let batch = batch_at(end, 3, false);
    let outcome = log
        .append(
            std::slice::from_ref(&batch),
            Durability::Durable,
            LEADER_EPOCH,
        )
        .await
        .map_err(|e| format!("appending after recovery: {e}"))?;
    close(log).await;
    if outcome.base_offset != end {
        return Err(format!(
            "append at {} after recovery to {end}",
            outcome.base_offset
        ));
    }
    let log = PartitionLog::open(storage, work, config())
        .await
        .map_err(|e| format!("reopening after the append: {e}"))?;
    let result = async {
        if log.log_end_offset() != end + 3 {
            return Err(format!(
                "log end {} after appending at {end}",
                log.log_end_offset()
            ));
        }
        let got = read_everything(&log).await?;
        let (last, before) = got.split_last().ok_or("nothing read")?;
        if *last != stored_bytes(&batch, end, LEADER_EPOCH) {
            return Err("the batch appended after recovery differs".into());
        }
        let count = original.batches.iter().take_while(|b| b.last < end).count();
        if before.len() != count {
            return Err(format!(
                "{} batches before the new one, {count} expected",
                before.len()
            ));
        }
        Ok(())
    }
    .await;
    close(log).await;
    result
}

/// A read at each batch of the active segment with a tiny `max_bytes`: the index lookup must
/// find exactly that batch.
async fn point_reads(log: &PartitionLog, original: &Original) -> Result<(), String> {
    for batch in original.active_batches() {
        for offset in [batch.base, batch.last] {
            let read = log
                .read(offset, 1)
                .await
                .map_err(|e| format!("read({offset}): {e}"))?;
            let got = split_batches(&read.chunks);
            if got.first() != Some(&batch.bytes) {
                let served: Vec<String> = got
                    .iter()
                    .map(|b| match RecordBatch::new(b.clone()) {
                        Ok(batch) => format!(
                            "{} bytes at offset {}, {:?}",
                            b.len(),
                            batch.base_offset(),
                            batch.validate_header()
                        ),
                        Err(e) => format!("{} bytes: {e}", b.len()),
                    })
                    .collect();
                return Err(format!(
                    "read({offset}) did not start with the batch {}..={}: served {served:?}",
                    batch.base, batch.last
                ));
            }
        }
    }
    Ok(())
}

/// ListOffsets by time for each batch of the active segment and the one before it.
async fn timestamp_lookups(log: &PartitionLog, original: &Original) -> Result<(), String> {
    let active = original.active_batches();
    let before = original
        .batches
        .iter()
        .rev()
        .find(|b| b.segment != original.active_base());
    for batch in before.into_iter().chain(active) {
        let offset = batch.base;
        let found = log
            .offset_for_timestamp(timestamp(offset))
            .await
            .map_err(|e| format!("offset_for_timestamp: {e}"))?;
        if found != Some((offset, timestamp(offset))) {
            return Err(format!(
                "offset_for_timestamp({}) = {found:?}, expected offset {offset}",
                timestamp(offset)
            ));
        }
    }
    Ok(())
}

/// Drops the log unclosed (the copy is restored before the next reopen anyway).
async fn crash(log: PartitionLog) {
    drop(log);
    glommio::timer::sleep(std::time::Duration::from_micros(100)).await;
}

async fn close(log: PartitionLog) {
    let _ = log.close().await;
    drop(log);
    // Dropped files close on the executor's next I/O cycle.
    glommio::timer::sleep(std::time::Duration::from_micros(100)).await;
}

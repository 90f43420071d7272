//! The crash-cut tests' log (see `crash_cuts_log.rs`): built once with Durable appends and
//! left unclosed as a crash leaves it, saved in memory, and restored into copies damaged the
//! ways a crash or the disk can damage them.
//!
//! The copies are restored from memory (the active segment's pre-allocated tail as a sparse
//! hole, which reads as the zeros the engine left there).

use std::path::Path;

use bytes::Bytes;
use pinlog_engine::{Durability, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{BatchBuilder, Compression, NewRecord, ProducerFields, RecordBatch};

use super::stored_bytes;

pub const SEGMENT_BYTES: u64 = 32 * 1024;
pub const INDEX_INTERVAL_BYTES: u32 = 1024;
/// Batches appended before a roll (enough for a few closed segments).
pub const LEADING_BATCHES: u64 = 150;
/// Batches in the active segment before the final ones (enough for index entries).
pub const ACTIVE_BATCHES: u64 = 40;
/// Record counts of the final batches, every byte of which is cut.
pub const FINAL_BATCH_RECORDS: [u64; 3] = [1, 2, 1];
/// Bytes after the data (pre-allocated zeros) that are cut too.
pub const ZERO_REGION_BYTES: u64 = 128;
/// Bytes a garbage overwrite covers.
pub const GARBAGE_BYTES: usize = 37;
pub const LEADER_EPOCH: i32 = 7;
pub const TIMESTAMP_BASE_MS: i64 = 1_700_000_000_000;
/// Byte range of partitionLeaderEpoch in a batch: the CRC does not cover it.
pub const EPOCH_FIELD: std::ops::Range<usize> = 12..16;

pub fn config() -> LogConfig {
    LogConfig {
        segment_bytes: SEGMENT_BYTES,
        segment_ms: None,
        retention_ms: None,
        index_interval_bytes: INDEX_INTERVAL_BYTES,
        ..LogConfig::default()
    }
}

/// An appended batch, acknowledged Durable.
#[derive(Debug, Clone)]
pub struct Acked {
    pub base: i64,
    pub last: i64,
    /// As stored (baseOffset and partitionLeaderEpoch rewritten).
    pub bytes: Bytes,
    /// Base offset of the segment holding it, and its byte position there.
    pub segment: i64,
    pub position: u64,
}

pub struct SavedFile {
    pub name: String,
    /// The file's bytes; for the active segment only its data and the zeros just after.
    pub bytes: Vec<u8>,
    pub len: u64,
}

pub struct Original {
    pub batches: Vec<Acked>,
    /// The value of every record, by offset.
    pub values: Vec<Bytes>,
    pub files: Vec<SavedFile>,
    pub segment_bases: Vec<i64>,
}

/// The value of the record at `offset`: a function of the offset alone, short for the final
/// batches (whose every byte is cut, so their size sets the test's duration).
pub fn value(offset: i64, short: bool) -> Bytes {
    if short {
        return Bytes::from(format!("s{offset}"));
    }
    let filler = "y".repeat((offset as usize * 13) % 200);
    Bytes::from(format!("value-{offset}-{filler}"))
}

pub fn timestamp(offset: i64) -> i64 {
    TIMESTAMP_BASE_MS + offset * 10
}

/// A batch of `count` records meant for offsets `first..`, each with [`value`] of its offset.
pub fn batch_at(first: i64, count: u64, short: bool) -> RecordBatch {
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

pub async fn build(dir: &Path) -> Original {
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
    pub fn active_base(&self) -> i64 {
        *self.segment_bases.last().expect("an active segment")
    }

    pub fn active_file(&self, suffix: &str) -> String {
        format!("{:020}.{suffix}", self.active_base())
    }

    pub fn file(&self, name: &str) -> &SavedFile {
        self.files
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name} in the original log"))
    }

    /// Where recovery starts validating the segment at `base`: the batch its last index entry
    /// names (0 without entries).
    pub fn scan_start(&self, base: i64) -> u64 {
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

    pub fn last_closed_base(&self) -> i64 {
        self.segment_bases[self.segment_bases.len() - 2]
    }

    pub fn active_batches(&self) -> Vec<&Acked> {
        self.batches_of(self.active_base())
    }

    pub fn batches_of(&self, base: i64) -> Vec<&Acked> {
        self.batches.iter().filter(|b| b.segment == base).collect()
    }

    /// Makes `work` an exact copy of the original log directory.
    pub fn restore(&self, work: &Path) {
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
    pub fn restore_with(&self, work: &Path, base: i64, cut: Cut) -> Damaged {
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
    pub fn expected_after(&self, base: i64, damaged: &Damaged) -> Expected {
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

    pub fn damage_index(&self, work: &Path, cut: IndexCut) {
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
pub enum Cut {
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
pub enum IndexCut {
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
    pub fn suffix(self) -> &'static str {
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

pub struct Damaged {
    pub bytes: Vec<u8>,
    pub len: u64,
}

/// The outcome a reopen must have.
pub struct Expected {
    /// Batches `..end_index` of the original survive (the log ends at the next one's base).
    pub end_index: usize,
    /// A batch changed only in its partitionLeaderEpoch: the log may also end at it.
    pub epoch_only: Option<usize>,
    /// That batch's bytes as damaged, which a log that keeps it serves.
    pub damaged_bytes: Option<(usize, Bytes)>,
}

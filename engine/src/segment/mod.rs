//! A segment: one `.log` data file with its sparse offset and time indexes.
//!
//! A segment is owned by its log (and so by one shard). Closed segments are immutable; the
//! active one grows through the log's [`Appender`](appender::Appender).

pub mod appender;
pub mod scan;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::index::SegmentIndexes;
use crate::io::SegmentFile;
use crate::limits::{
    PREALLOCATE_FIRST_BYTES, PREALLOCATE_FREE_MARGIN_BYTES, PREALLOCATE_STEP_BYTES,
};

pub const LOG_SUFFIX: &str = "log";
pub const INDEX_SUFFIX: &str = "index";
pub const TIME_INDEX_SUFFIX: &str = "timeindex";
/// A log's spare segment file: a deleted segment's data file kept for the next roll (see
/// `log::recycle`). Not a segment name, so recovery does not see it.
pub const SPARE_SEGMENT_FILE: &str = "spare-segment";
/// A spare being pre-written (see `log::prewrite`); renamed to the spare once synced.
pub const PREWRITE_SPARE_FILE: &str = "spare-segment.prewrite";

/// Reads a whole metadata file (an index, a producer snapshot) of at most `max` bytes. A
/// longer one is refused before more is read: its length comes from the disk, and a corrupt or
/// foreign file must not size an allocation.
pub fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("longer than the {max} bytes such a file may hold"),
        ));
    }
    Ok(bytes)
}

/// `<dir>/<base_offset:020>.<suffix>`, Kafka's naming.
pub fn segment_path(dir: &Path, base_offset: i64, suffix: &str) -> PathBuf {
    dir.join(format!("{base_offset:020}.{suffix}"))
}

/// The base offset a segment file name encodes, if it is one.
pub fn parse_segment_name(name: &str) -> Option<(i64, &str)> {
    let (stem, suffix) = name.split_once('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem.parse().ok()?, suffix))
}

pub struct Segment {
    pub base_offset: i64,
    pub file: Rc<SegmentFile>,
    /// Bytes of batches readable from the file: written to the device, not merely appended.
    pub readable_len: u64,
    /// Offset after the last readable batch.
    pub next_offset: i64,
    /// Largest batch max-timestamp seen (retention.ms), -1 if none.
    pub max_timestamp: i64,
    /// Max-timestamp of the first batch: `segment.ms` compares new batches' timestamps with
    /// it, as Kafka's `LogSegment.timeWaitedForRoll` does.
    pub first_timestamp: Option<i64>,
    /// When this process created or opened the segment (ms since the epoch): `segment.ms`
    /// counts from it when batches carry no timestamp.
    pub created_ms: i64,
    /// Bytes the file is pre-allocated to.
    pub allocated_len: u64,
    pub indexes: SegmentIndexes,
    /// Entries of each index already in its file (the active segment's indexes are appended
    /// to after each sync, so recovery after a crash scans only what follows the last one).
    pub persisted_index_entries: (usize, usize),
    /// For the active segment: the log's byte counter at this segment's file position 0, so
    /// that file positions map to the log-wide counters the flusher advances.
    pub start_total: u64,
    /// The file is a deleted segment's, reused (see `log::recycle`): past the data lie that
    /// segment's old bytes, which recovery rejects (their offsets are below this segment's)
    /// and which a clean close cuts off.
    pub recycled: bool,
}

impl Segment {
    pub fn path(&self, dir: &Path, suffix: &str) -> PathBuf {
        segment_path(dir, self.base_offset, suffix)
    }
}

/// The size to pre-allocate a segment file of `allocated` bytes to for a write ending at
/// `needed`, at most `cap` (the segment size) unless the write needs more: the file doubles,
/// from `PREALLOCATE_FIRST_BYTES` up to steps of `PREALLOCATE_STEP_BYTES`. An idle log holds
/// little reserved disk; a busy one soon grows in large steps and rarely changes metadata.
pub fn preallocation_target(allocated: u64, needed: u64, cap: u64) -> u64 {
    let step = allocated.clamp(PREALLOCATE_FIRST_BYTES, PREALLOCATE_STEP_BYTES);
    let grown = (allocated + step)
        .max(needed)
        .next_multiple_of(PREALLOCATE_FIRST_BYTES);
    grown.min(cap.max(needed))
}

/// `target`, or only `needed` when growing a file of `allocated` bytes in `dir` to `target`
/// would leave less than `PREALLOCATE_FREE_MARGIN_BYTES` free: on a nearly full disk the log
/// reserves as it writes. `target` when the free space cannot be read. Called once per
/// growth step (a few per segment), so the `statfs` on the shard thread costs nothing that
/// shows.
pub fn fit_preallocation(dir: &Path, allocated: u64, target: u64, needed: u64) -> u64 {
    match leaves_free_margin(dir, target.saturating_sub(allocated)) {
        Some(false) => needed.min(target),
        _ => target,
    }
}

/// Whether allocating `bytes` more in `dir` would leave `PREALLOCATE_FREE_MARGIN_BYTES` free
/// (None: the free space cannot be read). A fallocate that does not fit takes every free
/// block while it tries. Judged by what an unprivileged writer may allocate: a root broker
/// then reserves as it writes through the last reserve of its filesystem too (slower, never
/// wrong).
pub fn leaves_free_margin(dir: &Path, bytes: u64) -> Option<bool> {
    let capacity = crate::io::data_dir::capacity(dir).ok()?;
    Some(capacity.available_bytes >= bytes.saturating_add(PREALLOCATE_FREE_MARGIN_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_file_longer_than_its_bound_is_refused_whole() {
        // Plain buffered reads: any filesystem will do, tmpfs included.
        let dir = std::env::temp_dir().join(format!("pinlog-read-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("00000000000000000000.index");
        // Sparse: a corrupt length costs the disk nothing, and must cost memory nothing.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        let error = read_bounded(&path, 4096).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        file.set_len(4096).unwrap();
        assert_eq!(read_bounded(&path, 4096).unwrap().len(), 4096);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn preallocation_doubles_from_the_first_step_to_the_largest_then_stays_there() {
        const MIB: u64 = 1024 * 1024;
        let cap = 1024 * MIB;
        let mut allocated = 0;
        let mut sizes = Vec::new();
        while allocated < 256 * MIB {
            allocated = preallocation_target(allocated, allocated + 1, cap);
            sizes.push(allocated / MIB);
        }
        assert_eq!(sizes, [1, 2, 4, 8, 16, 32, 64, 128, 192, 256]);
        // A write larger than the step gets what it needs, rounded to the first step.
        assert_eq!(preallocation_target(0, 5 * MIB + 1, cap), 6 * MIB);
        // Never past the segment size, unless a write needs it.
        assert_eq!(preallocation_target(1000 * MIB, 1000 * MIB + 1, cap), cap);
        assert_eq!(preallocation_target(cap, cap + 1, cap), cap + 1);
    }

    #[test]
    fn names_round_trip() {
        let path = segment_path(Path::new("/d"), 42, LOG_SUFFIX);
        assert_eq!(path, Path::new("/d/00000000000000000042.log"));
        assert_eq!(
            parse_segment_name("00000000000000000042.log"),
            Some((42, "log"))
        );
        assert_eq!(
            parse_segment_name("00000000000000000042.timeindex"),
            Some((42, "timeindex"))
        );
        assert_eq!(parse_segment_name("42.log"), None);
        assert_eq!(parse_segment_name(".lock"), None);
    }
}

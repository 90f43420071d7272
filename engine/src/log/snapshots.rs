//! Idempotent-producer state across restarts: snapshots written when a segment rolls and when
//! the log closes (`<next_offset:020>.snapshot`), and the rebuild on open: the newest snapshot
//! at or below the recovered log end, then the batches after it. So recovery replays the tail
//! of the log, not all of it.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use pinlog_protocol::records::{Batches, RecordBatch};

use super::append::producer_batch;
use crate::error::EngineError;
use crate::index::{OffsetIndex, OffsetPosition};
use crate::io::SegmentFile;
use crate::limits::{RECOVERY_READ_BYTES, SNAPSHOTS_RETAINED};
use crate::producer_state::snapshot::SNAPSHOT_BYTES_MAX;
use crate::producer_state::{AppendedBatch, ProducerStateTable};
use crate::segment::scan::peek_batch;
use pinlog_protocol::records::layout::HEADER_BYTES;

const SNAPSHOT_SUFFIX: &str = "snapshot";

/// Writes an encoded snapshot covering the batches before `next_offset` (taken synchronously
/// by the caller, so it matches that offset exactly), then deletes all but the newest
/// [`SNAPSHOTS_RETAINED`].
pub(crate) fn write_encoded(
    dir: &Path,
    next_offset: i64,
    snapshot: &[u8],
) -> Result<(), EngineError> {
    let path = crate::segment::segment_path(dir, next_offset, SNAPSHOT_SUFFIX);
    super::open::write_atomically(&path, snapshot)?;
    let mut existing = list(dir)?;
    existing.sort_unstable();
    let excess = existing.len().saturating_sub(SNAPSHOTS_RETAINED);
    for offset in existing.into_iter().take(excess) {
        remove(dir, offset)?;
    }
    Ok(())
}

/// Deletes snapshots beyond `end` (after a truncation they describe batches that are gone).
pub(crate) fn remove_after(dir: &Path, end: i64) -> Result<(), EngineError> {
    for offset in list(dir)?.into_iter().filter(|&o| o > end) {
        remove(dir, offset)?;
    }
    Ok(())
}

fn remove(dir: &Path, offset: i64) -> Result<(), EngineError> {
    let path: PathBuf = crate::segment::segment_path(dir, offset, SNAPSHOT_SUFFIX);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EngineError::io("remove", path, e)),
    }
}

fn list(dir: &Path) -> Result<Vec<i64>, EngineError> {
    let mut offsets = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| EngineError::io("list", dir, e))? {
        let entry = entry.map_err(|e| EngineError::io("list", dir, e))?;
        if let Some((offset, SNAPSHOT_SUFFIX)) = entry
            .file_name()
            .to_str()
            .and_then(crate::segment::parse_segment_name)
        {
            offsets.push(offset);
        }
    }
    Ok(offsets)
}

/// A segment the rebuild may replay: its base offset, file and readable length, and its
/// offset index when the caller has one to lend (replay then starts near the snapshot's
/// offset, not at the segment's start).
pub(crate) struct ReplaySegment<'a> {
    pub base: i64,
    pub file: Rc<SegmentFile>,
    pub readable_len: u64,
    pub index: Option<&'a OffsetIndex>,
}

/// The producer state of a log whose batches end at `end`: the newest readable snapshot at or
/// below `end`, then every batch from its offset on. `segments` are in offset order.
pub(crate) async fn rebuild(
    dir: &Path,
    segments: &[ReplaySegment<'_>],
    end: i64,
) -> Result<ProducerStateTable, EngineError> {
    // A snapshot beyond the recovered end describes batches the crash lost (a roll's snapshot
    // is written before the old segment's last writes complete). Kept, it would be taken for
    // the state once the log grows past its offset again, and its lost batches would pass
    // for duplicates: removed before anything is appended.
    let (stale, mut candidates): (Vec<i64>, Vec<i64>) =
        list(dir)?.into_iter().partition(|&offset| offset > end);
    for offset in stale {
        remove(dir, offset)?;
    }
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let (mut table, from) = candidates
        .into_iter()
        .find_map(|offset| {
            let path = crate::segment::segment_path(dir, offset, SNAPSHOT_SUFFIX);
            let bytes = match crate::segment::read_bounded(&path, SNAPSHOT_BYTES_MAX) {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "ignoring an unreadable producer snapshot");
                    return None;
                }
            };
            match ProducerStateTable::decode_snapshot(&bytes) {
                Ok((table, next_offset)) if next_offset == offset => Some((table, offset)),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "ignoring an unreadable producer snapshot");
                    None
                }
            }
        })
        .unwrap_or_default();
    // A snapshot at the end (every clean close writes one) leaves nothing to replay: reading
    // the segment that holds it, only to skip its batches, made every open read the whole
    // active segment (up to segment.bytes per log).
    if from >= end {
        return Ok(table);
    }
    // Replay only the segments that hold batches at or after the snapshot; in the first, from
    // the indexed batch that ends just before it (a snapshot taken between rolls lies inside
    // the active segment).
    let first = segments
        .iter()
        .rposition(|segment| segment.base <= from)
        .unwrap_or(0);
    for (i, segment) in segments[first..].iter().enumerate() {
        let hint = segment
            .index
            .filter(|_| i == 0 && from > segment.base)
            .map(|index| index.lookup(from - 1))
            .filter(|entry| entry.position > 0);
        replay(segment, hint, from, &mut table).await?;
    }
    Ok(table)
}

/// Applies the batches of `segment` at or after `from`, reading from `hint` (an index entry: the
/// batch ending at its offset starts at its position) if the batch there is the one it names,
/// else from the segment's start: only the last index entry was checked by recovery.
async fn replay(
    segment: &ReplaySegment<'_>,
    hint: Option<OffsetPosition>,
    from: i64,
    table: &mut ProducerStateTable,
) -> Result<(), EngineError> {
    let (file, readable_len) = (&segment.file, segment.readable_len);
    let mut position = 0;
    if let Some(entry) = hint {
        let start = u64::from(entry.position);
        if start < readable_len {
            let header = file.read_at(start, HEADER_BYTES).await?;
            if peek_batch(&header).is_some_and(|info| info.last_offset == entry.offset) {
                position = start;
            }
        }
    }
    while position < readable_len {
        let len = (readable_len - position).min(RECOVERY_READ_BYTES as u64) as usize;
        let mut chunk = file.read_at(position, len).await?;
        if peek_batch(&chunk).is_some_and(|info| info.size > chunk.len()) {
            // A batch larger than the chunk: read it whole.
            let size = peek_batch(&chunk).map_or(0, |info| info.size);
            chunk = file.read_at(position, size).await?;
        }
        let mut consumed = 0;
        for batch in Batches::new(chunk) {
            let Ok(batch) = batch else { break };
            consumed += batch.size_bytes();
            if batch.base_offset() >= from {
                apply(table, &batch);
            }
        }
        if consumed == 0 {
            break;
        }
        position += consumed as u64;
    }
    Ok(())
}

fn apply(table: &mut ProducerStateTable, batch: &RecordBatch) {
    if batch.producer_id() < 0 {
        return;
    }
    let appended = AppendedBatch {
        first_offset: batch.base_offset(),
        last_offset: batch.last_offset(),
        max_timestamp: batch.max_timestamp(),
    };
    table.apply_batch_for_recovery(&producer_batch(batch), &appended);
}

//! Reads by offset (from the batch cache, else from disk through the sparse index), and the
//! long-poll wait for new data. Lookups by timestamp are in `read_by_time`.

use std::rc::Rc;

use bytes::Bytes;

use super::read_hints::ReadHint;
use super::{PartitionLog, ReadBatches};
use crate::error::EngineError;
use crate::index::OffsetPosition;
use crate::io::SegmentFile;
use crate::limits::READ_CHUNK_BYTES_MAX;
use crate::segment::scan::peek_batch;
use pinlog_protocol::records::layout::{self, HEADER_BYTES};
use pinlog_protocol::records::{BatchError, RecordBatch, MAGIC_V2};

/// Where a disk read starts: a segment file, the places a scan for the target may start (where
/// an earlier read ended, then the index's, see
/// [`OffsetIndex::scan_starts`](crate::index::OffsetIndex::scan_starts)), and how far the
/// readable data goes.
struct ReadPlan {
    file: Rc<SegmentFile>,
    segment_base: i64,
    starts: Vec<ScanStart>,
    readable_len: u64,
}

/// A place a scan may start, and what the batch there must say for the start to be trusted.
#[derive(Debug, Clone, Copy)]
enum ScanStart {
    /// An offset index entry: the batch at `position` ends at `offset` (or the segment start).
    Indexed(OffsetPosition),
    /// Where an earlier read ended: the batch at `position` begins at `offset`.
    Resumed(OffsetPosition),
}

/// Batches read from disk, and where the batch after them begins.
struct DiskRead {
    chunks: Vec<Bytes>,
    ended: Option<OffsetPosition>,
}

impl PartitionLog {
    /// Whole batches from the one containing `offset`, up to `max_bytes` (the first batch is
    /// returned whole even if larger, as Kafka does). Only data below the high watermark is
    /// served. `offset == high watermark` gives no batches.
    pub async fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadBatches, EngineError> {
        self.check_open()?;
        let (high_watermark, log_start_offset, plan) = {
            let state = self.inner.state.borrow();
            let (hw, start) = (state.high_watermark, state.log_start_offset);
            if offset < start || offset > hw {
                return Err(EngineError::OffsetOutOfRange {
                    offset,
                    log_start: start,
                    log_end: hw,
                });
            }
            if offset == hw {
                return Ok(ReadBatches {
                    chunks: Vec::new(),
                    high_watermark: hw,
                    log_start_offset: start,
                });
            }
            // The cache holds appended batches not yet written: only those below hw.
            if let Some(chunks) =
                self.inner
                    .cache
                    .borrow_mut()
                    .read_below(self.inner.id, offset, max_bytes, hw)
            {
                return Ok(ReadBatches {
                    chunks,
                    high_watermark: hw,
                    log_start_offset: start,
                });
            }
            let Some((&segment_base, segment)) = state.segments.range(..=offset).next_back() else {
                return Err(EngineError::OffsetOutOfRange {
                    offset,
                    log_start: start,
                    log_end: hw,
                });
            };
            let resumed = state.read_hints.find(segment_base, offset).map(|position| {
                ScanStart::Resumed(OffsetPosition {
                    offset,
                    // Hints come from reads of this segment, whose positions fit the index's.
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                })
            });
            let indexed = segment.indexes.offset.scan_starts(offset);
            (
                hw,
                start,
                ReadPlan {
                    file: segment.file.clone(),
                    segment_base,
                    starts: resumed
                        .into_iter()
                        .chain(indexed.into_iter().map(ScanStart::Indexed))
                        .collect(),
                    readable_len: segment.readable_len,
                },
            )
        };
        let read = read_from_disk(&plan, offset, max_bytes).await?;
        if let Some(ended) = read.ended {
            self.inner.state.borrow_mut().read_hints.record(
                offset,
                ReadHint {
                    segment_base: plan.segment_base,
                    offset: ended.offset,
                    position: u64::from(ended.position),
                },
            );
        }
        Ok(ReadBatches {
            chunks: below_watermark(read.chunks, high_watermark),
            high_watermark,
            log_start_offset,
        })
    }

    /// Completes when the high watermark passes `offset` (records at `offset` are readable),
    /// woken by the flusher; the caller bounds the wait with its own timer.
    pub async fn wait_for_data(&self, offset: i64) -> Result<(), EngineError> {
        self.check_open()?;
        let receiver = {
            let mut state = self.inner.state.borrow_mut();
            if state.high_watermark > offset {
                return Ok(());
            }
            if let Some(reason) = &state.failed {
                return Err(EngineError::LogFailed {
                    path: self.inner.dir.clone(),
                    reason: reason.clone(),
                });
            }
            state.data_waiters.wait(offset)
        };
        self.map_wait(receiver.await)
    }
}

/// Drops batches at or above the high watermark.
fn below_watermark(chunks: Vec<Bytes>, high_watermark: i64) -> Vec<Bytes> {
    chunks
        .into_iter()
        .filter(|chunk| peek_batch(chunk).is_none_or(|info| info.base_offset < high_watermark))
        .collect()
}

/// Reads whole batches from the one containing `offset`, scanning from the first of the plan's
/// starts that begins the batch its index entry names.
///
/// Every batch served is checked against its CRC32C: the disk may have changed a byte since
/// recovery validated it (which it does only for the tail), and a fetch serves the bytes as
/// they are. A read stops before the first corrupt batch; when that is the first batch, it
/// fails with [`EngineError::Corruption`].
async fn read_from_disk(
    plan: &ReadPlan,
    offset: i64,
    max_bytes: usize,
) -> Result<DiskRead, EngineError> {
    for &start in &plan.starts {
        if let Some(read) = read_from(plan, start, offset, max_bytes).await? {
            return Ok(read);
        }
    }
    Err(corruption(plan, 0, "no batch at the segment start".into()))
}

/// [`read_from_disk`] from `start`; `None` when `start` does not begin the batch it names.
async fn read_from(
    plan: &ReadPlan,
    start: ScanStart,
    offset: i64,
    max_bytes: usize,
) -> Result<Option<DiskRead>, EngineError> {
    let (mut position, mut want) = match start {
        // An index entry lies at most an index interval (plus one batch) before the target.
        ScanStart::Indexed(start) => (u64::from(start.position), max_bytes + 64 * 1024),
        ScanStart::Resumed(start) => (u64::from(start.position), max_bytes),
    };
    want = want.min(READ_CHUNK_BYTES_MAX);
    let mut first_chunk = true;
    loop {
        if position >= plan.readable_len {
            return Ok((!first_chunk).then_some(DiskRead {
                chunks: Vec::new(),
                ended: None,
            }));
        }
        let len = (want as u64).min(plan.readable_len - position) as usize;
        let chunk = plan.file.read_at(position, len).await?;
        if std::mem::take(&mut first_chunk) && !trusted(&chunk, start) {
            return Ok(None);
        }
        let mut at = 0;
        // Skip batches wholly before the target.
        while let Some(info) = peek_batch(&chunk[at..]) {
            if info.last_offset >= offset || at + info.size > chunk.len() {
                break;
            }
            at += info.size;
        }
        let Some(first) = peek_batch(&chunk[at..]) else {
            if at == 0 {
                // Below the readable length, batches follow one another to its end.
                return Err(corruption(plan, position, "no batch header".into()));
            }
            position += at as u64;
            continue;
        };
        if first.last_offset < offset {
            // A batch before the target that runs past the chunk: its header says how far.
            position += (at + first.size) as u64;
            continue;
        }
        if at + first.size > chunk.len() {
            // The first batch runs past the chunk: read it whole (Kafka returns it even if it
            // exceeds max_bytes).
            position += at as u64;
            want = first.size.max(want);
            if at == 0 && len as u64 == plan.readable_len - position {
                return Err(corruption(
                    plan,
                    position,
                    format!(
                        "a batch of {} bytes runs past the readable data",
                        first.size
                    ),
                ));
            }
            continue;
        }
        let mut end = at;
        let mut after_last = offset;
        while let Some(info) = peek_batch(&chunk[end..]) {
            let fits = end + info.size <= chunk.len() && end + info.size - at <= max_bytes;
            if end > at && !fits {
                break;
            }
            if let Err(error) = verify_batch(chunk.slice(end..end + info.size)) {
                if end == at {
                    return Err(corruption(plan, position + at as u64, error.to_string()));
                }
                break;
            }
            end += info.size;
            after_last = info.last_offset + 1;
        }
        let ended = u32::try_from(position + end as u64)
            .ok()
            .map(|position| OffsetPosition {
                offset: after_last,
                position,
            });
        return Ok(Some(DiskRead {
            chunks: vec![chunk.slice(at..end)],
            ended,
        }));
    }
}

/// Whether `bytes`, read at `start`, begin the batch `start` promises.
fn trusted(bytes: &[u8], start: ScanStart) -> bool {
    match start {
        ScanStart::Indexed(start) => names_its_batch(bytes, start),
        ScanStart::Resumed(start) => {
            let magic = bytes.get(layout::MAGIC).map(|&m| m as i8);
            magic == Some(MAGIC_V2)
                && peek_batch(bytes).is_some_and(|info| info.base_offset == start.offset)
        }
    }
}

/// Whether `bytes` (read at `start.position`) begin a batch header of the right magic that, for
/// an index entry, ends at the entry's offset as the index promises. The segment start is
/// always a batch boundary.
pub(crate) fn names_its_batch(bytes: &[u8], start: OffsetPosition) -> bool {
    let Some(info) = peek_batch(bytes) else {
        return false;
    };
    let magic = bytes.get(layout::MAGIC).map(|&m| m as i8);
    magic == Some(MAGIC_V2) && (start.position == 0 || info.last_offset == start.offset)
}

/// The first of `starts` (see [`ReadPlan`]) whose position begins the batch it names, read
/// from `file`; the segment start when none does. For scans that are not on the fetch path
/// and can afford a read of one header per start.
pub(crate) async fn verified_scan_start(
    file: &SegmentFile,
    starts: &[OffsetPosition],
    readable_len: u64,
) -> Result<u64, EngineError> {
    for &start in starts {
        let position = u64::from(start.position);
        if position == 0 {
            break;
        }
        if position >= readable_len {
            continue;
        }
        let header = file.read_at(position, HEADER_BYTES).await?;
        if names_its_batch(&header, start) {
            return Ok(position);
        }
    }
    Ok(0)
}

/// The header and CRC32C checks recovery applies to every batch it trusts.
fn verify_batch(bytes: Bytes) -> Result<(), BatchError> {
    RecordBatch::new(bytes)?.validate_header()
}

fn corruption(plan: &ReadPlan, position: u64, reason: String) -> EngineError {
    EngineError::Corruption {
        path: plan.file.path().to_path_buf(),
        position,
        reason,
    }
}

//! Kafka's ListOffsets by time: the first record at or after a timestamp, found through the
//! time index, then the offset index, then a scan of the segment.
//!
//! Neither index is trusted blindly: only their last entries are checked against the data on
//! open, and a damaged entry that still passes the file checks would make the lookup answer a
//! later offset. So the scan checks the time index entry it starts from against the batches it
//! passes (see [`TimeEntryCheck`]) and scans the segment from its start when the entry does
//! not hold. Every batch the scan reads must pass its CRC32C.

use std::rc::Rc;

use pinlog_protocol::records::{Batches, RecordBatch};

use super::read::verified_scan_start;
use super::PartitionLog;
use crate::error::EngineError;
use crate::index::{OffsetPosition, TimestampOffset, NO_TIMESTAMP};
use crate::io::SegmentFile;
use crate::limits::READ_CHUNK_BYTES_MAX;
use crate::segment::scan::peek_batch;

/// One segment to search, with where the indexes say to start.
struct SegmentScan {
    file: Rc<SegmentFile>,
    readable_len: u64,
    time_entry: TimestampOffset,
    starts: Vec<OffsetPosition>,
}

enum ScanEnd {
    Found {
        offset: i64,
        timestamp: i64,
    },
    NotFound,
    /// The time index entry does not describe the batches: scan without it.
    EntryDoesNotHold,
}

impl PartitionLog {
    /// The first offset whose record timestamp is at least `timestamp` (Kafka's ListOffsets by
    /// time), with that record's timestamp; `None` if every record is older.
    pub async fn offset_for_timestamp(
        &self,
        timestamp: i64,
    ) -> Result<Option<(i64, i64)>, EngineError> {
        self.check_open()?;
        let log_start = self.log_start_offset();
        let candidates: Vec<SegmentScan> = {
            let state = self.inner.state.borrow();
            state
                .segments
                .values()
                .filter(|s| s.max_timestamp >= timestamp && s.readable_len > 0)
                .map(|s| {
                    // Kafka's `LogSegment.findOffsetByTimestamp`.
                    let time_entry = s.indexes.time.lookup(timestamp);
                    SegmentScan {
                        file: s.file.clone(),
                        readable_len: s.readable_len,
                        time_entry,
                        starts: s
                            .indexes
                            .offset
                            .scan_starts(time_entry.offset.max(log_start)),
                    }
                })
                .collect()
        };
        for segment in candidates {
            let start =
                verified_scan_start(&segment.file, &segment.starts, segment.readable_len).await?;
            // An entry below the log start may lie before the scan's start: nothing to check.
            let check = (segment.time_entry.timestamp != NO_TIMESTAMP
                && segment.time_entry.offset >= log_start)
                .then_some(TimeEntryCheck(segment.time_entry));
            let mut end = scan(&segment, start, check, timestamp, log_start).await?;
            if let ScanEnd::EntryDoesNotHold = end {
                end = scan(&segment, 0, None, timestamp, log_start).await?;
            }
            if let ScanEnd::Found { offset, timestamp } = end {
                return Ok(Some((offset, timestamp)));
            }
        }
        Ok(None)
    }
}

/// A time index entry `(t, o)` says that the batch ending at offset `o` is the first of the
/// segment whose max timestamp reaches `t` (the index records new maxima only). So a scan that
/// starts at or before that batch sees only smaller max timestamps before it, then exactly
/// that batch; anything else means the entry is damaged or belongs to another segment.
#[derive(Debug, Clone, Copy)]
struct TimeEntryCheck(TimestampOffset);

impl TimeEntryCheck {
    /// Whether `batch` agrees with the entry, and whether it is the entry's batch.
    fn on_batch(self, batch: &RecordBatch) -> (bool, bool) {
        let TimeEntryCheck(entry) = self;
        let (last_offset, max_timestamp) = (batch.last_offset(), batch.max_timestamp());
        if last_offset < entry.offset {
            (max_timestamp < entry.timestamp, false)
        } else {
            let is_entry_batch = last_offset == entry.offset;
            (
                is_entry_batch && max_timestamp == entry.timestamp,
                is_entry_batch,
            )
        }
    }
}

/// Scans `segment` from `start` (a batch boundary) for the first record at or after
/// `timestamp` and at or after `log_start`, checking the batches against `check` until its
/// batch has passed.
async fn scan(
    segment: &SegmentScan,
    start: u64,
    mut check: Option<TimeEntryCheck>,
    timestamp: i64,
    log_start: i64,
) -> Result<ScanEnd, EngineError> {
    let file = &segment.file;
    let corruption = |position: u64, reason: String| EngineError::Corruption {
        path: file.path().to_path_buf(),
        position,
        reason,
    };
    let mut position = start;
    let mut want = READ_CHUNK_BYTES_MAX;
    while position < segment.readable_len {
        let len = (segment.readable_len - position).min(want as u64) as usize;
        let chunk = file.read_at(position, len).await?;
        let mut consumed = 0;
        for batch in Batches::new(chunk.clone()) {
            let Ok(batch) = batch else { break };
            let batch_position = position + consumed as u64;
            batch
                .validate_header()
                .map_err(|e| corruption(batch_position, e.to_string()))?;
            consumed += batch.size_bytes();
            if let Some(entry) = check {
                let (holds, passed) = entry.on_batch(&batch);
                if !holds {
                    return Ok(ScanEnd::EntryDoesNotHold);
                }
                if passed {
                    check = None;
                }
            }
            if batch.max_timestamp() < timestamp {
                continue;
            }
            let records = batch.records(pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX)?;
            for record in records {
                let record = record.map_err(|e| corruption(batch_position, e.to_string()))?;
                if record.timestamp >= timestamp && record.offset >= log_start {
                    return Ok(ScanEnd::Found {
                        offset: record.offset,
                        timestamp: record.timestamp,
                    });
                }
            }
        }
        if consumed == 0 {
            // A batch larger than the chunk: read it whole. Below the readable length, anything
            // else is a batch boundary without a batch.
            match peek_batch(&chunk) {
                Some(info)
                    if info.size > chunk.len()
                        && position + info.size as u64 <= segment.readable_len =>
                {
                    want = info.size;
                    continue;
                }
                _ => return Err(corruption(position, "no batch header".into())),
            }
        }
        position += consumed as u64;
    }
    Ok(if check.is_some() {
        // The entry names a batch the segment does not have.
        ScanEnd::EntryDoesNotHold
    } else {
        ScanEnd::NotFound
    })
}

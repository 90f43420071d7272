//! Scanning a segment's bytes batch by batch, for recovery and for reads.
//!
//! A batch is trusted only if its length fits, its CRC32C matches, and its offsets continue
//! the previous batch's; zeros (pre-allocated space, the padding of the last page) end the log.

use bytes::Bytes;
use pinlog_protocol::records::layout::{
    BATCH_LENGTH, BATCH_LENGTH_MIN, HEADER_BYTES, LAST_OFFSET_DELTA, LOG_OVERHEAD_BYTES,
    MAX_TIMESTAMP,
};
use pinlog_protocol::records::RecordBatch;

use crate::limits::BATCH_BYTES_MAX;

/// What the scanner needs of a batch header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    /// Whole batch size, log overhead included.
    pub size: usize,
}

/// Reads the header of the batch at the start of `bytes` without validating it; `None` if the
/// header is incomplete or its length is impossible (zeros included).
pub fn peek_batch(bytes: &[u8]) -> Option<BatchInfo> {
    let header = bytes.get(..HEADER_BYTES)?;
    let be_i64 = |at: usize| i64::from_be_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    let be_i32 = |at: usize| i32::from_be_bytes(header[at..at + 4].try_into().unwrap_or([0; 4]));
    let length = usize::try_from(be_i32(BATCH_LENGTH)).ok()?;
    if !(BATCH_LENGTH_MIN..=BATCH_BYTES_MAX).contains(&length) {
        return None;
    }
    let base_offset = be_i64(0);
    Some(BatchInfo {
        base_offset,
        last_offset: base_offset.checked_add(i64::from(be_i32(LAST_OFFSET_DELTA)))?,
        max_timestamp: be_i64(MAX_TIMESTAMP),
        size: length + LOG_OVERHEAD_BYTES,
    })
}

/// Why a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    /// The bytes ran out in the middle of a batch (or exactly at a boundary): read more.
    NeedMore,
    /// Zeros, an impossible header, a bad CRC or a break in offsets: the log ends here.
    Invalid,
}

/// Validates consecutive batches at the start of `bytes` (which begins at a batch boundary),
/// calling `on_batch(position_in_bytes, info)` for each good one. Returns the number of good
/// bytes and why it stopped. `expected_offset` is the base offset the first batch must have,
/// if known.
pub fn scan_valid(
    bytes: &Bytes,
    mut expected_offset: Option<i64>,
    mut on_batch: impl FnMut(usize, BatchInfo),
) -> (usize, ScanEnd) {
    let mut position = 0;
    loop {
        let rest = &bytes[position..];
        if rest.len() < HEADER_BYTES {
            // A batch at offset 0 starts with eight zero bytes, so only a visible length field
            // can tell the end of the log from a header cut by the end of the chunk.
            let length_ok = rest
                .get(BATCH_LENGTH..LOG_OVERHEAD_BYTES)
                .map(|field| i32::from_be_bytes(field.try_into().unwrap_or([0; 4])))
                .map(|length| {
                    usize::try_from(length)
                        .is_ok_and(|l| (BATCH_LENGTH_MIN..=BATCH_BYTES_MAX).contains(&l))
                });
            return (
                position,
                if length_ok == Some(false) {
                    ScanEnd::Invalid
                } else {
                    ScanEnd::NeedMore
                },
            );
        }
        let Some(info) = peek_batch(rest) else {
            return (position, ScanEnd::Invalid);
        };
        if expected_offset.is_some_and(|expected| expected != info.base_offset)
            || info.last_offset < info.base_offset
        {
            return (position, ScanEnd::Invalid);
        }
        if info.size > rest.len() {
            return (position, ScanEnd::NeedMore);
        }
        let valid = RecordBatch::new(bytes.slice(position..position + info.size))
            .and_then(|batch| batch.validate_header())
            .is_ok();
        if !valid {
            return (position, ScanEnd::Invalid);
        }
        on_batch(position, info);
        position += info.size;
        expected_offset = Some(info.last_offset + 1);
    }
}

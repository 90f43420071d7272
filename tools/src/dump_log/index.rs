//! Checking a segment's `.index` and `.timeindex` files entry by entry (formats in
//! `pinlog_engine::index`): each entry is printed with whether it agrees with its segment.
//!
//! - offset index entry `(offset, position)`: offsets and positions strictly increase, and the
//!   position is the start of a valid batch whose base offset <= offset <= its last offset.
//! - time index entry `(timestamp, offset)`: timestamps strictly increase, offsets never
//!   decrease, the offset lies in a valid batch, and the timestamp is the largest batch
//!   timestamp up to that batch (what the engine writes).
//!
//! An entry whose offset (the segment's base plus its relative offset) does not fit an i64 is
//! inconsistent, and printed with its relative offset.
//!
//! The first all-zero entry ends a (pre-allocated) index; only zeros may follow it.

use std::io::Write;

use pinlog_engine::limits::INDEX_FILE_BYTES_MAX;

use super::report::Report;
use super::segment::BatchSpan;
use super::DumpLogError;

/// Bytes of an offset index entry (relative offset u32, position u32) and of a time index
/// entry (timestamp i64, relative offset u32), big-endian.
const OFFSET_ENTRY_BYTES: usize = 8;
const TIME_ENTRY_BYTES: usize = 12;

/// An index file's bytes, and the segment it belongs to.
pub struct IndexInput<'a> {
    pub bytes: &'a [u8],
    pub base_offset: i64,
    /// The segment's valid batches, when known: without them only the order is checked.
    pub spans: Option<&'a [BatchSpan]>,
}

/// Refuses to read an index file larger than the engine ever writes, before allocating.
pub fn check_size(len: u64, report: &mut Report<impl Write>) -> Result<bool, DumpLogError> {
    if len > INDEX_FILE_BYTES_MAX as u64 {
        let problem = format!(
            "the file is {len} bytes, more than the {INDEX_FILE_BYTES_MAX} an index may be; \
             not read"
        );
        report
            .index_problem(&problem)
            .map_err(DumpLogError::Output)?;
        return Ok(false);
    }
    Ok(true)
}

pub fn check_offset_index(
    input: &IndexInput<'_>,
    report: &mut Report<impl Write>,
) -> Result<(), DumpLogError> {
    let entries = entries::<OFFSET_ENTRY_BYTES>(input.bytes, report)?;
    let mut previous: Option<(i64, u32)> = None;
    for (index, entry) in entries.iter().enumerate() {
        let relative = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
        let position = u32::from_be_bytes([entry[4], entry[5], entry[6], entry[7]]);
        let Some(offset) = entry_offset(input.base_offset, relative) else {
            report
                .index_entry(
                    index,
                    &[
                        ("relative_offset", i64::from(relative)),
                        ("position", i64::from(position)),
                    ],
                    Some(overflow_problem(input.base_offset, relative)),
                )
                .map_err(DumpLogError::Output)?;
            continue;
        };
        let problem = match previous {
            Some((last_offset, _)) if offset <= last_offset => Some(format!(
                "offset {offset} does not follow the previous entry's {last_offset}"
            )),
            Some((_, last_position)) if position <= last_position => Some(format!(
                "position {position} does not follow the previous entry's {last_position}"
            )),
            _ => input
                .spans
                .and_then(|spans| offset_entry_problem(spans, offset, position)),
        };
        previous = Some((offset, position));
        report
            .index_entry(
                index,
                &[("offset", offset), ("position", i64::from(position))],
                problem,
            )
            .map_err(DumpLogError::Output)?;
    }
    Ok(())
}

/// The segment's base offset plus an entry's relative offset, `None` past the end of the
/// offset range (a segment named near i64::MAX).
fn entry_offset(base_offset: i64, relative: u32) -> Option<i64> {
    base_offset.checked_add(i64::from(relative))
}

fn overflow_problem(base_offset: i64, relative: u32) -> String {
    format!("relative offset {relative} overflows an offset past the segment's base {base_offset}")
}

fn offset_entry_problem(spans: &[BatchSpan], offset: i64, position: u32) -> Option<String> {
    let position = u64::from(position);
    let Ok(found) = spans.binary_search_by_key(&position, |s| s.position) else {
        return Some(format!(
            "position {position} is not the start of a valid batch of the segment"
        ));
    };
    let span = spans[found];
    (!(span.base_offset..=span.last_offset).contains(&offset)).then(|| {
        format!(
            "offset {offset} is not in the batch at position {position} (offsets {}..={})",
            span.base_offset, span.last_offset
        )
    })
}

pub fn check_time_index(
    input: &IndexInput<'_>,
    report: &mut Report<impl Write>,
) -> Result<(), DumpLogError> {
    let entries = entries::<TIME_ENTRY_BYTES>(input.bytes, report)?;
    let mut previous: Option<(i64, i64)> = None;
    for (index, entry) in entries.iter().enumerate() {
        let mut timestamp_bytes = [0u8; 8];
        timestamp_bytes.copy_from_slice(&entry[..8]);
        let timestamp = i64::from_be_bytes(timestamp_bytes);
        let relative = u32::from_be_bytes([entry[8], entry[9], entry[10], entry[11]]);
        let Some(offset) = entry_offset(input.base_offset, relative) else {
            report
                .index_entry(
                    index,
                    &[
                        ("timestamp", timestamp),
                        ("relative_offset", i64::from(relative)),
                    ],
                    Some(overflow_problem(input.base_offset, relative)),
                )
                .map_err(DumpLogError::Output)?;
            continue;
        };
        let problem = match previous {
            Some((last_timestamp, _)) if timestamp <= last_timestamp => Some(format!(
                "timestamp {timestamp} does not follow the previous entry's {last_timestamp}"
            )),
            Some((_, last_offset)) if offset < last_offset => Some(format!(
                "offset {offset} is below the previous entry's {last_offset}"
            )),
            _ => input
                .spans
                .and_then(|spans| time_entry_problem(spans, timestamp, offset)),
        };
        previous = Some((timestamp, offset));
        report
            .index_entry(
                index,
                &[("timestamp", timestamp), ("offset", offset)],
                problem,
            )
            .map_err(DumpLogError::Output)?;
    }
    Ok(())
}

fn time_entry_problem(spans: &[BatchSpan], timestamp: i64, offset: i64) -> Option<String> {
    let found = spans.partition_point(|s| s.last_offset < offset);
    let Some(span) = spans.get(found).filter(|s| s.base_offset <= offset) else {
        return Some(format!(
            "offset {offset} is in no valid batch of the segment"
        ));
    };
    (span.max_timestamp_so_far != timestamp).then(|| {
        format!(
            "timestamp {timestamp}, but the largest timestamp of the batches up to offset \
             {offset} is {}",
            span.max_timestamp_so_far
        )
    })
}

/// The entries before the first all-zero one; reports a partial entry at the end and non-zero
/// bytes after the end.
fn entries<'a, const N: usize>(
    bytes: &'a [u8],
    report: &mut Report<impl Write>,
) -> Result<Vec<&'a [u8]>, DumpLogError> {
    let output = DumpLogError::Output;
    let whole = bytes.len() / N * N;
    if whole != bytes.len() {
        let problem = format!(
            "{} bytes at the end do not make a whole {N}-byte entry",
            bytes.len() - whole
        );
        report.index_problem(&problem).map_err(output)?;
    }
    let mut entries = Vec::new();
    for (index, entry) in bytes[..whole].chunks_exact(N).enumerate() {
        if entry.iter().all(|b| *b == 0) {
            let tail_start = index * N;
            if let Some(at) = bytes[tail_start..].iter().position(|b| *b != 0) {
                let problem = format!(
                    "non-zero byte at position {} after the zero entry that ends the index",
                    tail_start + at
                );
                report.index_problem(&problem).map_err(output)?;
            }
            break;
        }
        entries.push(entry);
    }
    Ok(entries)
}

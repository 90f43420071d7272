//! Scanning a `.log` segment batch by batch, for dump-log.
//!
//! Unlike recovery, which stops at the first bad batch, the scan goes on past a batch whose
//! length is plausible but whose content is not (bad CRC, bad header fields): its length still
//! says where the next batch starts. It stops where no next batch can be found: a length that
//! is impossible or runs past the end of the file, or bytes after the zeros that end the log.
//! Zeros at a batch boundary are the end of the log (pre-allocated space, or the padding of
//! the last page), not corruption, as long as only zeros follow.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;
use pinlog_engine::limits::BATCH_BYTES_MAX;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::layout::{BATCH_LENGTH, BATCH_LENGTH_MIN, LOG_OVERHEAD_BYTES};
use pinlog_protocol::records::RecordBatch;

use super::report::Report;

/// Bytes read at a time while checking that the end of a file is all zeros.
const ZERO_CHECK_CHUNK_BYTES: usize = 1024 * 1024;
/// Batches remembered per segment to check its indexes against (32 bytes each); a segment
/// with more is still dumped, but its indexes are only checked for order.
pub const BATCH_SPANS_MAX: usize = 2 * 1024 * 1024;

/// Where a valid batch lies, and the largest timestamp up to and including it.
#[derive(Debug, Clone, Copy)]
pub struct BatchSpan {
    pub position: u64,
    pub base_offset: i64,
    pub last_offset: i64,
    pub max_timestamp_so_far: i64,
}

/// What the scan learnt of a segment, for its indexes.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The valid batches in file order; `None` when there were more than [`BATCH_SPANS_MAX`].
    pub spans: Option<Vec<BatchSpan>>,
}

/// Options of a scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Print each batch (off when a segment is scanned only to check an index file).
    pub print_batches: bool,
    pub print_records: bool,
}

/// Scans `file` (at `path`, of `len` bytes, named for `segment_base`), reporting each batch; a
/// read error is returned, corruption only reported.
///
/// Beyond what the CRC covers, it checks the header fields the CRC does not: the batches'
/// offsets follow each other from the segment's base offset without a gap (pinlog gives every
/// record an offset and never compacts), and partition leader epochs never go back.
pub fn scan(
    path: &Path,
    file: &File,
    len: u64,
    segment_base: i64,
    options: ScanOptions,
    report: &mut Report<impl Write>,
) -> Result<Scanned, super::DumpLogError> {
    let mut spans = Some(Vec::new());
    let mut position = 0u64;
    let mut next_offset = segment_base;
    let mut leader_epoch = i32::MIN;
    let mut max_timestamp_so_far = i64::MIN;
    let print = |report: &mut Report<_>, what: Finding| -> std::io::Result<()> {
        match what {
            Finding::Batch(position, batch, problem) if options.print_batches => {
                report.batch(position, &batch, problem)
            }
            Finding::Corrupt(position, problem) => report.corrupt(position, &problem),
            Finding::End(position, zeros) if options.print_batches => report.end(position, zeros),
            // Problems show even when batches do not, so that an index check explains itself.
            Finding::Batch(position, _, Some(problem)) => report.corrupt(position, &problem),
            _ => Ok(()),
        }
    };
    let read_error = |source| super::DumpLogError::Open {
        path: path.to_path_buf(),
        source,
    };
    while position < len {
        let remaining = len - position;
        let mut prefix = [0u8; LOG_OVERHEAD_BYTES];
        let prefix_len = remaining.min(LOG_OVERHEAD_BYTES as u64) as usize;
        file.read_exact_at(&mut prefix[..prefix_len], position)
            .map_err(read_error)?;
        let batch_length = i32::from_be_bytes([
            prefix[BATCH_LENGTH],
            prefix[BATCH_LENGTH + 1],
            prefix[BATCH_LENGTH + 2],
            prefix[BATCH_LENGTH + 3],
        ]);
        if batch_length == 0 || prefix_len < LOG_OVERHEAD_BYTES {
            // A batch at offset 0 starts with eight zero bytes: only a zero length (or a file
            // too short for one) can be the end of the log.
            match first_non_zero(file, position, len).map_err(read_error)? {
                None => print(report, Finding::End(position, remaining)),
                Some(at) => print(
                    report,
                    Finding::Corrupt(
                        position,
                        format!("non-zero byte at position {at} after the zeros that end the log"),
                    ),
                ),
            }
            .map_err(super::DumpLogError::Output)?;
            return Ok(Scanned { spans });
        }
        let size = usize::try_from(batch_length)
            .ok()
            .filter(|&length| {
                (BATCH_LENGTH_MIN..=BATCH_BYTES_MAX - LOG_OVERHEAD_BYTES).contains(&length)
            })
            .map(|length| length + LOG_OVERHEAD_BYTES);
        let Some(size) = size.filter(|&size| size as u64 <= remaining) else {
            let problem = format!(
                "batchLength {batch_length} is impossible here ({remaining} bytes remain in \
                 the file, a batch is {}..={BATCH_BYTES_MAX} bytes); the rest of the file cannot \
                 be read as batches",
                BATCH_LENGTH_MIN + LOG_OVERHEAD_BYTES
            );
            print(report, Finding::Corrupt(position, problem))
                .map_err(super::DumpLogError::Output)?;
            return Ok(Scanned { spans });
        };
        let mut bytes = vec![0u8; size];
        file.read_exact_at(&mut bytes, position)
            .map_err(read_error)?;
        let batch = match RecordBatch::new(Bytes::from(bytes)) {
            Ok(batch) => batch,
            Err(error) => {
                // `size` is at least the header, so this cannot happen; report it anyway.
                print(report, Finding::Corrupt(position, error.to_string()))
                    .map_err(super::DumpLogError::Output)?;
                return Ok(Scanned { spans });
            }
        };
        let expected = next_offset;
        if let Ok(span) = offsets(&batch) {
            // The batches after this one are judged as if it sat where it should: one damaged
            // baseOffset is one problem, not one per batch after it.
            next_offset = match follows(&span, expected, position == 0) {
                Ok(()) => span.next,
                Err(_) => expected.saturating_add(span.last - span.base + 1),
            };
        }
        let checked = batch
            .validate_header()
            .map_err(|e| e.to_string())
            .and_then(|()| offsets(&batch))
            .and_then(|span| {
                follows(&span, expected, position == 0)?;
                let epoch = batch.partition_leader_epoch();
                if epoch < leader_epoch {
                    return Err(format!(
                        "partitionLeaderEpoch {epoch} goes back: the batch before has \
                         {leader_epoch} (the field is outside the CRC; one of the two is wrong)"
                    ));
                }
                Ok(span)
            });
        // Each batch is compared with the one before it only: a damaged epoch is one problem.
        leader_epoch = batch.partition_leader_epoch();
        let problem = checked.as_ref().err().cloned();
        print(report, Finding::Batch(position, batch.clone(), problem))
            .map_err(super::DumpLogError::Output)?;
        if let Ok(span) = checked {
            max_timestamp_so_far = max_timestamp_so_far.max(batch.max_timestamp());
            if let Some(list) = &mut spans {
                if list.len() < BATCH_SPANS_MAX {
                    list.push(BatchSpan {
                        position,
                        base_offset: span.base,
                        last_offset: span.last,
                        max_timestamp_so_far,
                    });
                } else {
                    spans = None;
                }
            }
            if options.print_records {
                print_records(&batch, position, report)?;
            }
        }
        position += size as u64;
    }
    if options.print_batches {
        report
            .end(position, 0)
            .map_err(super::DumpLogError::Output)?;
    }
    Ok(Scanned { spans })
}

/// Whether a batch starts where the one before it ended (`expected`; for the first batch, the
/// base offset in the segment's file name).
fn follows(span: &Offsets, expected: i64, first: bool) -> Result<(), String> {
    let base = span.base;
    let outside_crc = "baseOffset is outside the CRC";
    match (base.cmp(&expected), first) {
        (std::cmp::Ordering::Equal, _) => Ok(()),
        (std::cmp::Ordering::Less, true) => Err(format!(
            "baseOffset {base} is below the segment's base offset {expected} (its file \
             name; {outside_crc})"
        )),
        (std::cmp::Ordering::Less, false) => Err(format!(
            "baseOffset {base} goes back: the previous batch ended before {expected}"
        )),
        (std::cmp::Ordering::Greater, true) => Err(format!(
            "baseOffset {base} is above the segment's base offset {expected} (its file name): \
             offsets {expected}..{base} are missing ({outside_crc})"
        )),
        (std::cmp::Ordering::Greater, false) => Err(format!(
            "baseOffset {base} skips offsets {expected}..{base}: pinlog gives every record an \
             offset ({outside_crc})"
        )),
    }
}

/// A batch's offsets, all of which fit an i64.
struct Offsets {
    base: i64,
    last: i64,
    next: i64,
}

/// The batch's offsets, or why they cannot be: the CRC does not cover baseOffset, so a
/// damaged one passes every other check and may leave no room for the offsets after it.
fn offsets(batch: &RecordBatch) -> Result<Offsets, String> {
    let base = batch.base_offset();
    let delta = batch.last_offset_delta();
    let last = base.checked_add(i64::from(delta));
    match last.and_then(|last| Some((last, last.checked_add(1)?))) {
        Some((last, next)) => Ok(Offsets { base, last, next }),
        None => Err(format!(
            "baseOffset {base} + lastOffsetDelta {delta} overflows: no offset can follow the \
             batch (baseOffset is outside the CRC)"
        )),
    }
}

enum Finding {
    Batch(u64, RecordBatch, Option<String>),
    Corrupt(u64, String),
    End(u64, u64),
}

fn print_records(
    batch: &RecordBatch,
    position: u64,
    report: &mut Report<impl Write>,
) -> Result<(), super::DumpLogError> {
    let output = super::DumpLogError::Output;
    let records = match batch.records(DECOMPRESSED_BATCH_BYTES_MAX) {
        Ok(records) => records,
        Err(error) => return report.corrupt(position, &error.to_string()).map_err(output),
    };
    for record in records {
        match record {
            Ok(record) => report.record(&record).map_err(output)?,
            Err(error) => {
                let problem = format!("in the batch's records: {error}");
                return report.corrupt(position, &problem).map_err(output);
            }
        }
    }
    Ok(())
}

/// The position of the first non-zero byte in `from..len`, read in bounded chunks. Holes and
/// unwritten (pre-allocated) extents are skipped without reading where the filesystem says
/// where data is (`SEEK_DATA`): a partition's pre-allocated tail can be 64 MiB of zeros.
fn first_non_zero(file: &File, from: u64, len: u64) -> std::io::Result<Option<u64>> {
    let mut chunk = vec![0u8; ZERO_CHECK_CHUNK_BYTES.min((len - from) as usize)];
    let mut position = from;
    while position < len {
        match next_data(file, position)? {
            Some(data) if data < len => position = position.max(data),
            Some(_) | None => return Ok(None),
        }
        let take = ((len - position) as usize).min(chunk.len());
        file.read_exact_at(&mut chunk[..take], position)?;
        if let Some(at) = chunk[..take].iter().position(|b| *b != 0) {
            return Ok(Some(position + at as u64));
        }
        position += take as u64;
    }
    Ok(None)
}

/// The first position at or after `from` that may hold data: `None` when only holes follow,
/// `from` itself when the filesystem cannot tell (no `SEEK_DATA` support).
fn next_data(file: &File, from: u64) -> std::io::Result<Option<u64>> {
    let Ok(offset) = libc::off_t::try_from(from) else {
        return Ok(Some(from));
    };
    // SAFETY: lseek on a descriptor `file` owns and keeps open for the call; no memory is
    // passed. Moving the file position is harmless: every read here is positioned (pread).
    let found = unsafe { libc::lseek(file.as_raw_fd(), offset, libc::SEEK_DATA) };
    if found >= 0 {
        return Ok(Some(found as u64));
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ENXIO) => Ok(None),
        Some(libc::EINVAL) => Ok(Some(from)),
        _ => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch file under `$PINLOG_TEST_DIR` when set, else the system's temporary directory
    /// (sparse files behave the same on tmpfs).
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::var_os("PINLOG_TEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&dir).expect("creating the scratch directory");
        dir.join(format!("pinlog-dump-log-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_byte_after_a_long_hole_is_found_and_a_sparse_tail_is_zeros() {
        let path = scratch("zeros");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .expect("creating");
        let far = 5 * ZERO_CHECK_CHUNK_BYTES as u64 + 3;
        file.set_len(far + 1000).expect("growing");
        assert_eq!(first_non_zero(&file, 0, far + 1000).expect("reading"), None);
        file.write_all_at(&[7], far).expect("writing");
        assert_eq!(
            first_non_zero(&file, 10, far + 1000).expect("reading"),
            Some(far)
        );
        assert_eq!(
            first_non_zero(&file, far + 1, far + 1000).expect("reading"),
            None
        );
        let _ = std::fs::remove_file(&path);
    }
}

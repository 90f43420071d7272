//! `pinlog dump-log PATH`: offline inspection of a data directory, a partition directory, or
//! one `.log`, `.index` or `.timeindex` file, like Kafka's `kafka-dump-log`.
//!
//! For each batch of a segment it prints its position, offsets, record count, timestamps,
//! producer fields, codec, size and whether its CRC32C is valid ([`segment`]); with
//! `--print-records` every record too. Each index entry is printed with whether it agrees with
//! its segment ([`index`]). The findings are text lines or JSON lines ([`report`]), then a
//! summary line; when anything is corrupt or inconsistent, the command fails (exit code 1)
//! with one line that says so.
//!
//! It never takes the data directory's lock: it opens files read-only and reads them as they
//! are, so it may run beside a broker. The active segment's last batch may then be caught
//! mid-write and reported as corrupt; for a verdict, run it on a stopped broker's data.
//! Every read from disk is bounded (a batch by the engine's `BATCH_BYTES_MAX`, an index file by
//! `INDEX_FILE_BYTES_MAX`, decompression by the protocol crate's cap) whatever lengths the
//! files claim.

mod index;
mod report;
mod segment;

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use pinlog_engine::log::is_deleted_log_dir;
use pinlog_engine::segment::{parse_segment_name, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

use self::index::IndexInput;
use self::report::{Report, Tally};
use self::segment::{ScanOptions, Scanned};

#[derive(Debug, clap::Args)]
pub struct DumpLogArgs {
    /// A data directory, a partition directory (`<topic>-<partition>`), or one segment file.
    pub path: PathBuf,
    /// Also print every record's offset, timestamp, key, value and headers.
    #[arg(long)]
    pub print_records: bool,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DumpLogError {
    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing to stdout: {0}")]
    Output(std::io::Error),
    #[error("{0} holds no segment files (NNNNNNNNNNNNNNNNNNNN.log/.index/.timeindex)")]
    NothingToDump(PathBuf),
    #[error("{0} is not a segment file (NNNNNNNNNNNNNNNNNNNN.log, .index or .timeindex)")]
    NotASegmentFile(PathBuf),
    #[error(
        "corruption found: {corrupt} corrupt or unreadable batch region(s), {inconsistent} \
         index inconsistenc(ies); see the report above"
    )]
    CorruptionFound { corrupt: u64, inconsistent: u64 },
}

/// Runs `pinlog dump-log`; an error when corruption was found.
pub fn run(args: &DumpLogArgs) -> Result<(), DumpLogError> {
    let stdout = std::io::stdout();
    let mut report = Report::new(BufWriter::new(stdout.lock()), args.json);
    let options = ScanOptions {
        print_batches: true,
        print_records: args.print_records,
    };
    let path = &args.path;
    let metadata = fs::metadata(path).map_err(|source| open_error(path, source))?;
    if metadata.is_dir() {
        let partitions = partition_dirs(path)?;
        if partitions.is_empty() {
            return Err(DumpLogError::NothingToDump(path.clone()));
        }
        for dir in partitions {
            dump_partition(&dir, options, &mut report)?;
        }
    } else {
        dump_file(path, options, &mut report)?;
    }
    report.summary().map_err(DumpLogError::Output)?;
    verdict(report.tally)
}

fn verdict(tally: Tally) -> Result<(), DumpLogError> {
    if tally.found_problems() {
        return Err(DumpLogError::CorruptionFound {
            corrupt: tally.corrupt,
            inconsistent: tally.inconsistent_entries,
        });
    }
    Ok(())
}

/// `path` itself when it holds segment files, else its subdirectories that do, sorted; not
/// the directories of deleted logs, which the broker is erasing (their files are cut short).
fn partition_dirs(path: &Path) -> Result<Vec<PathBuf>, DumpLogError> {
    if !segment_bases(path)?.is_empty() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut dirs = Vec::new();
    for entry in fs::read_dir(path).map_err(|source| open_error(path, source))? {
        let entry = entry.map_err(|source| open_error(path, source))?;
        let child = entry.path();
        let deleted = entry.file_name().to_str().is_some_and(is_deleted_log_dir);
        if child.is_dir() && !deleted && !segment_bases(&child)?.is_empty() {
            dirs.push(child);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The base offsets of the segments in `dir` (any of their three files), sorted.
fn segment_bases(dir: &Path) -> Result<Vec<i64>, DumpLogError> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir).map_err(|source| open_error(dir, source))? {
        let entry = entry.map_err(|source| open_error(dir, source))?;
        let name = entry.file_name();
        let Some((base, suffix)) = name.to_str().and_then(parse_segment_name) else {
            continue;
        };
        if [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX].contains(&suffix) {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    bases.dedup();
    Ok(bases)
}

/// Every segment of a partition: its `.log`, then its indexes checked against it.
fn dump_partition(
    dir: &Path,
    options: ScanOptions,
    report: &mut Report<impl Write>,
) -> Result<(), DumpLogError> {
    for base in segment_bases(dir)? {
        let path_of = |suffix| dir.join(format!("{base:020}.{suffix}"));
        let log = path_of(LOG_SUFFIX);
        let scanned = if log.exists() {
            report.file(&log, "log").map_err(DumpLogError::Output)?;
            Some(scan_log(&log, options, report)?)
        } else {
            // Indexes without their data: the segment was lost (or deleted by hand).
            report
                .index_problem(&format!(
                    "{}: missing; its indexes are checked for order only",
                    log.display()
                ))
                .map_err(DumpLogError::Output)?;
            None
        };
        let spans = scanned.as_ref().and_then(|s| s.spans.as_deref());
        for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            let path = path_of(suffix);
            if path.exists() {
                dump_index(&path, base, suffix, spans, report)?;
            }
        }
    }
    Ok(())
}

/// One file: a `.log` is dumped; an index is checked against the `.log` beside it, if any.
fn dump_file(
    path: &Path,
    options: ScanOptions,
    report: &mut Report<impl Write>,
) -> Result<(), DumpLogError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some((base, suffix)) = parse_segment_name(name) else {
        return Err(DumpLogError::NotASegmentFile(path.to_path_buf()));
    };
    if suffix == LOG_SUFFIX {
        report.file(path, "log").map_err(DumpLogError::Output)?;
        scan_log(path, options, report)?;
        return Ok(());
    }
    if suffix != INDEX_SUFFIX && suffix != TIME_INDEX_SUFFIX {
        return Err(DumpLogError::NotASegmentFile(path.to_path_buf()));
    }
    let log = path.with_file_name(format!("{base:020}.{LOG_SUFFIX}"));
    let scanned = if log.exists() {
        let silent = ScanOptions {
            print_batches: false,
            print_records: false,
        };
        Some(scan_log(&log, silent, report)?)
    } else {
        None
    };
    if scanned.is_none() {
        report
            .note(&format!(
                "{}: no segment file; entries checked for order only",
                log.display()
            ))
            .map_err(DumpLogError::Output)?;
    }
    let spans = scanned.as_ref().and_then(|s| s.spans.as_deref());
    dump_index(path, base, suffix, spans, report)
}

fn scan_log(
    path: &Path,
    options: ScanOptions,
    report: &mut Report<impl Write>,
) -> Result<Scanned, DumpLogError> {
    let file = File::open(path).map_err(|source| open_error(path, source))?;
    let len = file
        .metadata()
        .map_err(|source| open_error(path, source))?
        .len();
    let base = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(parse_segment_name)
        .map(|(base, _)| base)
        .ok_or_else(|| DumpLogError::NotASegmentFile(path.to_path_buf()))?;
    let scanned = segment::scan(path, &file, len, base, options, report)?;
    if scanned.spans.is_none() {
        report
            .note(&format!(
                "{}: more than {} batches; its indexes are checked for order only",
                path.display(),
                segment::BATCH_SPANS_MAX
            ))
            .map_err(DumpLogError::Output)?;
    }
    Ok(scanned)
}

fn dump_index(
    path: &Path,
    base_offset: i64,
    suffix: &str,
    spans: Option<&[segment::BatchSpan]>,
    report: &mut Report<impl Write>,
) -> Result<(), DumpLogError> {
    report.file(path, suffix).map_err(DumpLogError::Output)?;
    let file = File::open(path).map_err(|source| open_error(path, source))?;
    let len = file
        .metadata()
        .map_err(|source| open_error(path, source))?
        .len();
    if !index::check_size(len, report)? {
        return Ok(());
    }
    let mut bytes = Vec::new();
    // check_size bounded `len`; `take` keeps a file that grows meanwhile within it.
    (&file)
        .take(len)
        .read_to_end(&mut bytes)
        .map_err(|source| open_error(path, source))?;
    let input = IndexInput {
        bytes: &bytes,
        base_offset,
        spans,
    };
    if suffix == INDEX_SUFFIX {
        index::check_offset_index(&input, report)
    } else {
        index::check_time_index(&input, report)
    }
}

fn open_error(path: &Path, source: std::io::Error) -> DumpLogError {
    DumpLogError::Open {
        path: path.to_path_buf(),
        source,
    }
}

//! Opening a log: recovery from disk, and truncation (which shares its tail handling).
//!
//! Closed segments are trusted as written at close (synced, cut to their data size, indexes
//! persisted); their indexes are checked and rebuilt if inconsistent. The active segment is
//! scanned from the last index entry that points at a valid batch: each batch is validated
//! (length, CRC32C, offsets continuing the previous batch) and the file is cut at the first
//! one that fails, which is where a crash tore the tail or where pre-allocated zeros begin.
//! So recovery reads the unflushed tail, not the log.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use glommio::sync::Semaphore;

use super::retention::create_segment;
use super::snapshots::ReplaySegment;
use super::state::{LogInner, LogState};
use super::waiters::Waiters;
use crate::config::LogConfig;
use crate::error::EngineError;
use crate::index::{IndexedBatch, OffsetIndex, SegmentIndexes, TimeIndex};
use crate::io::data_dir::sync_dir;
use crate::io::SegmentFile;
use crate::limits::{INDEX_FILE_BYTES_MAX, PAGE_BYTES, RECOVERY_READ_BYTES};
use crate::segment::appender::Appender;
use crate::segment::scan::{peek_batch, scan_valid, ScanEnd};
use crate::segment::{
    parse_segment_name, segment_path, Segment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX,
};
use crate::storage::ShardStorage;
use pinlog_protocol::records::layout::HEADER_BYTES;

const LOG_START_FILE: &str = "log-start-offset";

pub(crate) async fn open(
    storage: &Rc<ShardStorage>,
    dir: &Path,
    config: LogConfig,
) -> Result<Rc<LogInner>, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io("create directory", dir, e))?;
    let leftovers = super::background::set_aside_at_open(dir)?;
    storage.prime_device_probe(dir).await?;
    let faults = storage.faults();
    let mut bases = list_segments(dir)?;
    let mut segments = BTreeMap::new();
    if bases.is_empty() {
        let start = read_log_start(dir)?.unwrap_or(0);
        let segment = create_segment(dir, start, &faults, config.index_interval_bytes).await?;
        segments.insert(start, segment);
        bases.push(start);
    } else {
        let mut index = 0;
        while index < bases.len() {
            let base = bases[index];
            let next_base = bases.get(index + 1).copied();
            let Recovered {
                mut segment,
                index_files_current,
            } = recover_segment(dir, base, &faults, &config, next_base.is_none()).await?;
            if let Some(next_base) = next_base.filter(|&next| segment.next_offset != next) {
                // A closed segment whose batches end before the next segment begins: the log
                // ends there, and this one becomes the active one. The later segments go, or
                // are set aside when they hold more than a crash leaves (`log::early_end`).
                let end = segment.next_offset;
                drop(segment);
                let later = &bases[index + 1..];
                let interval = config.index_interval_bytes;
                match super::early_end::drop_later_segments(dir, later, &faults, interval).await? {
                    None => {
                        tracing::warn!(dir = %dir.display(), base, end, next_base, "a closed segment ends early (a crash after a roll); dropped the segments after it")
                    }
                    Some(aside) => {
                        tracing::error!(dir = %dir.display(), base, end, next_base, aside = %aside.display(), "a closed segment ends early and the segments after it hold more than a crash leaves: its tail is damaged; the log now ends there and the later segments were moved aside, inspect them with `pinlog dump-log`")
                    }
                }
                bases.truncate(index + 1);
                continue;
            }
            // Recovery may have cut or extended the indexes: the files start over from them.
            if index_files_current {
                segment.persisted_index_entries =
                    (segment.indexes.offset.len(), segment.indexes.time.len());
            } else if let Err(error) = rewrite_index_files(dir, &mut segment) {
                // A full disk: the log still opens and serves its data. No index file is left
                // to disagree with the data (the active segment's starts over at its next
                // sync, with every entry); the next open rebuilds the missing ones.
                tracing::warn!(dir = %dir.display(), %error, "could not rewrite a segment's indexes; removed them");
                for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
                    let path = segment.path(dir, suffix);
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(EngineError::io("remove", path, e)),
                    }
                }
                segment.persisted_index_entries = (0, 0);
            }
            segments.insert(base, segment);
            index += 1;
        }
    }
    let active = segments.values().next_back().expect("at least one segment");
    let (next_offset, data_end) = (active.next_offset, active.readable_len);
    let tail = read_tail(&active.file, data_end).await?;
    let appender = Appender::new(&active.file, data_end, &tail);
    let first_base = *segments.keys().next().expect("at least one segment");
    let log_start_offset = read_log_start(dir)?
        .unwrap_or(first_base)
        .max(first_base)
        .min(next_offset);
    let replayable: Vec<_> = segments
        .values()
        .map(|s| ReplaySegment {
            base: s.base_offset,
            file: s.file.clone(),
            readable_len: s.readable_len,
            index: Some(&s.indexes.offset),
        })
        .collect();
    let producers = super::snapshots::rebuild(dir, &replayable, next_offset).await?;
    drop(replayable);
    let state = LogState {
        config,
        segments,
        appender,
        log_start_offset,
        next_offset,
        high_watermark: next_offset,
        appended_total: data_end,
        written_total: data_end,
        durable_total: data_end,
        marks: VecDeque::new(),
        ops: VecDeque::new(),
        dirty_files: Vec::new(),
        flusher_running: false,
        sync_running: false,
        flush_timer_armed: false,
        written_waiters: Waiters::default(),
        durable_waiters: Waiters::default(),
        data_waiters: Waiters::default(),
        synced_offset: next_offset,
        unsynced_since_ms: None,
        failed: None,
        failed_for_space: false,
        closed: false,
        deleted: false,
        spare_segment: None,
        spare_in_making: false,
        spare_prewrite_for: None,
        appended_since_snapshot: 0,
        pending_snapshot: None,
        retention_check_total: 0,
        active_index_files: None,
        read_hints: Default::default(),
        producers,
        background: Default::default(),
    };
    let inner = LogInner {
        dir: dir.to_path_buf(),
        id: storage.next_log_id(),
        state: RefCell::new(state),
        append_lock: Semaphore::new(1),
        cache: storage.cache(),
        faults,
        shared_flush: storage.shared_flush_for(dir)?,
        prewrite_turn: storage.prewrite_turn(),
        roll_seed: super::roll_jitter::seed(dir),
    };
    let inner = Rc::new(inner);
    super::background::erase_later(&inner, leftovers);
    Ok(inner)
}

/// What an active segment cut at `data_len` (by recovery or truncation) is pre-allocated to:
/// the next step past its data, which restores the zeros that mark the end.
fn allocation_after_recovery(data_len: u64) -> u64 {
    crate::segment::preallocation_target(data_len, data_len + 1, u64::MAX)
}

fn list_segments(dir: &Path) -> Result<Vec<i64>, EngineError> {
    let mut bases = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| EngineError::io("list", dir, e))? {
        let entry = entry.map_err(|e| EngineError::io("list", dir, e))?;
        let name = entry.file_name();
        if let Some((base, LOG_SUFFIX)) = name.to_str().and_then(parse_segment_name) {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// A segment's index files as found on disk: what recovery starts from, and what it compares
/// its result with to know whether the files must be written again.
struct LoadedIndexes {
    indexes: SegmentIndexes,
    offset_bytes: Vec<u8>,
    time_bytes: Vec<u8>,
}

fn load_indexes(dir: &Path, base: i64, config: &LogConfig) -> Result<LoadedIndexes, String> {
    let read = |suffix| {
        crate::segment::read_bounded(&segment_path(dir, base, suffix), INDEX_FILE_BYTES_MAX)
            .map_err(|e| e.to_string())
    };
    let offset_bytes = read(INDEX_SUFFIX)?;
    let time_bytes = read(TIME_INDEX_SUFFIX)?;
    let offset = OffsetIndex::from_bytes(&offset_bytes, base, config.index_interval_bytes)
        .map_err(|e| e.to_string())?;
    let time = TimeIndex::from_bytes(&time_bytes, base).map_err(|e| e.to_string())?;
    Ok(LoadedIndexes {
        indexes: SegmentIndexes::from_indexes(offset, time),
        offset_bytes,
        time_bytes,
    })
}

/// Result of scanning part of a segment.
pub(super) struct Scanned {
    indexes: SegmentIndexes,
    pub data_len: u64,
    next_offset: Option<i64>,
    max_timestamp: i64,
    first_timestamp: Option<i64>,
}

/// Validates batches from `start` (a batch boundary; the segment's start if 0) up to `limit`
/// bytes, extending the indexes; stops at the first invalid batch.
pub(super) async fn scan_segment(
    file: &SegmentFile,
    base: i64,
    start: u64,
    limit: u64,
    mut indexes: SegmentIndexes,
) -> Result<Scanned, EngineError> {
    let mut position = start;
    let mut expected = if start == 0 { Some(base) } else { None };
    let mut max_timestamp = -1;
    let mut first_timestamp = None;
    let mut pending = Bytes::new();
    loop {
        let want = RECOVERY_READ_BYTES.max(pending.len() + PAGE_BYTES);
        let read_at = position + pending.len() as u64;
        let chunk = if read_at < limit {
            file.read_at(read_at, want.min((limit - read_at) as usize))
                .await?
        } else {
            Bytes::new()
        };
        let at_end = chunk.is_empty();
        let buffer = if pending.is_empty() {
            chunk
        } else {
            Bytes::from([pending.as_ref(), chunk.as_ref()].concat())
        };
        let (good, end) = scan_valid(&buffer, expected, |at, info| {
            let batch = IndexedBatch {
                last_offset: info.last_offset,
                max_timestamp: info.max_timestamp,
                position: (position + at as u64) as u32,
            };
            if let Err(error) = indexes.on_append(batch) {
                tracing::warn!(%error, "batch left unindexed during recovery");
            }
            max_timestamp = max_timestamp.max(info.max_timestamp);
            first_timestamp.get_or_insert(info.max_timestamp);
            expected = Some(info.last_offset + 1);
        });
        position += good as u64;
        pending = buffer.slice(good..);
        if end == ScanEnd::Invalid || at_end {
            return Ok(Scanned {
                indexes,
                data_len: position,
                next_offset: expected,
                max_timestamp,
                first_timestamp,
            });
        }
    }
}

/// Recovers one segment: from the last index entry that still points at the batch it names,
/// validates batches to the first bad one. The active segment is cut there and pre-allocated
/// again; a closed one is cut to its batches (a crash may have left it pre-allocated) and its
/// time index gets the final entry closing gives it.
async fn recover_segment(
    dir: &Path,
    base: i64,
    faults: &Option<Rc<crate::io::FaultPlan>>,
    config: &LogConfig,
    active: bool,
) -> Result<Recovered, EngineError> {
    let file = Rc::new(
        SegmentFile::open(&segment_path(dir, base, LOG_SUFFIX), false, faults.clone()).await?,
    );
    let size = file.size().await?;
    let fresh_indexes = || SegmentIndexes::new(base, config.index_interval_bytes);
    // Missing or unreadable index files are rebuilt by the scan below, from the segment start.
    // The next offset is known only after the scan, which checks the time index against it.
    let mut on_disk = None;
    let mut indexes = match load_indexes(dir, base, config) {
        Ok(loaded) => match loaded.indexes.sanity_check(size, i64::MAX) {
            Ok(()) => {
                on_disk = Some((loaded.offset_bytes, loaded.time_bytes));
                loaded.indexes
            }
            Err(error) => {
                tracing::warn!(dir = %dir.display(), base, %error, "rebuilding the indexes of a segment");
                fresh_indexes()
            }
        },
        Err(_) => fresh_indexes(),
    };
    // Start from the last persisted index entry that still points at the batch it names: an
    // entry (o, p) says the batch ending at offset o starts at byte p.
    let mut start = (0u64, base);
    while let Some(entry) = indexes.offset.last_entry() {
        let position = u64::from(entry.position);
        let header = if position < size {
            file.read_at(position, HEADER_BYTES).await?
        } else {
            Bytes::new()
        };
        match peek_batch(&header) {
            Some(info) if info.last_offset == entry.offset => {
                start = (position, info.base_offset);
                break;
            }
            _ => indexes.truncate_to(entry.offset),
        }
    }
    indexes.truncate_to(start.1);
    let mut scanned = scan_segment(&file, base, start.0, size, indexes).await?;
    if let Err(error) = scanned
        .indexes
        .sanity_check(scanned.data_len, scanned.next_offset.unwrap_or(start.1))
    {
        tracing::warn!(dir = %dir.display(), base, %error, "rebuilding the indexes of a segment");
        start = (0, base);
        scanned = scan_segment(&file, base, 0, size, fresh_indexes()).await?;
    }
    let data_len = scanned.data_len;
    let next_offset = scanned.next_offset.unwrap_or(start.1);
    // Cut whatever follows the last good batch and restore the zeros that mark the end.
    if data_len < size {
        tracing::debug!(dir = %dir.display(), base, data_len, size, "recovery cut the active segment after its last valid batch");
        file.truncate(data_len).await?;
    }
    let allocated = if active {
        let allocated = crate::segment::fit_preallocation(
            dir,
            data_len,
            allocation_after_recovery(data_len),
            data_len,
        );
        match file.preallocate(allocated).await {
            Ok(()) => allocated,
            // Not needed to read what the log holds: on a full disk the log opens and serves
            // its data, and the flusher's own pre-allocation fails the first write instead.
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "could not pre-allocate the active segment; reads are served, writes wait for space");
                data_len
            }
        }
    } else {
        if let Err(error) = scanned.indexes.on_roll() {
            tracing::warn!(%error, "time index of a closed segment lacks its final entry");
        }
        data_len
    };
    if data_len < size || active {
        file.sync().await?;
    }
    let max_timestamp = scanned
        .max_timestamp
        .max(scanned.indexes.max_timestamp_so_far().timestamp);
    // segment.ms counts from the first batch's timestamp (Kafka's rollingBasedTimestamp). The
    // time index's first entry is a later batch's when the first batches fell between entries,
    // so the active segment, the one that rolls, reads its first batch's header.
    let first_timestamp = match (start.0, scanned.first_timestamp) {
        (0, Some(first)) => Some(first),
        _ if active && data_len > 0 => {
            let header = file.read_at(0, HEADER_BYTES).await?;
            peek_batch(&header).map(|info| info.max_timestamp)
        }
        _ => None,
    }
    .or_else(|| scanned.indexes.time.entries().next().map(|e| e.timestamp));
    // Files that already hold exactly the recovered entries (every segment after a clean
    // close, every closed one after most crashes) are not written again: rewriting them all,
    // each with its fdatasync, made opening cost grow with the whole log.
    let index_files_current = on_disk.is_some_and(|(offset_bytes, time_bytes)| {
        offset_bytes == scanned.indexes.offset.to_bytes()
            && time_bytes == scanned.indexes.time.to_bytes()
    });
    let segment = Segment {
        base_offset: base,
        file,
        readable_len: data_len,
        next_offset,
        max_timestamp,
        first_timestamp,
        allocated_len: allocated,
        created_ms: super::flusher::now_ms() as i64,
        indexes: scanned.indexes,
        persisted_index_entries: (0, 0),
        start_total: 0,
        recycled: false,
    };
    Ok(Recovered {
        segment,
        index_files_current,
    })
}

/// A segment as recovery left it.
struct Recovered {
    segment: Segment,
    /// The index files on disk hold exactly the segment's index entries.
    index_files_current: bool,
}

/// The partial page before `data_end`, which the appender rewrites on its next write.
async fn read_tail(file: &SegmentFile, data_end: u64) -> Result<Vec<u8>, EngineError> {
    let tail_len = (data_end % PAGE_BYTES as u64) as usize;
    if tail_len == 0 {
        return Ok(Vec::new());
    }
    let bytes = file.read_at(data_end - tail_len as u64, tail_len).await?;
    if bytes.len() != tail_len {
        return Err(EngineError::Corruption {
            path: file.path().to_path_buf(),
            position: data_end,
            reason: "short read of the last page".into(),
        });
    }
    Ok(bytes.to_vec())
}

/// Truncation with the append permit held and everything flushed (see `truncate_to`).
pub(crate) async fn truncate_locked(inner: &Rc<LogInner>, offset: i64) -> Result<i64, EngineError> {
    // Positions past the cut will hold other batches.
    inner.state.borrow_mut().read_hints.clear();
    // A periodic snapshot not yet written describes batches the cut may remove; written once
    // the log is durable past its byte count again, it would bring them back as producer
    // state. The flush before the cut writes it (and the cut removes it with the other
    // snapshots beyond), so none should be pending here: dropped all the same.
    {
        let mut state = inner.state.borrow_mut();
        state.pending_snapshot = None;
        state.appended_since_snapshot = 0;
    }
    // Offsets may go back below the spare's old batches: they could pass for new ones.
    if std::mem::take(&mut inner.state.borrow_mut().spare_segment).is_some() {
        super::background::erase_file(inner, &super::recycle::spare_path(&inner.dir));
    }
    let doomed: Vec<i64> = {
        let state = inner.state.borrow();
        let keep_first = state.segments.range(..=offset).next_back().map(|(b, _)| *b);
        state
            .segments
            .keys()
            .copied()
            .filter(|b| Some(*b) != keep_first && *b >= offset)
            .collect()
    };
    for base in &doomed {
        let segment = inner.state.borrow_mut().segments.remove(base);
        drop(segment);
        // Renamed at once (a segment may be created again at its base below), erased later:
        // unlinked here, a whole segment would hold the shard while its blocks are freed.
        super::background::erase_file(inner, &segment_path(&inner.dir, *base, LOG_SUFFIX));
        for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            let _ = std::fs::remove_file(segment_path(&inner.dir, *base, suffix));
        }
    }
    if inner.state.borrow().segments.is_empty() {
        let interval = inner.state.borrow().config.index_interval_bytes;
        let segment = create_segment(&inner.dir, offset, &inner.faults, interval).await?;
        inner.state.borrow_mut().segments.insert(offset, segment);
    }
    let (file, base, starts, limit, fallback_end) = {
        let state = inner.state.borrow();
        let active = state.active();
        (
            active.file.clone(),
            active.base_offset,
            active.indexes.offset.scan_starts(offset),
            active.readable_len,
            active.next_offset.min(offset),
        )
    };
    let start_position = super::read::verified_scan_start(&file, &starts, limit).await?;
    // Find the first batch whose last offset reaches `offset`: everything from it goes.
    let mut cut = None;
    let mut position = start_position;
    let mut last_end = None;
    while cut.is_none() && position < limit {
        let chunk = file
            .read_at(
                position,
                RECOVERY_READ_BYTES.min((limit - position) as usize),
            )
            .await?;
        let mut at = 0;
        while let Some(info) = peek_batch(&chunk[at..]) {
            if info.last_offset >= offset {
                cut = Some((position + at as u64, info.base_offset));
                break;
            }
            if at + info.size > chunk.len() {
                break;
            }
            at += info.size;
            last_end = Some(info.last_offset + 1);
        }
        if cut.is_none() && at == 0 {
            // A batch larger than the chunk that ends before `offset`: step over it.
            match peek_batch(&chunk) {
                Some(info) => {
                    at = info.size;
                    last_end = Some(info.last_offset + 1);
                }
                None => break,
            }
        }
        position += at as u64;
    }
    let cut = cut.unwrap_or((position.min(limit), last_end.unwrap_or(fallback_end)));
    let (data_len, new_end) = cut;
    file.truncate(data_len).await?;
    file.preallocate(allocation_after_recovery(data_len))
        .await?;
    file.sync().await?;
    sync_dir(&inner.dir).await?;
    let tail = read_tail(&file, data_len).await?;
    // Never hold the state borrowed across an await: collect what the rebuild reads first.
    super::snapshots::remove_after(&inner.dir, new_end)?;
    // Without the indexes (they stay in the state, which is not held across an await): the
    // replay reads whole segments, as truncation is rare.
    let replayable: Vec<ReplaySegment<'_>> = {
        let state = inner.state.borrow();
        state
            .segments
            .values()
            .map(|s| ReplaySegment {
                base: s.base_offset,
                file: s.file.clone(),
                readable_len: if s.base_offset == base {
                    data_len
                } else {
                    s.readable_len
                },
                index: None,
            })
            .collect()
    };
    let producers = super::snapshots::rebuild(&inner.dir, &replayable, new_end).await?;
    let mut state = inner.state.borrow_mut();
    // The index files are replaced below: appends through the old handles would be lost.
    state.active_index_files = None;
    let active = state.active_mut();
    active.readable_len = data_len;
    active.next_offset = new_end;
    active.indexes.truncate_to(new_end);
    rewrite_index_files(&inner.dir, active)?;
    // Everything was flushed before truncating, so the byte counters start over from the
    // active segment's new end (the old counter may be smaller than its data: it counts only
    // bytes appended since open).
    active.start_total = 0;
    // The file was cut at the data's end: no old bytes of a recycled file remain.
    active.recycled = false;
    active.allocated_len = allocation_after_recovery(data_len);
    state.appended_total = data_len;
    state.written_total = data_len;
    state.durable_total = data_len;
    state.marks.clear();
    state.appender = Appender::new(&file, data_len, &tail);
    state.next_offset = new_end;
    state.high_watermark = state.high_watermark.min(new_end);
    state.synced_offset = new_end;
    if state.log_start_offset > new_end {
        state.log_start_offset = new_end;
        write_log_start(&inner.dir, new_end)?;
    }
    state.producers = producers;
    inner.cache.borrow_mut().truncate(inner.id, new_end);
    Ok(new_end)
}

/// Writes a segment's index files whole (atomically) and marks every entry persisted.
pub(crate) fn rewrite_index_files(dir: &Path, segment: &mut Segment) -> Result<(), EngineError> {
    write_index_file(
        &segment.path(dir, INDEX_SUFFIX),
        &segment.indexes.offset.to_bytes(),
    )?;
    write_index_file(
        &segment.path(dir, TIME_INDEX_SUFFIX),
        &segment.indexes.time.to_bytes(),
    )?;
    segment.persisted_index_entries = (segment.indexes.offset.len(), segment.indexes.time.len());
    Ok(())
}

pub(crate) fn write_index_file(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    write_atomically(path, bytes)
}

fn read_log_start(dir: &Path) -> Result<Option<i64>, EngineError> {
    let path = dir.join(LOG_START_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().parse().ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::io("read", path, e)),
    }
}

pub(crate) fn write_log_start(dir: &Path, offset: i64) -> Result<(), EngineError> {
    write_atomically(&dir.join(LOG_START_FILE), offset.to_string().as_bytes())
}

/// Writes `bytes` to a temporary file, syncs it and renames it over `path`: a reader sees the
/// old contents or the new, never a mix. Each call has its own temporary file, as calls for
/// one directory may run at once (background metadata jobs on the blocking thread pool).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    static TEMPORARY_NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let number = TEMPORARY_NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{number}.tmp"));
    let temporary: PathBuf = path.with_file_name(name);
    let mut file =
        std::fs::File::create(&temporary).map_err(|e| EngineError::io("create", &temporary, e))?;
    if let Err(error) = file.write_all(bytes).and_then(|_| file.sync_data()) {
        // A full disk must not also keep the half-written copy.
        let _ = std::fs::remove_file(&temporary);
        return Err(EngineError::io("write", &temporary, error));
    }
    std::fs::rename(&temporary, path).map_err(|e| EngineError::io("rename", path, e))
}

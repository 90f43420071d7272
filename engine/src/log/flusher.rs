//! The flusher: one task per log, started when there is something to write and ending when
//! there is not. It writes sealed buffers in order (up to `WRITES_IN_FLIGHT_MAX` at once when
//! they share no page, a new one as soon as the oldest completes), starts the close of rolled
//! segments, and fdatasyncs once for every
//! Durable append that waits (group commit), or when `flush.messages` / `flush.ms` ask for it.
//!
//! Closing a rolled segment (sync, cut the pre-allocated tail, write its indexes and the
//! producer snapshot) runs as a background task beside the writes to the new segment, its
//! blocking calls on glommio's blocking thread pool: a roll stalls neither this log nor the
//! shard.
//!
//! A sync runs as a task of its own (at most one per log), beside the writes that follow it:
//! it covers what was written when it started, so Durable appends are not starved by writes
//! that keep coming, and the device is not idle while it flushes. A file whose writes since
//! its last fdatasync only overwrote written blocks (a recycled segment) carries no metadata:
//! a device flush begun after the writes completed is enough, and the logs of a shard share
//! one (`io::shared_flush`).

use std::rc::Rc;
use std::time::Duration;

use futures::future::{FutureExt, LocalBoxFuture};
use futures::stream::{FuturesOrdered, StreamExt};

use super::background::{self, Job};
use super::state::{ActiveIndexFiles, FlushOp, LogInner};
use crate::error::EngineError;
use crate::io::data_dir::sync_dir;
use crate::io::{FlushError, SegmentFile};
use crate::limits::{PAGE_BYTES, WRITES_IN_FLIGHT_MAX};
use crate::segment::appender::PendingWrite;
use crate::segment::{fit_preallocation, preallocation_target};
use crate::segment::{INDEX_SUFFIX, TIME_INDEX_SUFFIX};

/// Starts the flusher unless it runs already (or the log has failed).
pub(crate) fn kick(inner: &Rc<LogInner>) {
    {
        let mut state = inner.state.borrow_mut();
        if state.flusher_running || state.failed.is_some() || state.closed {
            return;
        }
        state.flusher_running = true;
    }
    let inner = inner.clone();
    glommio::spawn_local(async move { run(&inner).await }).detach();
}

enum Work {
    /// Issue this write now.
    Write(Rc<SegmentFile>, i64, PendingWrite, u64),
    Close(i64),
    Sync,
    /// Nothing may be issued until the oldest write in flight completes.
    Wait,
    Idle,
}

/// A write in flight: its result, the file it went to, where in the file it ends and the log
/// total it completes.
type WriteInFlight = LocalBoxFuture<'static, (Result<(), EngineError>, Rc<SegmentFile>, u64, u64)>;

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The flusher's loop. Writes go out as a sliding window: up to `WRITES_IN_FLIGHT_MAX` at
/// once, a new one as soon as the oldest completes (completions are taken in order, so the
/// written watermark advances in order), rather than in rounds that wait for their slowest
/// write while the device's queue runs dry.
async fn run(inner: &Rc<LogInner>) {
    let mut in_flight: FuturesOrdered<WriteInFlight> = FuturesOrdered::new();
    // The last write issued ends inside a page, which the next write rewrites: nothing more
    // may be issued until it completes.
    let mut shares_last_page = false;
    loop {
        let work = next_work(inner, in_flight.len(), shares_last_page);
        let result = match work {
            Work::Idle => {
                let mut state = inner.state.borrow_mut();
                state.flusher_running = false;
                let arm = state.failed.is_none()
                    && state.unsynced_since_ms.is_some()
                    && !state.flush_timer_armed;
                if let (true, Some(flush_ms)) = (arm, state.config.flush_ms) {
                    state.flush_timer_armed = true;
                    drop(state);
                    arm_flush_timer(inner, flush_ms);
                }
                return;
            }
            Work::Write(file, base, write, end_total) => {
                shares_last_page = !write.ends_on_page_boundary();
                issue(inner, &mut in_flight, file, base, write, end_total).await
            }
            Work::Wait => {
                let Some((result, file, file_end, end_total)) = in_flight.next().await else {
                    unreachable!("a wait with writes in flight")
                };
                if in_flight.is_empty() {
                    shares_last_page = false;
                }
                result.map(|()| written(inner, &file, file_end, end_total))
            }
            Work::Close(base) => {
                start_close(inner, base);
                Ok(())
            }
            Work::Sync => {
                start_sync(inner);
                Ok(())
            }
        };
        if let Err(error) = result {
            inner.state.borrow_mut().fail(&error);
            // Let the writes still in flight finish before giving up their buffers.
            while in_flight.next().await.is_some() {}
            inner.state.borrow_mut().flusher_running = false;
            return;
        }
    }
}

fn next_work(inner: &Rc<LogInner>, in_flight: usize, shares_last_page: bool) -> Work {
    let mut state = inner.state.borrow_mut();
    // A closed log has given its segments up; a flusher kicked just before has nothing to do
    // but let its writes in flight finish.
    if state.failed.is_some() || state.closed {
        return if in_flight == 0 {
            Work::Idle
        } else {
            Work::Wait
        };
    }
    // Seal the partly filled window only when there is room to write it: while full windows
    // queue up, sealing it would add a small write that shares its last page with the next
    // one, and so runs alone.
    if state.ops.len() + in_flight < WRITES_IN_FLIGHT_MAX {
        state.seal_active();
    }
    if !state.sync_running && sync_due(&state) {
        return Work::Sync;
    }
    match state.ops.front() {
        // Closing needs everything before it written.
        Some(FlushOp::Close { segment_base }) if in_flight == 0 => {
            let base = *segment_base;
            state.ops.pop_front();
            Work::Close(base)
        }
        Some(FlushOp::Write { .. }) if in_flight < WRITES_IN_FLIGHT_MAX && !shares_last_page => {
            let Some(FlushOp::Write {
                file,
                segment_base,
                write,
                end_total,
            }) = state.ops.pop_front()
            else {
                unreachable!("the front op is a write")
            };
            Work::Write(file, segment_base, write, end_total)
        }
        _ if in_flight > 0 => Work::Wait,
        _ => Work::Idle,
    }
}

fn sync_due(state: &super::state::LogState) -> bool {
    if state.written_total == state.durable_total {
        return false;
    }
    if state.durable_waiters.any_at_most(state.written_total) {
        return true;
    }
    if state
        .config
        .flush_messages
        .is_some_and(|n| (state.high_watermark - state.synced_offset).max(0) as u64 >= n)
    {
        return true;
    }
    match (state.config.flush_ms, state.unsynced_since_ms) {
        (Some(flush_ms), Some(since)) => now_ms().saturating_sub(since) >= flush_ms,
        _ => false,
    }
}

fn arm_flush_timer(inner: &Rc<LogInner>, flush_ms: u64) {
    let inner = inner.clone();
    glommio::spawn_local(async move {
        glommio::timer::sleep(Duration::from_millis(flush_ms.max(1))).await;
        inner.state.borrow_mut().flush_timer_armed = false;
        kick(&inner);
    })
    .detach();
}

/// Grows the file if the write needs it, then puts the write in flight.
async fn issue(
    inner: &Rc<LogInner>,
    in_flight: &mut FuturesOrdered<WriteInFlight>,
    file: Rc<SegmentFile>,
    base: i64,
    write: PendingWrite,
    end_total: u64,
) -> Result<(), EngineError> {
    // Grow the file first, in steps that grow to large ones, so the writes change no file
    // size; not beyond the segment size, so that the tail cut when the segment closes is small
    // (freeing space is slow with `discard`).
    let needed = write.position + write.buffer.len() as u64;
    let (allocated, segment_bytes) = {
        let state = inner.state.borrow();
        let allocated = state
            .segments
            .get(&base)
            .map_or(u64::MAX, |s| s.allocated_len);
        (allocated, state.config.segment_bytes.min(i32::MAX as u64))
    };
    if needed > allocated {
        let cap = segment_bytes.next_multiple_of(PAGE_BYTES as u64);
        let needed_pages = needed.next_multiple_of(PAGE_BYTES as u64);
        let target = preallocation_target(allocated, needed, cap);
        let mut target = fit_preallocation(&inner.dir, allocated, target, needed_pages);
        match file.preallocate(target).await {
            Ok(()) => {}
            // A nearly full disk: reserve what this write needs, so the log fills it to the
            // last page it can instead of failing for want of a whole step.
            Err(EngineError::NoSpace { .. }) if target > needed_pages => {
                target = needed_pages;
                file.preallocate(target).await?;
            }
            Err(error) => return Err(error),
        }
        if let Some(segment) = inner.state.borrow_mut().segments.get_mut(&base) {
            segment.allocated_len = target;
        }
    }
    in_flight.push_back(
        async move {
            let result = file.write_at(write.buffer, write.position).await;
            (result, file, needed, end_total)
        }
        .boxed_local(),
    );
    Ok(())
}

/// Records a completed write (completions come in log order).
fn written(inner: &Rc<LogInner>, file: &Rc<SegmentFile>, file_end: u64, end_total: u64) {
    let mut state = inner.state.borrow_mut();
    file.note_written(file_end);
    state.mark_dirty(file);
    if state.unsynced_since_ms.is_none() {
        state.unsynced_since_ms = Some(now_ms());
    }
    state.advance_written(end_total);
}

/// Starts a sync task; it kicks the flusher when done, for the waiters that came meanwhile.
fn start_sync(inner: &Rc<LogInner>) {
    inner.state.borrow_mut().sync_running = true;
    let inner = inner.clone();
    glommio::spawn_local(async move {
        let result = sync(&inner).await;
        {
            let mut state = inner.state.borrow_mut();
            state.sync_running = false;
            if let Err(error) = result {
                state.fail(&error);
            }
        }
        kick(&inner);
    })
    .detach();
}

async fn sync(inner: &Rc<LogInner>) -> Result<(), EngineError> {
    let (files, target, target_offset, dir_unsynced) = {
        let mut state = inner.state.borrow_mut();
        // Taken with the target: a write counted in it has noted its metadata already.
        let files: Vec<(Rc<SegmentFile>, bool)> = std::mem::take(&mut state.dirty_files)
            .into_iter()
            .map(|file| {
                let own = file.take_metadata_unsynced() || inner.shared_flush.is_none();
                (file, own)
            })
            .collect();
        (
            files,
            state.written_total,
            // Moves with `written_total` (`advance_written`): the records the target holds.
            state.high_watermark,
            std::mem::take(&mut state.background.dir_unsynced),
        )
    };
    if dir_unsynced {
        // A segment created by a roll: its name must survive a crash with its data.
        sync_dir(&inner.dir).await?;
    }
    let mut flushed = false;
    for (file, _) in files.iter().filter(|(_, own)| *own) {
        file.sync().await?;
        flushed = true;
    }
    // Files with nothing but overwrites to sync need a device flush begun after their writes
    // completed: an own fdatasync above was one, else the shard's shared flush.
    if let (false, Some(shared), Some((file, _))) = (flushed, &inner.shared_flush, files.first()) {
        shared
            .flush(|| flush_via(file.clone()))
            .await
            .map_err(|e| EngineError::io("fdatasync", file.path(), e.to_io_error()))?;
    }
    // Inline (a page-cache append of a few bytes): a crash right after a Durable append
    // finds its index entries.
    persist_active_index_tail(inner, target_offset)?;
    let mut state = inner.state.borrow_mut();
    state.synced_offset = state.synced_offset.max(target_offset);
    state.unsynced_since_ms = if state.written_total > target {
        Some(now_ms())
    } else {
        None
    };
    state.advance_durable(target);
    if let Some(snapshot) = state.take_durable_snapshot() {
        drop(state);
        background::push(
            inner,
            Job::Snapshot {
                next_offset: snapshot.next_offset,
                encoded: snapshot.encoded,
            },
        );
    }
    Ok(())
}

/// The shared flush as an fdatasync of `file` (whose own metadata is synced: the fdatasync is
/// only the device flush).
async fn flush_via(file: Rc<SegmentFile>) -> Result<(), FlushError> {
    file.sync().await.map_err(|error| FlushError {
        raw_os_error: match &error {
            EngineError::Io { source, .. } => source.raw_os_error(),
            EngineError::NoSpace { .. } => Some(libc::ENOSPC),
            _ => None,
        },
        message: error.to_string(),
    })
}

/// Appends to the active segment's index files (through the page cache, not synced: they only
/// shorten recovery) the entries of batches below `synced_offset` (what the sync just made
/// durable), never of later ones: an entry that reached the disk
/// before its batch could, after a power loss, name a batch that survived beyond one that did
/// not, and recovery, which starts at the last entry naming its batch, would then never look
/// at the lost one and leave a hole instead of cutting the log there.
fn persist_active_index_tail(inner: &Rc<LogInner>, synced_offset: i64) -> Result<(), EngineError> {
    let mut state = inner.state.borrow_mut();
    if state.closed {
        return Ok(());
    }
    let active = state.active();
    let base = active.base_offset;
    let (offset_done, time_done) = active.persisted_index_entries;
    let lens = (
        active
            .indexes
            .offset
            .entries_below(synced_offset)
            .max(offset_done),
        active
            .indexes
            .time
            .entries_below(synced_offset)
            .max(time_done),
    );
    if lens == (offset_done, time_done) {
        return Ok(());
    }
    let offset_bytes = active.indexes.offset.entries_bytes(offset_done, lens.0);
    let time_bytes = active.indexes.time.entries_bytes(time_done, lens.1);
    let paths = (
        active.path(&inner.dir, INDEX_SUFFIX),
        active.path(&inner.dir, TIME_INDEX_SUFFIX),
    );
    if state
        .active_index_files
        .as_ref()
        .is_none_or(|files| files.segment_base != base)
    {
        state.active_index_files = Some(ActiveIndexFiles {
            segment_base: base,
            offset: open_for_append(&paths.0)?,
            time: open_for_append(&paths.1)?,
        });
    }
    let files = state.active_index_files.as_ref().expect("opened above");
    let written = append(&files.offset, &paths.0, &offset_bytes)
        .and_then(|()| append(&files.time, &paths.1, &time_bytes));
    if written.is_err() {
        state.active_index_files = None;
    }
    written?;
    state.active_mut().persisted_index_entries = lens;
    Ok(())
}

fn open_for_append(path: &std::path::Path) -> Result<std::fs::File, EngineError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| EngineError::io("open", path, e))
}

fn append(
    mut file: &std::fs::File,
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(), EngineError> {
    use std::io::Write;
    file.write_all(bytes)
        .map_err(|e| EngineError::io("append", path, e))
}

/// Starts closing a rolled segment in the background (the roll counted it as running).
fn start_close(inner: &Rc<LogInner>, base: i64) {
    let inner = inner.clone();
    glommio::spawn_local(async move {
        let result = close_segment(&inner, base).await;
        let mut state = inner.state.borrow_mut();
        if let Err(error) = result {
            state.fail(&error);
        }
        state.background.finish();
    })
    .detach();
}

/// Closes a rolled segment: everything before its close op has been written, so sync it, cut
/// the pre-allocated tail (a closed segment's file size is its data size; glommio truncates on
/// its blocking thread pool) and queue the write of its indexes.
async fn close_segment(inner: &Rc<LogInner>, base: i64) -> Result<(), EngineError> {
    let (file, data_len) = {
        let mut state = inner.state.borrow_mut();
        let Some(segment) = state.segments.get_mut(&base) else {
            return Ok(());
        };
        // The closed segment's largest timestamp goes into its time index (retention.ms).
        if let Err(error) = segment.indexes.on_roll() {
            tracing::warn!(%error, "time index of a closed segment lacks its final entry");
        }
        (segment.file.clone(), segment.readable_len)
    };
    file.sync().await?;
    file.truncate(data_len).await?;
    file.sync().await?;
    {
        let mut state = inner.state.borrow_mut();
        state.dirty_files.retain(|f| !Rc::ptr_eq(f, &file));
        if let Some(segment) = state.segments.get_mut(&base) {
            segment.allocated_len = data_len;
        }
    }
    background::push(inner, Job::CloseIndexes { segment_base: base });
    Ok(())
}

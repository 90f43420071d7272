//! Metadata work beside the appends: a log's queue of blocking metadata jobs (index files,
//! producer snapshots, segment deletion), run in order by one task on glommio's blocking
//! thread pool, so that fsyncs of small files and slow unlinks stall neither the log nor the
//! shard.
//!
//! Order is what keeps them consistent: a job pushed earlier runs earlier, and a job that
//! writes what the log's state says (a closed segment's indexes) reads it only when it runs.
//! So a deleted segment's indexes are not written again (the close job finds it gone), and the
//! snapshot written at a roll is on disk before the segments before it can be deleted
//! (retention deletes only after the roll pushed it). A deleted segment's data file is
//! renamed first and erased in chunks later, so that freeing it does not hold the device. The active segment's index tail is
//! appended by the sync itself (a page-cache write of a few bytes), before the Durable
//! appends it covers complete.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::channel::oneshot;

use super::state::LogInner;
use crate::error::EngineError;
use crate::io::blocking;
use crate::limits::ERASE_CHUNK_BYTES;
use crate::segment::{segment_path, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

pub(crate) enum Job {
    /// Write a closed segment's whole indexes, synced (if the segment still exists).
    CloseIndexes { segment_base: i64 },
    /// The producer snapshot taken at a roll (`next_offset` is the new segment's base).
    Snapshot { next_offset: i64, encoded: Vec<u8> },
    /// Remove segments the log has forgotten from its directory (their data files renamed to
    /// `.log.deleted`, their indexes removed), record the log start and sync the directory,
    /// in that order (a crash in between leaves a log start that recovery raises to the first
    /// segment); then erase the renamed files. `done` is sent once they are erased.
    Delete {
        segment_bases: Vec<i64>,
        log_start: i64,
        /// One of them whose file may become the log's spare (see `log::recycle`), with the
        /// length of its data, written and synced.
        spare_candidate: Option<(i64, u64)>,
        done: oneshot::Sender<Result<(), EngineError>>,
    },
    /// Cut [`ERASE_CHUNK_BYTES`] off the end of the first of `paths` (deleted segments' files),
    /// or remove it once empty, and queue itself again for the rest; `done` is sent when none
    /// is left. Freeing a large file at once (an unlink, or the last close of an unlinked
    /// file) holds the device for as long as its discards take (~100 ms per GiB with `discard`
    /// on this ext4) and every fdatasync of the shard waits behind them; in chunks, the other
    /// jobs and the device's other work go in between.
    Erase {
        paths: Vec<PathBuf>,
        done: oneshot::Sender<Result<(), EngineError>>,
    },
}

/// Suffix a deleted segment's data file gets until it is erased; recovery does not see it.
const DELETED_SUFFIX: &str = "deleted";

/// Queues `job` and starts the worker unless it runs.
pub(crate) fn push(inner: &Rc<LogInner>, job: Job) {
    let mut state = inner.state.borrow_mut();
    state.background.jobs.push_back(job);
    state.background.start();
    if state.background.worker_running {
        return;
    }
    state.background.worker_running = true;
    drop(state);
    let inner = inner.clone();
    glommio::spawn_local(async move { work(&inner).await }).detach();
}

async fn work(inner: &Rc<LogInner>) {
    loop {
        let job = {
            let mut state = inner.state.borrow_mut();
            let Some(job) = state.background.jobs.pop_front() else {
                state.background.worker_running = false;
                return;
            };
            job
        };
        run(inner, job).await;
        inner.state.borrow_mut().background.finish();
    }
}

async fn run(inner: &Rc<LogInner>, job: Job) {
    let dir = inner.dir.clone();
    match job {
        Job::CloseIndexes { segment_base } => {
            let indexes = inner
                .state
                .borrow()
                .segments
                .get(&segment_base)
                .map(|segment| {
                    (
                        segment.indexes.offset.to_bytes(),
                        segment.indexes.time.to_bytes(),
                    )
                });
            let Some((offset_bytes, time_bytes)) = indexes else {
                return;
            };
            let result = blocking::run(move || {
                super::open::write_index_file(
                    &segment_path(&dir, segment_base, INDEX_SUFFIX),
                    &offset_bytes,
                )?;
                super::open::write_index_file(
                    &segment_path(&dir, segment_base, TIME_INDEX_SUFFIX),
                    &time_bytes,
                )
            })
            .await;
            if let Err(error) = result {
                inner.state.borrow_mut().fail(&error);
            }
        }
        Job::Snapshot {
            next_offset,
            encoded,
        } => {
            let result =
                blocking::run(move || super::snapshots::write_encoded(&dir, next_offset, &encoded))
                    .await;
            if let Err(error) = result {
                tracing::warn!(%error, "could not write the producer snapshot; recovery will replay the log");
            }
        }
        Job::Delete {
            segment_bases,
            log_start,
            spare_candidate,
            done,
        } => {
            // Decided here, on the shard: this job or a pre-write (`log::prewrite`) makes a
            // spare, never both at once (`spare_in_making`), and only a roll takes one (after
            // the flag is set), so they never race for the file.
            let spare_candidate = spare_candidate.filter(|_| {
                let mut state = inner.state.borrow_mut();
                let free = state.spare_segment.is_none() && !state.spare_in_making;
                state.spare_in_making |= free;
                free
            });
            let making_spare = spare_candidate.is_some();
            let deleted = blocking::run(move || {
                let mut paths = delete_files(&dir, &segment_bases, log_start)?;
                let spare = spare_candidate.filter(|&(base, _)| {
                    let renamed = deleted_path(&segment_path(&dir, base, LOG_SUFFIX));
                    super::recycle::keep_spare(&dir, &mut paths, &renamed)
                });
                Ok::<_, EngineError>((paths, spare))
            })
            .await;
            if making_spare {
                inner.state.borrow_mut().spare_in_making = false;
            }
            match deleted {
                Ok((paths, spare)) => {
                    if let Some((_, written_len)) = spare {
                        inner.state.borrow_mut().spare_segment = Some(written_len);
                    }
                    push(inner, Job::Erase { paths, done });
                }
                Err(error) => {
                    // Eager retention does not wait for its deletions: say it here.
                    if let Err(Err(error)) = done.send(Err(error)) {
                        tracing::warn!(%error, "could not delete the segments retention removed");
                    }
                }
            }
        }
        Job::Erase { mut paths, done } => {
            let Some(path) = paths.first().cloned() else {
                let _ = done.send(Ok(()));
                return;
            };
            match blocking::run(move || erase_chunk(&path)).await {
                Ok(false) => {}
                Ok(true) => {
                    paths.remove(0);
                }
                Err(error) => {
                    // The log no longer sees it; the next open removes what is left.
                    tracing::warn!(%error, "could not erase a deleted segment");
                    paths.remove(0);
                }
            }
            push(inner, Job::Erase { paths, done });
        }
    }
}

/// Renames `path` as a deleted file (which the next open erases) and queues its erasure; a
/// failed rename is logged and the file left for the next open of the log.
pub(crate) fn erase_file(inner: &Rc<LogInner>, path: &Path) {
    let deleted = unique_deleted_path(path);
    if let Err(error) = std::fs::rename(path, &deleted) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %error, "could not remove a file");
        }
        return;
    }
    erase_later(inner, vec![deleted]);
}

/// Queues the erasure of files already renamed as deleted; no one waits for it.
pub(crate) fn erase_later(inner: &Rc<LogInner>, paths: Vec<PathBuf>) {
    if paths.is_empty() {
        return;
    }
    let (done, _) = oneshot::channel();
    push(inner, Job::Erase { paths, done });
}

/// At open: what is left to erase. The files an earlier run renamed as deleted and did not
/// erase, and its spare and half-made pre-written spare, renamed to join them (a reopened log
/// cannot tell how much of a spare was written). The caller queues them once the log is open:
/// unlinked here, a whole segment per log, opening would cost what freeing that space costs
/// (about 0.2 s per GiB with `discard`), not what the unflushed tail costs.
pub(crate) fn set_aside_at_open(dir: &Path) -> Result<Vec<PathBuf>, EngineError> {
    for path in [
        super::recycle::spare_path(dir),
        dir.join(crate::segment::PREWRITE_SPARE_FILE),
    ] {
        match std::fs::rename(&path, unique_deleted_path(&path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EngineError::io("rename", path, e)),
        }
    }
    let mut deleted = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| EngineError::io("list", dir, e))? {
        let path = entry.map_err(|e| EngineError::io("list", dir, e))?.path();
        if path.extension().is_some_and(|x| x == DELETED_SUFFIX) {
            deleted.push(path);
        }
    }
    Ok(deleted)
}

/// Tells apart the deleted names given to the same file or directory within a millisecond (a
/// spare discarded twice, a topic deleted, created and deleted again).
static DELETED_NAMES: AtomicU64 = AtomicU64::new(0);

/// `<ms>.<n>`: what makes a deleted file's or log directory's name unique; a later run's
/// names differ by their time.
pub(super) fn unique_stamp() -> String {
    let sequence = DELETED_NAMES.fetch_add(1, Ordering::Relaxed);
    format!("{}.{sequence}", super::flusher::now_ms())
}

/// `path` renamed for erasing, unique among the deleted files of its directory.
fn unique_deleted_path(path: &Path) -> PathBuf {
    let mut deleted = path.to_path_buf().into_os_string();
    deleted.push(format!(".{}.{DELETED_SUFFIX}", unique_stamp()));
    PathBuf::from(deleted)
}

/// Cuts one chunk off the end of `path`, or removes it once empty; true when it is gone.
pub(super) fn erase_chunk(path: &Path) -> Result<bool, EngineError> {
    let len = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(EngineError::io("stat", path, e)),
    };
    if len == 0 {
        std::fs::remove_file(path).map_err(|e| EngineError::io("remove", path, e))?;
        return Ok(true);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| file.set_len(len.saturating_sub(ERASE_CHUNK_BYTES)))
        .map_err(|e| EngineError::io("truncate", path, e))?;
    Ok(false)
}

/// The name a deleted segment's data file has until it is erased.
fn deleted_path(data: &Path) -> PathBuf {
    let mut deleted = data.to_path_buf().into_os_string();
    deleted.push(format!(".{DELETED_SUFFIX}"));
    PathBuf::from(deleted)
}

/// The files to erase: the renamed data files.
fn delete_files(
    dir: &Path,
    segment_bases: &[i64],
    log_start: i64,
) -> Result<Vec<PathBuf>, EngineError> {
    let mut renamed = Vec::new();
    for &base in segment_bases {
        let data = segment_path(dir, base, LOG_SUFFIX);
        let deleted = deleted_path(&data);
        match std::fs::rename(&data, &deleted) {
            Ok(()) => renamed.push(deleted),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EngineError::io("rename", data, e)),
        }
        for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            let path = segment_path(dir, base, suffix);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::io("remove", path, e)),
            }
        }
    }
    super::open::write_log_start(dir, log_start)?;
    std::fs::File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(|e| EngineError::io("fsync", dir, e))?;
    Ok(renamed)
}

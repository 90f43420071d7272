//! Metadata work beside the appends: a log's queue of blocking metadata jobs (index files,
//! producer snapshots, segment deletion), run in order by one task on glommio's blocking
//! thread pool, so that fsyncs of small files and slow unlinks stall neither the log nor the
//! shard.
//!
//! Order is what keeps them consistent: a job pushed earlier runs earlier, and a job that
//! writes what the log's state says (a closed segment's indexes) reads it only when it runs.
//! So a deleted segment's indexes are not written again (the close job finds it gone), and the
//! snapshot written at a roll is on disk before the segments before it can be deleted
//! (retention deletes only after the roll pushed it). The active segment's index tail is
//! appended by the sync itself (a page-cache write of a few bytes), before the Durable
//! appends it covers complete.

use std::path::Path;
use std::rc::Rc;

use futures::channel::oneshot;

use super::state::LogInner;
use crate::error::EngineError;
use crate::io::blocking;
use crate::segment::{segment_path, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

pub(crate) enum Job {
    /// Write a closed segment's whole indexes, synced (if the segment still exists).
    CloseIndexes { segment_base: i64 },
    /// The producer snapshot taken at a roll (`next_offset` is the new segment's base).
    Snapshot { next_offset: i64, encoded: Vec<u8> },
    /// Remove the files of segments the log has forgotten, record the log start and sync the
    /// directory, in that order (a crash in between leaves a log start that recovery raises to
    /// the first segment).
    Delete {
        segment_bases: Vec<i64>,
        log_start: i64,
        done: oneshot::Sender<Result<(), EngineError>>,
    },
}

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
                inner.state.borrow_mut().fail(error.to_string());
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
            done,
        } => {
            let result = blocking::run(move || delete_files(&dir, &segment_bases, log_start)).await;
            let _ = done.send(result);
        }
    }
}

fn delete_files(dir: &Path, segment_bases: &[i64], log_start: i64) -> Result<(), EngineError> {
    for &base in segment_bases {
        for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
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
        .map_err(|e| EngineError::io("fsync", dir, e))
}

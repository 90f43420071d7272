//! Pre-written spare segments (`LogConfig::prewrite_spare`): a young log writes fresh
//! pre-allocated files, whose unwritten extents cost every write a conversion and every
//! fdatasync its own metadata (no shared flush). Once the active segment is half full and no
//! spare waits, the log writes zeros over a new file in the background, syncs it, and keeps it
//! as the spare the next roll takes (see `log::recycle`): every segment is then a written file
//! from the first roll on, not only once retention deletes segments. The price is writing each
//! young segment twice (zeros, then data), which is why it is an option.
//!
//! Recovery needs nothing new: zeros past a segment's data read as the end of the log, as the
//! zeros of pre-allocation do, and a restart discards the spare and any half-written one.

use std::rc::Rc;

use super::state::LogInner;
use super::PartitionLog;
use crate::error::EngineError;
use crate::io::SegmentFile;
use crate::limits::{PAGE_BYTES, PREWRITE_WRITE_BYTES};
use crate::segment::{leaves_free_margin, PREWRITE_SPARE_FILE};

impl PartitionLog {
    /// After an append, with the append permit held: queues the pre-write of the spare if the
    /// log asks for it, none waits, and the active segment is half full; once per active
    /// segment, so a pre-write that failed is not retried before the next roll.
    pub(crate) fn prewrite_spare_if_due(&self) {
        {
            let mut state = self.inner.state.borrow_mut();
            let active = state.active().base_offset;
            let due = state.config.prewrite_spare
                && state.spare_segment.is_none()
                && state.spare_prewrite_for != Some(active)
                && state.failed.is_none()
                && !state.closed
                && state.appender.data_end() >= state.config.segment_bytes / 2;
            if !due {
                return;
            }
            state.spare_prewrite_for = Some(active);
        }
        let inner = self.inner.clone();
        glommio::spawn_local(async move {
            let outcome = prewrite(&inner).await;
            let path = inner.dir.join(PREWRITE_SPARE_FILE);
            let mut state = inner.state.borrow_mut();
            let kept = match outcome {
                Prewrite::NotStarted => return,
                Prewrite::Written(bytes) if state.spare_segment.is_none() && !state.closed => {
                    match std::fs::rename(&path, super::recycle::spare_path(&inner.dir)) {
                        Ok(()) => {
                            state.spare_segment = Some(bytes);
                            true
                        }
                        Err(error) => {
                            tracing::warn!(path = %path.display(), %error, "could not keep a pre-written spare");
                            false
                        }
                    }
                }
                Prewrite::Written(_) | Prewrite::Stopped => false,
                // Closed or deleted meanwhile: the file went with the directory, or goes now.
                Prewrite::Failed(_) if state.closed => false,
                Prewrite::Failed(error) => {
                    tracing::warn!(path = %path.display(), %error, "pre-writing a spare segment failed; the next roll takes a fresh file");
                    false
                }
            };
            state.spare_in_making = false;
            // A closed log's directory may be another log's by now (reopened, or deleted and
            // created again, whose own pre-write uses the same name): its next open removes a
            // half-made spare. Else the unwanted file, a whole segment, is erased in cuts:
            // unlinked at once it would hold the shard while its blocks are freed.
            if !kept && !state.closed {
                drop(state);
                super::background::erase_file(&inner, &path);
            }
        })
        .detach();
    }
}

enum Prewrite {
    /// Nothing done (the log closed, failed or got a spare while waiting its turn, or the
    /// disk lacks room): `spare_in_making` untouched.
    NotStarted,
    /// The log closed or failed while the zeros were being written.
    Stopped,
    Written(u64),
    Failed(EngineError),
}

/// Waits for the shard's turn, then writes zeros over a new file as long as a segment may
/// grow and syncs it.
async fn prewrite(inner: &Rc<LogInner>) -> Prewrite {
    let Ok(_turn) = inner.prewrite_turn.acquire_permit(1).await else {
        return Prewrite::NotStarted;
    };
    let bytes = {
        let mut state = inner.state.borrow_mut();
        // Retention may have kept a deleted segment as the spare while this one waited.
        if state.closed
            || state.failed.is_some()
            || state.spare_segment.is_some()
            || state.spare_in_making
        {
            return Prewrite::NotStarted;
        }
        let bytes = state
            .config
            .segment_bytes
            .min(i32::MAX as u64)
            .next_multiple_of(PAGE_BYTES as u64);
        if leaves_free_margin(&inner.dir, bytes) != Some(true) {
            return Prewrite::NotStarted;
        }
        state.spare_in_making = true;
        bytes
    };
    let path = inner.dir.join(PREWRITE_SPARE_FILE);
    let file = match SegmentFile::open(&path, true, inner.faults.clone()).await {
        Ok(file) => file,
        Err(error) => return Prewrite::Failed(error),
    };
    let written = write_zeros(inner, &file, bytes).await;
    let closed = file.close().await;
    match (written, closed) {
        (Err(error), _) | (Ok(_), Err(error)) => Prewrite::Failed(error),
        (Ok(Some(bytes)), Ok(())) => Prewrite::Written(bytes),
        (Ok(None), Ok(())) => Prewrite::Stopped,
    }
}

async fn write_zeros(
    inner: &Rc<LogInner>,
    file: &SegmentFile,
    bytes: u64,
) -> Result<Option<u64>, EngineError> {
    file.truncate(0).await?;
    file.preallocate(bytes).await?;
    let mut position = 0;
    while position < bytes {
        {
            let state = inner.state.borrow();
            if state.closed || state.failed.is_some() {
                return Ok(None);
            }
        }
        // One write at a time: the log's own writes go first.
        let len = PREWRITE_WRITE_BYTES.min((bytes - position) as usize);
        let mut buffer = file.alloc_buffer(len);
        buffer.as_bytes_mut().fill(0);
        file.write_at(buffer, position).await?;
        position += len as u64;
    }
    file.sync().await?;
    Ok(Some(bytes))
}

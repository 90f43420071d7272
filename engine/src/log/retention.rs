//! Rolling segments, retention, truncation and closing a log (deleting: `log::delete`).

use std::rc::Rc;

use futures::channel::oneshot::Receiver;

use super::background::{self, Job};
use super::flusher::{kick, now_ms};
use super::waiters::WaitError;
use super::PartitionLog;
use crate::error::EngineError;
use crate::index::SegmentIndexes;
use crate::io::data_dir::sync_dir;
use crate::io::SegmentFile;
use crate::limits::{
    PAGE_BYTES, PREALLOCATE_FIRST_BYTES, PRODUCER_ID_EXPIRATION_MS_DEFAULT,
    RETENTION_CHECK_STEP_BYTES,
};
use crate::segment::appender::Appender;
use crate::segment::{segment_path, Segment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

impl PartitionLog {
    /// Starts a new active segment at the log end offset. The old one is closed in the
    /// background once its data is written (see the flusher). Called with the append permit
    /// held; the only wait is the new file's creation: it is pre-allocated by the flusher's
    /// first write and its directory entry synced by the next fdatasync.
    pub(crate) async fn roll(&self) -> Result<(), EngineError> {
        let (base, encoded, spare) = {
            let mut state = self.inner.state.borrow_mut();
            state.seal_active();
            let old_base = state.active().base_offset;
            // Taken here, under the append permit, the snapshot covers exactly the batches
            // before the new segment.
            let base = state.next_offset;
            let encoded = state.producers.encode_snapshot(base);
            state.appended_since_snapshot = 0;
            state.pending_snapshot = None;
            state.ops.push_back(super::state::FlushOp::Close {
                segment_base: old_base,
            });
            state.background.start();
            state.active_index_files = None;
            (base, encoded, std::mem::take(&mut state.spare_segment))
        };
        background::push(
            &self.inner,
            Job::Snapshot {
                next_offset: base,
                encoded,
            },
        );
        kick(&self.inner);
        // Read the config first: a borrow in the call's arguments would live across the await.
        let interval = self.inner.state.borrow().config.index_interval_bytes;
        let created =
            open_rolled_segment(&self.inner.dir, base, &self.inner.faults, interval, spare).await;
        let mut state = self.inner.state.borrow_mut();
        let mut segment = match created {
            Ok(segment) => segment,
            Err(error) => {
                // The old segment is being closed: appends must not go on into it.
                state.fail(&error);
                return Err(error);
            }
        };
        segment.start_total = state.appended_total;
        state.appender = Appender::new(&segment.file, 0, &[]);
        state.segments.insert(base, segment);
        state.background.dir_unsynced = true;
        drop(state);
        tracing::debug!(dir = %self.inner.dir.display(), base, "rolled to a new segment");
        // A closed segment may be due by age now.
        if self.inner.state.borrow().config.retention_eager {
            let _ = self.start_retention();
        }
        Ok(())
    }

    /// Waits until no background work (segment closes, index writes, deletions) runs, for
    /// operations that rewrite or remove files.
    pub(crate) async fn wait_background(&self) {
        loop {
            let idle = {
                let mut state = self.inner.state.borrow_mut();
                if state.background.running == 0 {
                    return;
                }
                let (sender, receiver) = futures::channel::oneshot::channel();
                state.background.idle.push(sender);
                receiver
            };
            kick(&self.inner);
            let _ = idle.await;
        }
    }

    /// Forces a roll now (if the active segment holds data).
    pub async fn roll_now(&self) -> Result<(), EngineError> {
        let _permit = self.acquire().await?;
        if self.inner.state.borrow().appender.data_end() == 0 {
            return Ok(());
        }
        self.roll().await
    }

    async fn acquire(&self) -> Result<glommio::sync::Permit<'_>, EngineError> {
        self.inner
            .append_lock
            .acquire_permit(1)
            .await
            .map_err(|_| self.closed_error())
    }

    /// Why a closed log refuses a call: closed, or deleted.
    pub(crate) fn closed_error(&self) -> EngineError {
        let path = self.inner.dir.clone();
        if self.inner.state.borrow().deleted {
            EngineError::Deleted { path }
        } else {
            EngineError::Closed { path }
        }
    }

    /// Refuses calls on a closed log, whose segments are gone.
    pub(crate) fn check_open(&self) -> Result<(), EngineError> {
        if self.inner.state.borrow().closed {
            return Err(self.closed_error());
        }
        Ok(())
    }

    /// Deletes closed segments beyond `retention.bytes` or older than `retention.ms`, and
    /// segments wholly below the log start offset. Returns how many were deleted.
    ///
    /// The log forgets them at once; their files are removed by the log's background jobs
    /// (erased in cuts, as freeing space is slow), without the append permit. Returns once
    /// they are erased.
    pub async fn enforce_retention(&self) -> Result<usize, EngineError> {
        let permit = self.acquire().await?;
        // Kafka's producer.id.expiration.ms, checked as periodically as retention: else only
        // the per-partition cap ever forgets a producer, and a live one may go first.
        self.inner
            .state
            .borrow_mut()
            .producers
            .expire(now_ms() as i64, PRODUCER_ID_EXPIRATION_MS_DEFAULT);
        if self.active_segment_expired() {
            // As Kafka does: retention deletes only closed segments, so an active segment
            // whose every record is past retention.ms is rolled first. Else a partition that
            // stopped receiving kept its last segment, and its expired data, for good.
            self.roll().await?;
        }
        let Some((count, deleted)) = self.start_retention() else {
            return Ok(0);
        };
        drop(permit);
        match deleted.await {
            Ok(result) => result.map(|()| count),
            // The log was dropped meanwhile.
            Err(_) => Ok(count),
        }
    }

    /// Whether the active segment holds data, all of it written and older than retention.ms.
    fn active_segment_expired(&self) -> bool {
        let state = self.inner.state.borrow();
        let Some(retention_ms) = state.config.retention_ms else {
            return false;
        };
        let active = state.active();
        state.appender.data_end() > 0
            && state.high_watermark == state.next_offset
            && active.max_timestamp >= 0
            && now_ms() as i64 - active.max_timestamp > retention_ms as i64
    }

    /// Eager retention (`LogConfig::retention_eager`), with the append permit held, after an
    /// append: once enough has been appended since the last look that the oldest segment may
    /// be due by size, applies retention. Deleting a segment the moment it is due makes its
    /// file the spare the next roll takes, so a log at its limit writes only into recycled
    /// files however rarely the periodic check runs. Without it a roll that comes before the
    /// check starts a fresh file, and the check then erases whole segments: a storm of
    /// discards the appends wait behind. The files go in the background; nothing here waits.
    pub(crate) fn retain_if_due(&self) {
        let due = {
            let state = self.inner.state.borrow();
            state.config.retention_eager && state.appended_total >= state.retention_check_total
        };
        if due {
            let _ = self.start_retention();
        }
    }

    /// Retention's decision, with the append permit held: removes the doomed segments from
    /// the log and queues the removal of their files. Returns how many there were and a
    /// receiver told when their files are gone; None when none is doomed.
    fn start_retention(&self) -> Option<(usize, Receiver<Result<(), EngineError>>)> {
        let now = now_ms() as i64;
        let doomed = {
            let state = self.inner.state.borrow();
            let config = &state.config;
            let mut size = state.size_bytes();
            let bases: Vec<i64> = state.segments.keys().copied().collect();
            let mut doomed = Vec::new();
            // Never the active segment: retention only deletes whole closed segments.
            for window in bases.windows(2) {
                let (segment, next_base) = (&state.segments[&window[0]], window[1]);
                let by_bytes = config
                    .retention_bytes
                    .is_some_and(|limit| size.saturating_sub(segment.readable_len) >= limit);
                let by_time = config.retention_ms.is_some_and(|ms| {
                    segment.max_timestamp >= 0 && now - segment.max_timestamp > ms as i64
                });
                let below_start = next_base <= state.log_start_offset;
                // A segment still being written (rolled, its tail not yet on the device) stays:
                // deleting it would move the log start above the high watermark.
                if next_base > state.high_watermark || !(by_bytes || by_time || below_start) {
                    break;
                }
                size -= segment.readable_len;
                doomed.push(segment.base_offset);
            }
            doomed
        };
        if doomed.is_empty() {
            self.schedule_retention_check();
            return None;
        }
        let (log_start, spare_candidate) = {
            let mut state = self.inner.state.borrow_mut();
            // A file no read holds can become the spare: once the segment leaves the state no
            // new read can find it, so nothing will read the new data in it as the old.
            // Nothing else holding the file also means no write or sync of it is pending:
            // its data is written and synced. Whole pages only: on a filesystem with blocks
            // smaller than a page, a recovered segment cut inside its last page may hold
            // unwritten blocks in the rest of it.
            let mut spare_candidate = None;
            for base in &doomed {
                if let Some(segment) = state.segments.remove(base) {
                    if Rc::strong_count(&segment.file) == 1 {
                        let written = segment.readable_len / PAGE_BYTES as u64 * PAGE_BYTES as u64;
                        spare_candidate = Some((*base, written));
                    }
                }
            }
            let first = state.active().base_offset;
            let first = state.segments.keys().next().copied().unwrap_or(first);
            state.log_start_offset = state.log_start_offset.max(first);
            (state.log_start_offset, spare_candidate)
        };
        self.schedule_retention_check();
        let (done, deleted) = futures::channel::oneshot::channel();
        let count = doomed.len();
        background::push(
            &self.inner,
            Job::Delete {
                segment_bases: doomed,
                log_start,
                spare_candidate,
                done,
            },
        );
        Some((count, deleted))
    }

    /// When eager retention looks next: not before the oldest segment can be due by size
    /// (appends must first bring the rest of the log up to the limit), and not more often
    /// than every `RETENTION_CHECK_STEP_BYTES` (or a sixteenth of a segment, if smaller).
    fn schedule_retention_check(&self) {
        let mut state = self.inner.state.borrow_mut();
        let until_due = match state.config.retention_bytes {
            // By age alone: looked at at each roll.
            None => u64::MAX,
            Some(limit) => {
                let oldest = state.segments.values().next().map_or(0, |s| s.readable_len);
                limit.saturating_sub(state.size_bytes().saturating_sub(oldest))
            }
        };
        let step = RETENTION_CHECK_STEP_BYTES.min(state.config.segment_bytes / 16);
        state.retention_check_total = state
            .appended_total
            .saturating_add(until_due.max(step).max(1));
    }

    /// Kafka's DeleteRecords: moves the log start offset forward (never past the high
    /// watermark) and deletes the segments wholly below it.
    pub async fn advance_log_start(&self, offset: i64) -> Result<i64, EngineError> {
        self.check_open()?;
        let new_start = {
            let mut state = self.inner.state.borrow_mut();
            if offset > state.high_watermark || offset < 0 {
                return Err(EngineError::OffsetOutOfRange {
                    offset,
                    log_start: state.log_start_offset,
                    log_end: state.high_watermark,
                });
            }
            state.log_start_offset = state.log_start_offset.max(offset);
            state.log_start_offset
        };
        // Off the shard thread: a create, fdatasync and rename would stall every partition
        // of the shard. The shard's blocking calls run in the order submitted, and starts only
        // grow, so a later DeleteRecords' start is never overwritten by an earlier one's.
        let dir = self.inner.dir.clone();
        crate::io::blocking::run(move || super::open::write_log_start(&dir, new_start)).await?;
        self.enforce_retention().await?;
        Ok(new_start)
    }

    /// Waits until everything appended so far is written and synced.
    pub async fn flush(&self) -> Result<(), EngineError> {
        let receiver = {
            let mut state = self.inner.state.borrow_mut();
            if let Some(reason) = &state.failed {
                return Err(EngineError::LogFailed {
                    path: self.inner.dir.clone(),
                    reason: reason.clone(),
                });
            }
            let total = state.appended_total;
            if state.durable_total >= total {
                return Ok(());
            }
            state.durable_waiters.wait(total)
        };
        kick(&self.inner);
        self.map_wait(receiver.await)
    }

    /// Removes every record at `offset` and after (the whole batch containing `offset`), as
    /// replication needs when a follower diverges. The log end offset becomes the base offset
    /// of the first removed batch.
    pub async fn truncate_to(&self, offset: i64) -> Result<i64, EngineError> {
        let _permit = self.acquire().await?;
        self.flush().await?;
        self.wait_background().await;
        super::open::truncate_locked(&self.inner, offset).await
    }

    /// Flushes and closes the log; its files stay. Waiting readers and appends are released,
    /// and every later call is refused with [`EngineError::Closed`].
    pub async fn close(&self) -> Result<(), EngineError> {
        let _permit = self.acquire().await?;
        let flushed = self.flush().await;
        self.wait_background().await;
        self.persist_active_indexes();
        if flushed.is_ok() {
            self.cut_recycled_tail().await;
            let state = self.inner.state.borrow();
            let snapshot = state.producers.encode_snapshot(state.next_offset);
            if let Err(error) =
                super::snapshots::write_encoded(&self.inner.dir, state.next_offset, &snapshot)
            {
                tracing::warn!(%error, "could not write the producer snapshot; recovery will replay the log");
            }
        }
        // The segments leave the state, so that theirs are the last references to the files
        // and closing them really closes them (a clone would keep the descriptor open until
        // the log is dropped).
        let segments = {
            let mut state = self.inner.state.borrow_mut();
            state.closed = true;
            state.written_waiters.fail_all(WaitError::Closed);
            state.durable_waiters.fail_all(WaitError::Closed);
            state.data_waiters.fail_all(WaitError::Closed);
            state.ops.clear();
            state.dirty_files.clear();
            state.active_index_files = None;
            std::mem::take(&mut state.segments)
        };
        self.inner.cache.borrow_mut().remove_log(self.inner.id);
        self.inner.append_lock.close();
        let mut closed = Ok(());
        for segment in segments.into_values() {
            // A read in flight still holds its file; it closes when that read ends.
            if let Ok(file) = Rc::try_unwrap(segment.file) {
                let result = file.close().await;
                if closed.is_ok() {
                    closed = result;
                }
            }
        }
        flushed.and(closed)
    }

    /// Cuts the old bytes past the data of a recycled active segment (see `log::recycle`),
    /// so that the closed log ends cleanly for offline tools. Recovery would reject them
    /// anyway: a failure here is only logged.
    async fn cut_recycled_tail(&self) {
        let cut = {
            let state = self.inner.state.borrow();
            let active = state.active();
            active
                .recycled
                .then(|| (active.file.clone(), active.readable_len))
        };
        if let Some((file, data_len)) = cut {
            if let Err(error) = file.truncate(data_len).await {
                tracing::warn!(%error, "could not cut a recycled segment's old bytes at close");
            }
        }
    }

    fn persist_active_indexes(&self) {
        let state = self.inner.state.borrow();
        let active = state.active();
        let dir = &self.inner.dir;
        let results = [
            super::open::write_index_file(
                &active.path(dir, INDEX_SUFFIX),
                &active.indexes.offset.to_bytes(),
            ),
            super::open::write_index_file(
                &active.path(dir, TIME_INDEX_SUFFIX),
                &active.indexes.time.to_bytes(),
            ),
        ];
        for result in results {
            if let Err(error) = result {
                tracing::warn!(%error, "could not persist an index; recovery will rebuild it");
            }
        }
    }
}

/// Opens the segment file a roll starts, with no wait but its creation: the spare file renamed
/// (`spare`, see `log::recycle`) or an empty one. The flusher pre-allocates what the file
/// lacks before its first write there, and the next fdatasync syncs the directory entry
/// (`Background::dir_unsynced`) before any Durable append in it completes.
async fn open_rolled_segment(
    dir: &std::path::Path,
    base: i64,
    faults: &Option<Rc<crate::io::FaultPlan>>,
    index_interval_bytes: u32,
    spare: Option<u64>,
) -> Result<Segment, EngineError> {
    let path = segment_path(dir, base, LOG_SUFFIX);
    let recycled = spare.is_some() && super::recycle::take_spare(dir, &path);
    let file = Rc::new(SegmentFile::open(&path, true, faults.clone()).await?);
    let size = file.size().await?;
    // Without the spare, a file left at this name by an earlier life of the log holds
    // nothing valid now.
    if !recycled && size > 0 {
        file.truncate(0).await?;
    }
    if let (true, Some(written_len)) = (recycled, spare) {
        // Not the file's size: a segment deleted before its close cut the pre-allocated
        // tail keeps unwritten extents there.
        file.set_overwrite_len(written_len.min(size));
    }
    Ok(Segment {
        base_offset: base,
        file,
        readable_len: 0,
        next_offset: base,
        max_timestamp: -1,
        first_timestamp: None,
        allocated_len: if recycled { size } else { 0 },
        created_ms: now_ms() as i64,
        indexes: SegmentIndexes::new(base, index_interval_bytes),
        persisted_index_entries: (0, 0),
        start_total: 0,
        recycled,
    })
}

/// Creates an empty segment file at `base`, pre-allocated, with its directory entry synced so
/// the file survives a crash before anything in it is acknowledged.
pub(crate) async fn create_segment(
    dir: &std::path::Path,
    base: i64,
    faults: &Option<Rc<crate::io::FaultPlan>>,
    index_interval_bytes: u32,
) -> Result<Segment, EngineError> {
    let path = segment_path(dir, base, LOG_SUFFIX);
    let file = Rc::new(SegmentFile::open(&path, true, faults.clone()).await?);
    file.truncate(0).await?;
    file.preallocate(PREALLOCATE_FIRST_BYTES).await?;
    sync_dir(dir).await?;
    Ok(Segment {
        base_offset: base,
        file,
        readable_len: 0,
        next_offset: base,
        max_timestamp: -1,
        first_timestamp: None,
        allocated_len: PREALLOCATE_FIRST_BYTES,
        created_ms: now_ms() as i64,
        indexes: SegmentIndexes::new(base, index_interval_bytes),
        persisted_index_entries: (0, 0),
        start_total: 0,
        recycled: false,
    })
}

//! A partition log: segments, the append path, the flusher, reads, recovery and retention.
//!
//! Ownership: a `PartitionLog` belongs to the shard that owns its partition; it is `!Send` and
//! all its state sits in one `RefCell` touched only in synchronous sections (never across an
//! `.await`). Appends are serialised by a semaphore so that one partition's appends queue up
//! without blocking other partitions of the shard.
//!
//! The write path: `append` validates producer state, assigns offsets by rewriting each
//! batch's baseOffset (in a copy of its first 16 bytes), copies the batch into the active
//! segment's [`Appender`](crate::segment::appender::Appender), keeps the producer's bytes in
//! the batch cache (joined with the new head when first read), and queues sealed buffers for the flusher.
//! The flusher (one task per log, started on demand) writes them in order, advances the
//! *written* watermark, and fdatasyncs when a Durable append waits (all waiters share one
//! sync: group commit) or `flush.messages` / `flush.ms` ask for it.
//!
//! Watermarks: the log counts bytes appended since open (`appended_total`); `written_total`
//! and `durable_total` trail it. The high watermark is the offset after the last batch that
//! reached the device: a reader never sees data a failed write could take back.
//!
//! A failed write or sync puts the log in a failed state: pending appends get the error,
//! new appends are refused, reads keep serving what was written. Reopening the log recovers
//! it from disk; the shard does so by itself for a log that failed on a full disk, once
//! there is room again ([`PartitionLog::failed_for_space`]).

mod append;
mod background;
mod delete;
mod early_end;
mod flusher;
mod open;
mod prewrite;
mod read;
mod read_by_time;
mod read_hints;
mod recycle;
mod retention;
mod roll_jitter;
mod snapshots;
mod state;
pub mod waiters;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

use crate::error::EngineError;
use crate::storage::ShardStorage;
use state::LogInner;

pub use delete::{deleted_log_dir, is_deleted_log_dir, LogErasure, DELETED_LOG_DIR_SUFFIX};
pub use state::Durability;

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub base_offset: i64,
    pub last_offset: i64,
    pub log_start_offset: i64,
    /// The batch was a retry of one already in the log; its original offsets are returned.
    pub duplicate: bool,
}

/// Batches read from a log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadBatches {
    /// Whole batches in offset order, as contiguous chunks.
    pub chunks: Vec<Bytes>,
    pub high_watermark: i64,
    pub log_start_offset: i64,
}

impl ReadBatches {
    pub fn len_bytes(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }
}

/// A partition's log. See the module docs.
#[derive(Clone)]
pub struct PartitionLog {
    inner: Rc<LogInner>,
}

impl PartitionLog {
    /// Opens (creating if needed) the log in `dir`, recovering it from disk.
    pub async fn open(
        storage: &Rc<ShardStorage>,
        dir: &Path,
        config: crate::LogConfig,
    ) -> Result<Self, EngineError> {
        open::open(storage, dir, config)
            .await
            .map(|inner| PartitionLog { inner })
    }

    pub fn dir(&self) -> PathBuf {
        self.inner.dir.clone()
    }

    pub fn log_start_offset(&self) -> i64 {
        self.inner.state.borrow().log_start_offset
    }

    /// Offset the next appended record gets.
    pub fn log_end_offset(&self) -> i64 {
        self.inner.state.borrow().next_offset
    }

    /// Offset after the last record written to the device; readers see records below it.
    pub fn high_watermark(&self) -> i64 {
        self.inner.state.borrow().high_watermark
    }

    pub fn config(&self) -> crate::LogConfig {
        self.inner.state.borrow().config.clone()
    }

    /// Changes the log's configuration (takes effect for later appends, rolls and retention).
    pub fn set_config(&self, config: crate::LogConfig) {
        let mut state = self.inner.state.borrow_mut();
        state.config = config;
        // A new limit may make a segment due now.
        state.retention_check_total = 0;
    }

    /// Bytes in all segments.
    pub fn size_bytes(&self) -> u64 {
        self.inner.state.borrow().size_bytes()
    }

    /// Records appended but not yet synced (Kafka's `unflushedMessages`, what `flush.messages`
    /// bounds).
    pub fn unflushed_messages(&self) -> i64 {
        let state = self.inner.state.borrow();
        state.next_offset - state.synced_offset
    }

    /// The largest record timestamp the log holds (`None` when it holds no timestamp).
    pub fn max_timestamp(&self) -> Option<i64> {
        let state = self.inner.state.borrow();
        state
            .segments
            .values()
            .filter(|segment| segment.readable_len > 0)
            .map(|segment| segment.max_timestamp)
            .max()
            .filter(|&timestamp| timestamp >= 0)
    }

    pub fn segment_count(&self) -> usize {
        self.inner.state.borrow().segments.len()
    }

    /// Both handles are of one open log.
    pub fn same_log(&self, other: &PartitionLog) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// The log failed for want of disk space (and for nothing else): reopening it once there
    /// is room again makes it take writes, recovery cutting whatever its failed writes left.
    pub fn failed_for_space(&self) -> bool {
        let state = self.inner.state.borrow();
        state.failed.is_some() && state.failed_for_space && !state.closed
    }

    /// A spare segment file waits for the next roll (see `log::recycle`).
    pub fn has_spare(&self) -> bool {
        self.inner.state.borrow().spare_segment.is_some()
    }

    /// Closed (or deleted): every call is refused.
    pub fn is_closed(&self) -> bool {
        self.inner.state.borrow().closed
    }

    /// Writes or an fdatasync of the log are still in flight (a failed log lets those it had
    /// issued finish): another opening of its files must wait until they have.
    pub fn io_in_flight(&self) -> bool {
        let state = self.inner.state.borrow();
        state.flusher_running || state.sync_running
    }
}

//! The state of one log, shared by the append path, the flusher and readers.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;

use glommio::sync::Semaphore;

use super::waiters::{WaitError, Waiters};
use crate::cache::BatchCache;
use crate::config::LogConfig;
use crate::error::EngineError;
use crate::io::SegmentFile;
use crate::producer_state::ProducerStateTable;
use crate::segment::appender::{Appender, PendingWrite};
use crate::segment::Segment;

/// How far an append must get before it completes (Kafka's acks 0, 1 and all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Durability {
    /// Completes once in the log's memory (acks=0).
    None,
    /// Completes once the write completed at the device (acks=1).
    Written,
    /// Completes once fdatasync'ed (acks=all).
    Durable,
}

pub(crate) struct LogInner {
    pub dir: PathBuf,
    pub id: u64,
    pub state: RefCell<LogState>,
    /// Serialises appends (and rolls, truncations) to this log.
    pub append_lock: Semaphore,
    pub cache: Rc<RefCell<BatchCache>>,
    pub faults: Option<Rc<crate::io::FaultPlan>>,
    /// The shard's device flush, where this log's filesystem makes one cover every file.
    pub shared_flush: Option<Rc<crate::io::SharedFlush>>,
    /// This log's share of the roll jitter (see `log::roll_jitter`).
    pub roll_seed: u64,
    /// The shard's turn to pre-write a spare (see `log::prewrite`).
    pub prewrite_turn: Rc<Semaphore>,
}

/// Work queued for the flusher, in log order.
pub(crate) enum FlushOp {
    Write {
        file: Rc<SegmentFile>,
        segment_base: i64,
        write: PendingWrite,
        end_total: u64,
    },
    /// Close a rolled segment once everything before has been written.
    Close { segment_base: i64 },
}

/// Metadata work that runs beside appends (see `log::background`): closes of rolled segments
/// and a queue of blocking metadata jobs, run in order by one task.
#[derive(Default)]
pub(crate) struct Background {
    pub jobs: VecDeque<super::background::Job>,
    pub worker_running: bool,
    /// Queued or running jobs and segment closes; `idle` waiters are woken at zero.
    pub running: usize,
    pub idle: Vec<futures::channel::oneshot::Sender<()>>,
    /// A segment file was created since the directory was last synced: the next fdatasync
    /// syncs the directory too, before any Durable append in the new file completes.
    pub dir_unsynced: bool,
}

impl Background {
    pub fn start(&mut self) {
        self.running += 1;
    }

    pub fn finish(&mut self) {
        assert!(self.running > 0, "background work finished twice");
        self.running -= 1;
        if self.running == 0 {
            for waiter in self.idle.drain(..) {
                let _ = waiter.send(());
            }
        }
    }
}

/// An append not yet written: when `written_total` reaches `end_total`, the segment's data up
/// to `data_end` becomes readable and the high watermark moves to `next_offset`.
pub(crate) struct AppendMark {
    pub end_total: u64,
    pub next_offset: i64,
    pub segment_base: i64,
    pub data_end: u64,
}

/// Append handles to one segment's `.index` and `.timeindex` (through the page cache).
pub(crate) struct ActiveIndexFiles {
    pub segment_base: i64,
    pub offset: std::fs::File,
    pub time: std::fs::File,
}

pub(crate) struct LogState {
    pub config: LogConfig,
    /// All segments by base offset; the last is the active one.
    pub segments: BTreeMap<i64, Segment>,
    pub appender: Appender,
    pub log_start_offset: i64,
    pub next_offset: i64,
    pub high_watermark: i64,
    pub appended_total: u64,
    pub written_total: u64,
    pub durable_total: u64,
    pub marks: VecDeque<AppendMark>,
    pub ops: VecDeque<FlushOp>,
    pub dirty_files: Vec<Rc<SegmentFile>>,
    pub flusher_running: bool,
    /// A sync task is in flight (see the flusher); at most one per log.
    pub sync_running: bool,
    pub flush_timer_armed: bool,
    pub written_waiters: Waiters<u64>,
    pub durable_waiters: Waiters<u64>,
    /// Long-polling readers, by the offset they wait for the high watermark to pass.
    pub data_waiters: Waiters<i64>,
    /// Records before this offset are durable (Kafka's recovery point): `flush.messages`
    /// counts the written records from here, so a record written after a sync began is never
    /// taken for synced by it.
    pub synced_offset: i64,
    pub unsynced_since_ms: Option<u64>,
    pub failed: Option<String>,
    /// The failure was a full disk: the log may take writes again once there is room
    /// (reopened by its owner); any other failure waits for an operator.
    pub failed_for_space: bool,
    /// Closed (or deleted): the segments are gone and every call is refused.
    pub closed: bool,
    pub deleted: bool,
    /// A spare segment file waits in the log's directory for the next roll (at most one per
    /// log: see `log::recycle`), with the length from its start that its old segment wrote and
    /// synced: overwriting that much changes no metadata.
    pub spare_segment: Option<u64>,
    /// Retention is keeping a deleted segment's file as the spare, or the log is pre-writing
    /// one (`log::prewrite`): the other does not start, so at most one spare is ever made.
    pub spare_in_making: bool,
    /// The active segment (by base offset) for which a pre-write was queued: at most one try
    /// per segment, and none queued twice.
    pub spare_prewrite_for: Option<i64>,
    /// Appended bytes since the last producer snapshot (periodic or a roll's).
    pub appended_since_snapshot: u64,
    /// A periodic producer snapshot waiting for its offset to be durable (`log::snapshots`).
    pub pending_snapshot: Option<PendingSnapshot>,
    /// Eager retention looks again once `appended_total` reaches this (see
    /// `PartitionLog::retain_if_due`).
    pub retention_check_total: u64,
    /// Where recent disk reads ended (see `log::read_hints`).
    pub read_hints: super::read_hints::ReadHints,
    /// The active segment's index files, open for the appends of each sync (opening them
    /// for every sync cost 3% of a shard at 10k syncs/s). Dropped when the files are
    /// rewritten whole (the handles would append to the replaced files) and at a roll.
    pub active_index_files: Option<ActiveIndexFiles>,
    pub producers: ProducerStateTable,
    pub background: Background,
}

impl LogState {
    pub fn active(&self) -> &Segment {
        self.segments
            .values()
            .next_back()
            .expect("a log always has an active segment")
    }

    pub fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .values_mut()
            .next_back()
            .expect("a log always has an active segment")
    }

    pub fn size_bytes(&self) -> u64 {
        // A closed log has no segments.
        let Some(&active_base) = self.segments.keys().next_back() else {
            return 0;
        };
        self.segments
            .values()
            .map(|s| {
                if s.base_offset == active_base {
                    self.appender.data_end()
                } else {
                    s.readable_len
                }
            })
            .sum()
    }

    /// Moves sealed appender buffers to the flusher's queue.
    pub fn queue_sealed(&mut self) {
        let active = self.active();
        let (file, segment_base, start_total) =
            (active.file.clone(), active.base_offset, active.start_total);
        for write in self.appender.take_sealed() {
            let end_total = start_total + write.data_end;
            self.ops.push_back(FlushOp::Write {
                file: file.clone(),
                segment_base,
                write,
                end_total,
            });
        }
    }

    /// Seals whatever the appender holds and queues it.
    pub fn seal_active(&mut self) {
        let file = self.active().file.clone();
        self.appender.flush(&file);
        self.queue_sealed();
    }

    /// Records that the device has everything up to `written_total`.
    pub fn advance_written(&mut self, written_total: u64) {
        self.written_total = self.written_total.max(written_total);
        while let Some(mark) = self.marks.front() {
            if mark.end_total > self.written_total {
                break;
            }
            if let Some(segment) = self.segments.get_mut(&mark.segment_base) {
                segment.readable_len = segment.readable_len.max(mark.data_end);
                segment.next_offset = segment.next_offset.max(mark.next_offset);
            }
            self.high_watermark = self.high_watermark.max(mark.next_offset);
            self.marks.pop_front();
        }
        self.written_waiters.release(self.written_total);
        self.data_waiters.release(self.high_watermark - 1);
    }

    /// Takes the pending periodic snapshot once everything it describes is durable.
    pub fn take_durable_snapshot(&mut self) -> Option<PendingSnapshot> {
        let durable = self.durable_total;
        self.pending_snapshot
            .take_if(|snapshot| snapshot.end_total <= durable)
    }

    pub fn advance_durable(&mut self, durable_total: u64) {
        self.durable_total = self.durable_total.max(durable_total);
        self.durable_waiters.release(self.durable_total);
    }

    /// Puts the log in the failed state and wakes everyone waiting on it.
    pub fn fail(&mut self, error: &EngineError) {
        let reason = error.to_string();
        tracing::error!(reason = %reason, "log failed; it accepts no writes until reopened");
        // A full disk, and nothing else: any other failure, first or later, waits for an
        // operator.
        let no_space = matches!(error, EngineError::NoSpace { .. });
        self.failed_for_space = no_space && (self.failed.is_none() || self.failed_for_space);
        let error = WaitError::Failed(reason.clone());
        self.failed = Some(reason);
        // Queued closes will not run: let whoever waits for the background work go on.
        for op in self.ops.drain(..) {
            if let FlushOp::Close { .. } = op {
                self.background.finish();
            }
        }
        self.written_waiters.fail_all(error.clone());
        self.durable_waiters.fail_all(error.clone());
        self.data_waiters.fail_all(error);
    }

    pub fn mark_dirty(&mut self, file: &Rc<SegmentFile>) {
        if !self.dirty_files.iter().any(|f| Rc::ptr_eq(f, file)) {
            self.dirty_files.push(file.clone());
        }
    }
}

/// A producer snapshot taken under the append permit (so it matches `next_offset` exactly),
/// to be written once the appends before it, up to `end_total`, are durable: written earlier,
/// a power loss could leave it beyond the recovered end, where it is of no use.
#[derive(Debug)]
pub struct PendingSnapshot {
    pub next_offset: i64,
    pub end_total: u64,
    pub encoded: Vec<u8>,
}

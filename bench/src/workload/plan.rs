//! What a client driver is asked to run ([`Plan`]), the counts its producers and consumers
//! share while running ([`Tally`]), and what it hands back ([`Outcome`]).
//!
//! The workload kinds build the plan (which partitions, from which offsets, when to stop);
//! the drivers (`pinlog_client`, `rdkafka_client`) only execute it, so both clients run
//! exactly the same workload.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::meter::LiveStats;
use super::WorkloadError;
use crate::report::Recorder;

/// How long consumers may take, after the last producer stopped, to read every record that
/// was acknowledged before the run is declared failed.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// One partition of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// The clock of one run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// When the producers (or consumers) start.
    pub start: Instant,
    /// End of the warm-up: completions before it are not measured.
    pub measure_from: Instant,
    /// When sending (or reading) stops, for a duration-bound run.
    pub deadline: Option<Instant>,
}

impl Timing {
    pub fn starting_now(warmup: Duration, measured: Option<Duration>) -> Timing {
        // The end-to-end clock's base must precede every due time, or the first records'
        // stamps would saturate at 0 and their latency come out too low.
        super::schedule::start_clock();
        let start = Instant::now();
        let measure_from = start + warmup;
        Timing {
            start,
            measure_from,
            deadline: measured.map(|measured| measure_from + measured),
        }
    }

    /// The measured window of a run whose last completion was at `end`.
    pub fn measured_until(&self, end: Instant) -> Duration {
        end.saturating_duration_since(self.measure_from)
    }
}

/// The producer side of a run.
#[derive(Debug, Clone)]
pub struct ProducePlan {
    pub partitions: Vec<TopicPartition>,
    /// Values begin with the send stamp (end-to-end).
    pub stamped: bool,
    /// Total records over all producers; `None`: until the deadline.
    pub records: Option<u64>,
    pub live: Arc<LiveStats>,
}

/// Where a consumer starts in a partition, and for `ReadExisting`, where it ends.
#[derive(Debug, Clone)]
pub struct ConsumeFrom {
    pub partition: TopicPartition,
    pub offset: i64,
    /// The log end when the run started: a `ReadExisting` consumer is done there.
    pub end: i64,
}

/// When consumers stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeUntil {
    /// `consume`: at the log ends seen at the start, the deadline, or `records` in total.
    ReadExisting { records: Option<u64> },
    /// `end-to-end`: once the producers stopped and everything they had acknowledged was
    /// read (within [`DRAIN_TIMEOUT`]).
    FollowProducers,
}

/// The consumer side of a run.
#[derive(Debug, Clone)]
pub struct ConsumePlan {
    pub positions: Vec<ConsumeFrom>,
    pub until: ConsumeUntil,
    /// Values carry send stamps whose age is the end-to-end latency.
    pub stamped: bool,
    pub live: Arc<LiveStats>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub timing: Timing,
    pub produce: Option<ProducePlan>,
    pub consume: Option<ConsumePlan>,
}

impl Plan {
    /// Consumer `index`'s positions: every `consumers`-th partition.
    pub fn consumer_share(&self, index: u32, consumers: u32) -> Vec<ConsumeFrom> {
        self.consume
            .iter()
            .flat_map(|consume| consume.positions.iter())
            .enumerate()
            .filter(|(i, _)| *i as u32 % consumers.max(1) == index)
            .map(|(_, position)| position.clone())
            .collect()
    }
}

/// Counts the producers and consumers of one run share.
#[derive(Debug, Default)]
pub struct Tally {
    /// Records the broker acknowledged (for acks=0: handed to the connection).
    pub acked: AtomicU64,
    /// Records read, warm-up included.
    pub consumed: AtomicU64,
    /// Producers that have not finished yet.
    pub producers_running: AtomicU32,
    /// When the last producer finished, as a stamp (`schedule::stamp`); 0 while running.
    pub producers_done_stamp: AtomicU64,
}

impl Tally {
    pub fn new(producers: u32) -> Arc<Tally> {
        Arc::new(Tally {
            producers_running: AtomicU32::new(producers),
            ..Tally::default()
        })
    }

    /// Called once by each producer when it has nothing more in flight.
    pub fn producer_finished(&self) {
        if self.producers_running.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = super::schedule::stamp_now().max(1);
            self.producers_done_stamp.store(now, Ordering::Release);
        }
    }

    /// Whether a consumer whose own partitions are all `caught_up` may stop at `now`.
    pub fn consumers_done(
        &self,
        plan: &Plan,
        now: Instant,
        caught_up: bool,
    ) -> Result<bool, WorkloadError> {
        let Some(consume) = &plan.consume else {
            return Ok(true);
        };
        let consumed = self.consumed.load(Ordering::Acquire);
        match consume.until {
            ConsumeUntil::ReadExisting { records } => Ok(caught_up
                || plan.timing.deadline.is_some_and(|deadline| now >= deadline)
                || records.is_some_and(|records| consumed >= records)),
            ConsumeUntil::FollowProducers => {
                if self.producers_running.load(Ordering::Acquire) > 0 {
                    return Ok(false);
                }
                let acked = self.acked.load(Ordering::Acquire);
                if consumed >= acked {
                    return Ok(true);
                }
                let done_stamp = self.producers_done_stamp.load(Ordering::Acquire);
                let waited =
                    super::schedule::latency_since(done_stamp, super::schedule::stamp(now));
                if done_stamp != 0 && waited > DRAIN_TIMEOUT {
                    return Err(WorkloadError::Drain {
                        acked,
                        consumed,
                        waited: DRAIN_TIMEOUT,
                    });
                }
                Ok(false)
            }
        }
    }
}

/// What a driver measured.
pub struct Outcome {
    /// The merged producer recorders and the time of the last acknowledgement.
    pub produce: Option<(Recorder, Instant)>,
    /// The merged consumer recorders and the time of the last record read.
    pub consume: Option<(Recorder, Instant)>,
    pub tally: Arc<Tally>,
}

/// Merges per-task results: recorders summed, the latest end kept.
pub fn merge_recorders(parts: Vec<(Recorder, Instant)>) -> Option<(Recorder, Instant)> {
    let mut parts = parts.into_iter();
    let (mut merged, mut end) = parts.next()?;
    for (recorder, part_end) in parts {
        merged.merge(&recorder);
        end = end.max(part_end);
    }
    Some((merged, end))
}

//! `pinlog-bench end-to-end`: producers and consumers together. The consumers are placed at
//! the log ends before any producer starts, every value begins with the time the record was
//! due (see [`super::schedule`]), and the latency is the time it was read minus that stamp.
//!
//! After the producers stop, the consumers drain until they have read every acknowledged
//! record (bounded by [`super::plan::DRAIN_TIMEOUT`]); a run where the counts differ fails.
//! Two results are reported: `produce` (acknowledgement latency) and `end-to-end`.

use std::sync::atomic::Ordering;

use super::args::LoadArgs;
use super::meter::{LiveStats, Progress};
use super::plan::{ConsumeFrom, ConsumePlan, ConsumeUntil, Plan, ProducePlan, Timing};
use super::produce::result;
use super::{execute, log_offsets, prepare_topics, LogEnd, WorkloadError};
use crate::report::WorkloadResult;

/// The report's name for the consumer side of an end-to-end run.
pub const WORKLOAD_NAME: &str = "end-to-end";

pub fn run(args: &LoadArgs) -> Result<Vec<WorkloadResult>, WorkloadError> {
    let partitions = prepare_topics(args)?;
    let latest = log_offsets(args, &partitions, LogEnd::Latest)?;
    let positions = partitions
        .iter()
        .zip(latest)
        .map(|(partition, offset)| ConsumeFrom {
            partition: partition.clone(),
            offset,
            end: offset,
        })
        .collect();
    let produce_live = LiveStats::new(super::produce::WORKLOAD_NAME);
    let consume_live = LiveStats::new(WORKLOAD_NAME);
    let progress = Progress::start(vec![produce_live.clone(), consume_live.clone()], args.quiet);
    let plan = Plan {
        timing: Timing::starting_now(args.warmup.0, args.measured_duration()),
        produce: Some(ProducePlan {
            partitions,
            stamped: true,
            records: args.records,
            live: produce_live,
        }),
        consume: Some(ConsumePlan {
            positions,
            until: ConsumeUntil::FollowProducers,
            stamped: true,
            live: consume_live,
        }),
    };
    let outcome = execute(args, &plan)?;
    drop(progress);
    let acked = outcome.tally.acked.load(Ordering::Acquire);
    let consumed = outcome.tally.consumed.load(Ordering::Acquire);
    if acked != consumed {
        return Err(WorkloadError::Mismatch { acked, consumed });
    }
    Ok(vec![
        result(
            super::produce::WORKLOAD_NAME,
            &plan.timing,
            outcome.produce,
            true,
        ),
        result(WORKLOAD_NAME, &plan.timing, outcome.consume, true),
    ])
}

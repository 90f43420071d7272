//! `pinlog-bench consume`: consumers read what the topics hold, from the earliest offsets,
//! until they reach the log ends seen at the start, `--duration` passes, or `--records` were
//! read. Nothing is written unless `--prefill N` asks for N records first (sent at max rate,
//! not measured); otherwise run `produce` before (with the same `--topic`). The latency
//! reported is the round trip of each Fetch that brought records, with the own client
//! (librdkafka fetches in its own threads, out of sight: none is reported for it).

use super::args::LoadArgs;
use super::meter::{LiveStats, Progress};
use super::plan::TopicPartition;
use super::plan::{ConsumeFrom, ConsumePlan, ConsumeUntil, Plan, ProducePlan, Timing};
use super::{execute, log_offsets, prepare_topics, LogEnd, WorkloadError};
use crate::report::WorkloadResult;

/// The report's name for the consumer side of a `consume` run.
pub const WORKLOAD_NAME: &str = "consume";

/// `--prefill N`: writes N records once, before the first repetition, so that every
/// repetition reads the same log (prefilling each one would have repetition k read k*N).
pub fn prefill_once(args: &LoadArgs) -> Result<(), WorkloadError> {
    let Some(records) = args.prefill else {
        return Ok(());
    };
    let partitions = prepare_topics(args)?;
    prefill(args, &partitions, records)
}

pub fn run(args: &LoadArgs) -> Result<Vec<WorkloadResult>, WorkloadError> {
    let partitions = prepare_topics(args)?;
    let earliest = log_offsets(args, &partitions, LogEnd::Earliest)?;
    let latest = log_offsets(args, &partitions, LogEnd::Latest)?;
    let positions = partitions
        .into_iter()
        .zip(earliest.into_iter().zip(latest))
        .map(|(partition, (offset, end))| ConsumeFrom {
            partition,
            offset,
            end,
        })
        .collect();
    let live = LiveStats::new(WORKLOAD_NAME);
    let progress = Progress::start(vec![live.clone()], args.quiet);
    let plan = Plan {
        timing: Timing::starting_now(args.warmup.0, args.measured_duration()),
        produce: None,
        consume: Some(ConsumePlan {
            positions,
            until: ConsumeUntil::ReadExisting {
                records: args.records,
            },
            stamped: false,
            live,
        }),
    };
    let outcome = execute(args, &plan)?;
    drop(progress);
    let with_latency = args.client == super::args::ClientKind::Pinlog;
    let result = super::produce::result(WORKLOAD_NAME, &plan.timing, outcome.consume, with_latency);
    Ok(vec![result])
}

/// Writes `records` records at max rate, unmeasured and without a progress line.
fn prefill(
    args: &LoadArgs,
    partitions: &[TopicPartition],
    records: u64,
) -> Result<(), WorkloadError> {
    let plan = Plan {
        timing: Timing::starting_now(std::time::Duration::ZERO, None),
        produce: Some(ProducePlan {
            partitions: partitions.to_vec(),
            stamped: false,
            records: Some(records),
            live: LiveStats::new("prefill"),
        }),
        consume: None,
    };
    let unpaced = LoadArgs {
        rate: None,
        ..args.clone()
    };
    execute(&unpaced, &plan).map(|_| ())
}

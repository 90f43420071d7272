//! `pinlog-bench produce`: producers only, as fast as they can or at `--rate`. Latency is
//! from when a record was due (see [`super::schedule`]) to its acknowledgement.

use std::time::Instant;

use super::args::LoadArgs;
use super::meter::{LiveStats, Progress};
use super::plan::{Plan, ProducePlan, Timing};
use super::{execute, prepare_topics, WorkloadError};
use crate::report::{Recorder, WorkloadResult};

/// The report's name for the producer side of a run.
pub const WORKLOAD_NAME: &str = "produce";

pub fn run(args: &LoadArgs) -> Result<Vec<WorkloadResult>, WorkloadError> {
    let partitions = prepare_topics(args)?;
    let live = LiveStats::new(WORKLOAD_NAME);
    let progress = Progress::start(vec![live.clone()], args.quiet);
    let plan = Plan {
        timing: Timing::starting_now(args.warmup.0, args.measured_duration()),
        produce: Some(ProducePlan {
            partitions,
            stamped: false,
            records: args.records,
            live,
        }),
        consume: None,
    };
    let outcome = execute(args, &plan)?;
    drop(progress);
    Ok(vec![result(
        WORKLOAD_NAME,
        &plan.timing,
        outcome.produce,
        true,
    )])
}

/// The report entry of one side of a run; an empty one if the side measured nothing.
pub fn result(
    name: &str,
    timing: &Timing,
    measured: Option<(Recorder, Instant)>,
    with_latency: bool,
) -> WorkloadResult {
    let (recorder, end) =
        measured.unwrap_or_else(|| (Recorder::new(timing.measure_from), timing.measure_from));
    recorder.finish(name, timing.measured_until(end), with_latency)
}

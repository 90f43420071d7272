//! The workloads through pinlog's own client (work in progress).

use super::args::LoadArgs;
use super::plan::{Outcome, Plan, TopicPartition};
use super::{LogEnd, WorkloadError};

fn not_yet() -> WorkloadError {
    WorkloadError::Client {
        client: "pinlog",
        detail: "not wired yet".to_string(),
    }
}

pub fn prepare_topics(_args: &LoadArgs) -> Result<Vec<TopicPartition>, WorkloadError> {
    Err(not_yet())
}

pub fn log_offsets(
    _args: &LoadArgs,
    _partitions: &[TopicPartition],
    _end: LogEnd,
) -> Result<Vec<i64>, WorkloadError> {
    Err(not_yet())
}

pub fn execute(_args: &LoadArgs, _plan: &Plan) -> Result<Outcome, WorkloadError> {
    Err(not_yet())
}

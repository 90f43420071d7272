//! One librdkafka consumer connection on its own pinned thread: `assign()` of its share of
//! the partitions at the plan's offsets, then `poll` until the plan says stop.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::super::args::LoadArgs;
use super::super::meter::Meter;
use super::super::plan::{ConsumeFrom, Plan, Tally};
use super::super::schedule::{latency_since, read_stamp, stamp};
use super::super::WorkloadError;
use super::{base_config, client_error, pin_current_thread};
use crate::report::Recorder;

/// Longest a `poll` waits for a record, which bounds how late a stop is noticed.
const POLL_TIMEOUT: Duration = Duration::from_millis(100);

/// Runs one consumer over `positions`; returns its recorder and the time of its last record.
pub fn run(
    args: &LoadArgs,
    plan: &Plan,
    positions: Vec<ConsumeFrom>,
    core: Option<usize>,
    tally: &Arc<Tally>,
) -> Result<(Recorder, Instant), WorkloadError> {
    let Some(consume) = &plan.consume else {
        return Err(client_error(
            "a consumer was started without a consume plan",
        ));
    };
    pin_current_thread(core)?;
    let consumer: BaseConsumer = base_config(args)
        .set("group.id", "pinlog-bench")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        // The own client's long-poll bound, so both wait for data alike (librdkafka: 500 ms).
        .set(
            "fetch.wait.max.ms",
            super::super::pinlog_client::FETCH_MAX_WAIT_MS.to_string(),
        )
        .create()
        .map_err(client_error)?;
    let mut assignment = TopicPartitionList::new();
    // Next offset to read and the end to reach, per partition.
    let mut progress: HashMap<(String, i32), (i64, i64)> = HashMap::new();
    for position in &positions {
        let tp = &position.partition;
        assignment
            .add_partition_offset(&tp.topic, tp.partition, Offset::Offset(position.offset))
            .map_err(client_error)?;
        progress.insert(
            (tp.topic.clone(), tp.partition),
            (position.offset, position.end),
        );
    }
    consumer.assign(&assignment).map_err(client_error)?;

    let mut meter = Meter::new(plan.timing.measure_from, consume.live.clone());
    let mut last_record = plan.timing.start;
    loop {
        let caught_up = progress.values().all(|(next, end)| next >= end);
        if tally.consumers_done(plan, Instant::now(), caught_up)? {
            break;
        }
        let Some(polled) = consumer.poll(POLL_TIMEOUT) else {
            continue;
        };
        let now = Instant::now();
        let message = match polled {
            Ok(message) => message,
            Err(error) => {
                meter.error(now, error);
                continue;
            }
        };
        let value = message.payload().unwrap_or_default();
        let bytes = (message.key().map_or(0, <[u8]>::len) + value.len()) as u64;
        meter.completed(now, 1, bytes);
        if consume.stamped {
            if let Some(sent) = read_stamp(value) {
                meter.latency(now, latency_since(sent, stamp(now)), 1);
            }
        }
        tally.consumed.fetch_add(1, Ordering::AcqRel);
        if let Some(entry) = progress.get_mut(&(message.topic().to_string(), message.partition())) {
            entry.0 = message.offset() + 1;
        }
        last_record = now;
    }
    Ok((meter.finish(), last_record))
}

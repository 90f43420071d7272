//! One consumer connection (per leader) as a glommio task: Fetch requests over its share of
//! the partitions, one outstanding per leader, each answered as soon as there is data or
//! after [`FETCH_MAX_WAIT_MS`] (librdkafka's defaults for the sizes and the wait).

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::args::LoadArgs;
use super::super::fetched::read_records;
use super::super::meter::Meter;
use super::super::plan::{Plan, Tally, TopicPartition};
use super::super::schedule::{latency_since, read_stamp, stamp};
use super::{client_error, Leaders, TaskResult};
use crate::client::{error_name, ClientError, FetchPosition, FetchSpec, EARLIEST_TIMESTAMP};

/// Longest a Fetch waits for data; also how late a consumer notices it may stop.
pub const FETCH_MAX_WAIT_MS: i32 = 100;
/// Bytes a Fetch waits for.
pub const FETCH_MIN_BYTES: i32 = 1;
/// Largest Fetch response (`fetch.max.bytes`).
pub const FETCH_MAX_BYTES: i32 = 50 * 1024 * 1024;
/// Largest share of one partition in a response (`max.partition.fetch.bytes`).
pub const PARTITION_FETCH_MAX_BYTES: i32 = 1024 * 1024;
/// Failed Fetch requests in a row after which a consumer gives up (the run fails).
pub const FETCH_FAILURES_IN_A_ROW_MAX: u32 = 50;
/// Pause after a failed Fetch or a partition error, so a failing broker is not spun on.
const FETCH_RETRY_BACKOFF: Duration = Duration::from_millis(20);
/// Kafka's OFFSET_OUT_OF_RANGE: retention moved the log start past the position.
const OFFSET_OUT_OF_RANGE: i16 = 1;

pub async fn run(args: Rc<LoadArgs>, plan: Rc<Plan>, index: u32, tally: Arc<Tally>) -> TaskResult {
    let Some(consume) = &plan.consume else {
        return Err(client_error(
            "a consumer was started without a consume plan",
        ));
    };
    let positions = plan.consumer_share(index, args.consumers);
    let partitions: Vec<TopicPartition> = positions.iter().map(|p| p.partition.clone()).collect();
    let leaders = Leaders::connect(&args.bootstrap, &partitions).await?;
    let topics: Vec<Rc<str>> = partitions
        .iter()
        .map(|tp| Rc::from(tp.topic.as_str()))
        .collect();
    let mut next: Vec<i64> = positions.iter().map(|p| p.offset).collect();
    let ends: Vec<i64> = positions.iter().map(|p| p.end).collect();
    let mut meter = Meter::new(plan.timing.measure_from, consume.live.clone());
    let mut last_record = plan.timing.start;
    let by_connection = leaders.by_connection();
    let mut failures_in_a_row = 0u32;
    loop {
        let caught_up = next.iter().zip(&ends).all(|(next, end)| next >= end);
        if tally.consumers_done(&plan, Instant::now(), caught_up)? {
            break;
        }
        for (connection, owned) in &by_connection {
            if owned.is_empty() {
                continue;
            }
            let spec = FetchSpec {
                max_wait_ms: FETCH_MAX_WAIT_MS,
                min_bytes: FETCH_MIN_BYTES,
                max_bytes: FETCH_MAX_BYTES,
                partitions: owned
                    .iter()
                    .map(|&i| FetchPosition {
                        topic: Rc::clone(&topics[i]),
                        partition: partitions[i].partition,
                        offset: next[i],
                        partition_max_bytes: PARTITION_FETCH_MAX_BYTES,
                    })
                    .collect(),
            };
            let fetched = match connection.fetch(spec).await {
                Ok(fetched) => fetched,
                Err(error) => {
                    meter.error(Instant::now(), &error);
                    failures_in_a_row += 1;
                    // No reconnection: a broken connection ends the run, as does a broker
                    // that keeps failing.
                    if matches!(error, ClientError::Broken { .. })
                        || failures_in_a_row >= FETCH_FAILURES_IN_A_ROW_MAX
                    {
                        return Err(client_error(format!(
                            "giving up after {failures_in_a_row} failed fetches in a row: {error}"
                        )));
                    }
                    glommio::timer::sleep(FETCH_RETRY_BACKOFF).await;
                    continue;
                }
            };
            failures_in_a_row = 0;
            let now = Instant::now();
            let received = stamp(now);
            let mut out_of_range = Vec::new();
            let mut partition_errors = false;
            for answer in fetched {
                let Some(&i) = owned.iter().find(|&&i| {
                    partitions[i].partition == answer.partition && *topics[i] == *answer.topic
                }) else {
                    continue;
                };
                if answer.error_code == OFFSET_OUT_OF_RANGE {
                    out_of_range.push(i);
                    continue;
                }
                if answer.error_code != 0 {
                    partition_errors = true;
                    let reason = format!(
                        "fetching {}/{}: {}",
                        answer.topic,
                        answer.partition,
                        error_name(answer.error_code)
                    );
                    meter.error(now, reason);
                    continue;
                }
                let (mut records, mut bytes, mut stamps) = (0u64, 0u64, Vec::new());
                next[i] = read_records(answer.records, next[i], |record| {
                    let value = record.value.as_deref().unwrap_or_default();
                    records += 1;
                    bytes += (record.key.as_ref().map_or(0, |k| k.len()) + value.len()) as u64;
                    if consume.stamped {
                        stamps.extend(read_stamp(value));
                    }
                })
                .map_err(client_error)?;
                if records == 0 {
                    continue;
                }
                meter.completed(now, records, bytes);
                for sent in stamps {
                    meter.latency(now, latency_since(sent, received), 1);
                }
                tally.consumed.fetch_add(records, Ordering::AcqRel);
                last_record = now;
            }
            // As a Kafka consumer with auto.offset.reset=earliest: start again at the log start.
            if !out_of_range.is_empty() {
                let asked: Vec<(Rc<str>, i32)> = out_of_range
                    .iter()
                    .map(|&i| (Rc::clone(&topics[i]), partitions[i].partition))
                    .collect();
                for (topic, partition, start) in
                    connection.list_offsets(&asked, EARLIEST_TIMESTAMP).await?
                {
                    if let Some(&i) = out_of_range
                        .iter()
                        .find(|&&i| partitions[i].partition == partition && *topics[i] == *topic)
                    {
                        eprintln!(
                            "pinlog-bench: consume: {topic}/{partition}: offset {} is gone \
                             (retention); resuming at the log start {start}",
                            next[i]
                        );
                        next[i] = start;
                    }
                }
            }
            if partition_errors {
                glommio::timer::sleep(FETCH_RETRY_BACKOFF).await;
            }
        }
        glommio::yield_if_needed().await;
    }
    Ok((meter.finish(), last_record))
}

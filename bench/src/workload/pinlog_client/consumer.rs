//! One consumer as a glommio task: its share of the partitions is split per leader into
//! [`FETCH_LANES_PER_LEADER`] lanes, each with one Fetch outstanding, answered as soon as
//! there is data or after [`FETCH_MAX_WAIT_MS`] (librdkafka's defaults for the sizes and the
//! wait). With one Fetch per leader the broker's disk reads and the transfer and parsing of
//! the previous response take turns; with two lanes they overlap. Each lane has a connection
//! of its own: a broker answers a connection's requests in order, so a lane whose Fetch
//! waits for data would hold back the other lane's answer (two lanes on one connection put
//! the median end-to-end latency at 50 ms at 2000 records/s: half the wait).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::args::LoadArgs;
use super::super::fetched::read_records;
use super::super::meter::Meter;
use super::super::plan::{Plan, Tally, TopicPartition};
use super::super::schedule::{latency_since, read_stamp, stamp};
use super::super::WorkloadError;
use super::{client_error, Leaders, TaskResult};
use crate::client::{
    error_name, ClientError, Connection, FetchPosition, FetchSpec, EARLIEST_TIMESTAMP,
};

/// Longest a Fetch waits for data; also how late a consumer notices it may stop.
pub const FETCH_MAX_WAIT_MS: i32 = 100;
/// Bytes a Fetch waits for.
pub const FETCH_MIN_BYTES: i32 = 1;
/// Largest Fetch response (`fetch.max.bytes`).
pub const FETCH_MAX_BYTES: i32 = 50 * 1024 * 1024;
/// Largest share of one partition in a response (`max.partition.fetch.bytes`).
pub const PARTITION_FETCH_MAX_BYTES: i32 = 1024 * 1024;
/// Fetches in flight per leader, each for its own share of the partitions, on its own
/// connection.
pub const FETCH_LANES_PER_LEADER: usize = 2;
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
    let consumer = Consumer {
        plan: &plan,
        tally: &tally,
        stamped: consume.stamped,
        meter: RefCell::new(Meter::new(plan.timing.measure_from, consume.live.clone())),
        last_record: Cell::new(plan.timing.start),
    };
    let mut lanes = Vec::new();
    for (index, (connection, owned)) in leaders.by_connection().into_iter().enumerate() {
        for lane in 0..FETCH_LANES_PER_LEADER {
            let share: Vec<Position> = owned
                .iter()
                .skip(lane)
                .step_by(FETCH_LANES_PER_LEADER)
                .map(|&i| Position {
                    topic: Rc::from(partitions[i].topic.as_str()),
                    partition: partitions[i].partition,
                    next: positions[i].offset,
                    end: positions[i].end,
                })
                .collect();
            if share.is_empty() {
                continue;
            }
            let connection = match lane {
                0 => Rc::clone(&connection),
                _ => leaders.another_connection(index).await?,
            };
            lanes.push(consumer.run_lane(connection, share));
        }
    }
    futures::future::try_join_all(lanes).await?;
    Ok((
        consumer.meter.into_inner().finish(),
        consumer.last_record.get(),
    ))
}

/// What the lanes of one consumer share.
struct Consumer<'a> {
    plan: &'a Plan,
    tally: &'a Tally,
    stamped: bool,
    meter: RefCell<Meter>,
    last_record: Cell<Instant>,
}

/// A partition of a lane: where the lane reads next, and where a consumer that reads what
/// exists may stop.
struct Position {
    topic: Rc<str>,
    partition: i32,
    next: i64,
    end: i64,
}

impl Consumer<'_> {
    /// Fetches `positions` over `connection`, one Fetch at a time, until the plan says stop.
    async fn run_lane(
        &self,
        connection: Rc<Connection>,
        mut positions: Vec<Position>,
    ) -> Result<(), WorkloadError> {
        let mut failures_in_a_row = 0u32;
        loop {
            let caught_up = positions.iter().all(|p| p.next >= p.end);
            if self
                .tally
                .consumers_done(self.plan, Instant::now(), caught_up)?
            {
                return Ok(());
            }
            let spec = FetchSpec {
                max_wait_ms: FETCH_MAX_WAIT_MS,
                min_bytes: FETCH_MIN_BYTES,
                max_bytes: FETCH_MAX_BYTES,
                partitions: positions
                    .iter()
                    .map(|p| FetchPosition {
                        topic: Rc::clone(&p.topic),
                        partition: p.partition,
                        offset: p.next,
                        partition_max_bytes: PARTITION_FETCH_MAX_BYTES,
                    })
                    .collect(),
            };
            let sent_at = Instant::now();
            let fetched = match connection.fetch(spec).await {
                Ok(fetched) => fetched,
                Err(error) => {
                    self.meter.borrow_mut().error(Instant::now(), &error);
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
            let mut fetched_records = false;
            for answer in fetched {
                let Some(i) = positions
                    .iter()
                    .position(|p| p.partition == answer.partition && *p.topic == *answer.topic)
                else {
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
                    self.meter.borrow_mut().error(now, reason);
                    continue;
                }
                let (mut records, mut bytes, mut stamps) = (0u64, 0u64, Vec::new());
                positions[i].next = read_records(answer.records, positions[i].next, |record| {
                    let value = record.value.as_deref().unwrap_or_default();
                    records += 1;
                    bytes += (record.key.as_ref().map_or(0, |k| k.len()) + value.len()) as u64;
                    if self.stamped {
                        stamps.extend(read_stamp(value));
                    }
                })
                .map_err(client_error)?;
                if records == 0 {
                    continue;
                }
                let mut meter = self.meter.borrow_mut();
                meter.completed(now, records, bytes);
                for sent in stamps {
                    meter.latency(now, latency_since(sent, received), 1);
                }
                self.tally.consumed.fetch_add(records, Ordering::AcqRel);
                self.last_record.set(now);
                fetched_records = true;
            }
            // Without send stamps (`consume`), the latency is the Fetch's round trip, counted
            // for the Fetches that brought records (one that long-polled at the log end
            // measures the wait, not the broker).
            if !self.stamped && fetched_records {
                self.meter
                    .borrow_mut()
                    .latency(now, now.duration_since(sent_at), 1);
            }
            if !out_of_range.is_empty() {
                restart_at_log_start(&connection, &mut positions, &out_of_range).await?;
            }
            if partition_errors {
                glommio::timer::sleep(FETCH_RETRY_BACKOFF).await;
            }
            glommio::yield_if_needed().await;
        }
    }
}

/// As a Kafka consumer with auto.offset.reset=earliest: the `gone` positions, whose offsets
/// retention deleted, start again at the log start.
async fn restart_at_log_start(
    connection: &Connection,
    positions: &mut [Position],
    gone: &[usize],
) -> Result<(), WorkloadError> {
    let asked: Vec<(Rc<str>, i32)> = gone
        .iter()
        .map(|&i| (Rc::clone(&positions[i].topic), positions[i].partition))
        .collect();
    for (topic, partition, start) in connection.list_offsets(&asked, EARLIEST_TIMESTAMP).await? {
        let Some(&i) = gone
            .iter()
            .find(|&&i| positions[i].partition == partition && *positions[i].topic == *topic)
        else {
            continue;
        };
        eprintln!(
            "pinlog-bench: consume: {topic}/{partition}: offset {} is gone (retention); \
             resuming at the log start {start}",
            positions[i].next
        );
        positions[i].next = start;
    }
    Ok(())
}

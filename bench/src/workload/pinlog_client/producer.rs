//! One producer connection (per leader) as a glommio task: batches accumulate per partition
//! until `--batch-size` bytes or `--linger-ms`, then the ready batches of a leader go out in
//! one Produce request (up to `PRODUCE_REQUEST_BYTES_MAX`). Requests are pipelined, at most
//! `--max-in-flight` per connection (a semaphore permit per request). As in Kafka's producer,
//! a batch stays open until a request takes it: while every request slot of its leader is
//! taken, a ready batch goes on filling and a full one waits, and the generator waits only
//! when the partition it chose has a full batch still waiting (the back-pressure). So
//! `--linger-ms 0` sends whatever is there whenever a slot is free, and batches grow by
//! themselves as the broker slows. When a batch is acknowledged, each of its records'
//! latency is counted from the time that record was due, as the rdkafka driver's delivery
//! callbacks count it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{select, select_all, Either};
use glommio::sync::{Semaphore, StaticPermit};
use glommio::GlommioError;
use pinlog_protocol::records::{BatchBuilder, NewRecord};

use super::super::args::{LoadArgs, PRODUCE_REQUEST_BYTES_MAX};
use super::super::meter::Meter;
use super::super::payload::{fits_batch, Partitioner, Payloads};
use super::super::plan::{Plan, Tally};
use super::super::schedule::{share, stamp, wall_clock_ms, Pace, StopAt, PACE_SLEEP_MIN};
use super::super::WorkloadError;
use super::{client_error, Leaders, TaskResult};
use crate::client::{error_name, Connection, ProduceBatch};

/// Timeout the broker is given for a Produce request.
pub const PRODUCE_TIMEOUT_MS: i32 = 30_000;

/// The records of one partition waiting to be sent.
#[derive(Default)]
struct Pending {
    records: Vec<NewRecord>,
    bytes: u64,
    /// The most the records take in the batch (see `Payload::batch_bytes_max`).
    batch_bytes: u64,
    /// The next record does not fit: send it now.
    full: bool,
    /// When each record was due: the latency bases.
    dues: Vec<Instant>,
    /// When the first record was added: the linger start. Not the due time: a producer
    /// running behind a fixed-rate schedule would otherwise find every new batch's linger
    /// already over and send batches of one record, falling further behind.
    opened_at: Option<Instant>,
}

/// A built batch on its way: what to count when it is acknowledged.
struct InFlight {
    bytes: u64,
    dues: Vec<Instant>,
}

pub async fn run(args: Rc<LoadArgs>, plan: Rc<Plan>, index: u32, tally: Arc<Tally>) -> TaskResult {
    let result = produce(&args, &plan, index, &tally).await;
    tally.producer_finished();
    result
}

async fn produce(args: &LoadArgs, plan: &Plan, index: u32, tally: &Arc<Tally>) -> TaskResult {
    let Some(produce) = &plan.produce else {
        return Err(client_error(
            "a producer was started without a produce plan",
        ));
    };
    let timing = plan.timing;
    let leaders = Leaders::connect(&args.bootstrap, &produce.partitions).await?;
    let topics: Vec<(Rc<str>, i32)> = produce
        .partitions
        .iter()
        .map(|tp| (Rc::from(tp.topic.as_str()), tp.partition))
        .collect();
    let permits: Vec<Rc<Semaphore>> = leaders
        .connections
        .iter()
        .map(|_| Rc::new(Semaphore::new(u64::from(args.max_in_flight))))
        .collect();
    let meter = Rc::new(RefCell::new(Meter::new(
        timing.measure_from,
        produce.live.clone(),
    )));
    let mut pending: Vec<Pending> = produce
        .partitions
        .iter()
        .map(|_| Pending::default())
        .collect();
    let mut payloads = Payloads::new(
        args.message_size,
        args.keys,
        produce.stamped,
        u64::from(index) + 1,
    );
    let mut partitioner = Partitioner::new(produce.partitions.len(), args.batch_size.0, index);
    let mut pace = Pace::new(args.rate, timing.start, index, args.producers);
    let stop = StopAt {
        deadline: timing.deadline,
        records: produce
            .records
            .map(|total| share(total, args.producers, index)),
    };
    let linger = Duration::from_millis(args.linger_ms);
    let sender = Sender {
        args,
        leaders: &leaders,
        permits: &permits,
        topics: &topics,
        meter: &meter,
        tally,
    };
    let mut sent = 0u64;
    // One clock read per record: at a million records a second, reading the clock for each
    // use (due time, linger, timestamp) cost a tenth of the producer's core.
    let mut now = Instant::now();
    while let Some(due) = stop.next_due(&mut pace, now, sent) {
        // Until the record is due, send the batches that are full or whose linger ran out,
        // as request slots allow.
        loop {
            let ready = |p: &Pending| p.full || p.opened_at.is_some_and(|o| now >= o + linger);
            let blocked = sender.send_ready(&mut pending, ready, false).await?;
            if now >= due {
                break;
            }
            // Wake at the due time, at the end of a linger still running, or (if ready
            // batches wait for a slot) when a slot frees.
            let next_linger = pending
                .iter()
                .filter(|p| !ready(p))
                .filter_map(|p| p.opened_at)
                .min()
                .map(|first| first + linger);
            let wake = next_linger.map_or(due, |linger_end| linger_end.min(due));
            let sleep = wake.saturating_duration_since(now).max(PACE_SLEEP_MIN);
            sender.wait_for_slot_or(&blocked, sleep).await?;
            now = Instant::now();
        }
        let payload = payloads.next(stamp(due));
        let index = partitioner.choose(&payload);
        let record_bytes = payload.batch_bytes_max();
        if !fits_batch(pending[index].batch_bytes, record_bytes, args.batch_size.0) {
            pending[index].full = true;
        }
        // The batch is full and still waits for a slot: wait with it. A request may take
        // other full batches first (it carries up to PRODUCE_REQUEST_BYTES_MAX), hence the loop.
        while pending[index].full {
            sender.send_ready(&mut pending, |p| p.full, true).await?;
        }
        let slot = &mut pending[index];
        slot.bytes += payload.size_bytes();
        slot.batch_bytes += record_bytes;
        slot.dues.push(due);
        slot.opened_at.get_or_insert(now);
        slot.records.push(NewRecord {
            key: payload.key,
            value: Some(payload.value),
            headers: Vec::new(),
            timestamp: wall_clock_ms(now),
        });
        sent += 1;
        // Full if another record like this one would not fit: send it without waiting for
        // the linger (the partitioner has moved on, so no record may come to close it).
        if !fits_batch(slot.batch_bytes, record_bytes, args.batch_size.0) {
            slot.full = true;
            sender.send_ready(&mut pending, |p| p.full, false).await?;
        }
        glommio::yield_if_needed().await;
        now = Instant::now();
    }
    while pending.iter().any(|p| !p.records.is_empty()) {
        sender
            .send_ready(&mut pending, |p| !p.records.is_empty(), true)
            .await?;
    }
    // Every permit back means every request was answered.
    for semaphore in &permits {
        semaphore
            .acquire(u64::from(args.max_in_flight))
            .await
            .map_err(client_error)?;
    }
    let end = Instant::now();
    let meter =
        Rc::try_unwrap(meter).map_err(|_| client_error("a produce task outlived its producer"))?;
    Ok((meter.into_inner().finish(), end))
}

/// Sends batches and accounts for their acknowledgements.
struct Sender<'a> {
    args: &'a LoadArgs,
    leaders: &'a Leaders,
    permits: &'a [Rc<Semaphore>],
    topics: &'a [(Rc<str>, i32)],
    meter: &'a Rc<RefCell<Meter>>,
    tally: &'a Arc<Tally>,
}

impl Sender<'_> {
    /// Sends non-empty pending batches for which `ready` holds, one request per leader with a
    /// free slot (up to `PRODUCE_REQUEST_BYTES_MAX`, at least one batch). With `wait`, waits
    /// for a slot where there is none; without, leaves those batches pending and returns
    /// their leaders.
    async fn send_ready(
        &self,
        pending: &mut [Pending],
        ready: impl Fn(&Pending) -> bool,
        wait: bool,
    ) -> Result<Vec<usize>, WorkloadError> {
        let mut blocked = Vec::new();
        for (connection_index, connection) in self.leaders.connections.iter().enumerate() {
            let mut permit = None;
            let mut batches = Vec::new();
            let mut in_flight = Vec::new();
            let mut request_bytes = 0u64;
            for (partition_index, slot) in pending.iter_mut().enumerate() {
                if self.leaders.leader_of[partition_index] != connection_index
                    || slot.records.is_empty()
                    || !ready(slot)
                {
                    continue;
                }
                // The slot first: without one, the batches stay open and go on filling.
                if permit.is_none() {
                    permit = self.request_slot(connection_index, wait).await?;
                    if permit.is_none() {
                        blocked.push(connection_index);
                        break;
                    }
                }
                if request_bytes > 0 && request_bytes + slot.batch_bytes > PRODUCE_REQUEST_BYTES_MAX
                {
                    break;
                }
                request_bytes += slot.batch_bytes;
                let taken = std::mem::take(slot);
                let mut builder = BatchBuilder::new().compression(self.args.compression.codec());
                for record in taken.records {
                    builder.push(record);
                }
                let bytes = builder.build().map_err(client_error)?;
                batches.push(ProduceBatch {
                    topic: Rc::clone(&self.topics[partition_index].0),
                    partition: self.topics[partition_index].1,
                    records: bytes,
                });
                in_flight.push(InFlight {
                    bytes: taken.bytes,
                    dues: taken.dues,
                });
            }
            let Some(permit) = permit else {
                continue;
            };
            let request = Request {
                connection: Rc::clone(connection),
                meter: Rc::clone(self.meter),
                tally: Arc::clone(self.tally),
                acks: self.args.acks.wire_value(),
            };
            glommio::spawn_local(async move {
                request.send(batches, in_flight).await;
                drop(permit);
            })
            .detach();
        }
        Ok(blocked)
    }

    /// A request slot of the `connection`'s leader; with `wait` it waits for one, without it
    /// there is none while every slot is taken.
    async fn request_slot(
        &self,
        connection: usize,
        wait: bool,
    ) -> Result<Option<StaticPermit>, WorkloadError> {
        let semaphore = &self.permits[connection];
        let permit = if wait {
            semaphore.acquire_static_permit(1).await
        } else {
            semaphore.try_acquire_static_permit(1)
        };
        match permit {
            Ok(permit) => Ok(Some(permit)),
            Err(GlommioError::WouldBlock(_)) => Ok(None),
            Err(error) => Err(client_error(error)),
        }
    }

    /// Sleeps for `sleep`, or less if a request slot of one of the `blocked` leaders frees.
    async fn wait_for_slot_or(
        &self,
        blocked: &[usize],
        sleep: Duration,
    ) -> Result<(), WorkloadError> {
        let timer = Box::pin(glommio::timer::sleep(sleep));
        if blocked.is_empty() {
            timer.await;
            return Ok(());
        }
        // Taking a unit and giving it straight back: the caller takes the slot itself.
        let slot_free = select_all(blocked.iter().map(|&connection| {
            let semaphore = Rc::clone(&self.permits[connection]);
            Box::pin(async move {
                semaphore.acquire(1).await?;
                semaphore.signal(1);
                Ok::<(), GlommioError<()>>(())
            })
        }));
        match select(timer, slot_free).await {
            Either::Left(_) => Ok(()),
            Either::Right(((result, _, _), _)) => result.map_err(client_error),
        }
    }
}

/// One Produce request and its accounting.
struct Request {
    connection: Rc<Connection>,
    meter: Rc<RefCell<Meter>>,
    tally: Arc<Tally>,
    acks: i16,
}

impl Request {
    async fn send(self, batches: Vec<ProduceBatch>, in_flight: Vec<InFlight>) {
        let keys: Vec<(Rc<str>, i32)> = batches
            .iter()
            .map(|b| (Rc::clone(&b.topic), b.partition))
            .collect();
        let outcome = self
            .connection
            .produce(self.acks, PRODUCE_TIMEOUT_MS, batches)
            .await;
        let now = Instant::now();
        let mut meter = self.meter.borrow_mut();
        let results = match outcome {
            Ok(results) => results,
            Err(error) => {
                meter.error(now, error);
                return;
            }
        };
        for ((topic, partition), sent) in keys.iter().zip(&in_flight) {
            // acks=0 answers nothing: what was written counts as acknowledged.
            let error_code = results
                .iter()
                .find(|r| *r.topic == **topic && r.partition == *partition)
                .map_or(if self.acks == 0 { 0 } else { -1 }, |r| r.error_code);
            if error_code != 0 {
                let reason = format!(
                    "producing to {topic}/{partition}: {}",
                    error_name(error_code)
                );
                meter.error(now, reason);
                continue;
            }
            let records = sent.dues.len() as u64;
            meter.completed(now, records, sent.bytes);
            for due in &sent.dues {
                meter.latency(now, now.saturating_duration_since(*due), 1);
            }
            self.tally.acked.fetch_add(records, Ordering::AcqRel);
        }
    }
}

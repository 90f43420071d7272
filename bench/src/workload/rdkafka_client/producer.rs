//! One librdkafka producer connection on its own pinned thread.
//!
//! The thread sends on the schedule ([`Pace`]) and serves delivery callbacks with `poll`; the
//! callback runs on this same thread (a `BaseProducer` only calls back from `poll`), so the
//! meter's mutex is never contended. A full librdkafka queue is back-pressure: the thread
//! serves callbacks until there is room, and the record's latency still counts from when it
//! was due.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};

use super::super::args::LoadArgs;
use super::super::meter::Meter;
use super::super::payload::{Partitioner, Payloads};
use super::super::plan::{Plan, Tally, DRAIN_TIMEOUT};
use super::super::schedule::{share, stamp, Pace, StopAt};
use super::super::WorkloadError;
use super::{
    base_config, client_error, pin_current_thread, MESSAGE_TIMEOUT, PRODUCER_QUEUE_KIB_MAX,
    PRODUCER_QUEUE_MESSAGES_MAX,
};
use crate::report::Recorder;

/// How long to serve callbacks before retrying a send that found the queue full.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(1);
/// Sends between two non-blocking polls at max rate, so callbacks do not pile up.
const SENDS_PER_POLL: u64 = 64;

/// Per record: when it was due and how many payload bytes it carries.
struct Sent {
    due: Instant,
    bytes: u64,
}

/// Times each delivery into the thread's meter.
struct Deliveries {
    meter: Mutex<Option<Meter>>,
    tally: Arc<Tally>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Sent>) {
        let now = Instant::now();
        let Ok(mut guard) = self.meter.lock() else {
            return;
        };
        let Some(meter) = guard.as_mut() else { return };
        match result {
            Ok(_) => {
                meter.completed(now, 1, sent.bytes);
                meter.latency(now, now.saturating_duration_since(sent.due), 1);
                self.tally.acked.fetch_add(1, Ordering::AcqRel);
            }
            Err((error, _)) => meter.error(now, error),
        }
    }
}

/// Tells the tally this producer is done however the thread ends (consumers wait for it).
struct FinishGuard<'a>(&'a Tally);

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        self.0.producer_finished();
    }
}

/// Runs producer `index`; returns its recorder and the time of its last delivery.
pub fn run(
    args: &LoadArgs,
    plan: &Plan,
    index: u32,
    core: Option<usize>,
    tally: &Arc<Tally>,
) -> Result<(Recorder, Instant), WorkloadError> {
    let _finished = FinishGuard(tally);
    let Some(produce) = &plan.produce else {
        return Err(client_error(
            "a producer was started without a produce plan",
        ));
    };
    pin_current_thread(core)?;
    let timing = plan.timing;
    let context = Deliveries {
        meter: Mutex::new(Some(Meter::new(timing.measure_from, produce.live.clone()))),
        tally: Arc::clone(tally),
    };
    let producer: BaseProducer<Deliveries> = base_config(args)
        .set("acks", args.acks.wire_value().to_string())
        .set("compression.type", args.compression.name())
        .set("batch.size", args.batch_size.0.to_string())
        .set("linger.ms", args.linger_ms.to_string())
        .set(
            "max.in.flight.requests.per.connection",
            args.max_in_flight.to_string(),
        )
        .set(
            "queue.buffering.max.messages",
            PRODUCER_QUEUE_MESSAGES_MAX.to_string(),
        )
        .set(
            "queue.buffering.max.kbytes",
            PRODUCER_QUEUE_KIB_MAX.to_string(),
        )
        .set(
            "message.timeout.ms",
            MESSAGE_TIMEOUT.as_millis().to_string(),
        )
        .set("enable.idempotence", "false")
        .set("message.send.max.retries", "0")
        .create_with_context(context)
        .map_err(client_error)?;

    let seed = u64::from(index) + 1;
    let mut payloads = Payloads::new(args.message_size, args.keys, produce.stamped, seed);
    let mut partitioner = Partitioner::new(produce.partitions.len(), args.batch_size.0, index);
    let mut pace = Pace::new(args.rate, timing.start, index, args.producers);
    let stop = StopAt {
        deadline: timing.deadline,
        records: produce
            .records
            .map(|total| share(total, args.producers, index)),
    };
    let mut sent = 0u64;
    while let Some(due) = stop.next_due(&mut pace, Instant::now(), sent) {
        wait_until(&producer, due);
        let payload = payloads.next(stamp(due));
        let target = &produce.partitions[partitioner.choose(&payload)];
        let opaque = Box::new(Sent {
            due,
            bytes: payload.size_bytes(),
        });
        let mut record: BaseRecord<'_, [u8], [u8], Box<Sent>> =
            BaseRecord::with_opaque_to(&target.topic, opaque)
                .partition(target.partition)
                .payload(&payload.value[..]);
        if let Some(key) = &payload.key {
            record = record.key(&key[..]);
        }
        while let Err((error, returned)) = producer.send(record) {
            if error != KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) {
                return Err(client_error(format!("sending a record: {error}")));
            }
            producer.poll(QUEUE_FULL_WAIT);
            record = returned;
        }
        sent += 1;
        if sent.is_multiple_of(SENDS_PER_POLL) {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(DRAIN_TIMEOUT).map_err(|error| {
        client_error(format!(
            "records still unacknowledged {DRAIN_TIMEOUT:?} after sending stopped: {error}"
        ))
    })?;
    let end = Instant::now();
    let meter = producer
        .context()
        .meter
        .lock()
        .ok()
        .and_then(|mut guard| guard.take())
        .ok_or_else(|| client_error("the delivery meter was lost"))?;
    Ok((meter.finish(), end))
}

/// Serves delivery callbacks until `due`.
fn wait_until(producer: &BaseProducer<Deliveries>, due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        producer.poll(due - now);
    }
}

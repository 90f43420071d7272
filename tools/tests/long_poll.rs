//! A consumer parked in a long-poll Fetch on an empty partition gets a record within 100 ms of
//! its production: the append must wake the waiting fetch, not its `max.wait.ms` timer.

mod support;

use std::time::{Duration, Instant};

use rdkafka::consumer::BaseConsumer;
use rdkafka::message::Message;
use rdkafka::Offset;
use support::kafka;
use support::records::keyed_record;
use support::Broker;

const TOPIC: &str = "ticks";
const WAKE_LATENCY_MAX: Duration = Duration::from_millis(100);
/// Far above WAKE_LATENCY_MAX, so that a fetch answered by its timer, not woken by the append,
/// cannot pass.
const FETCH_WAIT_MAX_MS: u64 = 5_000;
const ROUNDS: usize = 5;
/// Time for a new consumer to fetch metadata, connect and send its first Fetch.
const CONSUMER_START_TIME: Duration = Duration::from_secs(1);
/// Time for the consumer to park its next Fetch on the broker before a record is sent.
const PARK_TIME: Duration = Duration::from_millis(300);

#[test]
fn an_append_wakes_a_waiting_fetch_within_100_ms() {
    let broker = Broker::start("long-poll", 1);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 2);
    let producer = kafka::producer(&broker, &[("acks", "1"), ("linger.ms", "0")]);
    // Connection and topic metadata are in place before anything is timed.
    kafka::send(&producer, TOPIC, 1, &keyed_record(0));
    kafka::flush(&producer);

    let fetch_wait_max_ms = FETCH_WAIT_MAX_MS.to_string();
    let consumer = kafka::consumer(
        &broker,
        &[
            ("fetch.wait.max.ms", &fetch_wait_max_ms),
            ("fetch.min.bytes", "1"),
        ],
    );
    // An absolute offset: a logical one (Beginning) costs a ListOffsets that librdkafka may
    // defer by its 500 ms offset-query backoff, during which nothing waits on the broker.
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Offset(0));
    poll_nothing_for(&consumer, CONSUMER_START_TIME);

    let mut latencies = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        poll_nothing_for(&consumer, PARK_TIME);
        let sent = Instant::now();
        kafka::send(&producer, TOPIC, 0, &keyed_record(round));
        let received = kafka::consume(&consumer, 1);
        latencies.push(sent.elapsed());
        assert_eq!(received[0].offset, round as i64);
    }
    kafka::flush(&producer);

    eprintln!("send-to-receive latency of each round: {latencies:?}");
    assert!(
        latencies.iter().all(|latency| *latency <= WAKE_LATENCY_MAX),
        "a record took longer than {WAKE_LATENCY_MAX:?} to reach the waiting consumer: \
         {latencies:?}"
    );
}

/// Polls (a BaseConsumer does its work in poll) for `duration`, expecting no record.
fn poll_nothing_for(consumer: &BaseConsumer, duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        match consumer.poll(Duration::from_millis(10)) {
            None => {}
            Some(Ok(message)) => panic!("unexpected record at offset {}", message.offset()),
            Some(Err(error)) => panic!("consumer error: {error}"),
        }
    }
}

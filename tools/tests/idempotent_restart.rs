//! A batch an idempotent producer resends after a SIGKILL and restart of the broker is still
//! recognised as a duplicate: the producer state is rebuilt from the log.
//!
//! The broker first runs with every Produce response dropped, so the producer keeps resending
//! batches that are already in the log; it is then killed and restarted without the switch,
//! and the producer's next resend must be answered as a duplicate, not appended again.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::producer::Producer;
use support::kafka;
use support::records::{keyed_record, Record};
use support::Broker;

/// What the broker logs (at warn) for each response its test switch drops.
const DROP_LOG_LINE: &str = "dropping a produce response";

const TOPIC: &str = "exactly-once-across-restarts";
const PARTITIONS: i32 = 2;
const RECORDS: usize = 2_000;
/// Long enough for several resends of every batch while no response arrives.
const UNANSWERED_PERIOD: Duration = Duration::from_secs(2);

#[test]
fn a_batch_resent_after_a_broker_restart_is_a_duplicate() {
    let mut broker = Broker::start_with_config(
        "idempotent-restart",
        1,
        Some("test_drop_every_nth_produce_response = 1\n"),
    );
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    let producer = kafka::producer(&broker, kafka::IDEMPOTENT);
    let mut expected: BTreeMap<i32, Vec<Record>> = BTreeMap::new();
    for index in 0..RECORDS {
        let partition = (index % PARTITIONS as usize) as i32;
        let record = keyed_record(index);
        kafka::send(&producer, TOPIC, partition, &record);
        expected.entry(partition).or_default().push(record);
    }
    let unanswered = Instant::now() + UNANSWERED_PERIOD;
    while Instant::now() < unanswered {
        producer.poll(Duration::from_millis(50));
    }
    assert_eq!(
        producer.context().delivered(),
        0,
        "a response got through the drop switch"
    );

    assert!(
        broker.stderr().contains(DROP_LOG_LINE),
        "the broker never dropped a response"
    );
    broker.kill9();
    broker.rewrite_config("");
    broker.restart();
    assert_eq!(kafka::flush(&producer), RECORDS);

    kafka::assert_topic_holds_exactly(&broker, TOPIC, &expected);
}

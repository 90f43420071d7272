//! An idempotent producer writes every record exactly once although the broker drops every
//! fifth Produce response (after the append) by closing the connection: librdkafka resends
//! the unanswered batches with their original sequence numbers, and the broker must recognise
//! them as duplicates.

mod support;

use std::collections::BTreeMap;

use support::kafka;
use support::records::{keyed_record, Record};
use support::Broker;

/// What the broker logs (at warn) for each response its test switch drops.
const DROP_LOG_LINE: &str = "dropping a produce response";

const TOPIC: &str = "exactly-once";
const PARTITIONS: i32 = 2;
const RECORDS: usize = 20_000;

#[test]
fn retries_after_dropped_responses_are_written_once() {
    let broker = Broker::start_with_config(
        "idempotent-dropped-responses",
        1,
        Some("test_drop_every_nth_produce_response = 5\n"),
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
    assert_eq!(kafka::flush(&producer), RECORDS);
    assert!(
        broker.stderr().contains(DROP_LOG_LINE),
        "the broker never dropped a response"
    );

    kafka::assert_topic_holds_exactly(&broker, TOPIC, &expected);
}

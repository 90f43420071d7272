//! Acknowledged records survive the broker's end: a SIGKILL (recovery) and a SIGTERM (clean
//! shutdown, exit status 0), each followed by a restart on the same data directory.

mod support;

use std::collections::BTreeMap;

use rdkafka::Offset;
use support::kafka;
use support::records::{assert_partitions_match, keyed_record, Record};
use support::Broker;

const TOPIC: &str = "durable";
const PARTITIONS: i32 = 3;
const RECORDS_PER_RUN: usize = 3_000;

#[test]
fn acknowledged_records_survive_kill_and_stop() {
    let mut broker = Broker::start("restart", 2);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    let mut expected: BTreeMap<i32, Vec<Record>> = BTreeMap::new();

    produce(&broker, 0, &mut expected);
    broker.kill9();
    broker.restart();
    assert_all_there(&broker, &expected);

    produce(&broker, RECORDS_PER_RUN, &mut expected);
    broker.restart();
    assert_all_there(&broker, &expected);
}

/// Produces RECORDS_PER_RUN records from `first` with acks=all and waits for every ack.
fn produce(broker: &Broker, first: usize, expected: &mut BTreeMap<i32, Vec<Record>>) {
    let producer = kafka::producer(broker, &[("acks", "all")]);
    for index in first..first + RECORDS_PER_RUN {
        let partition = (index % PARTITIONS as usize) as i32;
        let record = keyed_record(index);
        kafka::send(&producer, TOPIC, partition, &record);
        expected.entry(partition).or_default().push(record);
    }
    assert_eq!(kafka::flush(&producer), RECORDS_PER_RUN);
}

fn assert_all_there(broker: &Broker, expected: &BTreeMap<i32, Vec<Record>>) {
    let consumer = kafka::consumer(broker, &[]);
    kafka::assign(&consumer, TOPIC, 0..PARTITIONS, Offset::Beginning);
    let count = expected.values().map(Vec::len).sum();
    assert_partitions_match(expected, &kafka::consume(&consumer, count));
}

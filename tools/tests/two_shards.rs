//! Requests that span both shards: with `--shards 2` and 16 partitions each shard owns some, so
//! one Produce and one Fetch carry partitions of both, split over the mesh and reassembled.

mod support;

use std::collections::BTreeMap;

use rdkafka::consumer::Consumer;
use rdkafka::Offset;
use support::kafka::{self, TIMEOUT};
use support::records::{assert_partitions_match, keyed_record, Record};
use support::Broker;

const TOPIC: &str = "spread";
const PARTITIONS: i32 = 16;
const RECORDS: usize = 16_000;

#[test]
fn produce_to_and_consume_from_partitions_of_both_shards() {
    let owners: Vec<usize> = (0..PARTITIONS)
        .map(|partition| pinlog_shards::router::owner(TOPIC, partition, 2))
        .collect();
    assert!(
        owners.contains(&0) && owners.contains(&1),
        "both shards must own partitions of {TOPIC}: {owners:?}"
    );
    let broker = Broker::start("two-shards", 2);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, TOPIC, PARTITIONS);

    let producer = kafka::producer(&broker, &[("acks", "all"), ("linger.ms", "20")]);
    let mut expected: BTreeMap<i32, Vec<Record>> = BTreeMap::new();
    for index in 0..RECORDS {
        let partition = (index % PARTITIONS as usize) as i32;
        let record = keyed_record(index);
        kafka::send(&producer, TOPIC, partition, &record);
        expected.entry(partition).or_default().push(record);
    }
    assert_eq!(kafka::flush(&producer), RECORDS);

    let consumer = kafka::consumer(&broker, &[]);
    for partition in 0..PARTITIONS {
        let watermarks = consumer
            .fetch_watermarks(TOPIC, partition, TIMEOUT)
            .expect("ListOffsets");
        let count = expected[&partition].len() as i64;
        assert_eq!(watermarks, (0, count), "partition {partition}");
    }
    kafka::assign(&consumer, TOPIC, 0..PARTITIONS, Offset::Beginning);
    let consumed = kafka::consume(&consumer, RECORDS);
    assert_partitions_match(&expected, &consumed);
}

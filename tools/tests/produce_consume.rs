//! 100k keyed records per compression codec and per acks setting, produced to a multi-partition
//! topic and consumed back byte for byte (keys, values, headers) in per-partition order.

mod support;

use std::collections::BTreeMap;

use rdkafka::Offset;
use support::kafka;
use support::records::{assert_partitions_match, keyed_record, Record};
use support::Broker;

const RECORDS: usize = 100_000;
const PARTITIONS: i32 = 4;

/// Both acks settings, each on its own topic of one broker.
fn round_trip(codec: &str) {
    let broker = Broker::start(&format!("produce-consume-{codec}"), 1);
    let admin = kafka::admin(&broker);
    for acks in ["all", "1"] {
        let topic = format!("{codec}-acks-{acks}");
        kafka::create_topic(&admin, &topic, PARTITIONS);
        let producer = kafka::producer(
            &broker,
            &[
                ("acks", acks),
                ("compression.type", codec),
                ("linger.ms", "5"),
            ],
        );
        let mut expected: BTreeMap<i32, Vec<Record>> = BTreeMap::new();
        for index in 0..RECORDS {
            let partition = (index % PARTITIONS as usize) as i32;
            let record = keyed_record(index);
            kafka::send(&producer, &topic, partition, &record);
            expected.entry(partition).or_default().push(record);
        }
        assert_eq!(kafka::flush(&producer), RECORDS, "{topic}: delivered");

        let consumer = kafka::consumer(&broker, &[]);
        kafka::assign(&consumer, &topic, 0..PARTITIONS, Offset::Beginning);
        let consumed = kafka::consume(&consumer, RECORDS);
        assert_partitions_match(&expected, &consumed);
    }
}

#[test]
fn uncompressed() {
    round_trip("none");
}

#[test]
fn gzip() {
    round_trip("gzip");
}

#[test]
fn snappy() {
    round_trip("snappy");
}

#[test]
fn lz4() {
    round_trip("lz4");
}

#[test]
fn zstd() {
    round_trip("zstd");
}

//! ListOffsets: earliest and latest (librdkafka's watermarks) and by timestamp
//! (`offsets_for_times`), including a timestamp that falls inside a batch.

mod support;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use support::kafka::{self, TIMEOUT};
use support::records::keyed_record;
use support::Broker;

const TOPIC: &str = "timeline";
/// Records 0..SINGLES each go in a batch of their own, SINGLES..RECORDS share one batch.
const SINGLES: usize = 10;
const RECORDS: usize = 20;
const FIRST_TIMESTAMP_MS: i64 = 1_700_000_000_000;
const TIMESTAMP_STEP_MS: i64 = 10;

fn timestamp_of(index: usize) -> i64 {
    FIRST_TIMESTAMP_MS + TIMESTAMP_STEP_MS * index as i64
}

#[test]
fn earliest_latest_and_by_timestamp() {
    let broker = Broker::start("list-offsets", 1);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 2);
    let producer = kafka::producer(&broker, &[("acks", "all"), ("linger.ms", "100")]);
    for index in 0..SINGLES {
        kafka::send_at(
            &producer,
            TOPIC,
            0,
            &keyed_record(index),
            Some(timestamp_of(index)),
        );
        kafka::flush(&producer);
    }
    for index in SINGLES..RECORDS {
        kafka::send_at(
            &producer,
            TOPIC,
            0,
            &keyed_record(index),
            Some(timestamp_of(index)),
        );
    }
    assert_eq!(kafka::flush(&producer), RECORDS);

    let consumer = kafka::consumer(&broker, &[]);
    let watermarks = |partition| {
        consumer
            .fetch_watermarks(TOPIC, partition, TIMEOUT)
            .expect("ListOffsets earliest and latest")
    };
    assert_eq!(watermarks(0), (0, RECORDS as i64));
    assert_eq!(watermarks(1), (0, 0), "the empty partition");

    // Kafka answers the first offset whose timestamp is at or after the one asked for.
    let cases = [
        (FIRST_TIMESTAMP_MS - 60_000, Offset::Offset(0)),
        (timestamp_of(0), Offset::Offset(0)),
        (timestamp_of(5), Offset::Offset(5)),
        (timestamp_of(5) + 1, Offset::Offset(6)),
        (timestamp_of(SINGLES), Offset::Offset(SINGLES as i64)),
        (timestamp_of(15), Offset::Offset(15)),
        (timestamp_of(15) - 1, Offset::Offset(15)),
        (
            timestamp_of(RECORDS - 1),
            Offset::Offset(RECORDS as i64 - 1),
        ),
        (timestamp_of(RECORDS - 1) + 1, Offset::End),
    ];
    for (timestamp_ms, expected) in cases {
        assert_eq!(
            offset_for_time(&consumer, 0, timestamp_ms),
            expected,
            "offset for timestamp {timestamp_ms} (first record at {FIRST_TIMESTAMP_MS})"
        );
    }
    assert_eq!(
        offset_for_time(&consumer, 1, FIRST_TIMESTAMP_MS),
        Offset::End
    );

    // The timestamps the answers rest on are the ones produced.
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Beginning);
    let consumed = kafka::consume(&consumer, RECORDS);
    let timestamps: Vec<_> = consumed.iter().map(|record| record.timestamp_ms).collect();
    let produced: Vec<_> = (0..RECORDS)
        .map(|index| Some(timestamp_of(index)))
        .collect();
    assert_eq!(timestamps, produced);

    // Seeking by time then reading, as clients do: the answer lies inside the shared batch,
    // which the broker serves whole and the client trims.
    let Offset::Offset(start) = offset_for_time(&consumer, 0, timestamp_of(15)) else {
        panic!("no offset for the timestamp of record 15");
    };
    let consumer = kafka::consumer(&broker, &[]);
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Offset(start));
    let consumed = kafka::consume(&consumer, RECORDS - 15);
    let offsets: Vec<_> = consumed.iter().map(|record| record.offset).collect();
    assert_eq!(offsets, (15..RECORDS as i64).collect::<Vec<_>>());
    assert_eq!(consumed[0].record, keyed_record(15));
}

fn offset_for_time(consumer: &BaseConsumer, partition: i32, timestamp_ms: i64) -> Offset {
    let mut query = TopicPartitionList::new();
    query
        .add_partition_offset(TOPIC, partition, Offset::Offset(timestamp_ms))
        .expect("building the query");
    let answer = consumer
        .offsets_for_times(query, TIMEOUT)
        .expect("ListOffsets by timestamp");
    let element = answer
        .find_partition(TOPIC, partition)
        .expect("the partition in the answer");
    element.error().expect("no partition error");
    element.offset()
}

/// ListOffsets -3 (MAX_TIMESTAMP): the first record holding the largest timestamp, which with
/// CreateTime need not be in the last batch.
#[test]
fn max_timestamp_finds_the_record_with_the_largest_timestamp_wherever_it_is() {
    const SHUFFLED: &str = "shuffled";
    let broker = Broker::start("list-offsets-max", 1);
    kafka::create_topic(&kafka::admin(&broker), SHUFFLED, 1);
    let producer = kafka::producer(&broker, &[("acks", "all")]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Each in a batch of its own; the largest, +9 s, first at offset 1.
    for (index, delta_s) in [5, 9, 2, 9, 1, 3].into_iter().enumerate() {
        let at = now + delta_s * 1000;
        kafka::send_at(&producer, SHUFFLED, 0, &keyed_record(index), Some(at));
        kafka::flush(&producer);
    }
    let mut client =
        pinlog_tools::client::Client::connect(&broker.bootstrap()).expect("connecting");
    let found = client
        .offsets_for(SHUFFLED, &[0], -3)
        .expect("ListOffsets MAX_TIMESTAMP");
    assert_eq!(found, [(0, 1)]);
}

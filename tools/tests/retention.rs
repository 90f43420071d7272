//! Retention runs by itself: closed segments beyond a topic's `retention.bytes` are deleted
//! on the broker's `log_retention_check_interval_ms` timer and the log start offset moves
//! up, while everything still retained stays readable.

mod support;

use std::time::{Duration, Instant};

use rdkafka::admin::{NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Offset;
use support::kafka::{self, TIMEOUT};
use support::records::Record;
use support::Broker;

const TOPIC: &str = "retained";
const RECORDS: usize = 96;
const VALUE_BYTES: usize = 64 * 1024;
/// The smallest segments pinlog allows (1 MiB) and a 2 MiB limit, so 6 MiB of records roll
/// several segments and retention must delete some.
const SEGMENT_BYTES: &str = "1048576";
const RETENTION_BYTES: &str = "2097152";
const CONFIG: &str = "log_retention_check_interval_ms = 100\n";
/// How long retention may take to catch up: many check intervals.
const RETENTION_WAIT: Duration = Duration::from_secs(20);

#[test]
fn closed_segments_beyond_retention_bytes_are_deleted_on_the_timer() {
    let broker = Broker::start_with_config("retention", 1, Some(CONFIG));
    let admin = kafka::admin(&broker);
    let topic = NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))
        .set("segment.bytes", SEGMENT_BYTES)
        .set("retention.bytes", RETENTION_BYTES);
    let created =
        futures::executor::block_on(admin.create_topics([&topic], &kafka::admin_options()))
            .expect("CreateTopics request");
    assert_eq!(created, vec![Ok(TOPIC.to_string())]);

    // One record per batch, so that segments fill and roll at their size.
    let producer = kafka::producer(&broker, &[("acks", "all"), ("linger.ms", "0")]);
    for index in 0..RECORDS {
        let record = Record {
            key: Some(index.to_string().into_bytes()),
            value: Some(vec![index as u8; VALUE_BYTES]),
            headers: Vec::new(),
        };
        kafka::send(&producer, TOPIC, 0, &record);
    }
    assert_eq!(kafka::flush(&producer), RECORDS);

    let consumer: BaseConsumer = kafka::consumer(&broker, &[]);
    let deadline = Instant::now() + RETENTION_WAIT;
    let (low, high) = loop {
        let (low, high) = consumer
            .fetch_watermarks(TOPIC, 0, TIMEOUT)
            .expect("watermarks");
        if low > 0 || Instant::now() > deadline {
            break (low, high);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(high, RECORDS as i64);
    assert!(low > 0, "no segment was deleted within {RETENTION_WAIT:?}");
    assert!(low < high, "retention deleted the active segment");
    let segments = std::fs::read_dir(broker.data_dir().join(format!("{TOPIC}-0")))
        .expect("the partition directory")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".log"))
        .count();
    // 2 MiB kept in 1 MiB segments, plus the active one and one being erased at most.
    assert!(segments <= 5, "{segments} segment files remain");

    // What is retained is still there, from the new log start to the end.
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Beginning);
    let consumed = kafka::consume(&consumer, (high - low) as usize);
    assert_eq!(consumed.first().map(|c| c.offset), Some(low));
    assert_eq!(consumed.last().map(|c| c.offset), Some(high - 1));
    for consumed in &consumed {
        let value = consumed.record.value.as_deref().expect("a value");
        assert!(value.iter().all(|&b| b == consumed.offset as u8));
    }
}

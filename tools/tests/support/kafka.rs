//! librdkafka clients (through the rdkafka crate) set up the way the tests need them: producers
//! without idempotence and without hidden retries (a broker error must fail the test, not
//! vanish into a retry), consumers that are assigned partitions and never join a group or
//! commit (groups and idempotence are later issues).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{
    AdminClient, AdminOptions, ConfigSource, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

use super::records::{Consumed, Record};
use super::Broker;

/// Generous bound for any one client operation; tests wait this long only when they fail.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub type TestProducer = BaseProducer<DeliveryTally>;
pub type Admin = AdminClient<DefaultClientContext>;

/// Settings every client shares.
pub fn client_config(broker: &Broker) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", broker.bootstrap())
        .set("broker.address.family", "v4");
    config
}

/// A producer; `settings` (e.g. `acks`, `compression.type`) go over the defaults.
pub fn producer(broker: &Broker, settings: &[(&str, &str)]) -> TestProducer {
    let mut config = client_config(broker);
    config
        .set("enable.idempotence", "false")
        .set("message.send.max.retries", "0")
        .set("message.timeout.ms", TIMEOUT.as_millis().to_string());
    for (key, value) in settings {
        config.set(*key, *value);
    }
    config
        .create_with_context(DeliveryTally::default())
        .expect("creating a producer")
}

/// Counts delivery reports: successes, and failures with their reason.
#[derive(Default)]
pub struct DeliveryTally {
    delivered: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl DeliveryTally {
    /// Successful deliveries reported so far.
    pub fn delivered(&self) -> usize {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Failed deliveries reported so far, with their reasons.
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().expect("tally lock").clone()
    }
}

impl ClientContext for DeliveryTally {}

impl ProducerContext for DeliveryTally {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, message)) => {
                let failure = format!("partition {}: {error}", message.partition());
                self.failures.lock().expect("tally lock").push(failure);
            }
        }
    }
}

/// Queues `record` for `topic`/`partition`, waiting for room when librdkafka's queue is full.
pub fn send(producer: &TestProducer, topic: &str, partition: i32, record: &Record) {
    send_at(producer, topic, partition, record, None);
}

/// [`send`] with an explicit CreateTime timestamp.
pub fn send_at(
    producer: &TestProducer,
    topic: &str,
    partition: i32,
    record: &Record,
    timestamp_ms: Option<i64>,
) {
    let mut base = BaseRecord::<[u8], [u8]>::to(topic)
        .partition(partition)
        .headers(owned_headers(record));
    if let Some(key) = &record.key {
        base = base.key(key.as_slice());
    }
    if let Some(value) = &record.value {
        base = base.payload(value.as_slice());
    }
    if let Some(timestamp_ms) = timestamp_ms {
        base = base.timestamp(timestamp_ms);
    }
    loop {
        match producer.send(base) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                base = returned;
                producer.poll(Duration::from_millis(5));
            }
            Err((error, _)) => panic!("queueing a record for {topic}/{partition}: {error}"),
        }
    }
}

/// Waits for every delivery report, asserts that none failed, and returns how many succeeded.
pub fn flush(producer: &TestProducer) -> usize {
    producer.flush(TIMEOUT).expect("flushing the producer");
    let tally = producer.context();
    let failures = tally.failures.lock().expect("tally lock");
    assert!(
        failures.is_empty(),
        "{} deliveries failed; the first: {}",
        failures.len(),
        failures[0]
    );
    tally.delivered.load(Ordering::Relaxed)
}

fn owned_headers(record: &Record) -> OwnedHeaders {
    record
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: value.as_deref(),
            })
        })
}

/// A consumer with no group membership: partitions are assigned, offsets never committed.
pub fn consumer(broker: &Broker, settings: &[(&str, &str)]) -> BaseConsumer {
    let mut config = client_config(broker);
    config
        // librdkafka's assign() needs a group.id, though no group is joined.
        .set("group.id", "pinlog-tests-assign-only")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest");
    for (key, value) in settings {
        config.set(*key, *value);
    }
    config.create().expect("creating a consumer")
}

/// Assigns `partitions` of `topic`, each read from `offset`.
pub fn assign(consumer: &BaseConsumer, topic: &str, partitions: Range<i32>, offset: Offset) {
    let mut assignment = TopicPartitionList::new();
    for partition in partitions {
        assignment
            .add_partition_offset(topic, partition, offset)
            .expect("building the assignment");
    }
    consumer.assign(&assignment).expect("assigning partitions");
}

/// Polls until `count` records arrived. Fails after [`TIMEOUT`] without a new record, naming
/// the errors librdkafka reported meanwhile.
pub fn consume(consumer: &BaseConsumer, count: usize) -> Vec<Consumed> {
    let mut consumed = Vec::with_capacity(count);
    let mut errors = Vec::new();
    let mut last_progress = Instant::now();
    while consumed.len() < count {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                consumed.push(to_consumed(&message));
                last_progress = Instant::now();
            }
            Some(Err(error)) => errors.push(error.to_string()),
            None => {}
        }
        assert!(
            last_progress.elapsed() < TIMEOUT,
            "consumed {} of {count} records, then nothing for {TIMEOUT:?}; errors: {errors:?}",
            consumed.len()
        );
    }
    consumed
}

pub fn to_consumed(message: &BorrowedMessage<'_>) -> Consumed {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| (header.key.to_string(), header.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    Consumed {
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis(),
        record: Record {
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers,
        },
    }
}

pub fn admin(broker: &Broker) -> Admin {
    client_config(broker)
        .create()
        .expect("creating an admin client")
}

pub fn admin_options() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(TIMEOUT))
        .operation_timeout(Some(TIMEOUT))
}

/// The topic's own config overrides, sorted, as librdkafka's DescribeConfigs reports them.
pub fn topic_overrides(admin: &Admin, topic: &str) -> Vec<(String, String)> {
    let results = futures::executor::block_on(
        admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &admin_options()),
    )
    .expect("DescribeConfigs request");
    let [Ok(resource)] = &results[..] else {
        panic!("DescribeConfigs of {topic}: {results:?}");
    };
    let mut overrides: Vec<(String, String)> = resource
        .entries
        .iter()
        .filter(|entry| entry.source == ConfigSource::DynamicTopic)
        .map(|entry| (entry.name.clone(), entry.value.clone().unwrap_or_default()))
        .collect();
    overrides.sort();
    overrides
}

/// Creates a topic and fails the test unless the broker says it did.
pub fn create_topic(admin: &Admin, topic: &str, partitions: i32) {
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let results = futures::executor::block_on(admin.create_topics([&new_topic], &admin_options()))
        .expect("CreateTopics request");
    assert_eq!(results, vec![Ok(topic.to_string())], "creating {topic}");
}

/// The partition count of `topic` in a Metadata response for that one topic, or the topic's
/// error. Asked through a consumer, whose Metadata requests never auto-create the topic
/// (librdkafka's `allow.auto.create.topics` is false for consumers, true for producers).
pub fn partitions_in_metadata(consumer: &BaseConsumer, topic: &str) -> Result<usize, String> {
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("Metadata request");
    let [answer] = metadata.topics() else {
        panic!(
            "Metadata for {topic} answered {} topics",
            metadata.topics().len()
        );
    };
    assert_eq!(answer.name(), topic);
    match answer.error() {
        None => Ok(answer.partitions().len()),
        Some(error) => Err(format!("{:?}", RDKafkaErrorCode::from(error))),
    }
}

/// Name and partition count of every user topic (not `__`-prefixed internal ones) in a
/// Metadata response for all topics, sorted by name.
pub fn topics_in_metadata(admin: &Admin) -> Vec<(String, usize)> {
    let metadata = admin
        .inner()
        .fetch_metadata(None, TIMEOUT)
        .expect("Metadata request");
    let mut topics: Vec<_> = metadata
        .topics()
        .iter()
        .filter(|topic| !topic.name().starts_with("__"))
        .map(|topic| (topic.name().to_string(), topic.partitions().len()))
        .collect();
    topics.sort();
    topics
}

/// Waits until Metadata lists exactly `expected` (name, partitions), sorted by name: as in
/// Kafka, a created or deleted topic may take a moment to show in Metadata.
pub fn wait_for_topics(admin: &Admin, expected: &[(&str, usize)]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|(name, partitions)| (name.to_string(), *partitions))
        .collect();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let topics = topics_in_metadata(admin);
        if topics == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Metadata lists {topics:?}, not {expected:?}, after {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Producer settings for idempotence, with librdkafka's own retries (the harness's producer
/// has none) so that a lost response is resent with its original sequence numbers, and quick
/// reconnects (librdkafka backs off up to 10 s after repeated disconnects).
pub const IDEMPOTENT: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("message.send.max.retries", "2147483647"),
    ("reconnect.backoff.ms", "10"),
    ("reconnect.backoff.max.ms", "100"),
    ("linger.ms", "5"),
    ("batch.num.messages", "500"),
];

/// `topic` holds exactly `expected` (partition to records): every record once, in order, at
/// offsets from 0, and nothing after them (the high watermark says so).
pub fn assert_topic_holds_exactly(
    broker: &Broker,
    topic: &str,
    expected: &std::collections::BTreeMap<i32, Vec<Record>>,
) {
    let consumer = consumer(broker, &[]);
    let partitions = expected.keys().max().map_or(0, |last| last + 1);
    assign(&consumer, topic, 0..partitions, Offset::Beginning);
    let count = expected.values().map(Vec::len).sum();
    super::records::assert_partitions_match(expected, &consume(&consumer, count));
    for (partition, records) in expected {
        let (_, high) = consumer
            .fetch_watermarks(topic, *partition, TIMEOUT)
            .expect("ListOffsets");
        assert_eq!(
            high,
            records.len() as i64,
            "{topic}/{partition}: records in the log"
        );
    }
}

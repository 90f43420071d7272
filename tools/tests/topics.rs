//! CreateTopics, Metadata and DeleteTopics through librdkafka's AdminClient.

mod support;

use futures::executor::block_on;
use rdkafka::admin::{NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;
use support::kafka::{self, admin_options, partitions_in_metadata};
use support::Broker;

#[test]
fn created_topics_appear_in_metadata_and_deleted_ones_leave_it() {
    let broker = Broker::start("topics", 1);
    let admin = kafka::admin(&broker);
    let consumer = kafka::consumer(&broker, &[]);

    kafka::create_topic(&admin, "orders", 3);
    kafka::create_topic(&admin, "payments", 1);
    kafka::create_topic(&admin, "audit", 8);
    assert_eq!(partitions_in_metadata(&consumer, "orders"), Ok(3));
    assert_eq!(partitions_in_metadata(&consumer, "payments"), Ok(1));
    assert_eq!(partitions_in_metadata(&consumer, "audit"), Ok(8));

    let deleted = block_on(admin.delete_topics(&["orders", "audit"], &admin_options()))
        .expect("DeleteTopics request");
    assert_eq!(
        deleted,
        vec![Ok("orders".to_string()), Ok("audit".to_string())]
    );
    let unknown = Err("UnknownTopicOrPartition".to_string());
    assert_eq!(partitions_in_metadata(&consumer, "orders"), unknown);
    assert_eq!(partitions_in_metadata(&consumer, "audit"), unknown);
    assert_eq!(partitions_in_metadata(&consumer, "payments"), Ok(1));
}

/// librdkafka 2.12 asks for all topics with a Metadata v12 request whose null topic array is
/// written in 4 bytes instead of 1 (librdkafka issue 5049), so 3 bytes follow the body. Apache
/// Kafka does not check for trailing bytes and answers; so must pinlog.
#[test]
fn metadata_for_all_topics_lists_the_live_ones() {
    let broker = Broker::start("topics-all", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "orders", 3);
    kafka::create_topic(&admin, "audit", 8);
    kafka::wait_for_topics(&admin, &[("audit", 8), ("orders", 3)]);

    let deleted =
        block_on(admin.delete_topics(&["audit"], &admin_options())).expect("DeleteTopics request");
    assert_eq!(deleted, vec![Ok("audit".to_string())]);
    kafka::wait_for_topics(&admin, &[("orders", 3)]);
}

#[test]
fn creating_an_existing_topic_and_deleting_an_unknown_one_are_errors() {
    let broker = Broker::start("topics-errors", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "events", 2);

    let again = NewTopic::new("events", 4, TopicReplication::Fixed(1));
    let created =
        block_on(admin.create_topics([&again], &admin_options())).expect("CreateTopics request");
    assert_eq!(
        created,
        vec![Err((
            "events".to_string(),
            RDKafkaErrorCode::TopicAlreadyExists
        ))]
    );

    let deleted = block_on(admin.delete_topics(&["no-such-topic"], &admin_options()))
        .expect("DeleteTopics request");
    assert_eq!(
        deleted,
        vec![Err((
            "no-such-topic".to_string(),
            RDKafkaErrorCode::UnknownTopicOrPartition
        ))]
    );
    // The failed create left the topic as it was.
    let consumer = kafka::consumer(&broker, &[]);
    assert_eq!(partitions_in_metadata(&consumer, "events"), Ok(2));
}

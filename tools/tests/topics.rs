//! CreateTopics, Metadata and DeleteTopics through librdkafka's AdminClient.

mod support;

use futures::executor::block_on;
use rdkafka::admin::{NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;
use support::kafka::{self, admin_options};
use support::Broker;

#[test]
#[ignore = "needs the broker (issue 4)"]
fn created_topics_appear_in_metadata_and_deleted_ones_leave_it() {
    let broker = Broker::start("topics", 1);
    let admin = kafka::admin(&broker);

    kafka::create_topic(&admin, "orders", 3);
    kafka::create_topic(&admin, "payments", 1);
    kafka::create_topic(&admin, "audit", 8);
    kafka::wait_for_topics(&admin, &[("audit", 8), ("orders", 3), ("payments", 1)]);

    let deleted = block_on(admin.delete_topics(&["orders", "audit"], &admin_options()))
        .expect("DeleteTopics request");
    assert_eq!(
        deleted,
        vec![Ok("orders".to_string()), Ok("audit".to_string())]
    );
    kafka::wait_for_topics(&admin, &[("payments", 1)]);
}

#[test]
#[ignore = "needs the broker (issue 4)"]
fn creating_an_existing_topic_and_deleting_an_unknown_one_are_errors() {
    let broker = Broker::start("topics-errors", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "events", 2);
    kafka::wait_for_topics(&admin, &[("events", 2)]);

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
    assert_eq!(
        kafka::topics_in_metadata(&admin),
        vec![("events".to_string(), 2)]
    );
}

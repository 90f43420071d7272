//! The legacy AlterConfigs, as librdkafka's `rd_kafka_AlterConfigs` sends it: it replaces a
//! resource's whole set of overrides; a bad value changes nothing. (librdkafka sends a broker
//! resource to that broker, so another broker's resource is tested in the handler's unit
//! test.)

mod support;

use rdkafka::admin::{AlterConfig, ResourceSpecifier};

use support::kafka::{self, Admin};
use support::Broker;

const TOPIC: &str = "configured";

/// Sends one AlterConfigs request; the per-resource outcome is not reported by the crate.
fn alter(admin: &Admin, changes: &[AlterConfig<'_>]) {
    futures::executor::block_on(admin.alter_configs(changes, &kafka::admin_options()))
        .expect("AlterConfigs request");
}

#[test]
fn alter_configs_replaces_the_overrides_and_refuses_a_bad_value() {
    let broker = Broker::start("alter-configs", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, TOPIC, 1);
    let topic = || AlterConfig::new(ResourceSpecifier::Topic(TOPIC));

    let set_two = topic()
        .set("retention.ms", "3600000")
        .set("segment.ms", "600000");
    alter(&admin, &[set_two]);
    assert_eq!(
        kafka::topic_overrides(&admin, TOPIC),
        [
            ("retention.ms".to_string(), "3600000".to_string()),
            ("segment.ms".to_string(), "600000".to_string()),
        ]
    );

    // The whole set is replaced: what is left out returns to its default.
    let set_one = topic().set("retention.bytes", "1048576");
    alter(&admin, &[set_one]);
    assert_eq!(
        kafka::topic_overrides(&admin, TOPIC),
        [("retention.bytes".to_string(), "1048576".to_string())]
    );

    // A bad value changes nothing. (The rdkafka crate reports every resource of an
    // AlterConfigs result as a success, whatever its error code: the error itself is checked
    // with kafkajs, tests/clients/kafkajs_check.js.)
    let bad = topic().set("retention.ms", "soon");
    alter(&admin, &[bad]);
    assert_eq!(
        kafka::topic_overrides(&admin, TOPIC),
        [("retention.bytes".to_string(), "1048576".to_string())]
    );
}

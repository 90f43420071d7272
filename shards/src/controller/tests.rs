//! The controller's rules, without I/O: planning functions against a scratch metadata copy.

use super::*;

fn new_topic(name: &str, partitions: i32) -> NewTopic {
    NewTopic {
        name: name.into(),
        partitions,
        replication_factor: -1,
        assignments: Vec::new(),
        configs: Vec::new(),
    }
}

fn plan_creates(topics: &[NewTopic]) -> (Vec<ErrorCode>, ClusterMetadata) {
    let mut scratch = ClusterMetadata::default();
    let (outcomes, _) = plan(topics, &mut scratch, |t, m| create_topic(t, m, 3));
    (outcomes.into_iter().map(|o| o.error).collect(), scratch)
}

#[test]
fn creating_topics_follows_kafka_rules() {
    let mut bad_rf = new_topic("rf", 1);
    bad_rf.replication_factor = 3;
    let mut bad_config = new_topic("cfg", 1);
    bad_config.configs = vec![("retention.ms".into(), Some("soon".into()))];
    let mut unknown_config = new_topic("unknown", 1);
    unknown_config.configs = vec![("no.such.config".into(), Some("1".into()))];
    let (errors, metadata) = plan_creates(&[
        new_topic("a", 2),
        new_topic("a", 2),
        new_topic("default", -1),
        new_topic("zero", 0),
        new_topic("bad/name", 1),
        bad_rf,
        bad_config,
        unknown_config,
    ]);
    assert_eq!(
        errors,
        [
            ErrorCode::None,
            ErrorCode::TopicAlreadyExists,
            ErrorCode::None,
            ErrorCode::InvalidPartitions,
            ErrorCode::InvalidTopicException,
            ErrorCode::InvalidReplicationFactor,
            ErrorCode::InvalidConfig,
            ErrorCode::InvalidConfig,
        ]
    );
    assert_eq!(metadata.topic("default").unwrap().partitions, 3);
    assert_ne!(
        metadata.topic("a").unwrap().id,
        metadata.topic("default").unwrap().id
    );
}

#[test]
fn partitions_only_grow() {
    let (_, metadata) = plan_creates(&[new_topic("t", 4)]);
    let grow = |count| create_partitions(&("t".to_string(), count), &metadata).map(|_| ());
    assert!(grow(8).is_ok());
    assert_eq!(grow(4).unwrap_err().error, ErrorCode::InvalidPartitions);
    assert_eq!(grow(2).unwrap_err().error, ErrorCode::InvalidPartitions);
    let missing = create_partitions(&("nope".to_string(), 2), &metadata);
    assert_eq!(
        missing.unwrap_err().error,
        ErrorCode::UnknownTopicOrPartition
    );
}

#[test]
fn the_offsets_topic_is_neither_deleted_nor_grown() {
    let (_, metadata) = plan_creates(&[new_topic("__consumer_offsets", 4)]);
    let name = "__consumer_offsets".to_string();
    let deleted = delete_topic(&name, &metadata);
    assert_eq!(deleted.unwrap_err().error, ErrorCode::InvalidRequest);
    let grown = create_partitions(&(name, 8), &metadata);
    assert_eq!(grown.unwrap_err().error, ErrorCode::InvalidRequest);
}

#[test]
fn incremental_alter_sets_deletes_and_edits_lists() {
    let (_, mut metadata) = plan_creates(&[new_topic("t", 1)]);
    let change = |ops: Vec<(&str, i8, Option<&str>)>| ConfigChange {
        resource_type: RESOURCE_TOPIC,
        resource_name: "t".into(),
        ops: ops
            .into_iter()
            .map(|(n, op, v)| (n.to_string(), op, v.map(str::to_string)))
            .collect(),
        replace: false,
    };
    let records = alter_configs(
        &change(vec![
            ("retention.ms", OP_SET, Some("1000")),
            ("cleanup.policy", OP_APPEND, Some("compact")),
        ]),
        &metadata,
    )
    .unwrap();
    records.iter().for_each(|r| metadata.apply(r));
    let configs = &metadata.topic("t").unwrap().configs;
    assert_eq!(configs["retention.ms"], "1000");
    assert_eq!(configs["cleanup.policy"], "delete,compact");
    let records = alter_configs(
        &change(vec![
            ("retention.ms", OP_DELETE, None),
            ("cleanup.policy", OP_SUBTRACT, Some("delete")),
        ]),
        &metadata,
    )
    .unwrap();
    records.iter().for_each(|r| metadata.apply(r));
    let configs = &metadata.topic("t").unwrap().configs;
    assert!(!configs.contains_key("retention.ms"));
    assert_eq!(configs["cleanup.policy"], "compact");
    let refused = alter_configs(
        &change(vec![("retention.ms", OP_APPEND, Some("1"))]),
        &metadata,
    );
    assert_eq!(refused.unwrap_err().error, ErrorCode::InvalidConfig);
    let broker = ConfigChange {
        resource_type: RESOURCE_BROKER,
        resource_name: String::new(),
        ops: vec![("log.retention.ms".into(), OP_SET, Some("5000".into()))],
        replace: false,
    };
    assert!(alter_configs(&broker, &metadata).is_ok());
    let read_only = ConfigChange {
        ops: vec![("num.partitions".into(), OP_SET, Some("5".into()))],
        ..broker
    };
    assert_eq!(
        alter_configs(&read_only, &metadata).unwrap_err().error,
        ErrorCode::InvalidConfig
    );
}

#[test]
fn legacy_alter_replaces_every_override() {
    let (_, mut metadata) = plan_creates(&[new_topic("t", 1)]);
    let set = |configs: &[(&str, &str)], replace: bool| ConfigChange {
        resource_type: RESOURCE_TOPIC,
        resource_name: "t".into(),
        ops: configs
            .iter()
            .map(|(n, v)| (n.to_string(), OP_SET, Some(v.to_string())))
            .collect(),
        replace,
    };
    let apply = |metadata: &mut ClusterMetadata, change: &ConfigChange| {
        let records = alter_configs(change, metadata).unwrap();
        records.iter().for_each(|r| metadata.apply(r));
        metadata.topic("t").unwrap().configs.clone()
    };
    apply(
        &mut metadata,
        &set(&[("retention.ms", "1000"), ("segment.ms", "60000")], false),
    );
    // The legacy call names the whole set: what it leaves out goes back to the default.
    let configs = apply(&mut metadata, &set(&[("retention.bytes", "4096")], true));
    assert_eq!(configs.len(), 1, "{configs:?}");
    assert_eq!(configs["retention.bytes"], "4096");
    let configs = apply(&mut metadata, &set(&[], true));
    assert!(configs.is_empty(), "{configs:?}");
}

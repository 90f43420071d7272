//! Golden bytes for Metadata (key 3), written by hand from Apache Kafka's JSON message
//! specs. How the tests check them and how to read the listings: `support/mod.rs`.

mod support;

use pinlog_protocol::generated::metadata_request::{MetadataRequest, MetadataRequestTopic};
use pinlog_protocol::generated::metadata_response::{
    MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use pinlog_protocol::wire::Uuid;
use support::{golden, unknown, TOPIC_ID_A, TOPIC_ID_B};

// ---------------------------------------------------------------------------------------------
// Metadata (key 3): flexible from v9.

#[test]
fn metadata_request_v4() {
    let request = MetadataRequest {
        topics: Some(vec![
            MetadataRequestTopic {
                name: Some("orders".into()),
                ..Default::default()
            },
            MetadataRequestTopic {
                name: Some("payments".into()),
                ..Default::default()
            },
        ]),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x02][..], // Topics: array length 2 (nullable v1+)
        &[0x00, 0x06],                 // Topics[0].Name: length 6 (TopicId is v10+)
        b"orders",
        &[0x00, 0x08], // Topics[1].Name: length 8
        b"payments",
        &[0x00], // AllowAutoTopicCreation = false (v4+, default true)
    ]
    .concat();
    golden(&request, 4, &expected);
}

#[test]
fn metadata_request_v4_null_topics() {
    // A null topic array asks for every topic.
    let request = MetadataRequest {
        topics: None,
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    let expected = [
        0xff, 0xff, 0xff, 0xff, // Topics: null (-1)
        0x01, // AllowAutoTopicCreation = true
    ];
    golden(&request, 4, &expected);
}

#[test]
fn metadata_request_v12() {
    let request = MetadataRequest {
        topics: Some(vec![
            MetadataRequestTopic {
                topic_id: Uuid(TOPIC_ID_A),
                name: None,
                ..Default::default()
            },
            MetadataRequestTopic {
                topic_id: Uuid::ZERO,
                name: Some("orders".into()),
                ..Default::default()
            },
        ]),
        allow_auto_topic_creation: true,
        include_topic_authorized_operations: true,
        unknown_tagged_fields: vec![unknown(0, &[]), unknown(300, &[0xca, 0xfe])],
        ..Default::default()
    };
    let expected = [
        &[0x03][..], // Topics: compact length 2 + 1
        &TOPIC_ID_A, // Topics[0].TopicId (v10+)
        &[0x00],     // Topics[0].Name = null (nullable v10+)
        &[0x00],     // Topics[0] tagged fields: 0
        &[0x00; 16], // Topics[1].TopicId = zero
        &[0x07],     // Topics[1].Name: compact length 6 + 1
        b"orders",
        &[0x00], // Topics[1] tagged fields: 0
        &[0x01], // AllowAutoTopicCreation = true
        // IncludeClusterAuthorizedOperations is v8-v10 only: absent.
        &[0x01],       // IncludeTopicAuthorizedOperations = true (v8+)
        &[0x02],       // tagged fields: 2
        &[0x00],       //   tag 0 (unknown: this message has no tagged fields)
        &[0x00],       //   size 0
        &[0xac, 0x02], //   tag 300 (unknown)
        &[0x02],       //   size 2
        &[0xca, 0xfe], //   data
    ]
    .concat();
    golden(&request, 12, &expected);
}

#[test]
fn metadata_request_v12_multi_byte_varints() {
    // A 200-byte name and a 128-byte tagged field need two-byte uvarints.
    let name = "a".repeat(200);
    let request = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic {
            name: Some(name.clone()),
            ..Default::default()
        }]),
        allow_auto_topic_creation: false,
        unknown_tagged_fields: vec![unknown(1, &[0x5a; 128])],
        ..Default::default()
    };
    let expected = [
        &[0x02][..],   // Topics: compact length 1 + 1
        &[0x00; 16],   // Topics[0].TopicId = zero
        &[0xc9, 0x01], // Topics[0].Name: compact length 200 + 1 = 201 = 0x49 | 0x80, 0x01
        name.as_bytes(),
        &[0x00],       // Topics[0] tagged fields: 0
        &[0x00],       // AllowAutoTopicCreation = false
        &[0x00],       // IncludeTopicAuthorizedOperations = false
        &[0x01],       // tagged fields: 1
        &[0x01],       //   tag 1 (unknown)
        &[0x80, 0x01], //   size 128 = 0x00 | 0x80, 0x01
        &[0x5a; 128],  //   data
    ]
    .concat();
    golden(&request, 12, &expected);
}

#[test]
fn metadata_response_v4() {
    let response = MetadataResponse {
        throttle_time_ms: 0,
        brokers: vec![
            MetadataResponseBroker {
                node_id: 1,
                host: "b1".into(),
                port: 9092,
                rack: Some("r1".into()),
                ..Default::default()
            },
            MetadataResponseBroker {
                node_id: 2,
                host: "b2".into(),
                port: 9093,
                rack: None,
                ..Default::default()
            },
        ],
        cluster_id: Some("c1".into()),
        controller_id: 1,
        topics: vec![MetadataResponseTopic {
            error_code: 0,
            name: Some("t".into()),
            is_internal: false,
            partitions: vec![MetadataResponsePartition {
                error_code: 9,
                partition_index: 3,
                leader_id: 2,
                replica_nodes: vec![2, 1],
                isr_nodes: vec![2],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x00][..], // ThrottleTimeMs = 0 (v3+)
        &[0x00, 0x00, 0x00, 0x02],     // Brokers: array length 2
        &[0x00, 0x00, 0x00, 0x01],     // Brokers[0].NodeId = 1
        &[0x00, 0x02],                 // Brokers[0].Host: length 2
        b"b1",
        &[0x00, 0x00, 0x23, 0x84], // Brokers[0].Port = 9092
        &[0x00, 0x02],             // Brokers[0].Rack: length 2 (v1+)
        b"r1",
        &[0x00, 0x00, 0x00, 0x02], // Brokers[1].NodeId = 2
        &[0x00, 0x02],             // Brokers[1].Host: length 2
        b"b2",
        &[0x00, 0x00, 0x23, 0x85], // Brokers[1].Port = 9093
        &[0xff, 0xff],             // Brokers[1].Rack = null
        &[0x00, 0x02],             // ClusterId: length 2 (v2+)
        b"c1",
        &[0x00, 0x00, 0x00, 0x01], // ControllerId = 1 (v1+)
        &[0x00, 0x00, 0x00, 0x01], // Topics: array length 1
        &[0x00, 0x00],             // Topics[0].ErrorCode = 0
        &[0x00, 0x01],             // Topics[0].Name: length 1 (TopicId is v10+)
        b"t",
        &[0x00],                   // Topics[0].IsInternal = false (v1+)
        &[0x00, 0x00, 0x00, 0x01], // Topics[0].Partitions: array length 1
        &[0x00, 0x09],             //   ErrorCode = 9 (REPLICA_NOT_AVAILABLE)
        &[0x00, 0x00, 0x00, 0x03], //   PartitionIndex = 3
        &[0x00, 0x00, 0x00, 0x02], //   LeaderId = 2 (LeaderEpoch is v7+)
        &[0x00, 0x00, 0x00, 0x02], //   ReplicaNodes: array length 2
        &[0x00, 0x00, 0x00, 0x02], //     2
        &[0x00, 0x00, 0x00, 0x01], //     1
        &[0x00, 0x00, 0x00, 0x01], //   IsrNodes: array length 1
        &[0x00, 0x00, 0x00, 0x02], //     2 (OfflineReplicas is v5+)
                                   // TopicAuthorizedOperations and ClusterAuthorizedOperations are v8+: absent.
    ]
    .concat();
    golden(&response, 4, &expected);
}

#[test]
fn metadata_response_v12() {
    let response = MetadataResponse {
        throttle_time_ms: 5,
        brokers: vec![MetadataResponseBroker {
            node_id: 1,
            host: "b1".into(),
            port: 9092,
            rack: None,
            ..Default::default()
        }],
        cluster_id: None,
        controller_id: 1,
        topics: vec![
            MetadataResponseTopic {
                error_code: 3,
                name: None,
                topic_id: Uuid(TOPIC_ID_B),
                is_internal: false,
                partitions: vec![],
                topic_authorized_operations: i32::MIN,
                ..Default::default()
            },
            MetadataResponseTopic {
                error_code: 0,
                name: Some("t".into()),
                topic_id: Uuid(TOPIC_ID_A),
                is_internal: true,
                partitions: vec![MetadataResponsePartition {
                    error_code: 0,
                    partition_index: 0,
                    leader_id: 1,
                    leader_epoch: 7,
                    replica_nodes: vec![1],
                    isr_nodes: vec![1],
                    offline_replicas: vec![],
                    unknown_tagged_fields: vec![unknown(9, &[0x01])],
                }],
                topic_authorized_operations: 0xf8,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x05][..], // ThrottleTimeMs = 5
        &[0x02],                       // Brokers: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x01],     // Brokers[0].NodeId = 1
        &[0x03],                       // Brokers[0].Host: compact length 2 + 1
        b"b1",
        &[0x00, 0x00, 0x23, 0x84], // Brokers[0].Port = 9092
        &[0x00],                   // Brokers[0].Rack = null
        &[0x00],                   // Brokers[0] tagged fields: 0
        &[0x00],                   // ClusterId = null
        &[0x00, 0x00, 0x00, 0x01], // ControllerId = 1
        &[0x03],                   // Topics: compact length 2 + 1
        &[0x00, 0x03],             // Topics[0].ErrorCode = 3 (UNKNOWN_TOPIC_OR_PARTITION)
        &[0x00],                   // Topics[0].Name = null (nullable v12+)
        &TOPIC_ID_B,               // Topics[0].TopicId
        &[0x00],                   // Topics[0].IsInternal = false
        &[0x01],                   // Topics[0].Partitions: compact length 0 + 1
        &[0x80, 0x00, 0x00, 0x00], // Topics[0].TopicAuthorizedOperations = i32::MIN
        &[0x00],                   // Topics[0] tagged fields: 0
        &[0x00, 0x00],             // Topics[1].ErrorCode = 0
        &[0x02],                   // Topics[1].Name: compact length 1 + 1
        b"t",
        &TOPIC_ID_A,               // Topics[1].TopicId
        &[0x01],                   // Topics[1].IsInternal = true
        &[0x02],                   // Topics[1].Partitions: compact length 1 + 1
        &[0x00, 0x00],             //   ErrorCode = 0
        &[0x00, 0x00, 0x00, 0x00], //   PartitionIndex = 0
        &[0x00, 0x00, 0x00, 0x01], //   LeaderId = 1
        &[0x00, 0x00, 0x00, 0x07], //   LeaderEpoch = 7
        &[0x02],                   //   ReplicaNodes: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x01], //     1
        &[0x02],                   //   IsrNodes: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x01], //     1
        &[0x01],                   //   OfflineReplicas: compact length 0 + 1
        &[0x01],                   //   tagged fields: 1
        &[0x09],                   //     tag 9 (unknown)
        &[0x01],                   //     size 1
        &[0x01],                   //     data
        &[0x00, 0x00, 0x00, 0xf8], // Topics[1].TopicAuthorizedOperations = 248
        &[0x00],                   // Topics[1] tagged fields: 0
        // ClusterAuthorizedOperations is v8-v10 only: absent.
        &[0x00], // tagged fields: 0
    ]
    .concat();
    golden(&response, 12, &expected);
}

//! Golden bytes for the generated codecs, written by hand from Apache Kafka's JSON message specs
//! (`shared/kafka-message-specs/`), never produced by an encoder.
//!
//! Each test builds a message, then checks that `encode` writes exactly the listed bytes, that
//! `decode` of those bytes gives the message back, and that `encoded_len` is the byte count.
//! Every message is tested at one classic (non-flexible) version and one flexible version.
//!
//! Reminders for reading the listings:
//! - classic: string = i16 length + UTF-8 (null = -1); bytes, records and arrays = i32 length
//!   (null = -1).
//! - flexible: compact string, bytes, records and arrays = uvarint(length + 1) (0 = null), and
//!   every struct (the message, each array element, each struct field) ends with a tagged-field
//!   section: uvarint count, then per field uvarint tag, uvarint size, data, in ascending tag
//!   order. A known tagged field is written only when it differs from its default.

use bytes::Bytes;
use pinlog_protocol::generated::api_versions_request::ApiVersionsRequest;
use pinlog_protocol::generated::api_versions_response::{
    ApiVersion, ApiVersionsResponse, FinalizedFeatureKey, SupportedFeatureKey,
};
use pinlog_protocol::generated::fetch_request::{
    FetchPartition, FetchRequest, FetchTopic, ForgottenTopic,
};
use pinlog_protocol::generated::fetch_response::{
    AbortedTransaction, FetchResponse, FetchableTopicResponse, LeaderIdAndEpoch, PartitionData,
};
use pinlog_protocol::generated::metadata_request::{MetadataRequest, MetadataRequestTopic};
use pinlog_protocol::generated::metadata_response::{
    MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use pinlog_protocol::generated::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use pinlog_protocol::generated::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, ProduceResponse, TopicProduceResponse,
};
use pinlog_protocol::wire::{Message, RawTaggedField, Uuid, Writer};
use std::fmt::Debug;

/// Checks the three properties of a golden message at `version`.
fn golden<M: Message + PartialEq + Debug>(value: &M, version: i16, expected: &[u8]) {
    let mut writer = Writer::new();
    value
        .encode(&mut writer, version)
        .unwrap_or_else(|e| panic!("{} v{version}: encode failed: {e}", M::NAME));
    let encoded = writer.into_bytes();
    if encoded[..] != expected[..] {
        let at = encoded
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(encoded.len().min(expected.len()));
        panic!(
            "{} v{version}: encoded bytes differ first at offset {at}\n  expected ({} bytes): {}\n  actual   ({} bytes): {}",
            M::NAME,
            expected.len(),
            hex(expected),
            encoded.len(),
            hex(&encoded),
        );
    }

    let decoded = M::decode_from(Bytes::copy_from_slice(expected), version)
        .unwrap_or_else(|e| panic!("{} v{version}: decode failed: {e}", M::NAME));
    assert_eq!(
        &decoded,
        value,
        "{} v{version}: decode gave a different value",
        M::NAME
    );

    assert_eq!(
        value.encoded_len(version),
        expected.len(),
        "{} v{version}: encoded_len",
        M::NAME
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An opaque records payload: the codec carries records as bytes and never looks inside.
const RECORDS: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];

const TOPIC_ID_A: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];
const TOPIC_ID_B: [u8; 16] = [0xab; 16];

fn unknown(tag: u32, data: &[u8]) -> RawTaggedField {
    RawTaggedField {
        tag,
        data: Bytes::copy_from_slice(data),
    }
}

// ---------------------------------------------------------------------------------------------
// ApiVersions (key 18): flexible from v3.

#[test]
fn api_versions_request_v2() {
    // v0-v2 have no fields at all: the body is empty.
    golden(&ApiVersionsRequest::default(), 2, &[]);
}

#[test]
fn api_versions_request_v3() {
    let request = ApiVersionsRequest {
        client_software_name: "pinlog".into(),
        client_software_version: "0.1.0".into(),
        unknown_tagged_fields: vec![unknown(300, &[0xca, 0xfe])],
    };
    let expected = [
        &[0x07][..], // ClientSoftwareName: compact length 6 + 1
        b"pinlog",
        &[0x06], // ClientSoftwareVersion: compact length 5 + 1
        b"0.1.0",
        &[0x01],       // tagged fields: 1
        &[0xac, 0x02], //   tag 300 (unknown; uvarint 0x2c | 0x80, 0x02)
        &[0x02],       //   size 2
        &[0xca, 0xfe], //   data
    ]
    .concat();
    golden(&request, 3, &expected);
}

#[test]
fn api_versions_response_v2() {
    let response = ApiVersionsResponse {
        error_code: 35,
        api_keys: vec![
            ApiVersion {
                api_key: 0,
                min_version: 3,
                max_version: 9,
                ..Default::default()
            },
            ApiVersion {
                api_key: 18,
                min_version: 0,
                max_version: 4,
                ..Default::default()
            },
        ],
        throttle_time_ms: 100,
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x23][..],         // ErrorCode = 35 (UNSUPPORTED_VERSION)
        &[0x00, 0x00, 0x00, 0x02], // ApiKeys: array length 2
        &[0x00, 0x00],             // ApiKeys[0].ApiKey = 0
        &[0x00, 0x03],             // ApiKeys[0].MinVersion = 3
        &[0x00, 0x09],             // ApiKeys[0].MaxVersion = 9
        &[0x00, 0x12],             // ApiKeys[1].ApiKey = 18
        &[0x00, 0x00],             // ApiKeys[1].MinVersion = 0
        &[0x00, 0x04],             // ApiKeys[1].MaxVersion = 4
        &[0x00, 0x00, 0x00, 0x64], // ThrottleTimeMs = 100 (v1+)
    ]
    .concat();
    golden(&response, 2, &expected);
}

#[test]
fn api_versions_response_v3() {
    let response = ApiVersionsResponse {
        error_code: 0,
        api_keys: vec![ApiVersion {
            api_key: 18,
            min_version: 0,
            max_version: 4,
            ..Default::default()
        }],
        throttle_time_ms: 7,
        supported_features: vec![SupportedFeatureKey {
            name: "group.version".into(),
            min_version: 1,
            max_version: 2,
            ..Default::default()
        }],
        finalized_features_epoch: 5,
        finalized_features: vec![FinalizedFeatureKey {
            name: "group.version".into(),
            max_version_level: 2,
            min_version_level: 1,
            ..Default::default()
        }],
        // ZkMigrationReady (tag 3) stays at its default, false, so it is not written.
        zk_migration_ready: false,
        unknown_tagged_fields: vec![unknown(7, &[0x2a])],
    };
    let expected = [
        &[0x00, 0x00][..],         // ErrorCode = 0
        &[0x02],                   // ApiKeys: compact length 1 + 1
        &[0x00, 0x12],             // ApiKeys[0].ApiKey = 18
        &[0x00, 0x00],             // ApiKeys[0].MinVersion = 0
        &[0x00, 0x04],             // ApiKeys[0].MaxVersion = 4
        &[0x00],                   // ApiKeys[0] tagged fields: 0
        &[0x00, 0x00, 0x00, 0x07], // ThrottleTimeMs = 7
        &[0x04],                   // tagged fields: 4 (tags 0, 1, 2 and unknown 7)
        &[0x00],                   //   tag 0: SupportedFeatures
        &[0x14],                   //   size 20
        &[0x02],                   //     compact length 1 + 1
        &[0x0e],                   //     [0].Name: compact length 13 + 1
        b"group.version",
        &[0x00, 0x01],                                     //     [0].MinVersion = 1
        &[0x00, 0x02],                                     //     [0].MaxVersion = 2
        &[0x00],                                           //     [0] tagged fields: 0
        &[0x01],                                           //   tag 1: FinalizedFeaturesEpoch
        &[0x08],                                           //   size 8
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05], // = 5
        &[0x02],                                           //   tag 2: FinalizedFeatures
        &[0x14],                                           //   size 20
        &[0x02],                                           //     compact length 1 + 1
        &[0x0e],                                           //     [0].Name: compact length 13 + 1
        b"group.version",
        &[0x00, 0x02], //     [0].MaxVersionLevel = 2 (Max comes before Min in this struct)
        &[0x00, 0x01], //     [0].MinVersionLevel = 1
        &[0x00],       //     [0] tagged fields: 0
        &[0x07],       //   tag 7 (unknown)
        &[0x01],       //   size 1
        &[0x2a],       //   data
    ]
    .concat();
    golden(&response, 3, &expected);
}

#[test]
fn api_versions_response_v3_writes_no_default_tags() {
    // Known tagged fields at their defaults are left out, as Kafka does: librdkafka before 2.2
    // mis-parses an ApiVersions response that carries tagged fields (DESIGN.md, Protocol).
    let response = ApiVersionsResponse {
        error_code: 35,
        ..Default::default()
    };
    assert_eq!(response.finalized_features_epoch, -1, "spec default");
    let expected = [
        0x00, 0x23, // ErrorCode = 35 (UNSUPPORTED_VERSION)
        0x01, // ApiKeys: compact length 0 + 1
        0x00, 0x00, 0x00, 0x00, // ThrottleTimeMs = 0
        0x00, // tagged fields: 0 (features empty, epoch -1, ZkMigrationReady false)
    ];
    golden(&response, 3, &expected);
}

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

// ---------------------------------------------------------------------------------------------
// Produce (key 0): flexible from v9.

#[test]
fn produce_request_v3() {
    let request = ProduceRequest {
        transactional_id: Some("tx".into()),
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "t".into(),
            partition_data: vec![
                PartitionProduceData {
                    index: 0,
                    records: Some(Bytes::from_static(&RECORDS)),
                    ..Default::default()
                },
                PartitionProduceData {
                    index: 1,
                    records: None,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x02][..], // TransactionalId: length 2 (v3+)
        b"tx",
        &[0xff, 0xff],             // Acks = -1
        &[0x00, 0x00, 0x75, 0x30], // TimeoutMs = 30000
        &[0x00, 0x00, 0x00, 0x01], // TopicData: array length 1
        &[0x00, 0x01],             // TopicData[0].Name: length 1
        b"t",
        &[0x00, 0x00, 0x00, 0x02], // TopicData[0].PartitionData: array length 2
        &[0x00, 0x00, 0x00, 0x00], //   [0].Index = 0
        &[0x00, 0x00, 0x00, 0x04], //   [0].Records: length 4
        &RECORDS,
        &[0x00, 0x00, 0x00, 0x01], //   [1].Index = 1
        &[0xff, 0xff, 0xff, 0xff], //   [1].Records = null
    ]
    .concat();
    golden(&request, 3, &expected);
}

#[test]
fn produce_request_v9() {
    let request = ProduceRequest {
        transactional_id: None,
        acks: 1,
        timeout_ms: 1500,
        topic_data: vec![TopicProduceData {
            name: "t".into(),
            partition_data: vec![PartitionProduceData {
                index: 2,
                records: Some(Bytes::from_static(&RECORDS)),
                ..Default::default()
            }],
            ..Default::default()
        }],
        unknown_tagged_fields: vec![unknown(1, &[0x07])],
    };
    let expected = [
        &[0x00][..],               // TransactionalId = null
        &[0x00, 0x01],             // Acks = 1
        &[0x00, 0x00, 0x05, 0xdc], // TimeoutMs = 1500
        &[0x02],                   // TopicData: compact length 1 + 1
        &[0x02],                   // TopicData[0].Name: compact length 1 + 1
        b"t",
        &[0x02],                   // TopicData[0].PartitionData: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x02], //   [0].Index = 2
        &[0x05],                   //   [0].Records: compact length 4 + 1
        &RECORDS,
        &[0x00], //   [0] tagged fields: 0
        &[0x00], // TopicData[0] tagged fields: 0
        &[0x01], // tagged fields: 1
        &[0x01], //   tag 1 (unknown)
        &[0x01], //   size 1
        &[0x07], //   data
    ]
    .concat();
    golden(&request, 9, &expected);
}

#[test]
fn produce_response_v3() {
    let response = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![
                PartitionProduceResponse {
                    index: 0,
                    error_code: 0,
                    base_offset: 42,
                    log_append_time_ms: -1,
                    ..Default::default()
                },
                PartitionProduceResponse {
                    index: 1,
                    error_code: 6,
                    base_offset: -1,
                    log_append_time_ms: 1_700_000_000_000,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        throttle_time_ms: 10,
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x01][..], // Responses: array length 1
        &[0x00, 0x01],                 // Responses[0].Name: length 1
        b"t",
        &[0x00, 0x00, 0x00, 0x02], // Responses[0].PartitionResponses: array length 2
        &[0x00, 0x00, 0x00, 0x00], //   [0].Index = 0
        &[0x00, 0x00],             //   [0].ErrorCode = 0
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a], //   [0].BaseOffset = 42
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [0].LogAppendTimeMs = -1 (v2+)
        &[0x00, 0x00, 0x00, 0x01], //   [1].Index = 1
        &[0x00, 0x06],             //   [1].ErrorCode = 6 (NOT_LEADER_OR_FOLLOWER)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].BaseOffset = -1
        &[0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00], //   [1].LogAppendTimeMs = 1.7e12
        // LogStartOffset (v5+), RecordErrors and ErrorMessage (v8+) are absent.
        &[0x00, 0x00, 0x00, 0x0a], // ThrottleTimeMs = 10 (v1+)
    ]
    .concat();
    golden(&response, 3, &expected);
}

#[test]
fn produce_response_v9() {
    let response = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![PartitionProduceResponse {
                index: 0,
                error_code: 87,
                base_offset: -1,
                log_append_time_ms: -1,
                log_start_offset: 0,
                record_errors: vec![
                    BatchIndexAndErrorMessage {
                        batch_index: 2,
                        batch_index_error_message: Some("bad".into()),
                        ..Default::default()
                    },
                    BatchIndexAndErrorMessage {
                        batch_index: 5,
                        batch_index_error_message: None,
                        ..Default::default()
                    },
                ],
                error_message: Some("oops".into()),
                ..Default::default()
            }],
            unknown_tagged_fields: vec![unknown(4, &[0xaa, 0xbb])],
        }],
        throttle_time_ms: 0,
        ..Default::default()
    };
    let expected = [
        &[0x02][..], // Responses: compact length 1 + 1
        &[0x02],     // Responses[0].Name: compact length 1 + 1
        b"t",
        &[0x02],                   // Responses[0].PartitionResponses: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x00], //   Index = 0
        &[0x00, 0x57],             //   ErrorCode = 87 (INVALID_RECORD)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   BaseOffset = -1
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   LogAppendTimeMs = -1
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], //   LogStartOffset = 0
        &[0x03],                   //   RecordErrors: compact length 2 + 1
        &[0x00, 0x00, 0x00, 0x02], //     [0].BatchIndex = 2
        &[0x04],                   //     [0].BatchIndexErrorMessage: compact length 3 + 1
        b"bad",
        &[0x00],                   //     [0] tagged fields: 0
        &[0x00, 0x00, 0x00, 0x05], //     [1].BatchIndex = 5
        &[0x00],                   //     [1].BatchIndexErrorMessage = null
        &[0x00],                   //     [1] tagged fields: 0
        &[0x05],                   //   ErrorMessage: compact length 4 + 1
        b"oops",
        &[0x00],                   //   tagged fields: 0 (CurrentLeader, tag 0, is v10+)
        &[0x01],                   // Responses[0] tagged fields: 1
        &[0x04],                   //   tag 4 (unknown)
        &[0x02],                   //   size 2
        &[0xaa, 0xbb],             //   data
        &[0x00, 0x00, 0x00, 0x00], // ThrottleTimeMs = 0
        &[0x00],                   // tagged fields: 0 (NodeEndpoints, tag 0, is v10+)
    ]
    .concat();
    golden(&response, 9, &expected);
}

// ---------------------------------------------------------------------------------------------
// Fetch (key 1): flexible from v12.

#[test]
fn fetch_request_v4() {
    let request = FetchRequest {
        replica_id: -1,
        max_wait_ms: 500,
        min_bytes: 1,
        max_bytes: 52_428_800,
        isolation_level: 1,
        topics: vec![FetchTopic {
            topic: "t".into(),
            partitions: vec![FetchPartition {
                partition: 0,
                fetch_offset: 100,
                partition_max_bytes: 1_048_576,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let expected = [
        &[0xff, 0xff, 0xff, 0xff][..], // ReplicaId = -1 (v0-v14)
        &[0x00, 0x00, 0x01, 0xf4],     // MaxWaitMs = 500
        &[0x00, 0x00, 0x00, 0x01],     // MinBytes = 1
        &[0x03, 0x20, 0x00, 0x00],     // MaxBytes = 52428800 (v3+)
        &[0x01],                       // IsolationLevel = 1 (v4+)
        // SessionId and SessionEpoch are v7+: absent.
        &[0x00, 0x00, 0x00, 0x01], // Topics: array length 1
        &[0x00, 0x01],             // Topics[0].Topic: length 1
        b"t",
        &[0x00, 0x00, 0x00, 0x01], // Topics[0].Partitions: array length 1
        &[0x00, 0x00, 0x00, 0x00], //   Partition = 0 (CurrentLeaderEpoch is v9+)
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64], //   FetchOffset = 100
        &[0x00, 0x10, 0x00, 0x00], //   PartitionMaxBytes = 1048576 (LogStartOffset is v5+)
                                   // ForgottenTopicsData (v7+) and RackId (v11+) are absent.
    ]
    .concat();
    golden(&request, 4, &expected);
}

#[test]
fn fetch_request_v12() {
    let request = FetchRequest {
        cluster_id: Some("c1".into()),
        replica_id: -1,
        max_wait_ms: 500,
        min_bytes: 1,
        max_bytes: i32::MAX,
        isolation_level: 0,
        session_id: 7,
        session_epoch: 3,
        topics: vec![FetchTopic {
            topic: "t".into(),
            partitions: vec![FetchPartition {
                partition: 1,
                current_leader_epoch: 5,
                fetch_offset: 256,
                last_fetched_epoch: 4,
                log_start_offset: -1,
                partition_max_bytes: 1_048_576,
                ..Default::default()
            }],
            ..Default::default()
        }],
        forgotten_topics_data: vec![ForgottenTopic {
            topic: "old".into(),
            partitions: vec![0, 2],
            ..Default::default()
        }],
        rack_id: "rack-a".into(),
        unknown_tagged_fields: vec![unknown(9, &[0x01])],
        ..Default::default()
    };
    let expected = [
        &[0xff, 0xff, 0xff, 0xff][..], // ReplicaId = -1
        &[0x00, 0x00, 0x01, 0xf4],     // MaxWaitMs = 500
        &[0x00, 0x00, 0x00, 0x01],     // MinBytes = 1
        &[0x7f, 0xff, 0xff, 0xff],     // MaxBytes = i32::MAX
        &[0x00],                       // IsolationLevel = 0
        &[0x00, 0x00, 0x00, 0x07],     // SessionId = 7
        &[0x00, 0x00, 0x00, 0x03],     // SessionEpoch = 3
        &[0x02],                       // Topics: compact length 1 + 1
        &[0x02],                       // Topics[0].Topic: compact length 1 + 1 (v0-v12)
        b"t",
        &[0x02],                   // Topics[0].Partitions: compact length 1 + 1
        &[0x00, 0x00, 0x00, 0x01], //   Partition = 1
        &[0x00, 0x00, 0x00, 0x05], //   CurrentLeaderEpoch = 5
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00], //   FetchOffset = 256
        &[0x00, 0x00, 0x00, 0x04], //   LastFetchedEpoch = 4 (v12+)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   LogStartOffset = -1
        &[0x00, 0x10, 0x00, 0x00], //   PartitionMaxBytes = 1048576
        &[0x00],                   //   tagged fields: 0 (ReplicaDirectoryId is v17+)
        &[0x00],                   // Topics[0] tagged fields: 0
        &[0x02],                   // ForgottenTopicsData: compact length 1 + 1
        &[0x04],                   // ForgottenTopicsData[0].Topic: compact length 3 + 1
        b"old",
        &[0x03],                   // ForgottenTopicsData[0].Partitions: compact length 2 + 1
        &[0x00, 0x00, 0x00, 0x00], //   0
        &[0x00, 0x00, 0x00, 0x02], //   2
        &[0x00],                   // ForgottenTopicsData[0] tagged fields: 0
        &[0x07],                   // RackId: compact length 6 + 1
        b"rack-a",
        &[0x02], // tagged fields: 2
        &[0x00], //   tag 0: ClusterId
        &[0x03], //   size 3
        &[0x03], //     compact length 2 + 1
        b"c1",
        &[0x09], //   tag 9 (unknown; ReplicaState, tag 1, is v15+)
        &[0x01], //   size 1
        &[0x01], //   data
    ]
    .concat();
    golden(&request, 12, &expected);
}

#[test]
fn fetch_response_v4() {
    let response = FetchResponse {
        throttle_time_ms: 0,
        responses: vec![FetchableTopicResponse {
            topic: "t".into(),
            partitions: vec![
                PartitionData {
                    partition_index: 0,
                    error_code: 0,
                    high_watermark: 10,
                    last_stable_offset: 8,
                    aborted_transactions: Some(vec![AbortedTransaction {
                        producer_id: 7,
                        first_offset: 8,
                        ..Default::default()
                    }]),
                    records: Some(Bytes::from_static(&RECORDS)),
                    ..Default::default()
                },
                PartitionData {
                    partition_index: 1,
                    error_code: 1,
                    high_watermark: -1,
                    last_stable_offset: -1,
                    aborted_transactions: None,
                    records: None,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x00][..], // ThrottleTimeMs = 0 (v1+)
        // ErrorCode and SessionId are v7+: absent.
        &[0x00, 0x00, 0x00, 0x01], // Responses: array length 1
        &[0x00, 0x01],             // Responses[0].Topic: length 1
        b"t",
        &[0x00, 0x00, 0x00, 0x02], // Responses[0].Partitions: array length 2
        &[0x00, 0x00, 0x00, 0x00], //   [0].PartitionIndex = 0
        &[0x00, 0x00],             //   [0].ErrorCode = 0
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a], //   [0].HighWatermark = 10
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08], //   [0].LastStableOffset = 8 (v4+)
        &[0x00, 0x00, 0x00, 0x01], //   [0].AbortedTransactions: array length 1 (v4+)
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07], //     ProducerId = 7
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08], //     FirstOffset = 8
        &[0x00, 0x00, 0x00, 0x04], //   [0].Records: length 4
        &RECORDS,
        &[0x00, 0x00, 0x00, 0x01], //   [1].PartitionIndex = 1
        &[0x00, 0x01],             //   [1].ErrorCode = 1 (OFFSET_OUT_OF_RANGE)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].HighWatermark = -1
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].LastStableOffset = -1
        &[0xff, 0xff, 0xff, 0xff], //   [1].AbortedTransactions = null
        &[0xff, 0xff, 0xff, 0xff], //   [1].Records = null
    ]
    .concat();
    golden(&response, 4, &expected);
}

#[test]
fn fetch_response_v12() {
    let response = FetchResponse {
        throttle_time_ms: 0,
        error_code: 0,
        session_id: 9,
        responses: vec![FetchableTopicResponse {
            topic: "t".into(),
            partitions: vec![
                PartitionData {
                    partition_index: 0,
                    error_code: 0,
                    high_watermark: 100,
                    last_stable_offset: 100,
                    log_start_offset: 0,
                    aborted_transactions: Some(vec![]),
                    preferred_read_replica: -1,
                    records: Some(Bytes::from_static(&RECORDS)),
                    ..Default::default()
                },
                PartitionData {
                    partition_index: 1,
                    error_code: 6,
                    high_watermark: -1,
                    last_stable_offset: -1,
                    log_start_offset: -1,
                    current_leader: LeaderIdAndEpoch {
                        leader_id: 2,
                        leader_epoch: 7,
                        ..Default::default()
                    },
                    aborted_transactions: None,
                    preferred_read_replica: -1,
                    records: None,
                    unknown_tagged_fields: vec![unknown(5, &[0x2a])],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let expected = [
        &[0x00, 0x00, 0x00, 0x00][..], // ThrottleTimeMs = 0
        &[0x00, 0x00],                 // ErrorCode = 0 (v7+)
        &[0x00, 0x00, 0x00, 0x09],     // SessionId = 9 (v7+)
        &[0x02],                       // Responses: compact length 1 + 1
        &[0x02],                       // Responses[0].Topic: compact length 1 + 1 (v0-v12)
        b"t",
        &[0x03],                   // Responses[0].Partitions: compact length 2 + 1
        &[0x00, 0x00, 0x00, 0x00], //   [0].PartitionIndex = 0
        &[0x00, 0x00],             //   [0].ErrorCode = 0
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64], //   [0].HighWatermark = 100
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64], //   [0].LastStableOffset = 100
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], //   [0].LogStartOffset = 0
        &[0x01],                   //   [0].AbortedTransactions: compact length 0 + 1
        &[0xff, 0xff, 0xff, 0xff], //   [0].PreferredReadReplica = -1 (v11+)
        &[0x05],                   //   [0].Records: compact length 4 + 1
        &RECORDS,
        &[0x00], //   [0] tagged fields: 0 (all three tagged structs at default)
        &[0x00, 0x00, 0x00, 0x01], //   [1].PartitionIndex = 1
        &[0x00, 0x06], //   [1].ErrorCode = 6 (NOT_LEADER_OR_FOLLOWER)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].HighWatermark = -1
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].LastStableOffset = -1
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], //   [1].LogStartOffset = -1
        &[0x00], //   [1].AbortedTransactions = null
        &[0xff, 0xff, 0xff, 0xff], //   [1].PreferredReadReplica = -1
        &[0x00], //   [1].Records = null
        &[0x02], //   [1] tagged fields: 2
        &[0x01], //     tag 1: CurrentLeader
        &[0x09], //     size 9
        &[0x00, 0x00, 0x00, 0x02], //       LeaderId = 2
        &[0x00, 0x00, 0x00, 0x07], //       LeaderEpoch = 7
        &[0x00], //       tagged fields: 0
        &[0x05], //     tag 5 (unknown)
        &[0x01], //     size 1
        &[0x2a], //     data
        &[0x00], // Responses[0] tagged fields: 0
        &[0x00], // tagged fields: 0 (NodeEndpoints, tag 0, is v16+)
    ]
    .concat();
    golden(&response, 12, &expected);
}

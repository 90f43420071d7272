//! Golden bytes for Fetch (key 1), written by hand from Apache Kafka's JSON message
//! specs. How the tests check them and how to read the listings: `support/mod.rs`.

mod support;

use bytes::Bytes;
use pinlog_protocol::generated::fetch_request::{
    FetchPartition, FetchRequest, FetchTopic, ForgottenTopic,
};
use pinlog_protocol::generated::fetch_response::{
    AbortedTransaction, FetchResponse, FetchableTopicResponse, LeaderIdAndEpoch, PartitionData,
};
use support::{golden, unknown, RECORDS};

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

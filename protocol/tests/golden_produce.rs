//! Golden bytes for Produce (key 0), written by hand from Apache Kafka's JSON message
//! specs. How the tests check them and how to read the listings: `support/mod.rs`.

mod support;

use bytes::Bytes;
use pinlog_protocol::generated::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use pinlog_protocol::generated::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, ProduceResponse, TopicProduceResponse,
};
use support::{golden, unknown, RECORDS};

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

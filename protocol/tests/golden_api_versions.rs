//! Golden bytes for ApiVersions (key 18), written by hand from Apache Kafka's JSON message
//! specs. How the tests check them and how to read the listings: `support/mod.rs`.

mod support;

use pinlog_protocol::generated::api_versions_request::ApiVersionsRequest;
use pinlog_protocol::generated::api_versions_response::{
    ApiVersion, ApiVersionsResponse, FinalizedFeatureKey, SupportedFeatureKey,
};
use support::{golden, unknown};

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

//! Request header parsing before the body's schema is chosen, and the ApiVersions fallback.

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::api_versions_response::ApiVersion;
use pinlog_protocol::generated::*;
use pinlog_protocol::header::{
    decode_request, encode_api_versions_fallback, encode_request, encode_response, RequestError,
};
use pinlog_protocol::wire::{DecodeErrorKind, Message};

fn all_versions(_: ApiKey, _: i16) -> bool {
    true
}

fn frame_body(chunks: Vec<Bytes>) -> Bytes {
    let whole: Vec<u8> = chunks.concat();
    let size = i32::from_be_bytes(whole[..4].try_into().unwrap()) as usize;
    assert_eq!(size, whole.len() - 4, "size prefix");
    Bytes::from(whole[4..].to_vec())
}

#[test]
fn a_request_round_trips_through_a_frame_at_old_and_flexible_versions() {
    for version in [0, 3] {
        let header = RequestHeader {
            request_api_key: ApiKey::ApiVersions.key(),
            request_api_version: version,
            correlation_id: 42,
            client_id: Some("rdkafka".into()),
            ..Default::default()
        };
        let body = RequestBody::ApiVersions(ApiVersionsRequest {
            client_software_name: if version >= 3 {
                "librdkafka".into()
            } else {
                String::new()
            },
            client_software_version: if version >= 3 {
                "2.12".into()
            } else {
                String::new()
            },
            ..Default::default()
        });
        let frame = frame_body(encode_request(&header, &body).unwrap());
        let request = decode_request(frame, all_versions).unwrap();
        assert_eq!(request.api_key, ApiKey::ApiVersions);
        assert_eq!(request.correlation_id(), 42);
        assert_eq!(request.header.client_id.as_deref(), Some("rdkafka"));
        assert_eq!(request.body, body);
    }
}

#[test]
fn the_client_id_stays_a_classic_string_in_header_v2() {
    // Request header v2 is flexible, but ClientId has "flexibleVersions": "none".
    let header = RequestHeader {
        request_api_key: 18,
        request_api_version: 3,
        correlation_id: 1,
        client_id: Some("ab".into()),
        ..Default::default()
    };
    let bytes = header.encode_to_bytes(2).unwrap();
    assert_eq!(
        &bytes[..],
        &[0, 18, 0, 3, 0, 0, 0, 1, 0, 2, b'a', b'b', 0][..]
    );
}

#[test]
fn errors_keep_what_could_be_read() {
    assert_eq!(
        decode_request(Bytes::from_static(&[0, 1, 0]), all_versions),
        Err(RequestError::TooShort(3))
    );

    let unknown = Bytes::from_static(&[0x03, 0xe7, 0, 1, 0, 0, 0, 9]);
    let error = decode_request(unknown, all_versions).unwrap_err();
    assert_eq!(
        error,
        RequestError::UnknownApiKey {
            api_key: 999,
            api_version: 1,
            correlation_id: 9
        }
    );
    assert_eq!(error.correlation_id(), Some(9));

    let too_new = Bytes::from_static(&[0, 0, 0x7f, 0, 0, 0, 0, 7]);
    assert!(matches!(
        decode_request(too_new, all_versions),
        Err(RequestError::UnsupportedVersion {
            api_key: ApiKey::Produce,
            api_version: 0x7f00,
            correlation_id: 7
        })
    ));

    let not_served = Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0, 7]);
    let only_v9 = |_: ApiKey, version: i16| version == 9;
    assert!(matches!(
        decode_request(not_served, only_v9),
        Err(RequestError::UnsupportedVersion { .. })
    ));
}

#[test]
fn a_produce_request_declaring_2_pow_31_topics_is_an_error_not_an_allocation() {
    // The body of this 12-byte ProduceRequest v3 aborts kafka-protocol 0.18 with a 206 GB
    // allocation: null transactional id, acks, timeout, then a topic count of 2^31-1.
    let body = Bytes::from_static(&[0xff, 0xff, 0, 1, 0, 0, 0x75, 0x30, 0x7f, 0xff, 0xff, 0xff]);
    assert_eq!(body.len(), 12);
    let error = ProduceRequest::decode_from(body.clone(), 3).unwrap_err();
    assert_eq!(error.field, "ProduceRequest.TopicData");
    assert!(matches!(
        error.kind,
        DecodeErrorKind::CountExceedsFrame {
            count: 2147483647,
            ..
        }
    ));
    assert_eq!(error.message, "ProduceRequest");
    assert_eq!(error.version, 3);

    // The same through a whole frame with a header.
    let mut frame = vec![0, 0, 0, 3, 0, 0, 0, 5, 0xff, 0xff];
    frame.extend_from_slice(&body);
    match decode_request(Bytes::from(frame), all_versions) {
        Err(RequestError::Malformed {
            api_key: ApiKey::Produce,
            correlation_id: 5,
            source,
            ..
        }) => {
            assert_eq!(source.field, "ProduceRequest.TopicData");
        }
        other => panic!("expected a malformed-request error, got {other:?}"),
    }
}

#[test]
fn trailing_bytes_after_the_body_are_ignored_as_kafka_does() {
    // librdkafka 2.12 sends Metadata v12 for all topics with a null array written as four zero
    // bytes (a one-byte varint is right), leaving three bytes after the body.
    let header = RequestHeader {
        request_api_key: 3,
        request_api_version: 12,
        correlation_id: 4,
        client_id: Some("rdkafka".into()),
        ..Default::default()
    };
    let body = MetadataRequest {
        topics: None,
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    let frame = frame_body(encode_request(&header, &RequestBody::Metadata(body.clone())).unwrap());
    // Replace the one-byte null array (0x00) with the four zero bytes librdkafka writes.
    let header_len = frame.len() - body.encoded_len(12);
    let mut lying = frame[..header_len].to_vec();
    lying.extend_from_slice(&[0, 0, 0, 0]);
    lying.extend_from_slice(&frame[header_len + 1..]);
    let request = decode_request(Bytes::from(lying), all_versions).expect("served like Kafka");
    assert_eq!(request.correlation_id(), 4);
    assert!(matches!(
        request.body,
        RequestBody::Metadata(MetadataRequest { topics: None, .. })
    ));
}

#[test]
fn unsupported_api_versions_gets_a_v0_answer_listing_what_is_supported() {
    let supported = vec![
        ApiVersion {
            api_key: 0,
            min_version: 3,
            max_version: 11,
            ..Default::default()
        },
        ApiVersion {
            api_key: 18,
            min_version: 0,
            max_version: 4,
            ..Default::default()
        },
    ];
    let frame = frame_body(encode_api_versions_fallback(77, supported.clone()).unwrap());
    // Response header v0: the correlation id only, then the v0 body.
    assert_eq!(&frame[..4], &77i32.to_be_bytes());
    let body = ApiVersionsResponse::decode_from(frame.slice(4..), 0).unwrap();
    assert_eq!(body.error_code, ErrorCode::UnsupportedVersion.code());
    assert_eq!(body.api_keys, supported);
}

#[test]
fn responses_use_the_header_version_of_their_api_and_version() {
    let body = ResponseBody::Metadata(MetadataResponse::default());
    // Metadata v12 is flexible: response header v1 adds an (empty) tagged-field section.
    let flexible = frame_body(encode_response(12, 5, &body).unwrap());
    assert_eq!(&flexible[..5], &[0, 0, 0, 5, 0]);
    let classic = frame_body(encode_response(1, 5, &body).unwrap());
    assert_eq!(classic.len(), 4 + body.encoded_len(1));
    // ApiVersions v3 is flexible, but its response header stays v0.
    let api_versions = ResponseBody::ApiVersions(ApiVersionsResponse::default());
    let frame = frame_body(encode_response(3, 5, &api_versions).unwrap());
    assert_eq!(frame.len(), 4 + api_versions.encoded_len(3));
}

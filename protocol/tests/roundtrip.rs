//! Every generated message, at every valid version, survives encode -> decode unchanged, and
//! `encoded_len` is exact. Values are random (valid for the version) from a proptest seed.

use bytes::Bytes;
use pinlog_protocol::generated::*;
use pinlog_protocol::wire::{Message, Reader, Writer};
use proptest::prelude::*;
use rand::{rngs::SmallRng, SeedableRng};

fn check_request(api: ApiKey, version: i16, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let body = RequestBody::random(api, &mut rng, version);
    let mut writer = Writer::new();
    body.encode(&mut writer, version)
        .map_err(|e| TestCaseError::fail(format!("{api:?} v{version}: {e}")))?;
    let bytes = writer.into_bytes();
    prop_assert_eq!(
        bytes.len(),
        body.encoded_len(version),
        "{:?} v{} request length",
        api,
        version
    );
    let mut reader = Reader::new(bytes, "", version);
    let decoded = RequestBody::decode(api, &mut reader, version)
        .map_err(|e| TestCaseError::fail(format!("{api:?} v{version}: {e}")))?;
    prop_assert_eq!(reader.remaining(), 0);
    prop_assert_eq!(&decoded, &body, "{:?} v{} request", api, version);
    Ok(())
}

fn check_response(api: ApiKey, version: i16, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let body = ResponseBody::random(api, &mut rng, version);
    let mut writer = Writer::new();
    body.encode(&mut writer, version)
        .map_err(|e| TestCaseError::fail(format!("{api:?} v{version}: {e}")))?;
    let bytes = writer.into_bytes();
    prop_assert_eq!(
        bytes.len(),
        body.encoded_len(version),
        "{:?} v{} response length",
        api,
        version
    );
    let mut reader = Reader::new(bytes, "", version);
    let decoded = ResponseBody::decode(api, &mut reader, version)
        .map_err(|e| TestCaseError::fail(format!("{api:?} v{version}: {e}")))?;
    prop_assert_eq!(reader.remaining(), 0);
    prop_assert_eq!(&decoded, &body, "{:?} v{} response", api, version);
    Ok(())
}

fn check_message<M: Message + PartialEq + std::fmt::Debug>(
    random: impl Fn(&mut SmallRng, i16) -> M,
    seed: u64,
) -> Result<(), TestCaseError> {
    for version in M::VERSIONS.min..=M::VERSIONS.max {
        let mut rng = SmallRng::seed_from_u64(seed);
        let value = random(&mut rng, version);
        let bytes = value
            .encode_to_bytes(version)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bytes.len(), value.encoded_len(version));
        let decoded =
            M::decode_from(bytes, version).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded, value);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_request_round_trips(seed in any::<u64>()) {
        for &api in ApiKey::ALL {
            let versions = api.request_versions();
            for version in versions.min..=versions.max {
                check_request(api, version, seed ^ u64::from(api.key() as u16) << 32 ^ version as u64)?;
            }
        }
    }

    #[test]
    fn every_response_round_trips(seed in any::<u64>()) {
        for &api in ApiKey::ALL {
            let versions = api.response_versions();
            for version in versions.min..=versions.max {
                check_response(api, version, seed ^ u64::from(api.key() as u16) << 32 ^ version as u64)?;
            }
        }
    }

    #[test]
    fn headers_and_data_messages_round_trip(seed in any::<u64>()) {
        check_message(RequestHeader::random, seed)?;
        check_message(ResponseHeader::random, seed)?;
        check_message(ConsumerProtocolAssignment::random, seed)?;
        check_message(ConsumerProtocolSubscription::random, seed)?;
        check_message(DefaultPrincipalData::random, seed)?;
        check_message(KRaftVersionRecord::random, seed)?;
        check_message(LeaderChangeMessage::random, seed)?;
        check_message(SnapshotFooterRecord::random, seed)?;
        check_message(SnapshotHeaderRecord::random, seed)?;
        check_message(VotersRecord::random, seed)?;
    }
}

#[test]
fn every_api_key_0_to_87_is_generated() {
    for key in 0..=87 {
        let api = ApiKey::from_i16(key).unwrap_or_else(|| panic!("API key {key} missing"));
        assert_eq!(api.key(), key);
    }
    assert_eq!(ApiKey::ALL.len(), 88);
    assert_eq!(ApiKey::from_i16(88), None);
    assert_eq!(ApiKey::from_i16(-1), None);
}

#[test]
fn header_versions_follow_kafka() {
    assert_eq!(ApiKey::Produce.request_header_version(8), 1);
    assert_eq!(ApiKey::Produce.request_header_version(9), 2);
    assert_eq!(ApiKey::Produce.response_header_version(8), 0);
    assert_eq!(ApiKey::Produce.response_header_version(9), 1);
    assert_eq!(ApiKey::ControlledShutdown.request_header_version(0), 0);
    assert_eq!(ApiKey::ApiVersions.request_header_version(3), 2);
    assert_eq!(ApiKey::ApiVersions.response_header_version(3), 0);
}

#[test]
fn records_decode_as_slices_of_the_frame() {
    let records = Bytes::from(vec![7u8; 4096]);
    let request = ProduceRequest {
        acks: -1,
        timeout_ms: 1000,
        topic_data: vec![produce_request::TopicProduceData {
            name: "t".into(),
            partition_data: vec![produce_request::PartitionProduceData {
                index: 0,
                records: Some(records.clone()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    for version in [3, 9] {
        let mut writer = Writer::new();
        request.encode(&mut writer, version).unwrap();
        let chunks = writer.into_chunks();
        // The records went out as their own chunk, not copied.
        assert!(chunks
            .iter()
            .any(|c| c.as_ptr() == records.as_ptr() && c.len() == records.len()));
        let frame: Bytes = chunks.concat().into();
        let decoded = ProduceRequest::decode_from(frame.clone(), version).unwrap();
        let got = decoded.topic_data[0].partition_data[0]
            .records
            .as_ref()
            .unwrap();
        assert_eq!(got, &records);
        // The decoded records point into the frame buffer.
        let frame_range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
        assert!(frame_range.contains(&(got.as_ptr() as usize)));
    }
}

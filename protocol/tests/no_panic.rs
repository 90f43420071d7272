//! Arbitrary bytes into every decoder never panic: each input decodes or returns a typed error.
//! Pure noise rarely gets past the first field, so valid encodings are also mutated (bytes
//! overwritten, lengths bent, truncated), which reaches every nested decoder.

use bytes::Bytes;
use pinlog_protocol::generated::*;
use pinlog_protocol::header::decode_request;
use pinlog_protocol::wire::{Reader, Writer};
use proptest::prelude::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};

fn decode_both_ways(api: ApiKey, version: i16, bytes: &Bytes) {
    let _ = RequestBody::decode(api, &mut Reader::new(bytes.clone(), "", version), version);
    let _ = ResponseBody::decode(api, &mut Reader::new(bytes.clone(), "", version), version);
}

fn mutate(rng: &mut SmallRng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..4) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.gen_range(0..bytes.len());
        match rng.gen_range(0..4) {
            0 => bytes[at] = rng.gen(),
            1 => bytes[at] = 0xff,
            2 => bytes[at] = 0x7f,
            _ => bytes.truncate(at),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn noise_into_every_body_decoder(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let bytes = Bytes::from(data);
        for &api in ApiKey::ALL {
            let versions = api.request_versions();
            for version in versions.min.saturating_sub(1)..=versions.max.saturating_add(1) {
                decode_both_ways(api, version, &bytes);
            }
        }
    }

    #[test]
    fn noise_into_the_request_decoder(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_request(Bytes::from(data), |_, _| true);
    }

    #[test]
    fn mutated_valid_messages_into_every_decoder(seed in any::<u64>()) {
        let mut rng = SmallRng::seed_from_u64(seed);
        for &api in ApiKey::ALL {
            let versions = api.request_versions();
            for version in versions.min..=versions.max {
                let mut writer = Writer::new();
                RequestBody::random(api, &mut rng, version).encode(&mut writer, version).unwrap();
                let request = mutate(&mut rng, writer.into_bytes().to_vec());
                decode_both_ways(api, version, &Bytes::from(request));
                let mut writer = Writer::new();
                ResponseBody::random(api, &mut rng, version).encode(&mut writer, version).unwrap();
                let response = mutate(&mut rng, writer.into_bytes().to_vec());
                decode_both_ways(api, version, &Bytes::from(response));
            }
        }
    }
}

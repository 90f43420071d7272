//! Requests and responses: decode, re-encode, decode again.
//!
//! The property is the codec's fixed point: for any bytes that decode to a value `x`,
//! `encode(x)` has exactly `encoded_len(x)` bytes, decodes back to `x`, and encoding that
//! again gives the same bytes. (The input itself need not come back byte for byte: a varint may
//! have been written with padding, for instance.) Values holding a NaN `f64` (client quotas)
//! are not equal to themselves, so for those only the bytes are compared.

use bytes::{Bytes, BytesMut};
use pinlog_protocol::generated::{ApiKey, ResponseBody};
use pinlog_protocol::header::{decode_request, encode_request, Request, RequestError};
use pinlog_protocol::wire::{Reader, Writer};

/// Decodes `data` as a request frame (without its size prefix), accepting every version the
/// codec knows, then checks the round trip.
pub fn check_request(data: &[u8]) {
    let request = match decode_request(Bytes::copy_from_slice(data), |_, _| true) {
        Ok(request) => request,
        Err(error) => return check_request_error(data, &error),
    };
    let frame = encode_request_frame(&request);
    let again = decode_request(frame.clone(), |_, _| true)
        .unwrap_or_else(|e| panic!("re-encoded {:?} does not decode: {e}", request.api_key));
    let frame_again = encode_request_frame(&again);
    assert_eq!(frame, frame_again, "re-encoding is not stable");
    assert_same(&request, &again, "request");
}

/// Bytes before a response body that choose what it is: API key, then version, each a
/// big-endian u16 taken modulo the valid range.
pub const RESPONSE_SELECTOR_BYTES: usize = 4;

/// The API key and version that a response input's selector bytes choose.
pub fn response_selector(selector: [u8; RESPONSE_SELECTOR_BYTES]) -> (ApiKey, i16) {
    let key_index = usize::from(u16::from_be_bytes([selector[0], selector[1]]));
    let api_key = ApiKey::ALL[key_index % ApiKey::ALL.len()];
    let versions = api_key.response_versions();
    let span = i32::from(versions.max) - i32::from(versions.min) + 1;
    let offset = i32::from(u16::from_be_bytes([selector[2], selector[3]])) % span;
    let version = i16::try_from(i32::from(versions.min) + offset).expect("within the range");
    (api_key, version)
}

/// Decodes the bytes after the selector as a whole response body, then checks the round trip.
pub fn check_response(data: &[u8]) {
    let Some((selector, body)) = data.split_first_chunk::<RESPONSE_SELECTOR_BYTES>() else {
        return;
    };
    let (api_key, version) = response_selector(*selector);
    let Some(response) = decode_response(api_key, version, Bytes::copy_from_slice(body)) else {
        return;
    };
    let bytes = encode_response_body(&response, version);
    let again = decode_response(api_key, version, bytes.clone())
        .unwrap_or_else(|| panic!("re-encoded {api_key:?} v{version} response does not decode"));
    assert_eq!(
        bytes,
        encode_response_body(&again, version),
        "re-encoding is not stable"
    );
    assert_same(&response, &again, "response");
}

/// A frame too short for the fixed header prefix has no correlation id; any longer one keeps
/// the one at bytes 4..8, so that the broker can answer with an error.
fn check_request_error(data: &[u8], error: &RequestError) {
    match data.get(4..8) {
        Some(id) => {
            let id = i32::from_be_bytes([id[0], id[1], id[2], id[3]]);
            assert_eq!(error.correlation_id(), Some(id), "{error}");
        }
        None => assert!(matches!(error, RequestError::TooShort(_)), "{error}"),
    }
}

/// The request as a client sends it, minus the size prefix, after checking that the prefix
/// (computed from `encoded_len`) matches the bytes written.
fn encode_request_frame(request: &Request) -> Bytes {
    let chunks = encode_request(&request.header, &request.body)
        .unwrap_or_else(|e| panic!("decoded {:?} does not re-encode: {e}", request.api_key));
    let mut frame = BytesMut::new();
    for chunk in &chunks {
        frame.extend_from_slice(chunk);
    }
    let mut frame = frame.freeze();
    let prefix = frame.split_to(4);
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    assert_eq!(
        usize::try_from(size).ok(),
        Some(frame.len()),
        "{:?} v{}: size prefix (from encoded_len) differs from the bytes written",
        request.api_key,
        request.api_version()
    );
    frame
}

fn decode_response(api_key: ApiKey, version: i16, body: Bytes) -> Option<ResponseBody> {
    let mut reader = Reader::new(body, "ResponseBody", version);
    let response = ResponseBody::decode(api_key, &mut reader, version).ok()?;
    reader.expect_end("ResponseBody").ok()?;
    Some(response)
}

fn encode_response_body(response: &ResponseBody, version: i16) -> Bytes {
    let api_key = response.api_key();
    let expected_len = response.encoded_len(version);
    let mut writer = Writer::with_capacity(expected_len);
    response.encode(&mut writer, version).unwrap_or_else(|e| {
        panic!("decoded {api_key:?} v{version} response does not re-encode: {e}")
    });
    let bytes = writer.into_bytes();
    assert_eq!(
        bytes.len(),
        expected_len,
        "{api_key:?} v{version}: encoded_len differs from the bytes written"
    );
    bytes
}

/// `x == decode(encode(x))`, except through a NaN (whose bytes were already compared).
fn assert_same<T: PartialEq + std::fmt::Debug>(first: &T, again: &T, what: &str) {
    if first != again {
        let first = format!("{first:?}");
        assert!(
            first.contains("NaN"),
            "{what} changed through encode/decode:\n{first}\n{again:?}"
        );
    }
}

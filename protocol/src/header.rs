//! Request and response headers, and the step from a frame to a typed request.
//!
//! A request frame starts with api key (int16), api version (int16) and correlation id (int32)
//! in every header version, so those are read first; the header version (0, 1 or 2) and the
//! body's schema follow from them. Errors keep whatever was readable, so that the caller can
//! answer with the right correlation id or, if not even that could be read, close the
//! connection.
//!
//! The ApiVersions rule (KIP-511): a client that sends an ApiVersions version the broker does
//! not support gets a version 0 response with UNSUPPORTED_VERSION and the full list of
//! supported APIs, so it can retry at a version both sides know; see
//! [`encode_api_versions_fallback`].

use bytes::Bytes;

use crate::error_code::ErrorCode;
use crate::frame::FRAME_PREFIX_BYTES;
use crate::generated::api_versions_response::ApiVersion;
use crate::generated::{
    ApiKey, ApiVersionsResponse, RequestBody, RequestHeader, ResponseBody, ResponseHeader,
};
use crate::wire::{DecodeError, EncodeError, Message, Reader, Writer};

/// Bytes of the fields every request header version starts with.
const REQUEST_HEADER_PREFIX_BYTES: usize = 8;

/// A request read from a frame: its header and its typed body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub api_key: ApiKey,
    pub header: RequestHeader,
    pub body: RequestBody,
}

impl Request {
    pub fn api_version(&self) -> i16 {
        self.header.request_api_version
    }

    pub fn correlation_id(&self) -> i32 {
        self.header.correlation_id
    }
}

/// Why a frame did not yield a request. Every variant but `TooShort` carries the correlation id.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("a {0}-byte frame cannot hold a request header")]
    TooShort(usize),
    #[error("unknown API key {api_key} (version {api_version}, correlation id {correlation_id})")]
    UnknownApiKey {
        api_key: i16,
        api_version: i16,
        correlation_id: i32,
    },
    #[error(
        "{api_key:?} version {api_version} is not supported (correlation id {correlation_id})"
    )]
    UnsupportedVersion {
        api_key: ApiKey,
        api_version: i16,
        correlation_id: i32,
    },
    #[error(
        "malformed {api_key:?} v{api_version} request (correlation id {correlation_id}): {source}"
    )]
    Malformed {
        api_key: ApiKey,
        api_version: i16,
        correlation_id: i32,
        source: DecodeError,
    },
}

impl RequestError {
    /// The correlation id, where the frame was long enough to hold one.
    pub fn correlation_id(&self) -> Option<i32> {
        match self {
            RequestError::TooShort(_) => None,
            RequestError::UnknownApiKey { correlation_id, .. }
            | RequestError::UnsupportedVersion { correlation_id, .. }
            | RequestError::Malformed { correlation_id, .. } => Some(*correlation_id),
        }
    }
}

/// Decodes a request frame (without its size prefix). `is_supported` says which versions the
/// caller serves; versions outside it are not decoded.
pub fn decode_request(
    frame: Bytes,
    is_supported: impl Fn(ApiKey, i16) -> bool,
) -> Result<Request, RequestError> {
    let Some(prefix) = frame.get(..REQUEST_HEADER_PREFIX_BYTES) else {
        return Err(RequestError::TooShort(frame.len()));
    };
    let raw_key = i16::from_be_bytes([prefix[0], prefix[1]]);
    let api_version = i16::from_be_bytes([prefix[2], prefix[3]]);
    let correlation_id = i32::from_be_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
    let Some(api_key) = ApiKey::from_i16(raw_key) else {
        return Err(RequestError::UnknownApiKey {
            api_key: raw_key,
            api_version,
            correlation_id,
        });
    };
    if !is_supported(api_key, api_version) || !api_key.request_versions().contains(api_version) {
        return Err(RequestError::UnsupportedVersion {
            api_key,
            api_version,
            correlation_id,
        });
    }
    let malformed = |source| RequestError::Malformed {
        api_key,
        api_version,
        correlation_id,
        source,
    };
    let mut reader = Reader::new(frame, RequestHeader::NAME, api_version);
    let header = RequestHeader::decode(&mut reader, api_key.request_header_version(api_version))
        .map_err(malformed)?;
    let body = RequestBody::decode(api_key, &mut reader, api_version).map_err(malformed)?;
    // Bytes after the body are ignored, as Apache Kafka ignores them: librdkafka up to at
    // least 2.12 writes a null topics array in Metadata v12 as four zero bytes instead of a
    // one-byte varint, leaving three bytes over, and Kafka serves it.
    Ok(Request {
        api_key,
        header,
        body,
    })
}

/// Encodes a whole response frame (size prefix, header, body) as chunks for a vectored write;
/// record data in the body is not copied.
pub fn encode_response(
    api_version: i16,
    correlation_id: i32,
    body: &ResponseBody,
) -> Result<Vec<Bytes>, EncodeError> {
    let api_key = body.api_key();
    let header = ResponseHeader {
        correlation_id,
        ..Default::default()
    };
    let header_version = api_key.response_header_version(api_version);
    let size = header.encoded_len(header_version) + body.encoded_len(api_version);
    let mut writer = Writer::with_capacity((FRAME_PREFIX_BYTES + size).min(64 * 1024));
    writer.i32(size as i32);
    header.encode(&mut writer, header_version)?;
    body.encode(&mut writer, api_version)?;
    debug_assert_eq!(writer.len(), FRAME_PREFIX_BYTES + size);
    Ok(writer.into_chunks())
}

/// Encodes a whole request frame, as a client sends it.
pub fn encode_request(
    header: &RequestHeader,
    body: &RequestBody,
) -> Result<Vec<Bytes>, EncodeError> {
    let api_key = body.api_key();
    let api_version = header.request_api_version;
    let header_version = api_key.request_header_version(api_version);
    let size = header.encoded_len(header_version) + body.encoded_len(api_version);
    let mut writer = Writer::with_capacity((FRAME_PREFIX_BYTES + size).min(64 * 1024));
    writer.i32(size as i32);
    header.encode(&mut writer, header_version)?;
    body.encode(&mut writer, api_version)?;
    Ok(writer.into_chunks())
}

/// The answer to an ApiVersions request at a version the broker does not support: a version 0
/// response (readable by every client) with UNSUPPORTED_VERSION and the supported APIs.
pub fn encode_api_versions_fallback(
    correlation_id: i32,
    supported: Vec<ApiVersion>,
) -> Result<Vec<Bytes>, EncodeError> {
    let body = ApiVersionsResponse {
        error_code: ErrorCode::UnsupportedVersion.code(),
        api_keys: supported,
        ..Default::default()
    };
    encode_response(0, correlation_id, &ResponseBody::ApiVersions(body))
}

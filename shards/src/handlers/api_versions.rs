//! ApiVersions: exactly the APIs and versions the handlers serve.

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::api_versions_response::ApiVersion;
use pinlog_protocol::generated::{ApiVersionsRequest, ApiVersionsResponse, ResponseBody};

use super::{supported_range, SUPPORTED};

pub fn supported_list() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .filter_map(|&(api_key, _, _)| {
            let (min, max) = supported_range(api_key)?;
            Some(ApiVersion {
                api_key: api_key as i16,
                min_version: min,
                max_version: max,
                ..Default::default()
            })
        })
        .collect()
}

pub fn handle(request: &ApiVersionsRequest, version: i16) -> ResponseBody {
    // v3+ clients name themselves; Kafka checks the names are well formed.
    let names_ok = version < 3
        || (is_valid_software_token(&request.client_software_name)
            && is_valid_software_token(&request.client_software_version));
    ResponseBody::ApiVersions(ApiVersionsResponse {
        error_code: if names_ok {
            ErrorCode::None.code()
        } else {
            ErrorCode::InvalidRequest.code()
        },
        api_keys: supported_list(),
        ..Default::default()
    })
}

/// Kafka's rule for client software names and versions: `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn is_valid_software_token(token: &str) -> bool {
    let bytes = token.as_bytes();
    let edge_ok = |b: &u8| b.is_ascii_alphanumeric();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            edge_ok(first)
                && edge_ok(last)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_names_follow_kafka() {
        assert!(is_valid_software_token("librdkafka"));
        assert!(is_valid_software_token("2.12.0-RC1"));
        assert!(!is_valid_software_token(""));
        assert!(!is_valid_software_token("-x"));
        assert!(!is_valid_software_token("a b"));
    }
}

//! One module per Kafka API. [`handle`] turns a request frame into a response frame (or into
//! none: acks=0 produce), and [`SUPPORTED`] is what ApiVersions advertises — exactly the
//! versions these handlers serve.

mod admin_topics;
mod api_versions;
mod configs;
mod delete_records;
mod describe_cluster;
mod describe_log_dirs;
mod fetch;
mod find_coordinator;
mod groups;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod offset_for_leader_epoch;
mod offsets;
mod produce;

use std::rc::Rc;

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::{ApiKey, RequestBody, ResponseBody};
use pinlog_protocol::header::{
    decode_request, encode_api_versions_fallback, encode_response, Request, RequestError,
};

use crate::shard::Shard;

/// The APIs and version ranges pinlog serves.
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 11),
    (ApiKey::Fetch, 4, 17),
    (ApiKey::ListOffsets, 1, 10),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 0, 7),
    (ApiKey::DeleteTopics, 0, 6),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeLogDirs, 0, 4),
    (ApiKey::OffsetForLeaderEpoch, 0, 4),
    (ApiKey::DescribeConfigs, 0, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::DescribeCluster, 0, 1),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 0, 9),
    (ApiKey::OffsetFetch, 0, 9),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
];

/// The highest version of `api_key` served, leaving out a version Kafka marks unstable.
pub fn supported_range(api_key: ApiKey) -> Option<(i16, i16)> {
    let &(_, min, max) = SUPPORTED.iter().find(|(key, _, _)| *key == api_key)?;
    let spec = api_key.request_versions();
    let mut max = max.min(spec.max);
    if api_key.latest_version_unstable() && max == spec.max {
        max -= 1;
    }
    Some((min.max(spec.min), max))
}

pub fn is_supported(api_key: ApiKey, version: i16) -> bool {
    supported_range(api_key).is_some_and(|(min, max)| (min..=max).contains(&version))
}

/// What a request frame turns into.
pub enum Outcome {
    /// A whole response frame, as chunks for a vectored write.
    Respond(Vec<Bytes>),
    /// No response (Produce with acks=0).
    Silent,
    /// Answer with these bytes, if any, then close: the stream can no longer be trusted.
    Close {
        response: Option<Vec<Bytes>>,
        reason: String,
    },
}

/// Decodes, serves and encodes one request from a client at `client_host`.
pub async fn handle(shard: &Rc<Shard>, frame: Bytes, client_host: &str) -> Outcome {
    let request = match decode_request(frame, is_supported) {
        Ok(request) => request,
        Err(error) => return refuse(error),
    };
    let version = request.api_version();
    let correlation_id = request.correlation_id();
    let drop_response = request.api_key == ApiKey::Produce && shard.drop_this_produce_response();
    let body = match serve(shard, request, client_host).await {
        Some(body) => body,
        None => return Outcome::Silent,
    };
    if drop_response {
        return Outcome::Close {
            response: None,
            reason: "test switch: dropping a produce response after the append".into(),
        };
    }
    match encode_response(version, correlation_id, &body) {
        Ok(chunks) => Outcome::Respond(chunks),
        Err(error) => Outcome::Close {
            response: None,
            reason: format!("encoding the response failed: {error}"),
        },
    }
}

async fn serve(shard: &Rc<Shard>, request: Request, client_host: &str) -> Option<ResponseBody> {
    let version = request.api_version();
    let client_id = request.header.client_id.clone();
    Some(match request.body {
        RequestBody::ApiVersions(body) => api_versions::handle(&body, version),
        RequestBody::Metadata(body) => metadata::handle(shard, body, version).await,
        RequestBody::Produce(body) => return produce::handle(shard, body).await,
        RequestBody::Fetch(body) => fetch::handle(shard, body, version).await,
        RequestBody::ListOffsets(body) => list_offsets::handle(shard, body, version).await,
        RequestBody::CreateTopics(body) => admin_topics::create_topics(shard, body, version).await,
        RequestBody::DeleteTopics(body) => admin_topics::delete_topics(shard, body, version).await,
        RequestBody::CreatePartitions(body) => admin_topics::create_partitions(shard, body).await,
        RequestBody::DescribeConfigs(body) => configs::describe(shard, body, version),
        RequestBody::IncrementalAlterConfigs(body) => configs::alter(shard, body).await,
        RequestBody::AlterConfigs(body) => configs::alter_legacy(shard, body).await,
        RequestBody::DescribeCluster(body) => describe_cluster::handle(shard, body),
        RequestBody::InitProducerId(body) => init_producer_id::handle(shard, body).await,
        RequestBody::FindCoordinator(body) => find_coordinator::handle(shard, body, version),
        RequestBody::JoinGroup(body) => {
            let client_id = client_id.clone().unwrap_or_default();
            groups::join(shard, body, version, client_id, client_host.to_string()).await
        }
        RequestBody::SyncGroup(body) => groups::sync(shard, body, version).await,
        RequestBody::Heartbeat(body) => groups::heartbeat(shard, body).await,
        RequestBody::LeaveGroup(body) => groups::leave(shard, body, version).await,
        RequestBody::DescribeGroups(body) => groups::describe(shard, body).await,
        RequestBody::ListGroups(body) => groups::list(shard, body).await,
        RequestBody::DeleteGroups(body) => groups::delete(shard, body).await,
        RequestBody::OffsetCommit(body) => offsets::commit(shard, body, version).await,
        RequestBody::OffsetFetch(body) => offsets::fetch(shard, body, version).await,
        RequestBody::OffsetDelete(body) => offsets::delete(shard, body).await,
        RequestBody::DeleteRecords(body) => delete_records::handle(shard, body).await,
        RequestBody::DescribeLogDirs(body) => describe_log_dirs::handle(shard, body).await,
        RequestBody::OffsetForLeaderEpoch(body) => {
            offset_for_leader_epoch::handle(shard, body).await
        }
        other => {
            // decode_request only decodes what SUPPORTED lists; reaching here is a bug.
            tracing::error!(api = ?other.api_key(), ?client_id, "no handler for a supported API");
            return None;
        }
    })
}

/// The answer to a frame that yielded no request.
fn refuse(error: RequestError) -> Outcome {
    match error {
        RequestError::UnsupportedVersion {
            api_key: ApiKey::ApiVersions,
            correlation_id,
            ..
        } => match encode_api_versions_fallback(correlation_id, api_versions::supported_list()) {
            Ok(chunks) => Outcome::Respond(chunks),
            Err(error) => Outcome::Close {
                response: None,
                reason: format!("encoding the ApiVersions fallback failed: {error}"),
            },
        },
        RequestError::UnsupportedVersion { correlation_id, .. }
        | RequestError::UnknownApiKey { correlation_id, .. } => Outcome::Close {
            // The client sent something not advertised, so no response layout is agreed:
            // answer with the correlation id and UNSUPPORTED_VERSION (the layout every v0
            // response with a top-level error code shares), then close, as Kafka closes.
            response: Some(vec![error_frame(
                correlation_id,
                ErrorCode::UnsupportedVersion,
            )]),
            reason: error.to_string(),
        },
        RequestError::Malformed { correlation_id, .. } => Outcome::Close {
            response: Some(vec![error_frame(correlation_id, ErrorCode::InvalidRequest)]),
            reason: error.to_string(),
        },
        RequestError::TooShort(_) => Outcome::Close {
            response: None,
            reason: error.to_string(),
        },
    }
}

fn error_frame(correlation_id: i32, error: ErrorCode) -> Bytes {
    let mut frame = Vec::with_capacity(10);
    frame.extend_from_slice(&6i32.to_be_bytes());
    frame.extend_from_slice(&correlation_id.to_be_bytes());
    frame.extend_from_slice(&error.code().to_be_bytes());
    Bytes::from(frame)
}

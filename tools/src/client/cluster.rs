//! Cluster calls: ApiVersions, DescribeCluster and Metadata, and the partition leaders that
//! Metadata names.

use std::collections::BTreeMap;

use pinlog_protocol::generated::api_versions_response::ApiVersion;
use pinlog_protocol::generated::metadata_request::MetadataRequestTopic;
use pinlog_protocol::generated::{
    ApiKey, ApiVersionsRequest, DescribeClusterRequest, DescribeClusterResponse, MetadataRequest,
    MetadataResponse, RequestBody, ResponseBody,
};

use super::{check, check_with_message, unexpected, Client, ClientError};

/// ApiVersions v3: flexible, names the client software.
const API_VERSIONS_VERSION: i16 = 3;
/// DescribeCluster v1: the endpoint type.
const DESCRIBE_CLUSTER_VERSION: i16 = 1;
/// Metadata v9: flexible, topics by name.
pub(super) const METADATA_VERSION: i16 = 9;
/// DescribeCluster's endpoint type for brokers (2 would be controllers).
const ENDPOINT_TYPE_BROKERS: i8 = 1;
/// ApiVersions v3's client software name; Kafka requires `[a-zA-Z0-9.-]`.
const CLIENT_SOFTWARE_NAME: &str = "pinlog-cli";

impl Client {
    /// The API version ranges the bootstrap broker advertises, sorted by API key.
    pub fn api_versions(&mut self) -> Result<Vec<ApiVersion>, ClientError> {
        let api = ApiKey::ApiVersions;
        let request = ApiVersionsRequest {
            client_software_name: CLIENT_SOFTWARE_NAME.to_string(),
            client_software_version: env!("CARGO_PKG_VERSION").to_string(),
            ..Default::default()
        };
        let body = self.send(API_VERSIONS_VERSION, RequestBody::ApiVersions(request))?;
        let ResponseBody::ApiVersions(response) = body else {
            return Err(unexpected(api, &body));
        };
        check(api, response.error_code, || "the API versions".to_string())?;
        let mut versions = response.api_keys;
        versions.sort_by_key(|v| v.api_key);
        Ok(versions)
    }

    /// Cluster id, controller and brokers, as the bootstrap broker knows them.
    pub fn describe_cluster(&mut self) -> Result<DescribeClusterResponse, ClientError> {
        let api = ApiKey::DescribeCluster;
        let request = DescribeClusterRequest {
            endpoint_type: ENDPOINT_TYPE_BROKERS,
            ..Default::default()
        };
        let body = self.send(
            DESCRIBE_CLUSTER_VERSION,
            RequestBody::DescribeCluster(request),
        )?;
        let ResponseBody::DescribeCluster(response) = body else {
            return Err(unexpected(api, &body));
        };
        check_with_message(
            api,
            response.error_code,
            response.error_message.as_deref(),
            || "the cluster".to_string(),
        )?;
        Ok(response)
    }

    /// Metadata of `topics`, or of every topic when `None`. Per-topic errors are left in the
    /// response for the caller to judge; topics are never created by asking.
    pub fn metadata(&mut self, topics: Option<&[String]>) -> Result<MetadataResponse, ClientError> {
        let api = ApiKey::Metadata;
        let request = MetadataRequest {
            topics: topics.map(|names| {
                names
                    .iter()
                    .map(|name| MetadataRequestTopic {
                        name: Some(name.clone()),
                        ..Default::default()
                    })
                    .collect()
            }),
            allow_auto_topic_creation: false,
            ..Default::default()
        };
        let body = self.send(METADATA_VERSION, RequestBody::Metadata(request))?;
        let ResponseBody::Metadata(response) = body else {
            return Err(unexpected(api, &body));
        };
        Ok(response)
    }

    /// The `host:port` of each partition's leader of `topic`, by partition; an error if the
    /// topic does not exist or a partition has no leader.
    pub fn leaders(&mut self, topic: &str) -> Result<BTreeMap<i32, String>, ClientError> {
        let api = ApiKey::Metadata;
        let response = self.metadata(Some(&[topic.to_string()]))?;
        let found = response
            .topics
            .iter()
            .find(|t| t.name.as_deref() == Some(topic))
            .ok_or_else(|| ClientError::Missing {
                api,
                what: format!("topic {topic}"),
            })?;
        check(api, found.error_code, || format!("topic {topic}"))?;
        let mut leaders = BTreeMap::new();
        for partition in &found.partitions {
            let context = || format!("{topic}/{}", partition.partition_index);
            check(api, partition.error_code, context)?;
            let broker = response
                .brokers
                .iter()
                .find(|b| b.node_id == partition.leader_id)
                .ok_or_else(|| ClientError::Missing {
                    api,
                    what: format!("the leader (node {}) of {}", partition.leader_id, context()),
                })?;
            leaders.insert(
                partition.partition_index,
                format!("{}:{}", broker.host, broker.port),
            );
        }
        Ok(leaders)
    }
}

//! Topic calls: the partitions of a topic (Metadata), offsets by time (ListOffsets) and the
//! bytes each partition holds (DescribeLogDirs).

use std::collections::BTreeMap;

use pinlog_protocol::generated::describe_log_dirs_request::DescribableLogDirTopic;
use pinlog_protocol::generated::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use pinlog_protocol::generated::metadata_request::MetadataRequestTopic;
use pinlog_protocol::generated::{
    ApiKey, DescribeLogDirsRequest, ListOffsetsRequest, MetadataRequest, RequestBody, ResponseBody,
};

use super::cluster::METADATA_VERSION;
use super::{check, unexpected, Client, ClientError};

/// ListOffsets v7: flexible, one offset per partition.
const LIST_OFFSETS_VERSION: i16 = 7;
/// DescribeLogDirs v4: flexible, with a top-level error code and the directories' capacity.
const DESCRIBE_LOG_DIRS_VERSION: i16 = 4;
/// ListOffsets' special timestamps.
pub const EARLIEST_TIMESTAMP: i64 = -2;
pub const LATEST_TIMESTAMP: i64 = -1;
/// A consumer's replica id in ListOffsets.
const REPLICA_ID_CONSUMER: i32 = -1;

impl Client {
    /// The partition indexes of `topic`, sorted; an error if the topic does not exist.
    pub fn partitions(&mut self, topic: &str) -> Result<Vec<i32>, ClientError> {
        let api = ApiKey::Metadata;
        let request = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                name: Some(topic.to_string()),
                ..Default::default()
            }]),
            allow_auto_topic_creation: false,
            ..Default::default()
        };
        let body = self.send(METADATA_VERSION, RequestBody::Metadata(request))?;
        let ResponseBody::Metadata(response) = body else {
            return Err(unexpected(api, &body));
        };
        let found = response
            .topics
            .into_iter()
            .find(|t| t.name.as_deref() == Some(topic))
            .ok_or_else(|| ClientError::Missing {
                api,
                what: format!("topic {topic}"),
            })?;
        check(api, found.error_code, || format!("topic {topic}"))?;
        let mut partitions: Vec<i32> = found.partitions.iter().map(|p| p.partition_index).collect();
        partitions.sort_unstable();
        Ok(partitions)
    }

    /// For each of `partitions` of `topic`: the offset of the first record with a timestamp
    /// at or after `timestamp` (-1 when none), or the log start / end offset for
    /// [`EARLIEST_TIMESTAMP`] / [`LATEST_TIMESTAMP`].
    pub fn offsets_for(
        &mut self,
        topic: &str,
        partitions: &[i32],
        timestamp: i64,
    ) -> Result<Vec<(i32, i64)>, ClientError> {
        let api = ApiKey::ListOffsets;
        let request = ListOffsetsRequest {
            replica_id: REPLICA_ID_CONSUMER,
            topics: vec![ListOffsetsTopic {
                name: topic.to_string(),
                partitions: partitions
                    .iter()
                    .map(|&partition_index| ListOffsetsPartition {
                        partition_index,
                        current_leader_epoch: -1,
                        timestamp,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = self.send(LIST_OFFSETS_VERSION, RequestBody::ListOffsets(request))?;
        let ResponseBody::ListOffsets(response) = body else {
            return Err(unexpected(api, &body));
        };
        let mut offsets = Vec::new();
        for answered in response.topics {
            for partition in answered.partitions {
                check(api, partition.error_code, || {
                    format!("{topic}/{}", partition.partition_index)
                })?;
                offsets.push((partition.partition_index, partition.offset));
            }
        }
        offsets.sort_unstable();
        Ok(offsets)
    }

    /// The bytes each of `partitions` of `topic` holds on the bootstrap broker (over all its
    /// log directories), sorted by partition; a partition it does not hold is left out.
    pub fn partition_sizes(
        &mut self,
        topic: &str,
        partitions: &[i32],
    ) -> Result<Vec<(i32, i64)>, ClientError> {
        let api = ApiKey::DescribeLogDirs;
        let request = DescribeLogDirsRequest {
            topics: Some(vec![DescribableLogDirTopic {
                topic: topic.to_string(),
                partitions: partitions.to_vec(),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let body = self.send(
            DESCRIBE_LOG_DIRS_VERSION,
            RequestBody::DescribeLogDirs(request),
        )?;
        let ResponseBody::DescribeLogDirs(response) = body else {
            return Err(unexpected(api, &body));
        };
        check(api, response.error_code, || {
            format!("the log directories of {topic}")
        })?;
        let mut sizes: BTreeMap<i32, i64> = BTreeMap::new();
        for directory in response.results {
            check(api, directory.error_code, || {
                format!("log directory {}", directory.log_dir)
            })?;
            for partition in directory
                .topics
                .into_iter()
                .filter(|t| t.name == topic)
                .flat_map(|t| t.partitions)
            {
                *sizes.entry(partition.partition_index).or_default() += partition.partition_size;
            }
        }
        Ok(sizes.into_iter().collect())
    }
}

//! The typed calls a load generator makes, at fixed request versions.

use std::collections::BTreeMap;
use std::rc::Rc;

use bytes::Bytes;
use pinlog_protocol::generated::create_topics_request::CreatableTopic;
use pinlog_protocol::generated::fetch_request::{FetchPartition, FetchTopic};
use pinlog_protocol::generated::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use pinlog_protocol::generated::metadata_request::MetadataRequestTopic;
use pinlog_protocol::generated::produce_request::{PartitionProduceData, TopicProduceData};
use pinlog_protocol::generated::{
    ApiKey, CreateTopicsRequest, FetchRequest, ListOffsetsRequest, MetadataRequest, ProduceRequest,
    RequestBody, ResponseBody,
};

use super::{ClientError, Connection};

/// Metadata v9: flexible, topics by name (Kafka 2.4+).
const METADATA_VERSION: i16 = 9;
/// CreateTopics v5: flexible (Kafka 2.4+).
const CREATE_TOPICS_VERSION: i16 = 5;
/// Produce v9: flexible (Kafka 2.4+).
const PRODUCE_VERSION: i16 = 9;
/// Fetch v12: flexible, topics by name (Kafka 2.7+; v13 switched to topic ids).
const FETCH_VERSION: i16 = 12;
/// ListOffsets v7: flexible (Kafka 2.8+).
const LIST_OFFSETS_VERSION: i16 = 7;
/// ListOffsets' special timestamps.
pub const LATEST_TIMESTAMP: i64 = -1;
pub const EARLIEST_TIMESTAMP: i64 = -2;
/// A consumer's replica id in Fetch and ListOffsets.
const REPLICA_ID_CONSUMER: i32 = -1;
/// Kafka's "topic already exists", which creating a topic for a benchmark accepts.
const TOPIC_ALREADY_EXISTS: i16 = 36;

/// Brokers and the partitions of the topics asked about.
#[derive(Debug, Clone, Default)]
pub struct ClusterMetadata {
    /// `node_id` → `host:port`.
    pub brokers: BTreeMap<i32, String>,
    pub topics: BTreeMap<String, TopicMetadata>,
}

#[derive(Debug, Clone, Default)]
pub struct TopicMetadata {
    /// 0 when the topic exists and may be used.
    pub error_code: i16,
    pub partitions: BTreeMap<i32, PartitionMetadata>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionMetadata {
    pub leader_id: i32,
    pub error_code: i16,
}

/// One partition's records in a Produce request: one or more RecordBatch v2, verbatim.
#[derive(Debug, Clone)]
pub struct ProduceBatch {
    pub topic: Rc<str>,
    pub partition: i32,
    pub records: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionResult {
    pub topic: String,
    pub partition: i32,
    pub error_code: i16,
    pub base_offset: i64,
}

#[derive(Debug, Clone)]
pub struct FetchSpec {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub partitions: Vec<FetchPosition>,
}

#[derive(Debug, Clone)]
pub struct FetchPosition {
    pub topic: Rc<str>,
    pub partition: i32,
    pub offset: i64,
    pub partition_max_bytes: i32,
}

#[derive(Debug, Clone)]
pub struct FetchedPartition {
    pub topic: String,
    pub partition: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    /// Zero or more whole RecordBatches (a trailing partial batch is possible, as in Kafka).
    pub records: Bytes,
}

impl Connection {
    /// The brokers, and the partitions of `topics` (all topics for `None`); topics are not
    /// auto-created.
    pub async fn metadata(
        &self,
        topics: Option<&[String]>,
    ) -> Result<ClusterMetadata, ClientError> {
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
        let body = self
            .call(METADATA_VERSION, RequestBody::Metadata(request), 0)
            .await?;
        let ResponseBody::Metadata(response) = body else {
            return Err(unexpected(ApiKey::Metadata, &body));
        };
        let brokers = response
            .brokers
            .into_iter()
            .map(|broker| (broker.node_id, format!("{}:{}", broker.host, broker.port)))
            .collect();
        let topics = response
            .topics
            .into_iter()
            .filter_map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|p| {
                        let partition = PartitionMetadata {
                            leader_id: p.leader_id,
                            error_code: p.error_code,
                        };
                        (p.partition_index, partition)
                    })
                    .collect();
                let metadata = TopicMetadata {
                    error_code: topic.error_code,
                    partitions,
                };
                Some((topic.name?, metadata))
            })
            .collect();
        Ok(ClusterMetadata { brokers, topics })
    }

    /// Creates each `(name, partitions)` topic with `replication_factor` replicas (-1: the
    /// broker's default, KIP-464); a topic that exists already is fine.
    pub async fn create_topics(
        &self,
        topics: &[(String, i32)],
        replication_factor: i16,
        timeout_ms: i32,
    ) -> Result<(), ClientError> {
        let api = ApiKey::CreateTopics;
        let request = CreateTopicsRequest {
            topics: topics
                .iter()
                .map(|(name, partitions)| CreatableTopic {
                    name: name.clone(),
                    num_partitions: *partitions,
                    replication_factor,
                    ..Default::default()
                })
                .collect(),
            timeout_ms,
            validate_only: false,
            ..Default::default()
        };
        let body = self
            .call(
                CREATE_TOPICS_VERSION,
                RequestBody::CreateTopics(request),
                timeout_ms.max(0) as u64,
            )
            .await?;
        let ResponseBody::CreateTopics(response) = body else {
            return Err(unexpected(api, &body));
        };
        for topic in response.topics {
            if topic.error_code != 0 && topic.error_code != TOPIC_ALREADY_EXISTS {
                return Err(ClientError::kafka(
                    api,
                    topic.error_code,
                    format!("topic {}", topic.name),
                ));
            }
        }
        Ok(())
    }

    /// Sends `batches` in one Produce request. With `acks` 0 the broker answers nothing and
    /// this resolves, with no results, once the request is on the socket.
    pub async fn produce(
        &self,
        acks: i16,
        timeout_ms: i32,
        batches: Vec<ProduceBatch>,
    ) -> Result<Vec<ProducePartitionResult>, ClientError> {
        let api = ApiKey::Produce;
        let mut topic_data: Vec<TopicProduceData> = Vec::new();
        for batch in batches {
            let partition = PartitionProduceData {
                index: batch.partition,
                records: Some(batch.records),
                ..Default::default()
            };
            match topic_data.iter_mut().find(|t| *t.name == *batch.topic) {
                Some(topic) => topic.partition_data.push(partition),
                None => topic_data.push(TopicProduceData {
                    name: batch.topic.to_string(),
                    partition_data: vec![partition],
                    ..Default::default()
                }),
            }
        }
        let request = RequestBody::Produce(ProduceRequest {
            transactional_id: None,
            acks,
            timeout_ms,
            topic_data,
            ..Default::default()
        });
        if acks == 0 {
            self.send_unanswered(PRODUCE_VERSION, request).await?;
            return Ok(Vec::new());
        }
        let body = self
            .call(PRODUCE_VERSION, request, timeout_ms.max(0) as u64)
            .await?;
        let ResponseBody::Produce(response) = body else {
            return Err(unexpected(api, &body));
        };
        Ok(response
            .responses
            .into_iter()
            .flat_map(|topic| {
                let name = topic.name;
                topic
                    .partition_responses
                    .into_iter()
                    .map(move |p| ProducePartitionResult {
                        topic: name.clone(),
                        partition: p.index,
                        error_code: p.error_code,
                        base_offset: p.base_offset,
                    })
            })
            .collect())
    }

    /// One sessionless Fetch (isolation READ_UNCOMMITTED).
    pub async fn fetch(&self, spec: FetchSpec) -> Result<Vec<FetchedPartition>, ClientError> {
        let api = ApiKey::Fetch;
        let mut topics: Vec<FetchTopic> = Vec::new();
        for position in spec.partitions {
            let partition = FetchPartition {
                partition: position.partition,
                current_leader_epoch: -1,
                fetch_offset: position.offset,
                last_fetched_epoch: -1,
                log_start_offset: -1,
                partition_max_bytes: position.partition_max_bytes,
                ..Default::default()
            };
            match topics.iter_mut().find(|t| *t.topic == *position.topic) {
                Some(topic) => topic.partitions.push(partition),
                None => topics.push(FetchTopic {
                    topic: position.topic.to_string(),
                    partitions: vec![partition],
                    ..Default::default()
                }),
            }
        }
        let request = FetchRequest {
            replica_id: REPLICA_ID_CONSUMER,
            max_wait_ms: spec.max_wait_ms,
            min_bytes: spec.min_bytes,
            max_bytes: spec.max_bytes,
            isolation_level: 0,
            session_id: 0,
            session_epoch: -1,
            topics,
            ..Default::default()
        };
        let body = self
            .call(
                FETCH_VERSION,
                RequestBody::Fetch(request),
                spec.max_wait_ms.max(0) as u64,
            )
            .await?;
        let ResponseBody::Fetch(response) = body else {
            return Err(unexpected(api, &body));
        };
        if response.error_code != 0 {
            return Err(ClientError::kafka(
                api,
                response.error_code,
                "the fetch session",
            ));
        }
        Ok(response
            .responses
            .into_iter()
            .flat_map(|topic| {
                let name = topic.topic;
                topic.partitions.into_iter().map(move |p| FetchedPartition {
                    topic: name.clone(),
                    partition: p.partition_index,
                    error_code: p.error_code,
                    high_watermark: p.high_watermark,
                    records: p.records.unwrap_or_default(),
                })
            })
            .collect())
    }

    /// For each of `partitions`: the log end offset ([`LATEST_TIMESTAMP`]), the log start
    /// offset ([`EARLIEST_TIMESTAMP`]) or the first offset at or after a timestamp (-1: none).
    pub async fn list_offsets(
        &self,
        partitions: &[(Rc<str>, i32)],
        timestamp: i64,
    ) -> Result<Vec<(Rc<str>, i32, i64)>, ClientError> {
        let api = ApiKey::ListOffsets;
        let mut topics: Vec<ListOffsetsTopic> = Vec::new();
        for (topic, partition) in partitions {
            let entry = ListOffsetsPartition {
                partition_index: *partition,
                current_leader_epoch: -1,
                timestamp,
                ..Default::default()
            };
            match topics.iter_mut().find(|t| *t.name == **topic) {
                Some(found) => found.partitions.push(entry),
                None => topics.push(ListOffsetsTopic {
                    name: topic.to_string(),
                    partitions: vec![entry],
                    ..Default::default()
                }),
            }
        }
        let request = ListOffsetsRequest {
            replica_id: REPLICA_ID_CONSUMER,
            topics,
            ..Default::default()
        };
        let body = self
            .call(LIST_OFFSETS_VERSION, RequestBody::ListOffsets(request), 0)
            .await?;
        let ResponseBody::ListOffsets(response) = body else {
            return Err(unexpected(api, &body));
        };
        let mut offsets = Vec::new();
        for topic in response.topics {
            let name = partitions
                .iter()
                .find(|(asked, _)| **asked == *topic.name)
                .map(|(asked, _)| asked.clone())
                .ok_or_else(|| ClientError::Decode {
                    address: self.address().to_string(),
                    api,
                    reason: format!(
                        "an answer for topic {} that was not asked about",
                        topic.name
                    ),
                })?;
            for partition in topic.partitions {
                if partition.error_code != 0 {
                    return Err(ClientError::kafka(
                        api,
                        partition.error_code,
                        format!("{}/{}", topic.name, partition.partition_index),
                    ));
                }
                offsets.push((name.clone(), partition.partition_index, partition.offset));
            }
        }
        Ok(offsets)
    }
}

fn unexpected(api: ApiKey, body: &ResponseBody) -> ClientError {
    ClientError::UnexpectedResponse {
        api,
        got: body.api_key(),
    }
}

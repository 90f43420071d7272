//! Record calls: Produce and Fetch, each sent to the leader of the partitions it names.

use bytes::Bytes;
use pinlog_protocol::generated::fetch_request::{FetchPartition, FetchTopic};
use pinlog_protocol::generated::produce_request::{PartitionProduceData, TopicProduceData};
use pinlog_protocol::generated::{ApiKey, FetchRequest, ProduceRequest, RequestBody, ResponseBody};

use super::{check_with_message, unexpected, Client, ClientError, KafkaError};

/// Produce v9: flexible, topics by name.
const PRODUCE_VERSION: i16 = 9;
/// Fetch v12: flexible, the last version with topics by name.
const FETCH_VERSION: i16 = 12;
/// How long the broker may wait for acks=all before it answers REQUEST_TIMED_OUT.
const PRODUCE_TIMEOUT_MS: i32 = 30_000;
/// Most bytes one Fetch response may carry in all, and per partition. Far below
/// [`super::RESPONSE_BYTES_MAX`]; a batch larger than the partition bound still comes whole,
/// as Kafka returns at least one batch.
pub const FETCH_RESPONSE_BYTES_MAX: i32 = 16 * 1024 * 1024;
pub const FETCH_PARTITION_BYTES_MAX: i32 = 4 * 1024 * 1024;
/// A consumer's replica id; no fetch session (id 0, epoch -1 = full sessionless fetches).
const REPLICA_ID_CONSUMER: i32 = -1;
const FETCH_SESSION_ID_NONE: i32 = 0;
const FETCH_SESSION_EPOCH_FINAL: i32 = -1;
/// READ_UNCOMMITTED: pinlog writes no transactions yet, so there is nothing to hide.
const ISOLATION_READ_UNCOMMITTED: i8 = 0;

const _: () = assert!(FETCH_PARTITION_BYTES_MAX <= FETCH_RESPONSE_BYTES_MAX);
const _: () = assert!((FETCH_RESPONSE_BYTES_MAX as usize) < super::RESPONSE_BYTES_MAX);

/// Produce's `acks`: 0 none (no response), 1 the leader, -1 all in-sync replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    None,
    Leader,
    All,
}

impl Acks {
    fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// Where one partition's batches landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Produced {
    pub partition: i32,
    pub base_offset: i64,
}

/// What a Fetch returned for one partition.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub partition: i32,
    pub error: Option<KafkaError>,
    pub high_watermark: i64,
    pub log_start_offset: i64,
    /// Whole batches, possibly followed by a partial one that the bound cut.
    pub records: Bytes,
}

impl Client {
    /// Sends one Produce request to `leader` with a record set (one or more batches) per
    /// partition of `topic`. With [`Acks::None`] the broker does not answer, and nothing is
    /// returned; otherwise a partition's error fails the call, naming the partition.
    pub fn produce(
        &mut self,
        leader: &str,
        topic: &str,
        record_sets: Vec<(i32, Bytes)>,
        acks: Acks,
    ) -> Result<Vec<Produced>, ClientError> {
        let api = ApiKey::Produce;
        let request = ProduceRequest {
            transactional_id: None,
            acks: acks.wire(),
            timeout_ms: PRODUCE_TIMEOUT_MS,
            topic_data: vec![TopicProduceData {
                name: topic.to_string(),
                partition_data: record_sets
                    .into_iter()
                    .map(|(index, records)| PartitionProduceData {
                        index,
                        records: Some(records),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let connection = self.connection_to(leader)?;
        if acks == Acks::None {
            connection.send_without_response(PRODUCE_VERSION, RequestBody::Produce(request))?;
            return Ok(Vec::new());
        }
        let body = connection.send(PRODUCE_VERSION, RequestBody::Produce(request))?;
        let ResponseBody::Produce(response) = body else {
            return Err(unexpected(api, &body));
        };
        let mut produced = Vec::new();
        for answered in response.responses {
            for partition in answered.partition_responses {
                let message = partition.error_message.clone().or_else(|| {
                    let errors: Vec<String> = partition
                        .record_errors
                        .iter()
                        .filter_map(|e| e.batch_index_error_message.clone())
                        .collect();
                    (!errors.is_empty()).then(|| errors.join("; "))
                });
                check_with_message(api, partition.error_code, message.as_deref(), || {
                    format!("{}/{}", answered.name, partition.index)
                })?;
                produced.push(Produced {
                    partition: partition.index,
                    base_offset: partition.base_offset,
                });
            }
        }
        Ok(produced)
    }

    /// Fetches from `leader` the records of `topic` at each (partition, offset) of
    /// `positions`, waiting up to `max_wait_ms` for the first byte. Partition errors are
    /// returned with the partition, for the caller to judge.
    pub fn fetch(
        &mut self,
        leader: &str,
        topic: &str,
        positions: &[(i32, i64)],
        max_wait_ms: i32,
    ) -> Result<Vec<Fetched>, ClientError> {
        let api = ApiKey::Fetch;
        let request = FetchRequest {
            replica_id: REPLICA_ID_CONSUMER,
            max_wait_ms,
            min_bytes: 1,
            max_bytes: FETCH_RESPONSE_BYTES_MAX,
            isolation_level: ISOLATION_READ_UNCOMMITTED,
            session_id: FETCH_SESSION_ID_NONE,
            session_epoch: FETCH_SESSION_EPOCH_FINAL,
            topics: vec![FetchTopic {
                topic: topic.to_string(),
                partitions: positions
                    .iter()
                    .map(|&(partition, fetch_offset)| FetchPartition {
                        partition,
                        current_leader_epoch: -1,
                        fetch_offset,
                        last_fetched_epoch: -1,
                        log_start_offset: -1,
                        partition_max_bytes: FETCH_PARTITION_BYTES_MAX,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = self
            .connection_to(leader)?
            .send(FETCH_VERSION, RequestBody::Fetch(request))?;
        let ResponseBody::Fetch(response) = body else {
            return Err(unexpected(api, &body));
        };
        check_with_message(api, response.error_code, None, || format!("topic {topic}"))?;
        Ok(response
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .map(|p| Fetched {
                partition: p.partition_index,
                error: KafkaError::from_code(p.error_code),
                high_watermark: p.high_watermark,
                log_start_offset: p.log_start_offset,
                records: p.records.unwrap_or_default(),
            })
            .collect())
    }
}

//! TEMPORARY SHIM of the lead's own client API (bench/src/client), so that the pinlog driver
//! compiles on this branch. Every call fails. Deleted before the branch is handed over.

use std::collections::BTreeMap;
use std::rc::Rc;

use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the own client is not merged yet")]
    NotMerged,
}

pub struct ClusterMetadata {
    pub brokers: BTreeMap<i32, String>,
    pub topics: BTreeMap<String, TopicMetadata>,
}

pub struct TopicMetadata {
    pub error_code: i16,
    pub partitions: BTreeMap<i32, PartitionMetadata>,
}

pub struct PartitionMetadata {
    pub leader_id: i32,
    pub error_code: i16,
}

pub struct ProduceBatch {
    pub topic: Rc<str>,
    pub partition: i32,
    pub records: Bytes,
}

pub struct ProducePartitionResult {
    pub topic: Rc<str>,
    pub partition: i32,
    pub error_code: i16,
    pub base_offset: i64,
}

pub struct FetchSpec {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub partitions: Vec<FetchPosition>,
}

pub struct FetchPosition {
    pub topic: Rc<str>,
    pub partition: i32,
    pub offset: i64,
    pub partition_max_bytes: i32,
}

pub struct FetchedPartition {
    pub topic: Rc<str>,
    pub partition: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    pub records: Bytes,
}

pub struct Connection;

impl Connection {
    pub async fn connect(_address: &str, _client_id: &str) -> Result<Rc<Connection>, ClientError> {
        Err(ClientError::NotMerged)
    }

    pub async fn metadata(
        &self,
        _topics: Option<&[String]>,
    ) -> Result<ClusterMetadata, ClientError> {
        Err(ClientError::NotMerged)
    }

    pub async fn create_topics(
        &self,
        _topics: &[(String, i32)],
        _timeout_ms: i32,
    ) -> Result<(), ClientError> {
        Err(ClientError::NotMerged)
    }

    pub async fn produce(
        &self,
        _acks: i16,
        _timeout_ms: i32,
        _batches: Vec<ProduceBatch>,
    ) -> Result<Vec<ProducePartitionResult>, ClientError> {
        Err(ClientError::NotMerged)
    }

    pub async fn fetch(&self, _request: FetchSpec) -> Result<Vec<FetchedPartition>, ClientError> {
        Err(ClientError::NotMerged)
    }

    pub async fn list_offsets(
        &self,
        _partitions: &[(Rc<str>, i32)],
        _timestamp: i64,
    ) -> Result<Vec<(Rc<str>, i32, i64)>, ClientError> {
        Err(ClientError::NotMerged)
    }
}

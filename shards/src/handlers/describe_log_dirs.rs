//! DescribeLogDirs: the broker's one log directory, its filesystem's size and free space, and
//! the bytes each partition's log holds there (what `kafka-log-dirs.sh` and cluster UIs show
//! as topic sizes). A partition that is not in the directory (unknown, or not open) is left
//! out, as Kafka leaves out partitions a directory does not hold.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use pinlog_engine::io::data_dir::capacity;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use pinlog_protocol::generated::{DescribeLogDirsRequest, DescribeLogDirsResponse, ResponseBody};

use crate::partition_ops::{self, PartitionOp, PartitionResult};
use crate::shard::Shard;

/// `total_bytes` and `usable_bytes` when the filesystem cannot be asked (Kafka's "unknown").
const UNKNOWN_BYTES: i64 = -1;

pub async fn handle(shard: &Rc<Shard>, request: DescribeLogDirsRequest) -> ResponseBody {
    let wanted: Vec<(String, Vec<i32>)> = match request.topics {
        // Every partition of every topic (the metadata's topics are sorted by name).
        None => shard
            .metadata()
            .topics
            .values()
            .map(|topic| (topic.name.clone(), (0..topic.partitions).collect()))
            .collect(),
        // Each partition once, as Kafka answers, however often it was asked for.
        Some(topics) => {
            let mut wanted: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
            for topic in topics {
                wanted
                    .entry(topic.topic)
                    .or_default()
                    .extend(topic.partitions);
            }
            wanted
                .into_iter()
                .map(|(name, partitions)| (name, partitions.into_iter().collect()))
                .collect()
        }
    };
    let answered =
        partition_ops::run_by_topic(shard, wanted, |&partition| (partition, PartitionOp::Size))
            .await;
    let topics = answered
        .into_iter()
        .filter_map(|(name, partitions)| {
            let partitions: Vec<DescribeLogDirsPartition> = partitions
                .into_iter()
                .filter_map(|(partition_index, result)| match result {
                    PartitionResult::Size {
                        error: ErrorCode::None,
                        bytes,
                    } => Some(DescribeLogDirsPartition {
                        partition_index,
                        partition_size: bytes,
                        // One replica: the log is its own leader, never behind.
                        offset_lag: 0,
                        is_future_key: false,
                        ..Default::default()
                    }),
                    _ => None,
                })
                .collect();
            (!partitions.is_empty()).then(|| DescribeLogDirsTopic {
                name,
                partitions,
                ..Default::default()
            })
        })
        .collect();
    let data_dir = &shard.config().data_dir;
    let (total_bytes, usable_bytes) = match capacity(data_dir) {
        Ok(capacity) => (
            i64::try_from(capacity.total_bytes).unwrap_or(i64::MAX),
            i64::try_from(capacity.available_bytes).unwrap_or(i64::MAX),
        ),
        Err(error) => {
            tracing::warn!(
                shard = shard.id(),
                "reading the data directory's capacity: {error}"
            );
            (UNKNOWN_BYTES, UNKNOWN_BYTES)
        }
    };
    let log_dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.clone());
    ResponseBody::DescribeLogDirs(DescribeLogDirsResponse {
        error_code: ErrorCode::None.code(),
        results: vec![DescribeLogDirsResult {
            error_code: ErrorCode::None.code(),
            log_dir: log_dir.display().to_string(),
            topics,
            total_bytes,
            usable_bytes,
            ..Default::default()
        }],
        ..Default::default()
    })
}

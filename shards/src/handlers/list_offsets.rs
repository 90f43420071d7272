//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3), local/tiered variants (-4, -5:
//! no tiered storage, so the local answers), and the first offset at or after a timestamp.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use pinlog_protocol::generated::{ListOffsetsRequest, ListOffsetsResponse, ResponseBody};

use crate::partition_ops::{self, PartitionOp, PartitionResult};
use crate::shard::Shard;

/// ListOffsets responses carry the leader epoch from v4.
const LEADER_EPOCH_VERSION: i16 = 4;

pub async fn handle(shard: &Rc<Shard>, request: ListOffsetsRequest, version: i16) -> ResponseBody {
    let topics = request
        .topics
        .into_iter()
        .map(|t| (t.name, t.partitions))
        .collect();
    let answered = partition_ops::run_by_topic(shard, topics, |p| {
        let op = PartitionOp::ListOffsets {
            timestamp: p.timestamp,
            current_leader_epoch: p.current_leader_epoch,
        };
        (p.partition_index, op)
    })
    .await;
    let topics = answered
        .into_iter()
        .map(|(name, partitions)| ListOffsetsTopicResponse {
            name,
            partitions: partitions
                .into_iter()
                .map(|(p, result)| match result {
                    PartitionResult::Offset(result) => ListOffsetsPartitionResponse {
                        partition_index: p.partition_index,
                        error_code: result.error.code(),
                        timestamp: result.timestamp,
                        offset: result.offset,
                        leader_epoch: if version >= LEADER_EPOCH_VERSION {
                            result.leader_epoch
                        } else {
                            -1
                        },
                        ..Default::default()
                    },
                    _ => ListOffsetsPartitionResponse {
                        partition_index: p.partition_index,
                        error_code: ErrorCode::UnknownServerError.code(),
                        ..Default::default()
                    },
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ResponseBody::ListOffsets(ListOffsetsResponse {
        topics,
        ..Default::default()
    })
}

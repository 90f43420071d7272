//! OffsetForLeaderEpoch: the end offset of a leader epoch, which consumers use to detect log
//! truncation after a leader change. One epoch (0) covers each whole log until replication.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use pinlog_protocol::generated::{
    OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, ResponseBody,
};

use crate::partition_ops::{self, PartitionOp, PartitionResult};
use crate::shard::Shard;

pub async fn handle(shard: &Rc<Shard>, request: OffsetForLeaderEpochRequest) -> ResponseBody {
    let topics = request
        .topics
        .into_iter()
        .map(|t| (t.topic, t.partitions))
        .collect();
    let answered = partition_ops::run_by_topic(shard, topics, |p| {
        let op = PartitionOp::EndOffsetForEpoch {
            leader_epoch: p.leader_epoch,
            current_leader_epoch: p.current_leader_epoch,
        };
        (p.partition, op)
    })
    .await;
    let topics = answered
        .into_iter()
        .map(|(topic, partitions)| OffsetForLeaderTopicResult {
            topic,
            partitions: partitions
                .into_iter()
                .map(|(p, result)| match result {
                    PartitionResult::Offset(result) => EpochEndOffset {
                        error_code: result.error.code(),
                        partition: p.partition,
                        leader_epoch: result.leader_epoch,
                        end_offset: result.offset,
                        ..Default::default()
                    },
                    _ => EpochEndOffset {
                        error_code: ErrorCode::UnknownServerError.code(),
                        partition: p.partition,
                        ..Default::default()
                    },
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ResponseBody::OffsetForLeaderEpoch(OffsetForLeaderEpochResponse {
        topics,
        ..Default::default()
    })
}

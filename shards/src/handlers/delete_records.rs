//! DeleteRecords: advances each partition's log start offset (-1: to the high watermark).

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use pinlog_protocol::generated::{DeleteRecordsRequest, DeleteRecordsResponse, ResponseBody};

use crate::partition_ops::{self, PartitionOp, PartitionResult};
use crate::shard::Shard;

pub async fn handle(shard: &Rc<Shard>, request: DeleteRecordsRequest) -> ResponseBody {
    let topics = request
        .topics
        .into_iter()
        .map(|t| (t.name, t.partitions))
        .collect();
    let answered = partition_ops::run_by_topic(shard, topics, |p| {
        (
            p.partition_index,
            PartitionOp::DeleteRecords { offset: p.offset },
        )
    })
    .await;
    let topics = answered
        .into_iter()
        .map(|(name, partitions)| DeleteRecordsTopicResult {
            name,
            partitions: partitions
                .into_iter()
                .map(|(p, result)| {
                    let (error, low_watermark) = match result {
                        PartitionResult::DeleteRecords {
                            error,
                            low_watermark,
                        } => (error, low_watermark),
                        _ => (ErrorCode::UnknownServerError, -1),
                    };
                    DeleteRecordsPartitionResult {
                        partition_index: p.partition_index,
                        low_watermark,
                        error_code: error.code(),
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ResponseBody::DeleteRecords(DeleteRecordsResponse {
        topics,
        ..Default::default()
    })
}

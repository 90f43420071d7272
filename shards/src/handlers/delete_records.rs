//! DeleteRecords: advances each partition's log start offset (-1: to the high watermark).

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use pinlog_protocol::generated::{DeleteRecordsRequest, DeleteRecordsResponse, ResponseBody};

use crate::partition_ops::{self, PartitionOp, PartitionResult, PartitionTask};
use crate::shard::Shard;

pub async fn handle(shard: &Rc<Shard>, request: DeleteRecordsRequest) -> ResponseBody {
    let tasks: Vec<PartitionTask> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| PartitionTask {
                topic: topic.name.clone(),
                partition: p.partition_index,
                op: PartitionOp::DeleteRecords { offset: p.offset },
            })
        })
        .collect();
    let mut results = partition_ops::run_tasks(shard, tasks).await.into_iter();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| DeleteRecordsTopicResult {
            name: topic.name,
            partitions: topic
                .partitions
                .iter()
                .map(|p| {
                    let (error, low_watermark) = match results.next() {
                        Some(PartitionResult::DeleteRecords {
                            error,
                            low_watermark,
                        }) => (error, low_watermark),
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

//! Produce: every partition's batch is validated and appended by its owner shard; acks 0 / 1 /
//! all map to the engine's None / Written / Durable. acks=0 gets no response, as in Kafka.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};
use pinlog_protocol::generated::{ProduceRequest, ProduceResponse, ResponseBody};

use crate::partition_ops::{self, PartitionOp, PartitionResult, PartitionTask, ProduceResult};
use crate::shard::Shard;

pub async fn handle(shard: &Rc<Shard>, request: ProduceRequest) -> Option<ResponseBody> {
    let acks = request.acks;
    if request.transactional_id.is_some() {
        // Transactions are not implemented: refuse rather than pretend.
        return refuse_all(&request, ErrorCode::TransactionalIdAuthorizationFailed);
    }
    let mut tasks = Vec::new();
    let mut shape = Vec::with_capacity(request.topic_data.len());
    for topic in request.topic_data {
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for partition in topic.partition_data {
            partitions.push(partition.index);
            tasks.push(PartitionTask {
                topic: topic.name.clone(),
                partition: partition.index,
                op: PartitionOp::Produce {
                    records: partition.records,
                    acks,
                },
            });
        }
        shape.push((topic.name, partitions));
    }
    let mut results = partition_ops::run_tasks(shard, tasks).await.into_iter();
    if acks == 0 {
        return None;
    }
    let responses = shape
        .into_iter()
        .map(|(name, partitions)| TopicProduceResponse {
            name,
            partition_responses: partitions
                .into_iter()
                .map(|index| {
                    let result = match results.next() {
                        Some(PartitionResult::Produce(result)) => result,
                        _ => missing_result(),
                    };
                    PartitionProduceResponse {
                        index,
                        error_code: result.error.code(),
                        base_offset: result.base_offset,
                        log_start_offset: result.log_start_offset,
                        error_message: result.message,
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    Some(ResponseBody::Produce(ProduceResponse {
        responses,
        ..Default::default()
    }))
}

/// Every partition of the request gets `error` (none at all with acks=0).
fn refuse_all(request: &ProduceRequest, error: ErrorCode) -> Option<ResponseBody> {
    if request.acks == 0 {
        return None;
    }
    Some(ResponseBody::Produce(ProduceResponse {
        responses: request
            .topic_data
            .iter()
            .map(|topic| TopicProduceResponse {
                name: topic.name.clone(),
                partition_responses: topic
                    .partition_data
                    .iter()
                    .map(|p| PartitionProduceResponse {
                        index: p.index,
                        error_code: error.code(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }))
}

/// run_tasks answers every task in order; should that ever break, the client sees an error
/// for the partition rather than the broker aborting.
fn missing_result() -> ProduceResult {
    tracing::error!("a produce partition got no result");
    ProduceResult {
        error: ErrorCode::UnknownServerError,
        message: Some("internal error: no result for this partition".into()),
        base_offset: -1,
        log_start_offset: -1,
    }
}

//! Operations on one partition, run by the shard that owns it, and the split–forward–reassemble
//! step that runs a request's partitions on their owners.
//!
//! Handlers turn a request into [`PartitionTask`]s in request order; [`run_tasks`] groups them
//! by owner, runs the local ones in place (no hop) and sends each other owner one batched mesh
//! message, then puts the results back in request order.

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{join_all, select_all, FutureExt};
use pinlog_engine::{Durability, EngineError, PartitionLog};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::{Batches, RecordBatch};

use crate::mesh::{ShardReply, ShardRequest};
use crate::router;
use crate::shard::Shard;

/// This broker's leader epoch for every partition: one replica, never re-elected. Replication
/// (Raft) will make it real.
pub const LEADER_EPOCH: i32 = 0;

/// ListOffsets' special timestamps.
pub const LATEST_TIMESTAMP: i64 = -1;
pub const EARLIEST_TIMESTAMP: i64 = -2;
pub const MAX_TIMESTAMP: i64 = -3;
pub const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;
pub const LATEST_TIERED_TIMESTAMP: i64 = -5;

#[derive(Debug)]
pub struct PartitionTask {
    pub topic: String,
    pub partition: i32,
    pub op: PartitionOp,
}

#[derive(Debug)]
pub enum PartitionOp {
    /// The partition's `records` field of a ProduceRequest (validated by the owner).
    Produce {
        records: Option<Bytes>,
        acks: i16,
    },
    Fetch {
        offset: i64,
        max_bytes: usize,
        current_leader_epoch: i32,
    },
    ListOffsets {
        timestamp: i64,
        current_leader_epoch: i32,
    },
    DeleteRecords {
        offset: i64,
    },
    /// The bytes the partition's log holds (DescribeLogDirs).
    Size,
    EndOffsetForEpoch {
        leader_epoch: i32,
        current_leader_epoch: i32,
    },
}

/// A partition a long-polling fetch waits on.
#[derive(Debug, Clone)]
pub struct WaitTarget {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug)]
pub enum PartitionResult {
    Produce(ProduceResult),
    Fetch(FetchResult),
    Offset(OffsetResult),
    DeleteRecords {
        error: ErrorCode,
        low_watermark: i64,
    },
    Size {
        error: ErrorCode,
        bytes: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProduceResult {
    pub error: ErrorCode,
    pub message: Option<String>,
    pub base_offset: i64,
    pub log_start_offset: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchResult {
    pub error: ErrorCode,
    pub high_watermark: i64,
    pub log_start_offset: i64,
    pub records: Vec<Bytes>,
}

impl FetchResult {
    pub fn failed(error: ErrorCode) -> FetchResult {
        FetchResult {
            error,
            high_watermark: -1,
            log_start_offset: -1,
            records: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OffsetResult {
    pub error: ErrorCode,
    pub offset: i64,
    pub timestamp: i64,
    pub leader_epoch: i32,
}

impl PartitionOp {
    /// The result this operation gets when it cannot run at all.
    pub fn failed(&self, error: ErrorCode) -> PartitionResult {
        match self {
            PartitionOp::Produce { .. } => PartitionResult::Produce(ProduceResult {
                error,
                message: None,
                base_offset: -1,
                log_start_offset: -1,
            }),
            PartitionOp::Fetch { .. } => PartitionResult::Fetch(FetchResult {
                error,
                high_watermark: -1,
                log_start_offset: -1,
                records: Vec::new(),
            }),
            PartitionOp::ListOffsets { .. } | PartitionOp::EndOffsetForEpoch { .. } => {
                PartitionResult::Offset(OffsetResult {
                    error,
                    offset: -1,
                    timestamp: -1,
                    leader_epoch: -1,
                })
            }
            PartitionOp::DeleteRecords { .. } => PartitionResult::DeleteRecords {
                error,
                low_watermark: -1,
            },
            PartitionOp::Size => PartitionResult::Size { error, bytes: -1 },
        }
    }
}

/// Runs `tasks` on their owners; results come back in `tasks` order.
pub async fn run_tasks(shard: &Rc<Shard>, tasks: Vec<PartitionTask>) -> Vec<PartitionResult> {
    let shard_count = shard.shard_count();
    let task_count = tasks.len();
    let mut by_owner: Vec<(Vec<usize>, Vec<PartitionTask>)> =
        (0..shard_count).map(|_| (Vec::new(), Vec::new())).collect();
    for (index, task) in tasks.into_iter().enumerate() {
        let owner = router::owner(&task.topic, task.partition, shard_count);
        by_owner[owner].0.push(index);
        by_owner[owner].1.push(task);
    }
    let groups = by_owner
        .into_iter()
        .enumerate()
        .filter(|(_, (indexes, _))| !indexes.is_empty())
        .map(|(owner, (indexes, tasks))| {
            let shard = shard.clone();
            async move {
                let results = if owner == shard.id() {
                    run_local(&shard, tasks).await
                } else {
                    let fallbacks: Vec<PartitionResult> = tasks
                        .iter()
                        .map(|task| task.op.failed(ErrorCode::NotLeaderOrFollower))
                        .collect();
                    match shard
                        .mesh()
                        .call(owner, ShardRequest::Partitions(tasks))
                        .await
                    {
                        Ok(ShardReply::Partitions(results)) if results.len() == indexes.len() => {
                            results
                        }
                        _ => fallbacks,
                    }
                };
                (indexes, results)
            }
        });
    let mut slots: Vec<Option<PartitionResult>> = (0..task_count).map(|_| None).collect();
    for (indexes, results) in join_all(groups).await {
        for (index, result) in indexes.into_iter().zip(results) {
            slots[index] = Some(result);
        }
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("every task has a result"))
        .collect()
}

/// Runs one operation per partition of a request's topics on their owners (see
/// [`run_tasks`]); each topic comes back with its partitions' inputs beside their results, in
/// request order.
pub async fn run_by_topic<P>(
    shard: &Rc<Shard>,
    topics: Vec<(String, Vec<P>)>,
    op: impl Fn(&P) -> (i32, PartitionOp),
) -> Vec<(String, Vec<(P, PartitionResult)>)> {
    let tasks = topics
        .iter()
        .flat_map(|(topic, partitions)| {
            partitions.iter().map(|input| {
                let (partition, op) = op(input);
                PartitionTask {
                    topic: topic.clone(),
                    partition,
                    op,
                }
            })
        })
        .collect();
    let mut results = run_tasks(shard, tasks).await.into_iter();
    topics
        .into_iter()
        .map(|(topic, partitions)| {
            let paired = partitions
                .into_iter()
                .map(|input| (input, results.next().expect("run_tasks answers every task")))
                .collect();
            (topic, paired)
        })
        .collect()
}

/// Runs tasks on partitions this shard owns, concurrently.
pub async fn run_local(shard: &Rc<Shard>, tasks: Vec<PartitionTask>) -> Vec<PartitionResult> {
    join_all(tasks.into_iter().map(|task| execute(shard, task))).await
}

async fn execute(shard: &Rc<Shard>, task: PartitionTask) -> PartitionResult {
    let Some(log) = shard.log(&task.topic, task.partition) else {
        let error = if shard.partition_exists(&task.topic, task.partition) {
            // Known to the cluster but not (yet) open here: a retriable state.
            ErrorCode::NotLeaderOrFollower
        } else {
            ErrorCode::UnknownTopicOrPartition
        };
        return task.op.failed(error);
    };
    match task.op {
        PartitionOp::Produce { records, acks } => {
            PartitionResult::Produce(produce(&log, records, acks).await)
        }
        PartitionOp::Fetch {
            offset,
            max_bytes,
            current_leader_epoch,
        } => PartitionResult::Fetch(match check_epoch(current_leader_epoch) {
            Err(error) => FetchResult::failed(error),
            Ok(()) => fetch(&log, offset, max_bytes).await,
        }),
        PartitionOp::ListOffsets {
            timestamp,
            current_leader_epoch,
        } => PartitionResult::Offset(match check_epoch(current_leader_epoch) {
            Err(error) => offset_error(error),
            Ok(()) => list_offset(&log, timestamp).await,
        }),
        PartitionOp::DeleteRecords { offset } => {
            let offset = if offset == -1 {
                log.high_watermark()
            } else {
                offset
            };
            if offset < 0 || offset > log.high_watermark() {
                return PartitionResult::DeleteRecords {
                    error: ErrorCode::OffsetOutOfRange,
                    low_watermark: -1,
                };
            }
            match log.advance_log_start(offset).await {
                Ok(low_watermark) => PartitionResult::DeleteRecords {
                    error: ErrorCode::None,
                    low_watermark,
                },
                Err(error) => PartitionResult::DeleteRecords {
                    error: error.error_code(),
                    low_watermark: -1,
                },
            }
        }
        // A closed log (being reopened) holds no segments to count.
        PartitionOp::Size if log.is_closed() => PartitionResult::Size {
            error: ErrorCode::NotLeaderOrFollower,
            bytes: -1,
        },
        PartitionOp::Size => PartitionResult::Size {
            error: ErrorCode::None,
            bytes: i64::try_from(log.size_bytes()).unwrap_or(i64::MAX),
        },
        PartitionOp::EndOffsetForEpoch {
            leader_epoch,
            current_leader_epoch,
        } => PartitionResult::Offset(match check_epoch(current_leader_epoch) {
            Err(error) => offset_error(error),
            // One epoch (0) covers the whole log; a later epoch is unknown, as Kafka answers.
            Ok(()) if leader_epoch == LEADER_EPOCH => OffsetResult {
                error: ErrorCode::None,
                offset: log.log_end_offset(),
                timestamp: -1,
                leader_epoch: LEADER_EPOCH,
            },
            Ok(()) => OffsetResult {
                error: ErrorCode::None,
                offset: -1,
                timestamp: -1,
                leader_epoch: -1,
            },
        }),
    }
}

/// Kafka's fencing of a client's view of the leader epoch (-1: not checked).
fn check_epoch(current_leader_epoch: i32) -> Result<(), ErrorCode> {
    match current_leader_epoch {
        -1 => Ok(()),
        epoch if epoch > LEADER_EPOCH => Err(ErrorCode::UnknownLeaderEpoch),
        epoch if epoch < LEADER_EPOCH => Err(ErrorCode::FencedLeaderEpoch),
        _ => Ok(()),
    }
}

fn offset_error(error: ErrorCode) -> OffsetResult {
    OffsetResult {
        error,
        offset: -1,
        timestamp: -1,
        leader_epoch: -1,
    }
}

async fn produce(log: &PartitionLog, records: Option<Bytes>, acks: i16) -> ProduceResult {
    let failed = |error: ErrorCode, message: String| ProduceResult {
        error,
        message: Some(message),
        base_offset: -1,
        log_start_offset: -1,
    };
    let durability = match acks {
        0 => Durability::None,
        1 => Durability::Written,
        -1 => Durability::Durable,
        other => {
            return failed(
                ErrorCode::InvalidRequiredAcks,
                format!("acks must be 0, 1 or -1, not {other}"),
            )
        }
    };
    let batch = match single_batch(records) {
        Ok(batch) => batch,
        Err((error, message)) => return failed(error, message),
    };
    // max.message.bytes is the engine's check (MESSAGE_TOO_LARGE), made once, in append.
    match log
        .append(std::slice::from_ref(&batch), durability, LEADER_EPOCH)
        .await
    {
        Ok(outcome) => ProduceResult {
            error: ErrorCode::None,
            message: None,
            base_offset: outcome.base_offset,
            log_start_offset: outcome.log_start_offset,
        },
        Err(error) => failed(error.error_code(), error.to_string()),
    }
}

/// Kafka accepts exactly one RecordBatch v2 per partition in Produce v3 and later, checked
/// (header, CRC32C, produce rules) before anything is appended.
fn single_batch(records: Option<Bytes>) -> Result<RecordBatch, (ErrorCode, String)> {
    let invalid = |message: String| (ErrorCode::InvalidRecord, message);
    let records = records.filter(|r| !r.is_empty()).ok_or_else(|| {
        invalid("a produce request must carry one record batch per partition".into())
    })?;
    let mut batches = Batches::new(records);
    let batch = match batches.next() {
        Some(Ok(batch)) => batch,
        Some(Err(error)) => return Err((ErrorCode::CorruptMessage, error.to_string())),
        None => return Err(invalid("no record batch".into())),
    };
    if batches.next().is_some() {
        return Err(invalid(
            "produce requests v3 and later carry exactly one record batch per partition".into(),
        ));
    }
    batch
        .validate_header()
        .map_err(|error| (ErrorCode::CorruptMessage, error.to_string()))?;
    batch
        .validate_produce()
        .map_err(|error| invalid(error.to_string()))?;
    Ok(batch)
}

async fn fetch(log: &PartitionLog, offset: i64, max_bytes: usize) -> FetchResult {
    match log.read(offset, max_bytes).await {
        Ok(read) => FetchResult {
            error: ErrorCode::None,
            high_watermark: read.high_watermark,
            log_start_offset: read.log_start_offset,
            records: read.chunks,
        },
        Err(error) => FetchResult {
            error: error.error_code(),
            high_watermark: log.high_watermark(),
            log_start_offset: log.log_start_offset(),
            records: Vec::new(),
        },
    }
}

async fn list_offset(log: &PartitionLog, timestamp: i64) -> OffsetResult {
    let found = |offset: i64, timestamp: i64| OffsetResult {
        error: ErrorCode::None,
        offset,
        timestamp,
        leader_epoch: LEADER_EPOCH,
    };
    match timestamp {
        LATEST_TIMESTAMP | LATEST_TIERED_TIMESTAMP => found(log.high_watermark(), -1),
        EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => found(log.log_start_offset(), -1),
        MAX_TIMESTAMP => match max_timestamp(log).await {
            Ok(Some((offset, timestamp))) => found(offset, timestamp),
            Ok(None) => found(-1, -1),
            Err(error) => offset_error(error.error_code()),
        },
        timestamp if timestamp < 0 => offset_error(ErrorCode::InvalidRequest),
        timestamp => match log.offset_for_timestamp(timestamp).await {
            Ok(Some((offset, timestamp))) => found(offset, timestamp),
            // No record that new: Kafka answers offset -1, timestamp -1.
            Ok(None) => found(-1, -1),
            Err(error) => offset_error(error.error_code()),
        },
    }
}

/// The offset and timestamp of the record with the largest timestamp (ListOffsets -3): the
/// first record holding the log's largest timestamp, as Kafka answers since KAFKA-16310.
/// CreateTime timestamps need not grow with offsets, so it is not always in the last batch.
///
/// The largest timestamp may be a batch's still being written, or one below the log start:
/// then nothing readable holds it, and the answer is the last readable batch's, as before.
async fn max_timestamp(log: &PartitionLog) -> Result<Option<(i64, i64)>, EngineError> {
    let high_watermark = log.high_watermark();
    if high_watermark <= log.log_start_offset() {
        return Ok(None);
    }
    if let Some(largest) = log.max_timestamp() {
        if let Some(found) = log.offset_for_timestamp(largest).await? {
            if found.0 < high_watermark {
                return Ok(Some(found));
            }
        }
    }
    let read = log.read(high_watermark - 1, 1).await?;
    let Some(chunk) = read.chunks.last() else {
        return Ok(None);
    };
    let mut newest = None;
    for batch in Batches::new(chunk.clone()).flatten() {
        newest = Some((batch.last_offset(), batch.max_timestamp()));
    }
    Ok(newest)
}

/// Waits until one of `targets` (all owned by this shard) has data at its offset, or
/// `max_wait` passes. Woken by the appends, not by polling.
pub async fn wait_local(shard: &Rc<Shard>, targets: &[WaitTarget], max_wait: Duration) {
    let waits: Vec<_> = targets
        .iter()
        .filter_map(|target| {
            let log = shard.log(&target.topic, target.partition)?;
            let offset = target.offset;
            Some(async move { log.wait_for_data(offset).await }.boxed_local())
        })
        .collect();
    let timer = glommio::timer::sleep(max_wait).boxed_local();
    if waits.is_empty() {
        timer.await;
        return;
    }
    futures::future::select(select_all(waits), timer).await;
}

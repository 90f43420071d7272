//! Fetch: reads every requested partition on its owner, long-polls when fewer than min_bytes
//! are available (woken by appends on the owners, not by a polling loop), and fits the
//! answer into max_bytes in request order. Sessionless: every fetch is a full fetch, and the
//! response's session id 0 tells the client no session was created (KIP-227 allows it).

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::future::{select_all, FutureExt, LocalBoxFuture};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::fetch_response::{FetchableTopicResponse, PartitionData};
use pinlog_protocol::generated::{FetchRequest, FetchResponse, ResponseBody};
use pinlog_protocol::wire::Uuid;

use crate::limits::FETCH_WAIT_MS_MAX;
use crate::mesh::ShardRequest;
use crate::partition_ops::{
    self, FetchResult, PartitionOp, PartitionResult, PartitionTask, WaitTarget,
};
use crate::router;
use crate::shard::Shard;

/// Topic ids replace names from Fetch v13.
const TOPIC_IDS_VERSION: i16 = 13;

/// Batch header bytes up to and including batchLength; a batch is batchLength + 12 bytes.
const BATCH_LENGTH_END: usize = 12;

struct Wanted {
    topic: String,
    topic_id: Uuid,
    partition: i32,
    offset: i64,
    partition_max_bytes: usize,
    current_leader_epoch: i32,
    /// Set when the partition cannot be fetched at all (e.g. an unknown topic id).
    error: Option<ErrorCode>,
}

pub async fn handle(shard: &Rc<Shard>, request: FetchRequest, version: i16) -> ResponseBody {
    let metadata = shard.metadata();
    let mut wanted = Vec::new();
    for topic in &request.topics {
        let (name, error) = if version >= TOPIC_IDS_VERSION {
            match metadata.topic_by_id(&topic.topic_id) {
                Some(found) => (found.name.clone(), None),
                None => (String::new(), Some(ErrorCode::UnknownTopicId)),
            }
        } else {
            (topic.topic.clone(), None)
        };
        for partition in &topic.partitions {
            wanted.push(Wanted {
                topic: name.clone(),
                topic_id: topic.topic_id,
                partition: partition.partition,
                offset: partition.fetch_offset,
                partition_max_bytes: partition.partition_max_bytes.max(0) as usize,
                current_leader_epoch: partition.current_leader_epoch,
                error,
            });
        }
    }
    let max_wait =
        Duration::from_millis((request.max_wait_ms.max(0) as u64).min(FETCH_WAIT_MS_MAX));
    let deadline = Instant::now() + max_wait;
    let min_bytes = request.min_bytes.max(0) as usize;
    let mut results = read_all(shard, &wanted).await;
    loop {
        let available: usize = results
            .iter()
            .map(|r| r.records.iter().map(Bytes::len).sum::<usize>())
            .sum();
        let any_error = results.iter().any(|r| r.error != ErrorCode::None);
        let now = Instant::now();
        if available >= min_bytes || any_error || now >= deadline || shard.is_shutting_down() {
            break;
        }
        let targets: Vec<WaitTarget> = wanted
            .iter()
            .zip(&results)
            .filter(|(_, result)| result.records.is_empty())
            .map(|(w, _)| WaitTarget {
                topic: w.topic.clone(),
                partition: w.partition,
                offset: w.offset,
            })
            .collect();
        wait_any(shard, targets, deadline - now).await;
        results = read_all(shard, &wanted).await;
    }
    let max_bytes = if request.max_bytes <= 0 {
        usize::MAX
    } else {
        request.max_bytes as usize
    };
    ResponseBody::Fetch(FetchResponse {
        error_code: ErrorCode::None.code(),
        session_id: 0,
        responses: assemble(wanted, results, max_bytes, request.isolation_level),
        ..Default::default()
    })
}

async fn read_all(shard: &Rc<Shard>, wanted: &[Wanted]) -> Vec<FetchResult> {
    let tasks: Vec<PartitionTask> = wanted
        .iter()
        .filter(|w| w.error.is_none())
        .map(|w| PartitionTask {
            topic: w.topic.clone(),
            partition: w.partition,
            op: PartitionOp::Fetch {
                offset: w.offset,
                max_bytes: w.partition_max_bytes,
                current_leader_epoch: w.current_leader_epoch,
            },
        })
        .collect();
    let mut done = partition_ops::run_tasks(shard, tasks).await.into_iter();
    wanted
        .iter()
        .map(|w| match w.error {
            Some(error) => FetchResult {
                error,
                high_watermark: -1,
                log_start_offset: -1,
                records: Vec::new(),
            },
            None => match done.next() {
                Some(PartitionResult::Fetch(result)) => result,
                _ => FetchResult::failed(ErrorCode::UnknownServerError),
            },
        })
        .collect()
}

/// Waits until one of the owners of `targets` reports data, or `max_wait` passes.
async fn wait_any(shard: &Rc<Shard>, targets: Vec<WaitTarget>, max_wait: Duration) {
    let shard_count = shard.shard_count();
    let mut by_owner: Vec<Vec<WaitTarget>> = vec![Vec::new(); shard_count];
    for target in targets {
        by_owner[router::owner(&target.topic, target.partition, shard_count)].push(target);
    }
    let mut waits: Vec<LocalBoxFuture<'_, ()>> = Vec::new();
    for (owner, targets) in by_owner.into_iter().enumerate() {
        if targets.is_empty() {
            continue;
        }
        if owner == shard.id() {
            let shard = shard.clone();
            waits.push(
                async move { partition_ops::wait_local(&shard, &targets, max_wait).await }
                    .boxed_local(),
            );
        } else {
            let request = ShardRequest::WaitForData {
                targets,
                max_wait_ms: max_wait.as_millis() as u64,
            };
            waits.push(
                async move {
                    let _ = shard.mesh().call(owner, request).await;
                }
                .boxed_local(),
            );
        }
    }
    if waits.is_empty() {
        glommio::timer::sleep(max_wait).await;
    } else {
        select_all(waits).await;
    }
}

/// Builds the response in request order, keeping the records within `max_bytes` (by whole
/// batches; the first batch of the first non-empty partition goes out even if larger, as in
/// Kafka, so that a consumer can always make progress).
fn assemble(
    wanted: Vec<Wanted>,
    results: Vec<FetchResult>,
    max_bytes: usize,
    isolation_level: i8,
) -> Vec<FetchableTopicResponse> {
    let mut remaining = max_bytes;
    let mut anything_sent = false;
    let mut topics: Vec<FetchableTopicResponse> = Vec::new();
    for (w, result) in wanted.into_iter().zip(results) {
        let records = fit(result.records, &mut remaining, &mut anything_sent);
        let partition = PartitionData {
            partition_index: w.partition,
            error_code: result.error.code(),
            high_watermark: result.high_watermark,
            last_stable_offset: result.high_watermark,
            log_start_offset: result.log_start_offset,
            aborted_transactions: (isolation_level == 1).then(Vec::new),
            records: Some(records),
            ..Default::default()
        };
        match topics.last_mut() {
            Some(last) if last.topic == w.topic && last.topic_id == w.topic_id => {
                last.partitions.push(partition)
            }
            _ => topics.push(FetchableTopicResponse {
                topic: w.topic,
                topic_id: w.topic_id,
                partitions: vec![partition],
                ..Default::default()
            }),
        }
    }
    topics
}

/// Takes whole batches from `chunks` while they fit in `remaining`.
fn fit(chunks: Vec<Bytes>, remaining: &mut usize, anything_sent: &mut bool) -> Bytes {
    let mut kept: Vec<Bytes> = Vec::new();
    for chunk in chunks {
        let take = if chunk.len() <= *remaining {
            chunk.len()
        } else {
            let fitting = whole_batches_within(&chunk, *remaining);
            if fitting == 0 && !*anything_sent && kept.is_empty() {
                whole_batches_within(&chunk, usize::MAX).min(first_batch_len(&chunk))
            } else {
                fitting
            }
        };
        if take == 0 {
            break;
        }
        *remaining = remaining.saturating_sub(take);
        *anything_sent = true;
        let whole = take == chunk.len();
        kept.push(chunk.slice(..take));
        if !whole {
            break;
        }
    }
    match kept.len() {
        0 => Bytes::new(),
        1 => kept.pop().expect("one chunk"),
        _ => {
            // The response's records field is one byte string: joining costs a copy, only
            // when the cache held the batches apart.
            let mut joined = BytesMut::with_capacity(kept.iter().map(Bytes::len).sum());
            for chunk in kept {
                joined.extend_from_slice(&chunk);
            }
            joined.freeze()
        }
    }
}

/// Bytes of the whole batches at the start of `chunk` that fit in `limit`.
fn whole_batches_within(chunk: &[u8], limit: usize) -> usize {
    let mut end = 0;
    while let Some(len) = batch_len_at(chunk, end) {
        if end + len > chunk.len() || end + len > limit {
            break;
        }
        end += len;
    }
    end
}

fn first_batch_len(chunk: &[u8]) -> usize {
    batch_len_at(chunk, 0).unwrap_or(0).min(chunk.len())
}

fn batch_len_at(chunk: &[u8], position: usize) -> Option<usize> {
    let header = chunk.get(position..position + BATCH_LENGTH_END)?;
    let length = i32::from_be_bytes(header[8..12].try_into().ok()?);
    (length > 0).then(|| length as usize + BATCH_LENGTH_END)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_batch(total: usize) -> Vec<u8> {
        let mut batch = vec![0u8; total];
        batch[8..12].copy_from_slice(&((total - 12) as i32).to_be_bytes());
        batch
    }

    fn chunk(sizes: &[usize]) -> Bytes {
        Bytes::from(
            sizes
                .iter()
                .flat_map(|&s| fake_batch(s))
                .collect::<Vec<u8>>(),
        )
    }

    #[test]
    fn whole_batches_fit_the_budget() {
        let mut remaining = 250;
        let mut sent = false;
        let out = fit(vec![chunk(&[100, 100, 100])], &mut remaining, &mut sent);
        assert_eq!(out.len(), 200);
        assert_eq!(remaining, 50);
    }

    #[test]
    fn the_first_batch_goes_out_even_if_larger() {
        let mut remaining = 10;
        let mut sent = false;
        let out = fit(vec![chunk(&[100, 100])], &mut remaining, &mut sent);
        assert_eq!(out.len(), 100);
        assert_eq!(remaining, 0);
        // A later partition gets nothing once the budget is spent.
        let out = fit(vec![chunk(&[100])], &mut remaining, &mut sent);
        assert!(out.is_empty());
    }

    #[test]
    fn chunks_are_joined_in_order() {
        let mut remaining = usize::MAX;
        let mut sent = false;
        let a = chunk(&[50]);
        let b = chunk(&[60]);
        let out = fit(vec![a.clone(), b.clone()], &mut remaining, &mut sent);
        assert_eq!(&out[..50], &a[..]);
        assert_eq!(&out[50..], &b[..]);
    }
}

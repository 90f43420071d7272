//! OffsetCommit, OffsetFetch (one group, or many from v8) and OffsetDelete, served by the
//! shard that coordinates the group: commits are Durable appends to `__consumer_offsets`.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use pinlog_protocol::generated::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use pinlog_protocol::generated::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use pinlog_protocol::generated::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, ResponseBody,
};

use crate::group_manager::{self, GroupReply, GroupRequest, OffsetToCommit};
use crate::group_offsets::CommittedOffset;
use crate::shard::Shard;

/// OffsetFetch names many groups from v8; committed leader epochs appear from v5.
const FETCH_GROUPS_VERSION: i16 = 8;
const FETCH_LEADER_EPOCH_VERSION: i16 = 5;
/// OffsetCommit carries the committed leader epoch from v6.
const COMMIT_LEADER_EPOCH_VERSION: i16 = 6;

pub async fn commit(shard: &Rc<Shard>, request: OffsetCommitRequest, version: i16) -> ResponseBody {
    let shape: Vec<(String, Vec<i32>)> = request
        .topics
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.partitions.iter().map(|p| p.partition_index).collect(),
            )
        })
        .collect();
    let offsets: Vec<OffsetToCommit> = request
        .topics
        .into_iter()
        .flat_map(|topic| {
            let name = topic.name;
            topic.partitions.into_iter().map(move |p| OffsetToCommit {
                topic: name.clone(),
                partition: p.partition_index,
                offset: p.committed_offset,
                leader_epoch: if version >= COMMIT_LEADER_EPOCH_VERSION {
                    p.committed_leader_epoch
                } else {
                    -1
                },
                metadata: p.committed_metadata,
            })
        })
        .collect();
    let count = offsets.len();
    let request = GroupRequest::Commit {
        group_id: request.group_id,
        generation_id: request.generation_id_or_member_epoch,
        member_id: request.member_id,
        group_instance_id: request.group_instance_id,
        offsets,
    };
    let errors = match group_manager::call(shard, request).await {
        GroupReply::Commit(errors) if errors.len() == count => errors,
        GroupReply::Error(error) => vec![error; count],
        _ => vec![ErrorCode::UnknownServerError; count],
    };
    let mut errors = errors.into_iter();
    ResponseBody::OffsetCommit(OffsetCommitResponse {
        topics: shape
            .into_iter()
            .map(|(name, partitions)| OffsetCommitResponseTopic {
                name,
                partitions: partitions
                    .into_iter()
                    .map(|partition_index| OffsetCommitResponsePartition {
                        partition_index,
                        error_code: errors
                            .next()
                            .unwrap_or(ErrorCode::UnknownServerError)
                            .code(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

/// One group's answer: (topic, partition, committed offset or none), or a group-level error.
type GroupOffsets = Result<Vec<(String, i32, Option<CommittedOffset>)>, ErrorCode>;

async fn fetch_group(
    shard: &Rc<Shard>,
    group_id: String,
    wanted: Option<Vec<(String, Vec<i32>)>>,
) -> GroupOffsets {
    let partitions = wanted.map(|topics| {
        topics
            .into_iter()
            .flat_map(|(name, partitions)| partitions.into_iter().map(move |p| (name.clone(), p)))
            .collect()
    });
    match group_manager::call(
        shard,
        GroupRequest::FetchOffsets {
            group_id,
            partitions,
        },
    )
    .await
    {
        GroupReply::Offsets(found) => found,
        GroupReply::Error(error) => Err(error),
        _ => Err(ErrorCode::UnknownServerError),
    }
}

/// A topic's partitions with their committed offsets, if any.
type TopicOffsets = (String, Vec<(i32, Option<CommittedOffset>)>);

/// Groups consecutive (topic, partition, offset) entries by topic, keeping their order.
fn by_topic(found: Vec<(String, i32, Option<CommittedOffset>)>) -> Vec<TopicOffsets> {
    let mut topics: Vec<TopicOffsets> = Vec::new();
    for (topic, partition, offset) in found {
        match topics.last_mut() {
            Some((name, partitions)) if *name == topic => partitions.push((partition, offset)),
            _ => topics.push((topic, vec![(partition, offset)])),
        }
    }
    topics
}

pub async fn fetch(shard: &Rc<Shard>, request: OffsetFetchRequest, version: i16) -> ResponseBody {
    if version >= FETCH_GROUPS_VERSION {
        let mut groups = Vec::with_capacity(request.groups.len());
        for group in request.groups {
            let wanted = group.topics.map(|topics| {
                topics
                    .into_iter()
                    .map(|t| (t.name, t.partition_indexes))
                    .collect()
            });
            let found = fetch_group(shard, group.group_id.clone(), wanted).await;
            let (error, found) = match found {
                Ok(found) => (ErrorCode::None, found),
                Err(error) => (error, Vec::new()),
            };
            groups.push(OffsetFetchResponseGroup {
                group_id: group.group_id,
                error_code: error.code(),
                topics: by_topic(found)
                    .into_iter()
                    .map(|(name, partitions)| OffsetFetchResponseTopics {
                        name,
                        partitions: partitions
                            .into_iter()
                            .map(|(partition_index, offset)| OffsetFetchResponsePartitions {
                                partition_index,
                                committed_offset: offset.as_ref().map_or(-1, |o| o.offset),
                                committed_leader_epoch: offset
                                    .as_ref()
                                    .map_or(-1, |o| o.leader_epoch),
                                metadata: Some(offset.and_then(|o| o.metadata).unwrap_or_default()),
                                error_code: ErrorCode::None.code(),
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            });
        }
        return ResponseBody::OffsetFetch(OffsetFetchResponse {
            groups,
            ..Default::default()
        });
    }
    let wanted = request.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name, t.partition_indexes))
            .collect()
    });
    let (error, found) = match fetch_group(shard, request.group_id, wanted).await {
        Ok(found) => (ErrorCode::None, found),
        Err(error) => (error, Vec::new()),
    };
    let with_epoch = version >= FETCH_LEADER_EPOCH_VERSION;
    ResponseBody::OffsetFetch(OffsetFetchResponse {
        error_code: error.code(),
        topics: by_topic(found)
            .into_iter()
            .map(|(name, partitions)| OffsetFetchResponseTopic {
                name,
                partitions: partitions
                    .into_iter()
                    .map(|(partition_index, offset)| OffsetFetchResponsePartition {
                        partition_index,
                        committed_offset: offset.as_ref().map_or(-1, |o| o.offset),
                        committed_leader_epoch: match (&offset, with_epoch) {
                            (Some(o), true) => o.leader_epoch,
                            _ => -1,
                        },
                        metadata: Some(offset.and_then(|o| o.metadata).unwrap_or_default()),
                        error_code: ErrorCode::None.code(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

pub async fn delete(shard: &Rc<Shard>, request: OffsetDeleteRequest) -> ResponseBody {
    let partitions: Vec<(String, i32)> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.clone(), p.partition_index))
        })
        .collect();
    let count = partitions.len();
    let reply = group_manager::call(
        shard,
        GroupRequest::DeleteOffsets {
            group_id: request.group_id,
            partitions,
        },
    )
    .await;
    let (error, per_partition) = match reply {
        GroupReply::DeleteOffsets(error, errors)
            if errors.len() == count || error != ErrorCode::None =>
        {
            (error, errors)
        }
        GroupReply::Error(error) => (error, Vec::new()),
        _ => (ErrorCode::UnknownServerError, Vec::new()),
    };
    let mut per_partition = per_partition.into_iter();
    ResponseBody::OffsetDelete(OffsetDeleteResponse {
        error_code: error.code(),
        topics: if error == ErrorCode::None {
            request
                .topics
                .into_iter()
                .map(|t| OffsetDeleteResponseTopic {
                    name: t.name,
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| OffsetDeleteResponsePartition {
                            partition_index: p.partition_index,
                            error_code: per_partition.next().unwrap_or(ErrorCode::None).code(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect()
        } else {
            Vec::new()
        },
        ..Default::default()
    })
}

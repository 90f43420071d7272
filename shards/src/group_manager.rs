//! The wiring of consumer groups on a shard: the [`Coordinator`] state machine for the groups
//! whose `__consumer_offsets` partition this shard owns, their committed offsets, parked
//! JoinGroup/SyncGroup requests, timers, and the routing of group requests to their shard.
//!
//! The coordinator of group g is the owner of partition `abs(hash(g)) % P` of
//! `__consumer_offsets` (Kafka's rule, with Java's String.hashCode), so a group's membership
//! and its offsets live on one shard and its commits are local appends.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::channel::oneshot;
use pinlog_engine::{Durability, PartitionLog};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::{BatchBuilder, Batches, NewRecord, RecordBatch};

use crate::group_offsets::{
    decode_key, decode_value, encode_key, encode_value, CommittedOffset, OffsetKey, OffsetStore,
    OFFSETS_TOPIC, OFFSET_METADATA_BYTES_MAX,
};
use crate::groups::{
    Completion, Coordinator, CoordinatorConfig, GroupDescription, HeartbeatInput, JoinInput,
    JoinOutput, LeaveOutput, LeavingMember, SyncInput, SyncOutput, Token,
};
use crate::limits::GROUP_LOAD_READ_BYTES;
use crate::mesh::{ShardReply, ShardRequest};
use crate::partition_ops::LEADER_EPOCH;
use crate::router;
use crate::shard::Shard;

/// One partition's offset to commit.
#[derive(Debug, Clone)]
pub struct OffsetToCommit {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

#[derive(Debug)]
pub enum GroupRequest {
    Join(JoinInput),
    Sync(SyncInput),
    Heartbeat(HeartbeatInput),
    Leave {
        group_id: String,
        members: Vec<LeavingMember>,
    },
    Commit {
        group_id: String,
        generation_id: i32,
        member_id: String,
        group_instance_id: Option<String>,
        offsets: Vec<OffsetToCommit>,
    },
    /// `partitions: None` asks for every committed offset of the group.
    FetchOffsets {
        group_id: String,
        partitions: Option<Vec<(String, i32)>>,
    },
    Describe(String),
    List(Vec<String>),
    Delete(String),
    DeleteOffsets {
        group_id: String,
        partitions: Vec<(String, i32)>,
    },
}

#[derive(Debug)]
pub enum GroupReply {
    Join(JoinOutput),
    Sync(SyncOutput),
    Error(ErrorCode),
    Leave(LeaveOutput),
    /// Per offset, in request order.
    Commit(Vec<ErrorCode>),
    Offsets(Result<Vec<(String, i32, Option<CommittedOffset>)>, ErrorCode>),
    Describe(GroupDescription),
    /// (group id, protocol type, state)
    List(Vec<(String, String, String)>),
    /// Top-level error and one per partition.
    DeleteOffsets(ErrorCode, Vec<ErrorCode>),
}

impl GroupRequest {
    fn failed(&self, error: ErrorCode) -> GroupReply {
        match self {
            GroupRequest::Join(input) => GroupReply::Join(JoinOutput {
                error,
                generation_id: -1,
                protocol_type: None,
                protocol_name: None,
                leader: String::new(),
                skip_assignment: false,
                member_id: input.member_id.clone(),
                members: Vec::new(),
            }),
            GroupRequest::Sync(_) => GroupReply::Sync(SyncOutput {
                error,
                protocol_type: None,
                protocol_name: None,
                assignment: bytes::Bytes::new(),
            }),
            GroupRequest::Leave { members, .. } => GroupReply::Leave(LeaveOutput {
                error,
                members: members
                    .iter()
                    .map(|m| crate::groups::LeftMember {
                        member_id: m.member_id.clone(),
                        group_instance_id: m.group_instance_id.clone(),
                        error,
                    })
                    .collect(),
            }),
            GroupRequest::Commit { offsets, .. } => GroupReply::Commit(vec![error; offsets.len()]),
            GroupRequest::FetchOffsets { .. } => GroupReply::Offsets(Err(error)),
            GroupRequest::Describe(group_id) => GroupReply::Describe(GroupDescription {
                error,
                group_id: group_id.clone(),
                state: String::new(),
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            }),
            GroupRequest::List(_) => GroupReply::List(Vec::new()),
            GroupRequest::DeleteOffsets { partitions, .. } => {
                GroupReply::DeleteOffsets(error, vec![error; partitions.len()])
            }
            GroupRequest::Heartbeat(_) | GroupRequest::Delete(_) => GroupReply::Error(error),
        }
    }

    fn group_id(&self) -> Option<&str> {
        match self {
            GroupRequest::Join(input) => Some(&input.group_id),
            GroupRequest::Sync(input) => Some(&input.group_id),
            GroupRequest::Heartbeat(input) => Some(&input.group_id),
            GroupRequest::Leave { group_id, .. }
            | GroupRequest::Commit { group_id, .. }
            | GroupRequest::FetchOffsets { group_id, .. }
            | GroupRequest::DeleteOffsets { group_id, .. } => Some(group_id),
            GroupRequest::Describe(group_id) | GroupRequest::Delete(group_id) => Some(group_id),
            GroupRequest::List(_) => None,
        }
    }
}

/// Kafka's partition of `__consumer_offsets` for a group: `abs(groupId.hashCode) % partitions`.
pub fn offsets_partition(group_id: &str, partitions: i32) -> i32 {
    let mut hash: i32 = 0;
    for unit in group_id.encode_utf16() {
        hash = hash.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    // Kafka's Utils.abs maps i32::MIN to 0 rather than overflowing.
    let positive = if hash == i32::MIN { 0 } else { hash.abs() };
    positive % partitions.max(1)
}

/// The partitions `__consumer_offsets` has, or will have once created.
pub fn offsets_partitions(shard: &Shard) -> i32 {
    shard
        .metadata()
        .topic(OFFSETS_TOPIC)
        .map_or(shard.config().offsets_topic_partitions, |t| t.partitions)
}

/// Sends a group request to the shard that coordinates its group (List goes to every shard).
pub async fn call(shard: &Rc<Shard>, request: GroupRequest) -> GroupReply {
    let Some(group_id) = request.group_id() else {
        return list_everywhere(shard, request).await;
    };
    let partition = offsets_partition(group_id, offsets_partitions(shard));
    let owner = router::owner(OFFSETS_TOPIC, partition, shard.shard_count());
    if owner == shard.id() {
        return shard.groups().serve(shard, request).await;
    }
    let fallback = request.failed(ErrorCode::CoordinatorNotAvailable);
    match shard.mesh().call(owner, ShardRequest::Group(request)).await {
        Ok(ShardReply::Group(reply)) => reply,
        _ => fallback,
    }
}

async fn list_everywhere(shard: &Rc<Shard>, request: GroupRequest) -> GroupReply {
    let GroupRequest::List(states) = request else {
        return GroupReply::List(Vec::new());
    };
    let mut groups = Vec::new();
    for peer in 0..shard.shard_count() {
        let reply = if peer == shard.id() {
            shard
                .groups()
                .serve(shard, GroupRequest::List(states.clone()))
                .await
        } else {
            match shard
                .mesh()
                .call(
                    peer,
                    ShardRequest::Group(GroupRequest::List(states.clone())),
                )
                .await
            {
                Ok(ShardReply::Group(reply)) => reply,
                _ => GroupReply::List(Vec::new()),
            }
        };
        if let GroupReply::List(found) = reply {
            groups.extend(found);
        }
    }
    groups.sort();
    GroupReply::List(groups)
}

/// A shard's groups.
pub struct GroupManager {
    coordinator: RefCell<Coordinator>,
    offsets: RefCell<OffsetStore>,
    parked: RefCell<HashMap<Token, oneshot::Sender<Completion>>>,
    next_token: Cell<Token>,
    /// `__consumer_offsets` partitions whose records this shard has replayed.
    loaded: RefCell<HashSet<i32>>,
    started: Instant,
}

impl GroupManager {
    pub fn new(config: CoordinatorConfig) -> GroupManager {
        GroupManager {
            coordinator: RefCell::new(Coordinator::new(config)),
            offsets: RefCell::new(OffsetStore::default()),
            parked: RefCell::new(HashMap::new()),
            next_token: Cell::new(0),
            loaded: RefCell::new(HashSet::new()),
            started: Instant::now(),
        }
    }

    /// Monotonic milliseconds for the coordinator's timers.
    fn now_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// Runs timers that are due and answers the requests they complete.
    pub fn tick(&self) {
        let now = self.now_ms();
        self.coordinator.borrow_mut().tick(now);
        self.deliver();
    }

    fn deliver(&self) {
        let completions = self.coordinator.borrow_mut().take_completions();
        for (token, completion) in completions {
            if let Some(sender) = self.parked.borrow_mut().remove(&token) {
                let _ = sender.send(completion);
            }
        }
    }

    fn park(&self) -> (Token, oneshot::Receiver<Completion>) {
        let token = self.next_token.get();
        self.next_token.set(token.wrapping_add(1));
        let (sender, receiver) = oneshot::channel();
        self.parked.borrow_mut().insert(token, sender);
        (token, receiver)
    }

    /// Waits for a parked request; a dropped wait (client gone) cancels it.
    async fn wait(
        &self,
        token: Token,
        receiver: oneshot::Receiver<Completion>,
    ) -> Option<Completion> {
        struct CancelOnDrop<'a> {
            manager: &'a GroupManager,
            token: Token,
            done: bool,
        }
        impl Drop for CancelOnDrop<'_> {
            fn drop(&mut self) {
                if !self.done {
                    self.manager.parked.borrow_mut().remove(&self.token);
                    self.manager.coordinator.borrow_mut().cancel(self.token);
                }
            }
        }
        let mut guard = CancelOnDrop {
            manager: self,
            token,
            done: false,
        };
        let completion = receiver.await.ok();
        guard.done = true;
        completion
    }

    fn is_loaded(&self, shard: &Shard, group_id: &str) -> bool {
        let partition = offsets_partition(group_id, offsets_partitions(shard));
        self.loaded.borrow().contains(&partition)
    }

    pub async fn serve(&self, shard: &Rc<Shard>, request: GroupRequest) -> GroupReply {
        if let Some(group_id) = request.group_id() {
            if !self.is_loaded(shard, group_id) {
                let error = if shard.metadata().topic(OFFSETS_TOPIC).is_some() {
                    ErrorCode::CoordinatorLoadInProgress
                } else {
                    ErrorCode::CoordinatorNotAvailable
                };
                return request.failed(error);
            }
        }
        let now = self.now_ms();
        let reply = match request {
            GroupRequest::Join(input) => {
                let (token, receiver) = self.park();
                let immediate = self.coordinator.borrow_mut().join_group(now, token, input);
                match immediate {
                    Some(output) => {
                        self.parked.borrow_mut().remove(&token);
                        self.deliver();
                        GroupReply::Join(output)
                    }
                    None => {
                        self.deliver();
                        match self.wait(token, receiver).await {
                            Some(Completion::Join(output)) => GroupReply::Join(output),
                            _ => GroupReply::Error(ErrorCode::UnknownServerError),
                        }
                    }
                }
            }
            GroupRequest::Sync(input) => {
                let (token, receiver) = self.park();
                let immediate = self.coordinator.borrow_mut().sync_group(now, token, input);
                match immediate {
                    Some(output) => {
                        self.parked.borrow_mut().remove(&token);
                        self.deliver();
                        GroupReply::Sync(output)
                    }
                    None => {
                        self.deliver();
                        match self.wait(token, receiver).await {
                            Some(Completion::Sync(output)) => GroupReply::Sync(output),
                            _ => GroupReply::Error(ErrorCode::UnknownServerError),
                        }
                    }
                }
            }
            GroupRequest::Heartbeat(input) => {
                let error = self.coordinator.borrow_mut().heartbeat(now, input);
                self.deliver();
                GroupReply::Error(error)
            }
            GroupRequest::Leave { group_id, members } => {
                let output = self
                    .coordinator
                    .borrow_mut()
                    .leave_group(now, &group_id, members);
                self.deliver();
                GroupReply::Leave(output)
            }
            GroupRequest::Commit {
                group_id,
                generation_id,
                member_id,
                group_instance_id,
                offsets,
            } => GroupReply::Commit(
                self.commit(
                    shard,
                    &group_id,
                    generation_id,
                    &member_id,
                    group_instance_id.as_deref(),
                    offsets,
                )
                .await,
            ),
            GroupRequest::FetchOffsets {
                group_id,
                partitions,
            } => {
                let store = self.offsets.borrow();
                let found = match partitions {
                    Some(partitions) => partitions
                        .into_iter()
                        .map(|(topic, partition)| {
                            let offset = store.get(&group_id, &topic, partition).cloned();
                            (topic, partition, offset)
                        })
                        .collect(),
                    None => store
                        .group_offsets(&group_id)
                        .into_iter()
                        .map(|(key, value)| (key.topic, key.partition, Some(value)))
                        .collect(),
                };
                GroupReply::Offsets(Ok(found))
            }
            GroupRequest::Describe(group_id) => {
                GroupReply::Describe(self.coordinator.borrow().describe_group(&group_id))
            }
            GroupRequest::List(states) => {
                GroupReply::List(self.coordinator.borrow().list_groups(&states))
            }
            GroupRequest::Delete(group_id) => {
                let error = self.coordinator.borrow_mut().delete_group(&group_id);
                if error == ErrorCode::None {
                    let keys: Vec<OffsetKey> = self
                        .offsets
                        .borrow()
                        .group_offsets(&group_id)
                        .into_iter()
                        .map(|(key, _)| key)
                        .collect();
                    if let Err(error) = self.write_offsets(shard, &group_id, &keys, None).await {
                        return GroupReply::Error(error);
                    }
                }
                GroupReply::Error(error)
            }
            GroupRequest::DeleteOffsets {
                group_id,
                partitions,
            } => self.delete_offsets(shard, &group_id, partitions).await,
        };
        reply
    }

    async fn commit(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
        offsets: Vec<OffsetToCommit>,
    ) -> Vec<ErrorCode> {
        let error = self.coordinator.borrow().validate_offset_commit(
            group_id,
            generation_id,
            member_id,
            group_instance_id,
        );
        if error != ErrorCode::None {
            return vec![error; offsets.len()];
        }
        let metadata = shard.metadata();
        let mut errors = Vec::with_capacity(offsets.len());
        let mut accepted: Vec<(OffsetKey, CommittedOffset)> = Vec::new();
        let now = wall_clock_ms();
        for offset in offsets {
            let known = metadata
                .topic(&offset.topic)
                .is_some_and(|t| (0..t.partitions).contains(&offset.partition));
            let error = if !known {
                ErrorCode::UnknownTopicOrPartition
            } else if offset
                .metadata
                .as_ref()
                .is_some_and(|m| m.len() > OFFSET_METADATA_BYTES_MAX)
            {
                ErrorCode::OffsetMetadataTooLarge
            } else {
                accepted.push((
                    OffsetKey {
                        group: group_id.to_string(),
                        topic: offset.topic,
                        partition: offset.partition,
                    },
                    CommittedOffset {
                        offset: offset.offset,
                        leader_epoch: offset.leader_epoch,
                        metadata: offset.metadata,
                        commit_timestamp_ms: now,
                    },
                ));
                ErrorCode::None
            };
            errors.push(error);
        }
        if accepted.is_empty() {
            return errors;
        }
        let keys: Vec<OffsetKey> = accepted.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<CommittedOffset> = accepted.into_iter().map(|(_, v)| v).collect();
        if let Err(error) = self
            .write_offsets(shard, group_id, &keys, Some(&values))
            .await
        {
            for slot in errors.iter_mut().filter(|e| **e == ErrorCode::None) {
                *slot = error;
            }
            return errors;
        }
        self.coordinator.borrow_mut().ensure_group(group_id);
        errors
    }

    async fn delete_offsets(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        partitions: Vec<(String, i32)>,
    ) -> GroupReply {
        let description = self.coordinator.borrow().describe_group(group_id);
        let has_offsets = self.offsets.borrow().has_group(group_id);
        if description.state == "Dead" && !has_offsets {
            return GroupReply::DeleteOffsets(ErrorCode::GroupIdNotFound, Vec::new());
        }
        // Kafka refuses to delete offsets a live member still consumes; members' assignments
        // are opaque here, so any member blocks the deletion of the group's offsets.
        let in_use = !description.members.is_empty();
        let keys: Vec<OffsetKey> = partitions
            .iter()
            .map(|(topic, partition)| OffsetKey {
                group: group_id.to_string(),
                topic: topic.clone(),
                partition: *partition,
            })
            .collect();
        if in_use {
            return GroupReply::DeleteOffsets(
                ErrorCode::None,
                vec![ErrorCode::GroupSubscribedToTopic; keys.len()],
            );
        }
        match self.write_offsets(shard, group_id, &keys, None).await {
            Ok(()) => GroupReply::DeleteOffsets(ErrorCode::None, vec![ErrorCode::None; keys.len()]),
            Err(error) => GroupReply::DeleteOffsets(error, vec![error; keys.len()]),
        }
    }

    /// Appends offset records (or tombstones when `values` is None) Durable to the group's
    /// `__consumer_offsets` partition, then applies them.
    async fn write_offsets(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        keys: &[OffsetKey],
        values: Option<&[CommittedOffset]>,
    ) -> Result<(), ErrorCode> {
        if keys.is_empty() {
            return Ok(());
        }
        let partition = offsets_partition(group_id, offsets_partitions(shard));
        let log = shard
            .log(OFFSETS_TOPIC, partition)
            .ok_or(ErrorCode::NotCoordinator)?;
        let now = wall_clock_ms();
        let mut builder = BatchBuilder::new();
        for (index, key) in keys.iter().enumerate() {
            builder.push(NewRecord {
                key: Some(encode_key(key)),
                value: values.map(|v| encode_value(&v[index])),
                headers: Vec::new(),
                timestamp: now,
            });
        }
        let batch = builder
            .build()
            .ok()
            .and_then(|bytes| RecordBatch::new(bytes).ok())
            .ok_or(ErrorCode::UnknownServerError)?;
        log.append(
            std::slice::from_ref(&batch),
            Durability::Durable,
            LEADER_EPOCH,
        )
        .await
        .map_err(|error| {
            tracing::error!(group_id, "writing committed offsets failed: {error}");
            error.error_code()
        })?;
        let mut store = self.offsets.borrow_mut();
        for (index, key) in keys.iter().enumerate() {
            store.apply(key.clone(), values.map(|v| v[index].clone()));
        }
        Ok(())
    }

    /// Replays one `__consumer_offsets` partition this shard owns: latest value per key.
    pub async fn load_partition(&self, partition: i32, log: &PartitionLog) {
        let mut offset = log.log_start_offset();
        let mut loaded = 0usize;
        while offset < log.high_watermark() {
            let read = match log.read(offset, GROUP_LOAD_READ_BYTES).await {
                Ok(read) => read,
                Err(error) => {
                    tracing::error!(
                        partition,
                        offset,
                        "loading committed offsets failed: {error}"
                    );
                    break;
                }
            };
            let before = offset;
            for chunk in read.chunks {
                for batch in Batches::new(chunk).flatten() {
                    offset = offset.max(batch.last_offset() + 1);
                    let Ok(records) = batch.records(DECOMPRESSED_BATCH_BYTES_MAX) else {
                        continue;
                    };
                    for record in records.flatten() {
                        let Some(key) = record.key.as_deref().and_then(decode_key) else {
                            continue;
                        };
                        let value = record.value.as_deref().and_then(decode_value);
                        self.offsets.borrow_mut().apply(key, value);
                        loaded += 1;
                    }
                }
            }
            if offset == before {
                break;
            }
        }
        let groups: Vec<String> = self.offsets.borrow().groups().cloned().collect();
        // Groups known only through their offsets are listed (state Empty), as in Kafka.
        let mut coordinator = self.coordinator.borrow_mut();
        for group in groups {
            coordinator.ensure_group(&group);
        }
        drop(coordinator);
        self.loaded.borrow_mut().insert(partition);
        tracing::debug!(partition, records = loaded, "committed offsets loaded");
    }

    /// Deletes offsets of groups without members that were committed longer ago than
    /// `retention_ms` (Kafka's offsets.retention.minutes).
    pub async fn expire_offsets(&self, shard: &Rc<Shard>, retention_ms: i64) {
        let cutoff = wall_clock_ms() - retention_ms;
        let expired = {
            let coordinator = self.coordinator.borrow();
            self.offsets.borrow().expired(cutoff, |group| {
                coordinator.describe_group(group).members.is_empty()
            })
        };
        let mut by_group: HashMap<String, Vec<OffsetKey>> = HashMap::new();
        for key in expired {
            by_group.entry(key.group.clone()).or_default().push(key);
        }
        for (group, keys) in by_group {
            if let Err(error) = self.write_offsets(shard, &group, &keys, None).await {
                tracing::warn!(group, ?error, "expiring committed offsets failed");
            }
        }
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_map_to_partitions_as_in_kafka() {
        // Java: Math.abs("my-group".hashCode()) % 50, with "my-group".hashCode() == -1906497762.
        assert_eq!(offsets_partition("my-group", 50), 12);
        assert_eq!(offsets_partition("console-consumer-12345", 50), 6);
        assert_eq!(offsets_partition("", 50), 0);
        assert!((0..16).contains(&offsets_partition("日本", 16)));
    }
}

//! The wiring of consumer groups on a shard: the [`Coordinator`] state machine for the groups
//! whose `__consumer_offsets` partition this shard owns, their committed offsets, parked
//! JoinGroup/SyncGroup requests, timers, and the routing of group requests to their shard.
//!
//! The coordinator of group g is the owner of partition `abs(hash(g)) % P` of
//! `__consumer_offsets` (Kafka's rule, with Java's String.hashCode), so a group's membership
//! and its offsets live on one shard and its commits are local appends.

mod offsets;
mod requests;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::channel::oneshot;
use pinlog_protocol::error_code::ErrorCode;

use crate::group_offsets::{OffsetKey, OffsetStore, OFFSETS_TOPIC};
use crate::groups::{Completion, Coordinator, CoordinatorConfig, Token};
use crate::mesh::{ShardReply, ShardRequest};
use crate::router;
use crate::shard::Shard;

pub use requests::{GroupReply, GroupRequest, OffsetToCommit};

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
    /// Per group, the (generation, state, members) of the last record written.
    persisted: RefCell<HashMap<String, (i32, &'static str, usize)>>,
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
            persisted: RefCell::new(HashMap::new()),
            started: Instant::now(),
        }
    }

    /// Monotonic milliseconds for the coordinator's timers.
    pub(crate) fn now_ms(&self) -> i64 {
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

    /// Runs a coordinator call that may park the request (JoinGroup, SyncGroup): its answer
    /// now, or once another request or a timer completes it.
    async fn call_parked(
        &self,
        call: impl FnOnce(&mut Coordinator, Token) -> Option<Completion>,
    ) -> Option<Completion> {
        let (token, receiver) = self.park();
        let immediate = call(&mut self.coordinator.borrow_mut(), token);
        if immediate.is_some() {
            self.parked.borrow_mut().remove(&token);
        }
        self.deliver();
        match immediate {
            Some(answer) => Some(answer),
            None => self.wait(token, receiver).await,
        }
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
        // Requests that can change a group's generation or membership persist it afterwards.
        let changed_group = match &request {
            GroupRequest::Join(_)
            | GroupRequest::Sync(_)
            | GroupRequest::Leave { .. }
            | GroupRequest::Delete(_) => request.group_id().map(str::to_string),
            _ => None,
        };
        let reply = match request {
            GroupRequest::Join(input) => {
                let answer = self
                    .call_parked(|c, token| c.join_group(now, token, input).map(Completion::Join))
                    .await;
                match answer {
                    Some(Completion::Join(output)) => GroupReply::Join(output),
                    _ => GroupReply::Error(ErrorCode::UnknownServerError),
                }
            }
            GroupRequest::Sync(input) => {
                let answer = self
                    .call_parked(|c, token| c.sync_group(now, token, input).map(Completion::Sync))
                    .await;
                match answer {
                    Some(Completion::Sync(output)) => GroupReply::Sync(output),
                    _ => GroupReply::Error(ErrorCode::UnknownServerError),
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
        if let Some(group_id) = changed_group {
            self.persist_group(shard, &group_id).await;
        }
        reply
    }
}

pub(crate) fn wall_clock_ms() -> i64 {
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

//! One shard's state: its partitions' logs, its copy of the cluster metadata, its side of the
//! mesh, and (on shard 0) the controller.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use glommio::sync::Semaphore;
use pinlog_engine::{PartitionLog, ShardStorage};

use crate::config::BrokerConfig;
use crate::controller::Controller;
use crate::group_manager::GroupManager;
use crate::group_offsets::OFFSETS_TOPIC;
use crate::groups::CoordinatorConfig;
use crate::limits::FETCH_WAIT_MS_MAX;
use crate::mesh::{Mesh, ShardReply, ShardRequest};
use crate::metadata::{configs, ClusterMetadata, MetadataRecord, TopicMetadata};
use crate::partition_ops;
use crate::router;

/// Partitions this shard owns, by topic then partition index (`None`: owned by another shard).
type LogTable = HashMap<String, Vec<Option<PartitionLog>>>;

/// What [`Shard::reopen_log`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopen {
    Reopened,
    /// The partition's slot no longer holds that log: nothing to do.
    Gone,
    /// The log's last writes are still in flight: try again later.
    Busy,
}

pub struct Shard {
    id: usize,
    config: Arc<BrokerConfig>,
    storage: Rc<ShardStorage>,
    metadata: RefCell<Rc<ClusterMetadata>>,
    logs: RefCell<LogTable>,
    mesh: Mesh,
    controller: Option<Controller>,
    /// Request bytes read from sockets and not yet answered (DESIGN.md, backpressure).
    inflight_bytes: Rc<Semaphore>,
    shutting_down: Cell<bool>,
    /// Producer ids this shard may hand out, a block at a time from the controller.
    producer_ids: RefCell<std::ops::Range<i64>>,
    producer_ids_refill: Semaphore,
    /// Held while the log table changes (metadata applied, a failed log reopened), so that a
    /// reopen never races a topic's deletion, re-creation or new configs.
    log_table_changes: Semaphore,
    /// Some owned partition's log failed to open (a full disk, say): opening is tried again.
    partitions_unopened: Cell<bool>,
    /// Opens that failed, ever: a new failure restarts the retries' backoff.
    open_failures: Cell<u64>,
    groups: GroupManager,
    /// Produce requests served, for the test switch that drops every Nth response.
    produce_requests: Cell<u64>,
}

impl Shard {
    pub fn new(
        config: Arc<BrokerConfig>,
        storage: Rc<ShardStorage>,
        metadata: ClusterMetadata,
        mesh: Mesh,
        controller: Option<Controller>,
    ) -> Shard {
        let budget = config.shard_inflight_bytes_max as u64;
        let coordinator_config = CoordinatorConfig {
            min_session_timeout_ms: config.group_min_session_timeout_ms,
            max_session_timeout_ms: config.group_max_session_timeout_ms,
            initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            ..CoordinatorConfig::default()
        };
        Shard {
            id: mesh.shard_id(),
            config,
            storage,
            metadata: RefCell::new(Rc::new(metadata)),
            logs: RefCell::new(HashMap::new()),
            mesh,
            controller,
            inflight_bytes: Rc::new(Semaphore::new(budget)),
            shutting_down: Cell::new(false),
            producer_ids: RefCell::new(0..0),
            producer_ids_refill: Semaphore::new(1),
            log_table_changes: Semaphore::new(1),
            partitions_unopened: Cell::new(false),
            open_failures: Cell::new(0),
            groups: GroupManager::new(coordinator_config),
            produce_requests: Cell::new(0),
        }
    }

    pub fn id(&self) -> usize {
        self.id
    }

    pub fn shard_count(&self) -> usize {
        self.mesh.shard_count()
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    pub fn mesh(&self) -> &Mesh {
        &self.mesh
    }

    pub fn controller(&self) -> Option<&Controller> {
        self.controller.as_ref()
    }

    pub fn inflight_bytes(&self) -> &Rc<Semaphore> {
        &self.inflight_bytes
    }

    pub fn groups(&self) -> &GroupManager {
        &self.groups
    }

    /// Whether the test switch says to drop this Produce response (see the config).
    pub fn drop_this_produce_response(&self) -> bool {
        let count = self.produce_requests.get() + 1;
        self.produce_requests.set(count);
        self.config
            .test_drop_every_nth_produce_response
            .is_some_and(|n| n > 0 && count.is_multiple_of(u64::from(n)))
    }

    pub fn metadata(&self) -> Rc<ClusterMetadata> {
        self.metadata.borrow().clone()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.set(true);
    }

    pub fn owns(&self, topic: &str, partition: i32) -> bool {
        router::owner(topic, partition, self.shard_count()) == self.id
    }

    pub fn log(&self, topic: &str, partition: i32) -> Option<PartitionLog> {
        let logs = self.logs.borrow();
        logs.get(topic)?
            .get(usize::try_from(partition).ok()?)?
            .clone()
    }

    pub fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        self.metadata
            .borrow()
            .topic(topic)
            .is_some_and(|t| (0..t.partitions).contains(&partition))
    }

    /// A producer id never handed out before, in this process or an earlier one.
    pub async fn new_producer_id(
        self: &Rc<Self>,
    ) -> Result<i64, pinlog_protocol::error_code::ErrorCode> {
        use pinlog_protocol::error_code::ErrorCode;
        let _turn = self
            .producer_ids_refill
            .acquire_permit(1)
            .await
            .map_err(|_| ErrorCode::CoordinatorNotAvailable)?;
        if self.producer_ids.borrow().is_empty() {
            let reply = crate::controller::call(
                self,
                crate::controller::ControllerRequest::AllocateProducerIds,
            )
            .await;
            match (reply.outcomes.first(), reply.producer_ids) {
                (Some(outcome), Some(block)) if outcome.error == ErrorCode::None => {
                    *self.producer_ids.borrow_mut() = block;
                }
                (Some(outcome), _) => return Err(outcome.error),
                _ => return Err(ErrorCode::CoordinatorNotAvailable),
            }
        }
        self.producer_ids
            .borrow_mut()
            .next()
            .ok_or(ErrorCode::CoordinatorNotAvailable)
    }

    /// Every log this shard holds.
    pub fn all_logs(&self) -> Vec<PartitionLog> {
        self.logs
            .borrow()
            .values()
            .flat_map(|logs| logs.iter().flatten().cloned())
            .collect()
    }

    /// The logs of this shard that failed for want of disk space, with their partitions.
    pub fn logs_failed_for_space(&self) -> Vec<(String, i32, PartitionLog)> {
        let logs = self.logs.borrow();
        let mut failed = Vec::new();
        for (topic, slots) in logs.iter() {
            for (partition, slot) in slots.iter().enumerate() {
                if let Some(log) = slot.as_ref().filter(|log| log.failed_for_space()) {
                    failed.push((topic.clone(), partition as i32, log.clone()));
                }
            }
        }
        failed
    }

    /// Whether some owned partition's log failed to open and is not open yet.
    pub fn partitions_unopened(&self) -> bool {
        self.partitions_unopened.get()
    }

    /// How many partition opens have failed since start.
    pub fn open_failures(&self) -> u64 {
        self.open_failures.get()
    }

    /// Tries again to open the logs of owned partitions whose open failed; true if some still
    /// did not open.
    pub async fn open_unopened_partitions(&self) -> bool {
        let Ok(_changing) = self.log_table_changes.acquire_permit(1).await else {
            return true;
        };
        if self.is_shutting_down() {
            return true;
        }
        self.partitions_unopened.set(false);
        self.open_owned_partitions().await;
        self.partitions_unopened.get()
    }

    /// Closes `previous` (a failed log) and opens the partition's log again in its place.
    /// Nothing happens when the slot no longer holds `previous` (the topic was deleted or the
    /// log replaced meanwhile) or while `previous` still has I/O in flight (its late writes
    /// must not land behind the new log's recovery): the caller tries again later.
    pub async fn reopen_log(
        &self,
        topic: &str,
        partition: i32,
        previous: &PartitionLog,
    ) -> Result<Reopen, pinlog_engine::EngineError> {
        let Ok(_changing) = self.log_table_changes.acquire_permit(1).await else {
            return Ok(Reopen::Gone);
        };
        if self.is_shutting_down()
            || !self
                .log(topic, partition)
                .is_some_and(|log| log.same_log(previous))
        {
            return Ok(Reopen::Gone);
        }
        if previous.io_in_flight() {
            return Ok(Reopen::Busy);
        }
        let metadata = self.metadata();
        let Some(topic_metadata) = metadata.topic(topic) else {
            return Ok(Reopen::Gone);
        };
        let config = configs::log_config(topic_metadata, &metadata, &self.config);
        // Closing a failed log flushes nothing (its flush fails at once); it releases its
        // files and waiters, which get a retriable NOT_LEADER_OR_FOLLOWER.
        let _ = previous.close().await;
        let log =
            PartitionLog::open(&self.storage, &self.log_dir(topic, partition), config).await?;
        if let Some(slot) = self
            .logs
            .borrow_mut()
            .get_mut(topic)
            .and_then(|slots| slots.get_mut(usize::try_from(partition).ok()?))
        {
            *slot = Some(log);
        }
        Ok(Reopen::Reopened)
    }

    fn log_dir(&self, topic: &str, partition: i32) -> PathBuf {
        self.config.data_dir.join(format!("{topic}-{partition}"))
    }

    /// Opens the logs of every partition of `topic` this shard owns and has not opened yet.
    async fn open_partitions(&self, topic: &TopicMetadata, metadata: &ClusterMetadata) {
        let config = configs::log_config(topic, metadata, &self.config);
        let wanted: Vec<i32> = (0..topic.partitions)
            .filter(|&p| self.owns(&topic.name, p) && self.log(&topic.name, p).is_none())
            .collect();
        for chunk in wanted.chunks(crate::limits::PARTITIONS_OPENED_AT_ONCE) {
            let opened = futures::future::join_all(chunk.iter().map(|&partition| {
                let dir = self.log_dir(&topic.name, partition);
                let config = config.clone();
                async move {
                    let result = PartitionLog::open(&self.storage, &dir, config).await;
                    (partition, result)
                }
            }))
            .await;
            let mut newly_opened = Vec::new();
            {
                let mut logs = self.logs.borrow_mut();
                let slots = logs.entry(topic.name.clone()).or_default();
                for (partition, result) in opened {
                    match result {
                        Ok(log) => {
                            newly_opened.push((partition, log.clone()));
                            let index = partition as usize;
                            if slots.len() <= index {
                                slots.resize(index + 1, None);
                            }
                            slots[index] = Some(log);
                        }
                        Err(error) => {
                            self.partitions_unopened.set(true);
                            self.open_failures.set(self.open_failures.get() + 1);
                            tracing::error!(
                                shard = self.id,
                                topic = topic.name,
                                partition,
                                "opening the partition log failed (tried again later): {error}"
                            )
                        }
                    }
                }
            }
            if topic.name == OFFSETS_TOPIC {
                for (partition, log) in newly_opened {
                    self.groups.load_partition(partition, &log).await;
                }
            }
        }
    }

    /// Opens every partition this shard owns (at start), with the log table to itself: the
    /// mesh already delivers metadata changes, which must not interleave with it.
    pub async fn open_all(&self) {
        let _changing = self.log_table_changes.acquire_permit(1).await;
        self.open_owned_partitions().await;
    }

    /// Opens every owned partition not open yet; the caller holds `log_table_changes`.
    async fn open_owned_partitions(&self) {
        let metadata = self.metadata();
        for topic in metadata.topics.values() {
            self.open_partitions(topic, &metadata).await;
        }
    }

    /// Applies metadata records the controller has made durable: opens the logs of new
    /// partitions before publishing them (so a request that sees a partition finds its log),
    /// and unpublishes deleted topics before deleting their logs.
    pub async fn apply(&self, records: &[MetadataRecord]) {
        let _changing = self.log_table_changes.acquire_permit(1).await;
        for record in records {
            let mut next = (*self.metadata()).clone();
            next.apply(record);
            match record {
                MetadataRecord::ProducerIdsAllocated { .. } => {
                    *self.metadata.borrow_mut() = Rc::new(next);
                }
                MetadataRecord::CreateTopic(topic) => {
                    self.open_partitions(topic, &next).await;
                    *self.metadata.borrow_mut() = Rc::new(next);
                }
                MetadataRecord::SetPartitions { name, .. } => {
                    if let Some(topic) = next.topic(name).cloned() {
                        self.open_partitions(&topic, &next).await;
                    }
                    *self.metadata.borrow_mut() = Rc::new(next);
                }
                MetadataRecord::DeleteTopic { name } => {
                    *self.metadata.borrow_mut() = Rc::new(next);
                    let logs = self.logs.borrow_mut().remove(name).unwrap_or_default();
                    for log in logs.into_iter().flatten() {
                        match log.delete().await {
                            // The files go in the background: the log is already out of the
                            // way, and erasing them must not hold this shard (or the next
                            // metadata change) for the seconds a large log takes.
                            Ok(erasure) => erase_in_background(self.id, erasure),
                            Err(error) => tracing::error!(
                                shard = self.id,
                                topic = name,
                                "deleting a partition log failed: {error}"
                            ),
                        }
                    }
                }
                MetadataRecord::SetTopicConfigs { .. }
                | MetadataRecord::SetBrokerConfigs { .. } => {
                    *self.metadata.borrow_mut() = Rc::new(next);
                    self.reconfigure_logs();
                }
            }
        }
    }

    /// Gives every open log the configuration its topic now has.
    fn reconfigure_logs(&self) {
        let metadata = self.metadata();
        for (name, logs) in self.logs.borrow().iter() {
            let Some(topic) = metadata.topic(name) else {
                continue;
            };
            let config = configs::log_config(topic, &metadata, &self.config);
            for log in logs.iter().flatten() {
                log.set_config(config.clone());
            }
        }
    }

    /// Serves a request another shard sent over the mesh.
    pub async fn serve_mesh_request(self: &Rc<Self>, request: ShardRequest) -> ShardReply {
        match request {
            ShardRequest::Partitions(tasks) => {
                ShardReply::Partitions(partition_ops::run_local(self, tasks).await)
            }
            ShardRequest::WaitForData {
                targets,
                max_wait_ms,
            } => {
                let max_wait = Duration::from_millis(max_wait_ms.min(FETCH_WAIT_MS_MAX));
                partition_ops::wait_local(self, &targets, max_wait).await;
                ShardReply::DataReady
            }
            ShardRequest::Controller(request) => match &self.controller {
                Some(controller) => ShardReply::Controller(controller.serve(self, request).await),
                None => ShardReply::Controller(crate::controller::ControllerReply::not_controller(
                    &request,
                )),
            },
            ShardRequest::Apply(records) => {
                self.apply(&records).await;
                ShardReply::Applied
            }
            ShardRequest::Group(request) => {
                ShardReply::Group(self.groups.serve(self, request).await)
            }
        }
    }
}

/// Runs a deleted log's erasure as a task of its own on this shard (its work is on the
/// blocking pool, chunk by chunk); a failure leaves files that the next start erases.
pub(crate) fn erase_in_background(shard: usize, erasure: pinlog_engine::LogErasure) {
    glommio::spawn_local(async move {
        let dir = erasure.dir().to_path_buf();
        if let Err(error) = erasure.run().await {
            tracing::warn!(shard, dir = %dir.display(), "erasing a deleted log: {error}");
        }
    })
    .detach();
}

//! The controller: shard 0 owns the metadata log and is the one place cluster metadata
//! changes. A change is validated, appended to the metadata log (fdatasync'ed), applied on
//! shard 0, then broadcast to every other shard; the request is answered once all shards have
//! applied it, so a client that creates a topic can use it on any connection at once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use glommio::sync::Semaphore;
use pinlog_protocol::error_code::ErrorCode;

use crate::limits::{PARTITIONS_PER_TOPIC_MAX, TOPICS_MAX};
use crate::mesh::{ShardReply, ShardRequest};
use crate::metadata::log::MetadataLog;
use crate::metadata::{
    new_topic_id, validate_topic_name, ClusterMetadata, MetadataRecord, TopicMetadata,
};
use crate::shard::Shard;

/// The shard that runs the controller.
pub const CONTROLLER_SHARD: usize = 0;

/// Kafka's resource types (DescribeConfigs, IncrementalAlterConfigs).
pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;

/// IncrementalAlterConfigs operations.
pub const OP_SET: i8 = 0;
pub const OP_DELETE: i8 = 1;
pub const OP_APPEND: i8 = 2;
pub const OP_SUBTRACT: i8 = 3;

#[derive(Debug, Clone)]
pub struct NewTopic {
    pub name: String,
    /// -1: the broker's default.
    pub partitions: i32,
    /// -1: the broker's default (1); anything but 1 is refused on a single broker.
    pub replication_factor: i16,
    /// Manual replica assignment, by partition; every replica must be this broker.
    pub assignments: Vec<Vec<i32>>,
    pub configs: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct ConfigChange {
    pub resource_type: i8,
    pub resource_name: String,
    /// (config name, operation, value)
    pub ops: Vec<(String, i8, Option<String>)>,
    /// The ops start from no overrides at all (the legacy AlterConfigs, which replaces a
    /// resource's whole set) instead of from the current ones (IncrementalAlterConfigs).
    pub replace: bool,
}

#[derive(Debug)]
pub enum ControllerRequest {
    CreateTopics {
        topics: Vec<NewTopic>,
        validate_only: bool,
    },
    DeleteTopics {
        names: Vec<String>,
    },
    CreatePartitions {
        topics: Vec<(String, i32)>,
        validate_only: bool,
    },
    AlterConfigs {
        changes: Vec<ConfigChange>,
        validate_only: bool,
    },
    /// A block of [`PRODUCER_ID_BLOCK_SIZE`] producer ids for one shard.
    AllocateProducerIds,
}

/// Producer ids handed to a shard at a time (Kafka's AllocateProducerIds uses 1000): one
/// metadata-log append per block, not per producer.
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

/// One outcome per item of the request, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub error: ErrorCode,
    pub message: Option<String>,
}

impl Outcome {
    fn ok() -> Outcome {
        Outcome {
            error: ErrorCode::None,
            message: None,
        }
    }

    fn error(error: ErrorCode, message: impl Into<String>) -> Outcome {
        Outcome {
            error,
            message: Some(message.into()),
        }
    }
}

#[derive(Debug, Default)]
pub struct ControllerReply {
    pub outcomes: Vec<Outcome>,
    /// AllocateProducerIds: the block handed out.
    pub producer_ids: Option<std::ops::Range<i64>>,
}

impl ControllerReply {
    pub fn not_controller(request: &ControllerRequest) -> ControllerReply {
        ControllerReply::all(request, ErrorCode::NotController, "not the controller")
    }

    fn all(request: &ControllerRequest, error: ErrorCode, message: &str) -> ControllerReply {
        let count = match request {
            ControllerRequest::CreateTopics { topics, .. } => topics.len(),
            ControllerRequest::DeleteTopics { names } => names.len(),
            ControllerRequest::CreatePartitions { topics, .. } => topics.len(),
            ControllerRequest::AlterConfigs { changes, .. } => changes.len(),
            ControllerRequest::AllocateProducerIds => 1,
        };
        ControllerReply {
            outcomes: vec![Outcome::error(error, message); count],
            ..Default::default()
        }
    }
}

pub struct Controller {
    log: RefCell<Option<MetadataLog>>,
    /// One change at a time: validation sees every earlier change applied.
    serial: Semaphore,
}

/// Sends a request to the controller, wherever it runs.
pub async fn call(shard: &Rc<Shard>, request: ControllerRequest) -> ControllerReply {
    if let Some(controller) = shard.controller() {
        return controller.serve(shard, request).await;
    }
    let fallback = ControllerReply::all(
        &request,
        ErrorCode::RequestTimedOut,
        "the controller shard does not answer",
    );
    match shard
        .mesh()
        .call(CONTROLLER_SHARD, ShardRequest::Controller(request))
        .await
    {
        Ok(ShardReply::Controller(reply)) => reply,
        _ => fallback,
    }
}

impl Controller {
    pub fn new(log: MetadataLog) -> Controller {
        Controller {
            log: RefCell::new(Some(log)),
            serial: Semaphore::new(1),
        }
    }

    pub async fn serve(&self, shard: &Rc<Shard>, request: ControllerRequest) -> ControllerReply {
        let Ok(_turn) = self.serial.acquire_permit(1).await else {
            return ControllerReply::all(&request, ErrorCode::NotController, "shutting down");
        };
        let mut scratch = (*shard.metadata()).clone();
        let config = shard.config();
        let mut producer_ids = None;
        let (outcomes, records, validate_only) = match &request {
            ControllerRequest::AllocateProducerIds => {
                let start = scratch.next_producer_id;
                let next = start + PRODUCER_ID_BLOCK_SIZE;
                producer_ids = Some(start..next);
                (
                    vec![Outcome::ok()],
                    vec![MetadataRecord::ProducerIdsAllocated { next }],
                    false,
                )
            }
            ControllerRequest::CreateTopics {
                topics,
                validate_only,
            } => {
                let (outcomes, records) = plan(topics, &mut scratch, |topic, metadata| {
                    create_topic(topic, metadata, config.default_partitions)
                });
                (outcomes, records, *validate_only)
            }
            ControllerRequest::DeleteTopics { names } => {
                let (outcomes, records) = plan(names, &mut scratch, delete_topic);
                (outcomes, records, false)
            }
            ControllerRequest::CreatePartitions {
                topics,
                validate_only,
            } => {
                let (outcomes, records) = plan(topics, &mut scratch, create_partitions);
                (outcomes, records, *validate_only)
            }
            ControllerRequest::AlterConfigs {
                changes,
                validate_only,
            } => {
                let (outcomes, records) = plan(changes, &mut scratch, alter_configs);
                (outcomes, records, *validate_only)
            }
        };
        if validate_only || records.is_empty() {
            return ControllerReply {
                outcomes,
                ..Default::default()
            };
        }
        if let Err(error) = self.append(records.clone()).await {
            tracing::error!("metadata change not made: {error}");
            let outcomes = outcomes
                .into_iter()
                .map(|outcome| match outcome.error {
                    ErrorCode::None => {
                        Outcome::error(ErrorCode::KafkaStorageError, error.to_string())
                    }
                    _ => outcome,
                })
                .collect();
            return ControllerReply {
                outcomes,
                ..Default::default()
            };
        }
        shard.apply(&records).await;
        let broadcasts = (0..shard.shard_count())
            .filter(|&peer| peer != shard.id())
            .map(|peer| {
                shard
                    .mesh()
                    .call(peer, ShardRequest::Apply(records.clone()))
            });
        for (peer, result) in futures::future::join_all(broadcasts)
            .await
            .into_iter()
            .enumerate()
        {
            if result.is_err() {
                tracing::warn!(
                    peer,
                    "a shard did not apply a metadata change (shutting down?)"
                );
            }
        }
        ControllerReply {
            outcomes,
            producer_ids,
        }
    }

    /// Appends on the blocking thread pool: the fdatasync must not stall shard 0's reactor.
    async fn append(&self, records: Vec<MetadataRecord>) -> Result<(), crate::BrokerError> {
        let mut log = self
            .log
            .borrow_mut()
            .take()
            .ok_or_else(|| crate::BrokerError::Config("the metadata log is in use".into()))?;
        let (log, result) = glommio::executor()
            .spawn_blocking(move || {
                let result = log.append(&records);
                (log, result)
            })
            .await;
        *self.log.borrow_mut() = Some(log);
        result
    }

    pub fn close(&self) {
        self.serial.close();
    }
}

/// Topics the broker keeps for itself (`__consumer_offsets`).
fn is_internal(name: &str) -> bool {
    name == crate::group_offsets::OFFSETS_TOPIC
}

/// Validates each item against the metadata as changed by the items before it.
fn plan<T>(
    items: &[T],
    scratch: &mut ClusterMetadata,
    mut change: impl FnMut(&T, &ClusterMetadata) -> Result<Vec<MetadataRecord>, Outcome>,
) -> (Vec<Outcome>, Vec<MetadataRecord>) {
    let mut outcomes = Vec::with_capacity(items.len());
    let mut records = Vec::new();
    for item in items {
        match change(item, scratch) {
            Ok(new_records) => {
                for record in &new_records {
                    scratch.apply(record);
                }
                records.extend(new_records);
                outcomes.push(Outcome::ok());
            }
            Err(outcome) => outcomes.push(outcome),
        }
    }
    (outcomes, records)
}

fn create_topic(
    topic: &NewTopic,
    metadata: &ClusterMetadata,
    default_partitions: i32,
) -> Result<Vec<MetadataRecord>, Outcome> {
    validate_topic_name(&topic.name)
        .map_err(|m| Outcome::error(ErrorCode::InvalidTopicException, m))?;
    if metadata.topic(&topic.name).is_some() {
        return Err(Outcome::error(
            ErrorCode::TopicAlreadyExists,
            format!("topic '{}' already exists", topic.name),
        ));
    }
    if metadata.topics.len() >= TOPICS_MAX {
        return Err(Outcome::error(
            ErrorCode::PolicyViolation,
            format!("the cluster holds the maximum of {TOPICS_MAX} topics"),
        ));
    }
    let partitions = if !topic.assignments.is_empty() {
        if topic.partitions != -1 || topic.replication_factor != -1 {
            return Err(Outcome::error(
                ErrorCode::InvalidRequest,
                "give either a replica assignment or partitions and replication factor",
            ));
        }
        topic.assignments.len() as i32
    } else if topic.partitions == -1 {
        default_partitions
    } else {
        topic.partitions
    };
    if !(1..=PARTITIONS_PER_TOPIC_MAX).contains(&partitions) {
        return Err(Outcome::error(
            ErrorCode::InvalidPartitions,
            format!(
                "partitions must be between 1 and {PARTITIONS_PER_TOPIC_MAX}, not {partitions}"
            ),
        ));
    }
    if !matches!(topic.replication_factor, -1 | 1) {
        return Err(Outcome::error(
            ErrorCode::InvalidReplicationFactor,
            format!(
                "replication factor {} is larger than the 1 available broker",
                topic.replication_factor
            ),
        ));
    }
    let configs = resolve_topic_configs(
        BTreeMap::new(),
        topic
            .configs
            .iter()
            .map(|(k, v)| (k.clone(), OP_SET, v.clone())),
    )?;
    Ok(vec![MetadataRecord::CreateTopic(TopicMetadata {
        name: topic.name.clone(),
        id: new_topic_id(),
        partitions,
        configs,
    })])
}

fn delete_topic(name: &String, metadata: &ClusterMetadata) -> Result<Vec<MetadataRecord>, Outcome> {
    if is_internal(name) {
        return Err(Outcome::error(
            ErrorCode::InvalidRequest,
            format!("'{name}' is an internal topic and cannot be deleted"),
        ));
    }
    if metadata.topic(name).is_none() {
        return Err(Outcome::error(
            ErrorCode::UnknownTopicOrPartition,
            format!("topic '{name}' does not exist"),
        ));
    }
    Ok(vec![MetadataRecord::DeleteTopic { name: name.clone() }])
}

fn create_partitions(
    (name, count): &(String, i32),
    metadata: &ClusterMetadata,
) -> Result<Vec<MetadataRecord>, Outcome> {
    let Some(topic) = metadata.topic(name) else {
        return Err(Outcome::error(
            ErrorCode::UnknownTopicOrPartition,
            format!("topic '{name}' does not exist"),
        ));
    };
    if is_internal(name) {
        // Adding partitions would move groups to other partitions, away from their offsets.
        return Err(Outcome::error(
            ErrorCode::InvalidRequest,
            format!("'{name}' is an internal topic; its partition count is fixed"),
        ));
    }
    if *count <= topic.partitions {
        return Err(Outcome::error(
            ErrorCode::InvalidPartitions,
            format!(
                "topic '{name}' has {} partitions; the new count {count} must be larger",
                topic.partitions
            ),
        ));
    }
    if *count > PARTITIONS_PER_TOPIC_MAX {
        return Err(Outcome::error(
            ErrorCode::InvalidPartitions,
            format!("partitions must be at most {PARTITIONS_PER_TOPIC_MAX}"),
        ));
    }
    Ok(vec![MetadataRecord::SetPartitions {
        name: name.clone(),
        partitions: *count,
    }])
}

fn alter_configs(
    change: &ConfigChange,
    metadata: &ClusterMetadata,
) -> Result<Vec<MetadataRecord>, Outcome> {
    let ops = change.ops.iter().cloned();
    match change.resource_type {
        RESOURCE_TOPIC => {
            let Some(topic) = metadata.topic(&change.resource_name) else {
                return Err(Outcome::error(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("topic '{}' does not exist", change.resource_name),
                ));
            };
            let current = if change.replace {
                BTreeMap::new()
            } else {
                topic.configs.clone()
            };
            let configs = resolve_topic_configs(current, ops)?;
            Ok(vec![MetadataRecord::SetTopicConfigs {
                name: topic.name.clone(),
                configs,
            }])
        }
        RESOURCE_BROKER => {
            let current = if change.replace {
                BTreeMap::new()
            } else {
                metadata.broker_configs.clone()
            };
            let configs = resolve_broker_configs(current, ops)?;
            Ok(vec![MetadataRecord::SetBrokerConfigs { configs }])
        }
        other => Err(Outcome::error(
            ErrorCode::InvalidRequest,
            format!("resource type {other} has no configs here"),
        )),
    }
}

mod config_ops;
#[cfg(test)]
mod tests;

use config_ops::{resolve_broker_configs, resolve_topic_configs};

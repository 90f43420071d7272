//! Metadata: the one broker, and the requested topics (all of them when none are named),
//! creating unknown ones when auto-creation is on.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use pinlog_protocol::generated::{MetadataRequest, MetadataResponse, ResponseBody};
use pinlog_protocol::wire::Uuid;

use crate::controller::{self, ControllerRequest, NewTopic};
use crate::metadata::{validate_topic_name, ClusterMetadata, TopicMetadata};
use crate::partition_ops::LEADER_EPOCH;
use crate::shard::Shard;

pub async fn handle(shard: &Rc<Shard>, request: MetadataRequest, version: i16) -> ResponseBody {
    // v0: an empty list means every topic; v1+: null does.
    let requested: Option<Vec<(Option<String>, Uuid)>> = match request.topics {
        None => None,
        Some(topics) if topics.is_empty() && version == 0 => None,
        Some(topics) => Some(topics.into_iter().map(|t| (t.name, t.topic_id)).collect()),
    };
    let allow_auto_create =
        shard.config().auto_create_topics && (version < 4 || request.allow_auto_topic_creation);
    if let (Some(requested), true) = (&requested, allow_auto_create) {
        auto_create(shard, requested).await;
    }
    let metadata = shard.metadata();
    let topics = match requested {
        None => metadata
            .topics
            .values()
            .map(|t| topic_response(shard, t))
            .collect(),
        Some(requested) => requested
            .into_iter()
            .map(|(name, id)| lookup(shard, &metadata, name, id))
            .collect(),
    };
    let (host, port) = shard.config().advertised();
    let node_id = shard.config().node_id;
    ResponseBody::Metadata(MetadataResponse {
        brokers: vec![MetadataResponseBroker {
            node_id,
            host,
            port,
            rack: None,
            ..Default::default()
        }],
        cluster_id: Some(metadata.cluster_id.clone()),
        controller_id: node_id,
        topics,
        ..Default::default()
    })
}

/// Creates the named topics that do not exist, with the broker's default partition count.
async fn auto_create(shard: &Rc<Shard>, requested: &[(Option<String>, Uuid)]) {
    let metadata = shard.metadata();
    let missing: Vec<NewTopic> = requested
        .iter()
        .filter_map(|(name, _)| name.as_ref())
        .filter(|name| metadata.topic(name).is_none() && validate_topic_name(name).is_ok())
        .map(|name| NewTopic {
            name: name.clone(),
            partitions: -1,
            replication_factor: -1,
            assignments: Vec::new(),
            configs: Vec::new(),
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let reply = controller::call(
        shard,
        ControllerRequest::CreateTopics {
            topics: missing,
            validate_only: false,
        },
    )
    .await;
    for outcome in reply.outcomes {
        if !matches!(
            outcome.error,
            ErrorCode::None | ErrorCode::TopicAlreadyExists
        ) {
            tracing::warn!(error = ?outcome.error, message = ?outcome.message, "auto-creating a topic failed");
        }
    }
}

fn lookup(
    shard: &Shard,
    metadata: &ClusterMetadata,
    name: Option<String>,
    id: Uuid,
) -> MetadataResponseTopic {
    let found = match &name {
        Some(name) => metadata.topic(name),
        None => metadata.topic_by_id(&id),
    };
    match found {
        Some(topic) => topic_response(shard, topic),
        None => {
            let error = match &name {
                Some(name) if validate_topic_name(name).is_err() => {
                    ErrorCode::InvalidTopicException
                }
                Some(_) => ErrorCode::UnknownTopicOrPartition,
                None => ErrorCode::UnknownTopicId,
            };
            MetadataResponseTopic {
                error_code: error.code(),
                name,
                topic_id: id,
                ..Default::default()
            }
        }
    }
}

fn topic_response(shard: &Shard, topic: &TopicMetadata) -> MetadataResponseTopic {
    let node_id = shard.config().node_id;
    MetadataResponseTopic {
        error_code: ErrorCode::None.code(),
        name: Some(topic.name.clone()),
        topic_id: topic.uuid(),
        is_internal: topic.name.starts_with("__"),
        partitions: (0..topic.partitions)
            .map(|partition_index| MetadataResponsePartition {
                error_code: ErrorCode::None.code(),
                partition_index,
                leader_id: node_id,
                leader_epoch: LEADER_EPOCH,
                replica_nodes: vec![node_id],
                isr_nodes: vec![node_id],
                offline_replicas: Vec::new(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

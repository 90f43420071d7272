//! CreateTopics, DeleteTopics, CreatePartitions: handed to the controller, answered once every
//! shard has applied the change.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::create_partitions_response::CreatePartitionsTopicResult;
use pinlog_protocol::generated::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use pinlog_protocol::generated::delete_topics_response::DeletableTopicResult;
use pinlog_protocol::generated::{
    CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, ResponseBody,
};
use pinlog_protocol::wire::Uuid;

use crate::controller::{self, ControllerRequest, NewTopic, Outcome};
use crate::metadata::configs;
use crate::shard::Shard;

/// CreateTopics returns the topic's configs from v5.
const CREATE_TOPICS_CONFIGS_VERSION: i16 = 5;
/// DeleteTopics names topics by name or id from v6.
const DELETE_TOPICS_STATES_VERSION: i16 = 6;

pub async fn create_topics(
    shard: &Rc<Shard>,
    request: CreateTopicsRequest,
    version: i16,
) -> ResponseBody {
    let node_id = shard.config().node_id;
    let mut early: Vec<Option<Outcome>> = Vec::new();
    let mut topics = Vec::new();
    for topic in &request.topics {
        let assignments: Vec<Vec<i32>> = topic
            .assignments
            .iter()
            .map(|a| a.broker_ids.clone())
            .collect();
        if assignments.iter().any(|replicas| replicas != &[node_id]) {
            early.push(Some(Outcome {
                error: ErrorCode::InvalidReplicaAssignment,
                message: Some(format!(
                    "every partition's replicas must be [{node_id}], the one broker"
                )),
            }));
            continue;
        }
        early.push(None);
        topics.push(NewTopic {
            name: topic.name.clone(),
            partitions: topic.num_partitions,
            replication_factor: topic.replication_factor,
            assignments,
            configs: topic
                .configs
                .iter()
                .map(|c| (c.name.clone(), c.value.clone()))
                .collect(),
        });
    }
    let reply = controller::call(
        shard,
        ControllerRequest::CreateTopics {
            topics,
            validate_only: request.validate_only,
        },
    )
    .await;
    let mut outcomes = reply.outcomes.into_iter();
    let metadata = shard.metadata();
    let default_partitions = shard.config().default_partitions;
    let results = request
        .topics
        .into_iter()
        .zip(early)
        .map(|(topic, early)| {
            let outcome = early.or_else(|| outcomes.next()).unwrap_or(Outcome {
                error: ErrorCode::UnknownServerError,
                message: None,
            });
            let mut result = CreatableTopicResult {
                name: topic.name.clone(),
                error_code: outcome.error.code(),
                error_message: outcome.message,
                ..Default::default()
            };
            if outcome.error != ErrorCode::None {
                return result;
            }
            match metadata.topic(&topic.name) {
                Some(created) if !request.validate_only => {
                    result.topic_id = created.uuid();
                    result.num_partitions = created.partitions;
                    result.replication_factor = 1;
                    if version >= CREATE_TOPICS_CONFIGS_VERSION {
                        result.configs = Some(
                            configs::topic_configs(created, &metadata, shard.config())
                                .into_iter()
                                .map(|c| CreatableTopicConfigs {
                                    name: c.name,
                                    value: Some(c.value),
                                    read_only: false,
                                    config_source: c.source as i8,
                                    is_sensitive: false,
                                    ..Default::default()
                                })
                                .collect(),
                        );
                    }
                }
                _ => {
                    result.num_partitions = if topic.num_partitions == -1 {
                        default_partitions
                    } else {
                        topic.num_partitions
                    };
                    result.replication_factor = 1;
                }
            }
            result
        })
        .collect();
    ResponseBody::CreateTopics(CreateTopicsResponse {
        topics: results,
        ..Default::default()
    })
}

pub async fn delete_topics(
    shard: &Rc<Shard>,
    request: DeleteTopicsRequest,
    version: i16,
) -> ResponseBody {
    let metadata = shard.metadata();
    // (name as requested, id as requested, resolved name or the error)
    let wanted: Vec<(Option<String>, Uuid, Result<String, ErrorCode>)> =
        if version >= DELETE_TOPICS_STATES_VERSION {
            request
                .topics
                .into_iter()
                .map(|state| match state.name {
                    Some(name) => (Some(name.clone()), state.topic_id, Ok(name)),
                    None => match metadata.topic_by_id(&state.topic_id) {
                        Some(topic) => (
                            Some(topic.name.clone()),
                            state.topic_id,
                            Ok(topic.name.clone()),
                        ),
                        None => (None, state.topic_id, Err(ErrorCode::UnknownTopicId)),
                    },
                })
                .collect()
        } else {
            request
                .topic_names
                .into_iter()
                .map(|name| (Some(name.clone()), Uuid::ZERO, Ok(name)))
                .collect()
        };
    let names: Vec<String> = wanted
        .iter()
        .filter_map(|(_, _, r)| r.clone().ok())
        .collect();
    let reply = controller::call(shard, ControllerRequest::DeleteTopics { names }).await;
    let mut outcomes = reply.outcomes.into_iter();
    let responses = wanted
        .into_iter()
        .map(|(name, id, resolved)| {
            let topic_id = metadata
                .topic(name.as_deref().unwrap_or_default())
                .map_or(id, |t| t.uuid());
            let (error, message) = match resolved {
                Err(error) => (error, None),
                Ok(_) => match outcomes.next() {
                    Some(outcome) => (outcome.error, outcome.message),
                    None => (ErrorCode::UnknownServerError, None),
                },
            };
            DeletableTopicResult {
                name,
                topic_id,
                error_code: error.code(),
                error_message: message,
                ..Default::default()
            }
        })
        .collect();
    ResponseBody::DeleteTopics(DeleteTopicsResponse {
        responses,
        ..Default::default()
    })
}

pub async fn create_partitions(
    shard: &Rc<Shard>,
    request: CreatePartitionsRequest,
) -> ResponseBody {
    let node_id = shard.config().node_id;
    let mut early = Vec::new();
    let mut topics = Vec::new();
    for topic in &request.topics {
        let bad_assignment = topic
            .assignments
            .iter()
            .flatten()
            .any(|a| a.broker_ids != [node_id]);
        if bad_assignment {
            early.push(Some(Outcome {
                error: ErrorCode::InvalidReplicaAssignment,
                message: Some(format!(
                    "every new partition's replicas must be [{node_id}]"
                )),
            }));
        } else {
            early.push(None);
            topics.push((topic.name.clone(), topic.count));
        }
    }
    let reply = controller::call(
        shard,
        ControllerRequest::CreatePartitions {
            topics,
            validate_only: request.validate_only,
        },
    )
    .await;
    let mut outcomes = reply.outcomes.into_iter();
    let results = request
        .topics
        .into_iter()
        .zip(early)
        .map(|(topic, early)| {
            let outcome = early.or_else(|| outcomes.next()).unwrap_or(Outcome {
                error: ErrorCode::UnknownServerError,
                message: None,
            });
            CreatePartitionsTopicResult {
                name: topic.name,
                error_code: outcome.error.code(),
                error_message: outcome.message,
                ..Default::default()
            }
        })
        .collect();
    ResponseBody::CreatePartitions(CreatePartitionsResponse {
        results,
        ..Default::default()
    })
}

//! DescribeConfigs, IncrementalAlterConfigs and the legacy AlterConfigs (still what kafkajs and
//! older admin clients send) for topics and for this broker.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use pinlog_protocol::generated::incremental_alter_configs_response::AlterConfigsResourceResponse;
use pinlog_protocol::generated::{
    alter_configs_response, AlterConfigsRequest, AlterConfigsResponse, DescribeConfigsRequest,
    DescribeConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
    ResponseBody,
};

use crate::controller::{
    self, ConfigChange, ControllerRequest, Outcome, OP_SET, RESOURCE_BROKER, RESOURCE_TOPIC,
};
use crate::metadata::configs::{self, ConfigSource, EffectiveConfig};
use crate::shard::Shard;

pub fn describe(shard: &Rc<Shard>, request: DescribeConfigsRequest, version: i16) -> ResponseBody {
    let metadata = shard.metadata();
    let node_id = shard.config().node_id.to_string();
    let results = request
        .resources
        .into_iter()
        .map(|resource| {
            let found: Result<Vec<EffectiveConfig>, (ErrorCode, String)> = match resource
                .resource_type
            {
                RESOURCE_TOPIC => match metadata.topic(&resource.resource_name) {
                    Some(topic) => Ok(configs::topic_configs(topic, &metadata, shard.config())),
                    None => Err((
                        ErrorCode::UnknownTopicOrPartition,
                        format!("topic '{}' does not exist", resource.resource_name),
                    )),
                },
                RESOURCE_BROKER
                    if resource.resource_name.is_empty() || resource.resource_name == node_id =>
                {
                    Ok(configs::broker_configs(&metadata, shard.config()))
                }
                RESOURCE_BROKER => Err((
                    ErrorCode::InvalidRequest,
                    format!(
                        "broker '{}' is not this broker ({node_id})",
                        resource.resource_name
                    ),
                )),
                other => Err((
                    ErrorCode::InvalidRequest,
                    format!("resource type {other} has no configs here"),
                )),
            };
            let mut result = DescribeConfigsResult {
                resource_type: resource.resource_type,
                resource_name: resource.resource_name,
                ..Default::default()
            };
            match found {
                Ok(all) => {
                    result.configs = all
                        .into_iter()
                        .filter(|c| {
                            resource
                                .configuration_keys
                                .as_ref()
                                .is_none_or(|keys| keys.iter().any(|k| k == &c.name))
                        })
                        .map(|c| {
                            describe_entry(
                                c,
                                request.include_synonyms,
                                request.include_documentation,
                                version,
                            )
                        })
                        .collect();
                }
                Err((error, message)) => {
                    result.error_code = error.code();
                    result.error_message = Some(message);
                }
            }
            result
        })
        .collect();
    ResponseBody::DescribeConfigs(DescribeConfigsResponse {
        results,
        ..Default::default()
    })
}

fn describe_entry(
    config: EffectiveConfig,
    include_synonyms: bool,
    include_documentation: bool,
    version: i16,
) -> DescribeConfigsResourceResult {
    let is_default = config.source == ConfigSource::DefaultConfig;
    DescribeConfigsResourceResult {
        synonyms: if include_synonyms {
            vec![DescribeConfigsSynonym {
                name: config.name.clone(),
                value: Some(config.value.clone()),
                source: config.source as i8,
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        name: config.name,
        value: Some(config.value),
        read_only: false,
        // v0 has is_default instead of the source.
        is_default: version == 0 && is_default,
        config_source: config.source as i8,
        is_sensitive: false,
        config_type: config.config_type as i8,
        documentation: include_documentation.then(|| config.doc.to_string()),
        ..Default::default()
    }
}

pub async fn alter(shard: &Rc<Shard>, request: IncrementalAlterConfigsRequest) -> ResponseBody {
    let changes: Vec<ConfigChange> = request
        .resources
        .iter()
        .map(|resource| ConfigChange {
            resource_type: resource.resource_type,
            resource_name: resource.resource_name.clone(),
            ops: resource
                .configs
                .iter()
                .map(|c| (c.name.clone(), c.config_operation, c.value.clone()))
                .collect(),
            replace: false,
        })
        .collect();
    let outcomes = apply_changes(shard, changes, request.validate_only).await;
    let responses = request
        .resources
        .into_iter()
        .zip(outcomes)
        .map(|(resource, outcome)| AlterConfigsResourceResponse {
            error_code: outcome.error.code(),
            error_message: outcome.message,
            resource_type: resource.resource_type,
            resource_name: resource.resource_name,
            ..Default::default()
        })
        .collect();
    ResponseBody::IncrementalAlterConfigs(IncrementalAlterConfigsResponse {
        responses,
        ..Default::default()
    })
}

/// The legacy AlterConfigs: each resource's configs become its whole set of overrides, and
/// every config left out (or given a null value, as Kafka drops those) returns to its default.
pub async fn alter_legacy(shard: &Rc<Shard>, request: AlterConfigsRequest) -> ResponseBody {
    let changes: Vec<ConfigChange> = request
        .resources
        .iter()
        .map(|resource| ConfigChange {
            resource_type: resource.resource_type,
            resource_name: resource.resource_name.clone(),
            ops: resource
                .configs
                .iter()
                .filter(|c| c.value.is_some())
                .map(|c| (c.name.clone(), OP_SET, c.value.clone()))
                .collect(),
            replace: true,
        })
        .collect();
    let outcomes = apply_changes(shard, changes, request.validate_only).await;
    let responses = request
        .resources
        .into_iter()
        .zip(outcomes)
        .map(
            |(resource, outcome)| alter_configs_response::AlterConfigsResourceResponse {
                error_code: outcome.error.code(),
                error_message: outcome.message,
                resource_type: resource.resource_type,
                resource_name: resource.resource_name,
                ..Default::default()
            },
        )
        .collect();
    ResponseBody::AlterConfigs(AlterConfigsResponse {
        responses,
        ..Default::default()
    })
}

/// Has the controller apply `changes` (one outcome each, in order); a broker resource must
/// name this broker (or none: the cluster-wide default).
async fn apply_changes(
    shard: &Rc<Shard>,
    changes: Vec<ConfigChange>,
    validate_only: bool,
) -> Vec<Outcome> {
    let node_id = shard.config().node_id.to_string();
    let wrong_broker = changes.iter().any(|c| {
        c.resource_type == RESOURCE_BROKER
            && !c.resource_name.is_empty()
            && c.resource_name != node_id
    });
    if wrong_broker {
        return vec![
            Outcome {
                error: ErrorCode::InvalidRequest,
                message: Some(format!("this broker is {node_id}")),
            };
            changes.len()
        ];
    }
    controller::call(
        shard,
        ControllerRequest::AlterConfigs {
            changes,
            validate_only,
        },
    )
    .await
    .outcomes
}

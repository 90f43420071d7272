//! DescribeConfigs, IncrementalAlterConfigs and the legacy AlterConfigs (still what kafkajs and
//! older admin clients send) for topics and for this broker.

use std::collections::HashMap;
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

/// Has the controller apply `changes` (one outcome each, in order). As Kafka does, a resource
/// named twice in one request, or a broker resource naming another broker, fails on its own
/// with INVALID_REQUEST and the others go on.
async fn apply_changes(
    shard: &Rc<Shard>,
    changes: Vec<ConfigChange>,
    validate_only: bool,
) -> Vec<Outcome> {
    let refusals = refusals(&changes, &shard.config().node_id.to_string());
    let accepted: Vec<ConfigChange> = changes
        .into_iter()
        .zip(&refusals)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(change, _)| change)
        .collect();
    let mut outcomes = if accepted.is_empty() {
        Vec::new()
    } else {
        controller::call(
            shard,
            ControllerRequest::AlterConfigs {
                changes: accepted,
                validate_only,
            },
        )
        .await
        .outcomes
    }
    .into_iter();
    refusals
        .into_iter()
        .map(|refusal| {
            refusal.unwrap_or_else(|| {
                outcomes.next().unwrap_or(Outcome {
                    error: ErrorCode::UnknownServerError,
                    message: Some("the controller gave no outcome".to_string()),
                })
            })
        })
        .collect()
}

/// For each change, the INVALID_REQUEST it gets before reaching the controller, if any: a
/// resource named twice in the request, or a broker resource naming a broker other than
/// `node_id` (empty: the cluster-wide default).
fn refusals(changes: &[ConfigChange], node_id: &str) -> Vec<Option<Outcome>> {
    let mut named: HashMap<(i8, &str), usize> = HashMap::new();
    for change in changes {
        *named
            .entry((change.resource_type, change.resource_name.as_str()))
            .or_default() += 1;
    }
    changes
        .iter()
        .map(|change| {
            let message = if named[&(change.resource_type, change.resource_name.as_str())] > 1 {
                "each resource must appear at most once".to_string()
            } else if change.resource_type == RESOURCE_BROKER
                && !change.resource_name.is_empty()
                && change.resource_name != node_id
            {
                format!("this broker is {node_id}")
            } else {
                return None;
            };
            Some(Outcome {
                error: ErrorCode::InvalidRequest,
                message: Some(message),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(resource_type: i8, name: &str) -> ConfigChange {
        ConfigChange {
            resource_type,
            resource_name: name.to_string(),
            ops: Vec::new(),
            replace: false,
        }
    }

    #[test]
    fn only_a_repeated_resource_or_another_brokers_is_refused() {
        let changes = [
            change(RESOURCE_TOPIC, "a"),
            change(RESOURCE_BROKER, "7"),
            change(RESOURCE_TOPIC, "b"),
            change(RESOURCE_BROKER, "0"),
            change(RESOURCE_BROKER, ""),
            change(RESOURCE_TOPIC, "b"),
        ];
        let refused: Vec<bool> = refusals(&changes, "0")
            .iter()
            .map(|refusal| {
                refusal
                    .as_ref()
                    .is_some_and(|r| r.error == ErrorCode::InvalidRequest)
            })
            .collect();
        assert_eq!(refused, [false, true, true, false, false, true]);
    }
}

//! Topic administration: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs and
//! IncrementalAlterConfigs. Each call is about one topic, so that an error names it.

use pinlog_protocol::generated::create_partitions_request::CreatePartitionsTopic;
use pinlog_protocol::generated::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use pinlog_protocol::generated::describe_configs_request::DescribeConfigsResource;
use pinlog_protocol::generated::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use pinlog_protocol::generated::{
    ApiKey, CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
    DescribeConfigsRequest, IncrementalAlterConfigsRequest, RequestBody, ResponseBody,
};

use super::{check_with_message, unexpected, Client, ClientError};

/// CreateTopics v5: flexible, answers with the created topic's configs.
const CREATE_TOPICS_VERSION: i16 = 5;
/// DeleteTopics v4: flexible, topics by name.
const DELETE_TOPICS_VERSION: i16 = 4;
/// CreatePartitions v2: flexible.
const CREATE_PARTITIONS_VERSION: i16 = 2;
/// DescribeConfigs v4: flexible, config sources.
const DESCRIBE_CONFIGS_VERSION: i16 = 4;
/// IncrementalAlterConfigs v1: flexible.
const INCREMENTAL_ALTER_CONFIGS_VERSION: i16 = 1;
/// How long the broker may take over a topic change before it answers REQUEST_TIMED_OUT.
const ADMIN_TIMEOUT_MS: i32 = 30_000;
/// The config resource type of a topic.
const RESOURCE_TOPIC: i8 = 2;
/// DescribeConfigs' source of a value set on the topic itself (Kafka's DYNAMIC_TOPIC_CONFIG).
pub const CONFIG_SOURCE_TOPIC: i8 = 1;

/// A new topic. `None` leaves a number to the broker's defaults.
#[derive(Debug, Clone, Default)]
pub struct NewTopic {
    pub name: String,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    pub configs: Vec<(String, String)>,
}

/// One config of a topic, as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    pub name: String,
    pub value: Option<String>,
    /// Kafka's config source id ([`CONFIG_SOURCE_TOPIC`] for a topic override).
    pub source: i8,
}

/// One change of IncrementalAlterConfigs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChange {
    Set { name: String, value: String },
    Delete { name: String },
}

impl ConfigChange {
    /// IncrementalAlterConfigs' operation ids: SET 0, DELETE 1.
    fn to_alterable(&self) -> AlterableConfig {
        let (name, operation, value) = match self {
            ConfigChange::Set { name, value } => (name, 0, Some(value.clone())),
            ConfigChange::Delete { name } => (name, 1, None),
        };
        AlterableConfig {
            name: name.clone(),
            config_operation: operation,
            value,
            ..Default::default()
        }
    }
}

impl Client {
    /// Creates `topic`; returns the number of partitions it got.
    pub fn create_topic(&mut self, topic: &NewTopic) -> Result<i32, ClientError> {
        let api = ApiKey::CreateTopics;
        let request = CreateTopicsRequest {
            topics: vec![CreatableTopic {
                name: topic.name.clone(),
                num_partitions: topic.partitions.unwrap_or(-1),
                replication_factor: topic.replication_factor.unwrap_or(-1),
                configs: topic
                    .configs
                    .iter()
                    .map(|(name, value)| CreatableTopicConfig {
                        name: name.clone(),
                        value: Some(value.clone()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            timeout_ms: ADMIN_TIMEOUT_MS,
            ..Default::default()
        };
        let body = self.send(CREATE_TOPICS_VERSION, RequestBody::CreateTopics(request))?;
        let ResponseBody::CreateTopics(response) = body else {
            return Err(unexpected(api, &body));
        };
        let result = response
            .topics
            .into_iter()
            .find(|t| t.name == topic.name)
            .ok_or_else(|| missing(api, &topic.name))?;
        check_with_message(
            api,
            result.error_code,
            result.error_message.as_deref(),
            || format!("topic {}", topic.name),
        )?;
        Ok(result.num_partitions)
    }

    /// Deletes `topic` with its data.
    pub fn delete_topic(&mut self, topic: &str) -> Result<(), ClientError> {
        let api = ApiKey::DeleteTopics;
        let request = DeleteTopicsRequest {
            topic_names: vec![topic.to_string()],
            timeout_ms: ADMIN_TIMEOUT_MS,
            ..Default::default()
        };
        let body = self.send(DELETE_TOPICS_VERSION, RequestBody::DeleteTopics(request))?;
        let ResponseBody::DeleteTopics(response) = body else {
            return Err(unexpected(api, &body));
        };
        let result = response
            .responses
            .into_iter()
            .find(|r| r.name.as_deref() == Some(topic))
            .ok_or_else(|| missing(api, topic))?;
        check_with_message(
            api,
            result.error_code,
            result.error_message.as_deref(),
            || format!("topic {topic}"),
        )
    }

    /// Grows `topic` to `total` partitions.
    pub fn create_partitions(&mut self, topic: &str, total: i32) -> Result<(), ClientError> {
        let api = ApiKey::CreatePartitions;
        let request = CreatePartitionsRequest {
            topics: vec![CreatePartitionsTopic {
                name: topic.to_string(),
                count: total,
                assignments: None,
                ..Default::default()
            }],
            timeout_ms: ADMIN_TIMEOUT_MS,
            ..Default::default()
        };
        let body = self.send(
            CREATE_PARTITIONS_VERSION,
            RequestBody::CreatePartitions(request),
        )?;
        let ResponseBody::CreatePartitions(response) = body else {
            return Err(unexpected(api, &body));
        };
        let result = response
            .results
            .into_iter()
            .find(|r| r.name == topic)
            .ok_or_else(|| missing(api, topic))?;
        check_with_message(
            api,
            result.error_code,
            result.error_message.as_deref(),
            || format!("topic {topic}"),
        )
    }

    /// Every config of `topic` with its value and source, sorted by name.
    pub fn topic_configs(&mut self, topic: &str) -> Result<Vec<TopicConfig>, ClientError> {
        let api = ApiKey::DescribeConfigs;
        let request = DescribeConfigsRequest {
            resources: vec![DescribeConfigsResource {
                resource_type: RESOURCE_TOPIC,
                resource_name: topic.to_string(),
                configuration_keys: None,
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = self.send(
            DESCRIBE_CONFIGS_VERSION,
            RequestBody::DescribeConfigs(request),
        )?;
        let ResponseBody::DescribeConfigs(response) = body else {
            return Err(unexpected(api, &body));
        };
        let result = response
            .results
            .into_iter()
            .find(|r| r.resource_name == topic)
            .ok_or_else(|| missing(api, topic))?;
        check_with_message(
            api,
            result.error_code,
            result.error_message.as_deref(),
            || format!("topic {topic}"),
        )?;
        let mut configs: Vec<TopicConfig> = result
            .configs
            .into_iter()
            .map(|c| TopicConfig {
                name: c.name,
                value: c.value,
                source: c.config_source,
            })
            .collect();
        configs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(configs)
    }

    /// Applies `changes` to `topic`'s configs, all or none.
    pub fn alter_topic_configs(
        &mut self,
        topic: &str,
        changes: &[ConfigChange],
    ) -> Result<(), ClientError> {
        let api = ApiKey::IncrementalAlterConfigs;
        let request = IncrementalAlterConfigsRequest {
            resources: vec![AlterConfigsResource {
                resource_type: RESOURCE_TOPIC,
                resource_name: topic.to_string(),
                configs: changes.iter().map(ConfigChange::to_alterable).collect(),
                ..Default::default()
            }],
            validate_only: false,
            ..Default::default()
        };
        let body = self.send(
            INCREMENTAL_ALTER_CONFIGS_VERSION,
            RequestBody::IncrementalAlterConfigs(request),
        )?;
        let ResponseBody::IncrementalAlterConfigs(response) = body else {
            return Err(unexpected(api, &body));
        };
        let result = response
            .responses
            .into_iter()
            .find(|r| r.resource_name == topic)
            .ok_or_else(|| missing(api, topic))?;
        check_with_message(
            api,
            result.error_code,
            result.error_message.as_deref(),
            || format!("topic {topic}"),
        )
    }
}

fn missing(api: ApiKey, topic: &str) -> ClientError {
    ClientError::Missing {
        api,
        what: format!("topic {topic}"),
    }
}

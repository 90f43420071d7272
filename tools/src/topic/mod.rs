//! `pinlog topic create | list | describe | delete | alter-config | add-partitions`: topics on a
//! running broker, through the blocking [`crate::client`]. Output is an aligned table, or JSON
//! with `--json`; errors are one line and a non-zero exit (main prints them).

mod alter;
mod create;
mod delete;
mod describe;
mod list;

use pinlog_protocol::error_code::ErrorCode;

use crate::client::{Client, ClientError, KafkaError};
use crate::common::Common;

#[derive(Debug, clap::Subcommand)]
pub enum TopicCommand {
    /// Create a topic.
    Create(create::CreateArgs),
    /// List the topics with their partition counts.
    List(list::ListArgs),
    /// Show topics' partitions (leader, replicas, log start and end) and non-default configs.
    Describe(describe::DescribeArgs),
    /// Delete topics with their data.
    Delete(delete::DeleteArgs),
    /// Set or delete a topic's config overrides (IncrementalAlterConfigs).
    AlterConfig(alter::AlterConfigArgs),
    /// Grow a topic to more partitions.
    AddPartitions(alter::AddPartitionsArgs),
}

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("topic {0} does not exist")]
    NoSuchTopic(String),
    #[error("{flag} {value:?} is not KEY=VALUE")]
    NotKeyValue { flag: &'static str, value: String },
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Runs a topic command, printing its result on stdout.
pub fn run(command: &TopicCommand) -> Result<(), TopicError> {
    match command {
        TopicCommand::Create(args) => create::run(args),
        TopicCommand::List(args) => list::run(args),
        TopicCommand::Describe(args) => describe::run(args),
        TopicCommand::Delete(args) => delete::run(args),
        TopicCommand::AlterConfig(args) => alter::run_alter_config(args),
        TopicCommand::AddPartitions(args) => alter::run_add_partitions(args),
    }
}

fn connect(common: &Common) -> Result<Client, TopicError> {
    Ok(Client::connect(&common.bootstrap)?)
}

/// `KEY=VALUE` split at the first `=`; `flag` names the option in the error.
fn key_value(flag: &'static str, text: &str) -> Result<(String, String), TopicError> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(TopicError::NotKeyValue {
            flag,
            value: text.to_string(),
        }),
    }
}

/// A client error, with UNKNOWN_TOPIC_OR_PARTITION turned into [`TopicError::NoSuchTopic`].
fn about_topic(topic: &str) -> impl FnOnce(ClientError) -> TopicError + '_ {
    move |error| match error {
        ClientError::Kafka {
            error: KafkaError::Known(ErrorCode::UnknownTopicOrPartition),
            ..
        } => TopicError::NoSuchTopic(topic.to_string()),
        other => TopicError::Client(other),
    }
}

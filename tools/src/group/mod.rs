//! `pinlog group list | describe | delete | reset-offsets`: consumer groups on a running
//! broker, through the blocking [`crate::client`]. Output is an aligned table, or JSON with
//! `--json`; errors are one line and a non-zero exit (main prints them).

mod delete;
mod describe;
mod list;
mod reset_offsets;

use crate::client::{Client, ClientError, KafkaError};
use pinlog_protocol::error_code::ErrorCode;

pub use crate::common::Common;

#[derive(Debug, clap::Subcommand)]
pub enum GroupCommand {
    /// List the groups, with their state.
    List(list::ListArgs),
    /// Show a group's state, members and committed offsets with their lag.
    Describe(describe::DescribeArgs),
    /// Delete groups without members, with their committed offsets.
    Delete(delete::DeleteArgs),
    /// Plan, or with --execute commit, new offsets for a group without members.
    ResetOffsets(reset_offsets::ResetArgs),
}

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(
        "group {group} has {members} active member(s) (state {state}); stop its consumers first"
    )]
    NotEmpty {
        group: String,
        members: usize,
        state: String,
    },
    #[error("group {0} does not exist")]
    NoSuchGroup(String),
    #[error("topic {0} does not exist")]
    NoSuchTopic(String),
    #[error(
        "invalid --to-datetime {value:?}: {reason} (expected YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM])"
    )]
    Datetime { value: String, reason: &'static str },
    #[error("committing offsets of group {group}: partition {partition}: {error}")]
    CommitRefused {
        group: String,
        partition: i32,
        error: KafkaError,
    },
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Runs a group command, printing its result on stdout.
pub fn run(command: &GroupCommand) -> Result<(), GroupError> {
    match command {
        GroupCommand::List(args) => list::run(args),
        GroupCommand::Describe(args) => describe::run(args),
        GroupCommand::Delete(args) => delete::run(args),
        GroupCommand::ResetOffsets(args) => reset_offsets::run(args),
    }
}

fn connect(common: &Common) -> Result<Client, GroupError> {
    Ok(Client::connect(&common.bootstrap)?)
}

/// The Kafka error code inside a client error, if the broker answered with one.
fn kafka_error(error: &ClientError) -> Option<ErrorCode> {
    match error {
        ClientError::Kafka {
            error: KafkaError::Known(code),
            ..
        } => Some(*code),
        _ => None,
    }
}

//! `pinlog group reset-offsets --group G --topic T (--to-earliest | --to-latest |
//! --to-offset N | --to-datetime ISO8601) [--execute]`, as kafka-consumer-groups does it:
//! without `--execute` it prints the plan and commits nothing; with it, it commits the plan
//! from outside the group, which the coordinator allows only while the group has no members.

use serde::Serialize;

use super::{connect, Common, GroupError};
use crate::client::topics::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use crate::client::{Client, ClientError};
use crate::datetime;
use crate::table;

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_name = "GROUP")]
    pub group: String,
    /// Every partition of this topic is reset.
    #[arg(long, value_name = "TOPIC")]
    pub topic: String,
    #[command(flatten)]
    pub target: Target,
    /// Commit the plan; without it the plan is only printed.
    #[arg(long)]
    pub execute: bool,
}

/// Where the offsets go: exactly one of the four.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The log start of each partition.
    #[arg(long)]
    pub to_earliest: bool,
    /// The log end of each partition.
    #[arg(long)]
    pub to_latest: bool,
    /// This offset, moved into [log start, log end] where it lies outside.
    #[arg(long, value_name = "N")]
    pub to_offset: Option<i64>,
    /// The first record at or after this time (UTC unless the time names its offset); the log
    /// end where there is none.
    #[arg(long, value_name = "ISO8601")]
    pub to_datetime: Option<String>,
}

#[derive(Debug, Serialize)]
struct Planned {
    topic: String,
    partition: i32,
    current: Option<i64>,
    new: i64,
}

pub fn run(args: &ResetArgs) -> Result<(), GroupError> {
    let mut client = connect(&args.common)?;
    let plan = plan(&mut client, args)?;
    if args.execute {
        execute(&mut client, args, &plan)?;
    }
    if args.common.json {
        let report = serde_json::json!({
            "group": args.group,
            "executed": args.execute,
            "partitions": plan,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = plan
        .iter()
        .map(|p| {
            vec![
                p.topic.clone(),
                p.partition.to_string(),
                p.current.map_or_else(|| "-".into(), |c| c.to_string()),
                p.new.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
            &rows
        )
    );
    if args.execute {
        println!("committed the new offsets of group {}", args.group);
    } else {
        println!("dry run: nothing committed; add --execute to commit these offsets");
    }
    Ok(())
}

fn plan(client: &mut Client, args: &ResetArgs) -> Result<Vec<Planned>, GroupError> {
    let topic = &args.topic;
    let partitions =
        client
            .partitions(topic)
            .map_err(|error| match super::kafka_error(&error) {
                Some(pinlog_protocol::error_code::ErrorCode::UnknownTopicOrPartition) => {
                    GroupError::NoSuchTopic(topic.clone())
                }
                _ => error.into(),
            })?;
    let earliest = client.offsets_for(topic, &partitions, EARLIEST_TIMESTAMP)?;
    let latest = client.offsets_for(topic, &partitions, LATEST_TIMESTAMP)?;
    let target = &args.target;
    let new_offsets: Vec<(i32, i64)> = if target.to_earliest {
        earliest.clone()
    } else if target.to_latest {
        latest.clone()
    } else if let Some(offset) = target.to_offset {
        earliest
            .iter()
            .zip(&latest)
            .map(|(&(partition, start), &(_, end))| {
                (partition, offset.clamp(start, end.max(start)))
            })
            .collect()
    } else if let Some(text) = &target.to_datetime {
        let timestamp_ms = datetime::parse_ms(text).map_err(|reason| GroupError::Datetime {
            value: text.clone(),
            reason,
        })?;
        client
            .offsets_for(topic, &partitions, timestamp_ms)?
            .into_iter()
            .zip(&latest)
            // No record at or after the time: the log end, as Kafka's tool does.
            .map(|((partition, offset), &(_, end))| {
                (partition, if offset < 0 { end } else { offset })
            })
            .collect()
    } else {
        unreachable!("clap requires one target")
    };
    let committed = client.committed_offsets(&args.group)?;
    Ok(new_offsets
        .into_iter()
        .map(|(partition, new)| Planned {
            topic: topic.clone(),
            partition,
            current: committed
                .iter()
                .find(|c| &c.topic == topic && c.partition == partition)
                .map(|c| c.offset),
            new,
        })
        .collect())
}

/// Commits the plan, after checking that the group has no members (the coordinator would
/// refuse the commit, with a less helpful error).
fn execute(client: &mut Client, args: &ResetArgs, plan: &[Planned]) -> Result<(), GroupError> {
    let described = client.describe_group(&args.group)?;
    if !described.members.is_empty() {
        return Err(GroupError::NotEmpty {
            group: args.group.clone(),
            members: described.members.len(),
            state: described.group_state,
        });
    }
    let offsets: Vec<(i32, i64)> = plan.iter().map(|p| (p.partition, p.new)).collect();
    let answers = client
        .commit_offsets_as_admin(&args.group, &args.topic, &offsets)
        .map_err(|error: ClientError| GroupError::from(error))?;
    for (partition, error) in answers {
        if let Some(error) = error {
            return Err(GroupError::CommitRefused {
                group: args.group.clone(),
                partition,
                error,
            });
        }
    }
    Ok(())
}

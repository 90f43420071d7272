//! `pinlog topic create NAME [--partitions N] [--replication-factor R] [--config K=V]...
//! [--if-not-exists]`

use pinlog_protocol::error_code::ErrorCode;

use super::{connect, key_value, TopicError};
use crate::client::admin::NewTopic;
use crate::client::{ClientError, KafkaError};
use crate::common::Common;

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub common: Common,
    pub name: String,
    /// Partitions; the broker's `num.partitions` when not given.
    #[arg(long, value_name = "N")]
    pub partitions: Option<i32>,
    /// Replicas per partition; pinlog is a single node, so only 1 is accepted.
    #[arg(long, value_name = "R")]
    pub replication_factor: Option<i16>,
    /// A topic config override, e.g. `retention.ms=86400000`; repeat for several.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub configs: Vec<String>,
    /// Succeed, creating nothing, when the topic exists already (whatever its settings).
    #[arg(long)]
    pub if_not_exists: bool,
}

pub fn run(args: &CreateArgs) -> Result<(), TopicError> {
    let configs = args
        .configs
        .iter()
        .map(|text| key_value("--config", text))
        .collect::<Result<Vec<_>, _>>()?;
    let mut client = connect(&args.common)?;
    let created = client.create_topic(&NewTopic {
        name: args.name.clone(),
        partitions: args.partitions,
        replication_factor: args.replication_factor,
        configs,
    });
    let partitions = match created {
        Err(ClientError::Kafka {
            error: KafkaError::Known(ErrorCode::TopicAlreadyExists),
            ..
        }) if args.if_not_exists => {
            if args.common.json {
                let report = serde_json::json!({ "topic": args.name, "created": false });
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("topic {} exists already", args.name);
            }
            return Ok(());
        }
        other => other?,
    };
    if args.common.json {
        let report =
            serde_json::json!({ "topic": args.name, "partitions": partitions, "created": true });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("created topic {} with {partitions} partition(s)", args.name);
    }
    Ok(())
}

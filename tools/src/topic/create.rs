//! `pinlog topic create NAME [--partitions N] [--replication-factor R] [--config K=V]...`

use super::{connect, key_value, TopicError};
use crate::client::admin::NewTopic;
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
}

pub fn run(args: &CreateArgs) -> Result<(), TopicError> {
    let configs = args
        .configs
        .iter()
        .map(|text| key_value("--config", text))
        .collect::<Result<Vec<_>, _>>()?;
    let mut client = connect(&args.common)?;
    let partitions = client.create_topic(&NewTopic {
        name: args.name.clone(),
        partitions: args.partitions,
        replication_factor: args.replication_factor,
        configs,
    })?;
    if args.common.json {
        let report = serde_json::json!({ "topic": args.name, "partitions": partitions });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("created topic {} with {partitions} partition(s)", args.name);
    }
    Ok(())
}

//! `pinlog topic alter-config NAME [--set K=V]... [--delete K]...` and
//! `pinlog topic add-partitions NAME --total N`.

use super::{about_topic, connect, key_value, TopicError};
use crate::client::admin::ConfigChange;
use crate::common::Common;

#[derive(Debug, clap::Args)]
pub struct AlterConfigArgs {
    #[command(flatten)]
    pub common: Common,
    pub name: String,
    /// Set a config override, e.g. `retention.ms=3600000`; repeat for several.
    #[arg(
        long = "set",
        value_name = "KEY=VALUE",
        required_unless_present = "deletes"
    )]
    pub sets: Vec<String>,
    /// Remove a config override, back to the broker's default; repeat for several.
    #[arg(long = "delete", value_name = "KEY")]
    pub deletes: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct AddPartitionsArgs {
    #[command(flatten)]
    pub common: Common,
    pub name: String,
    /// The partition count after the change (Kafka's `--partitions`); it may only grow.
    #[arg(long, value_name = "N")]
    pub total: i32,
}

/// Applies every change in one IncrementalAlterConfigs request: all of them or none.
pub fn run_alter_config(args: &AlterConfigArgs) -> Result<(), TopicError> {
    let mut changes = Vec::new();
    for text in &args.sets {
        let (name, value) = key_value("--set", text)?;
        changes.push(ConfigChange::Set { name, value });
    }
    for name in &args.deletes {
        changes.push(ConfigChange::Delete { name: name.clone() });
    }
    let mut client = connect(&args.common)?;
    client
        .alter_topic_configs(&args.name, &changes)
        .map_err(about_topic(&args.name))?;
    if args.common.json {
        let report = serde_json::json!({
            "topic": args.name,
            "set": args.sets,
            "deleted": args.deletes,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "altered topic {}: {} set, {} deleted",
            args.name,
            args.sets.len(),
            args.deletes.len()
        );
    }
    Ok(())
}

pub fn run_add_partitions(args: &AddPartitionsArgs) -> Result<(), TopicError> {
    let mut client = connect(&args.common)?;
    client
        .create_partitions(&args.name, args.total)
        .map_err(about_topic(&args.name))?;
    if args.common.json {
        let report = serde_json::json!({ "topic": args.name, "partitions": args.total });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("topic {} now has {} partition(s)", args.name, args.total);
    }
    Ok(())
}

//! `pinlog topic delete NAME...`

use super::{about_topic, connect, TopicError};
use crate::common::Common;

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// Deletes the topics in order and stops at the first failure, so that the error names the
/// topic; the ones before it are deleted (and printed as such).
pub fn run(args: &DeleteArgs) -> Result<(), TopicError> {
    let mut client = connect(&args.common)?;
    let mut deleted = Vec::new();
    let mut outcome = Ok(());
    for name in &args.names {
        if let Err(error) = client.delete_topic(name).map_err(about_topic(name)) {
            outcome = Err(error);
            break;
        }
        deleted.push(name.clone());
    }
    if args.common.json {
        let report = serde_json::json!({ "deleted": deleted });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for name in &deleted {
            println!("deleted topic {name}");
        }
    }
    outcome
}

//! `pinlog topic list [--exclude-internal]`

use serde::Serialize;

use super::{connect, TopicError};
use crate::common::Common;
use crate::table;

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    /// Leave out internal topics such as `__consumer_offsets`.
    #[arg(long)]
    pub exclude_internal: bool,
}

#[derive(Debug, Serialize)]
struct Listed {
    topic: String,
    partitions: usize,
    internal: bool,
}

pub fn run(args: &ListArgs) -> Result<(), TopicError> {
    let mut client = connect(&args.common)?;
    let metadata = client.metadata(None)?;
    let mut topics: Vec<Listed> = metadata
        .topics
        .into_iter()
        .filter(|t| !(args.exclude_internal && t.is_internal))
        .filter_map(|t| {
            Some(Listed {
                topic: t.name?,
                partitions: t.partitions.len(),
                internal: t.is_internal,
            })
        })
        .collect();
    topics.sort_by(|a, b| a.topic.cmp(&b.topic));
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&topics)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = topics
        .into_iter()
        .map(|t| vec![t.topic, t.partitions.to_string()])
        .collect();
    print!("{}", table::render(&["TOPIC", "PARTITIONS"], &rows));
    Ok(())
}

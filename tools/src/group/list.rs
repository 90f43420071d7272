//! `pinlog group list [--state S]...`

use serde::Serialize;

use super::{connect, Common, GroupError};
use crate::table;

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only groups in this state (Empty, Stable, PreparingRebalance, CompletingRebalance,
    /// Dead); repeat for several.
    #[arg(long = "state", value_name = "STATE")]
    pub states: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Listed {
    group: String,
    state: String,
    protocol_type: String,
}

pub fn run(args: &ListArgs) -> Result<(), GroupError> {
    let mut client = connect(&args.common)?;
    let mut groups: Vec<Listed> = client
        .list_groups(&args.states)?
        .into_iter()
        .map(|g| Listed {
            group: g.group_id,
            state: g.group_state,
            protocol_type: g.protocol_type,
        })
        .collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&groups)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = groups
        .into_iter()
        .map(|g| vec![g.group, g.state, g.protocol_type])
        .collect();
    print!(
        "{}",
        table::render(&["GROUP", "STATE", "PROTOCOL-TYPE"], &rows)
    );
    Ok(())
}

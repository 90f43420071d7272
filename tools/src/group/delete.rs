//! `pinlog group delete --group G...`

use pinlog_protocol::error_code::ErrorCode;

use super::{connect, kafka_error, Common, GroupError};

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub common: Common,
    /// Group to delete; repeat for several. Stops at the first that cannot be deleted.
    #[arg(long = "group", value_name = "GROUP", required = true)]
    pub groups: Vec<String>,
}

pub fn run(args: &DeleteArgs) -> Result<(), GroupError> {
    let mut client = connect(&args.common)?;
    for group in &args.groups {
        if let Err(error) = client.delete_group(group) {
            return Err(match kafka_error(&error) {
                Some(ErrorCode::NonEmptyGroup) => {
                    let described = client.describe_group(group)?;
                    GroupError::NotEmpty {
                        group: group.clone(),
                        members: described.members.len(),
                        state: described.group_state,
                    }
                }
                Some(ErrorCode::GroupIdNotFound) => GroupError::NoSuchGroup(group.clone()),
                _ => error.into(),
            });
        }
        if args.common.json {
            println!("{}", serde_json::json!({ "deleted": group }));
        } else {
            println!("deleted group {group}");
        }
    }
    Ok(())
}

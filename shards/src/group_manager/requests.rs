//! What a shard asks the shard that coordinates a group, and the answers.

use pinlog_protocol::error_code::ErrorCode;

use crate::group_offsets::CommittedOffset;
use crate::groups::{
    GroupDescription, HeartbeatInput, JoinInput, JoinOutput, LeaveOutput, LeavingMember, SyncInput,
    SyncOutput,
};

/// One partition's offset to commit.
#[derive(Debug, Clone)]
pub struct OffsetToCommit {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

#[derive(Debug)]
pub enum GroupRequest {
    Join(JoinInput),
    Sync(SyncInput),
    Heartbeat(HeartbeatInput),
    Leave {
        group_id: String,
        members: Vec<LeavingMember>,
    },
    Commit {
        group_id: String,
        generation_id: i32,
        member_id: String,
        group_instance_id: Option<String>,
        offsets: Vec<OffsetToCommit>,
    },
    /// `partitions: None` asks for every committed offset of the group.
    FetchOffsets {
        group_id: String,
        partitions: Option<Vec<(String, i32)>>,
    },
    Describe(String),
    List(Vec<String>),
    Delete(String),
    DeleteOffsets {
        group_id: String,
        partitions: Vec<(String, i32)>,
    },
}

#[derive(Debug)]
pub enum GroupReply {
    Join(JoinOutput),
    Sync(SyncOutput),
    Error(ErrorCode),
    Leave(LeaveOutput),
    /// Per offset, in request order.
    Commit(Vec<ErrorCode>),
    Offsets(Result<Vec<(String, i32, Option<CommittedOffset>)>, ErrorCode>),
    Describe(GroupDescription),
    /// (group id, protocol type, state)
    List(Vec<(String, String, String)>),
    /// Top-level error and one per partition.
    DeleteOffsets(ErrorCode, Vec<ErrorCode>),
}

impl GroupRequest {
    pub(super) fn failed(&self, error: ErrorCode) -> GroupReply {
        match self {
            GroupRequest::Join(input) => GroupReply::Join(JoinOutput {
                error,
                generation_id: -1,
                protocol_type: None,
                protocol_name: None,
                leader: String::new(),
                skip_assignment: false,
                member_id: input.member_id.clone(),
                members: Vec::new(),
            }),
            GroupRequest::Sync(_) => GroupReply::Sync(SyncOutput {
                error,
                protocol_type: None,
                protocol_name: None,
                assignment: bytes::Bytes::new(),
            }),
            GroupRequest::Leave { members, .. } => GroupReply::Leave(LeaveOutput {
                error,
                members: members
                    .iter()
                    .map(|m| crate::groups::LeftMember {
                        member_id: m.member_id.clone(),
                        group_instance_id: m.group_instance_id.clone(),
                        error,
                    })
                    .collect(),
            }),
            GroupRequest::Commit { offsets, .. } => GroupReply::Commit(vec![error; offsets.len()]),
            GroupRequest::FetchOffsets { .. } => GroupReply::Offsets(Err(error)),
            GroupRequest::Describe(group_id) => GroupReply::Describe(GroupDescription {
                error,
                group_id: group_id.clone(),
                state: String::new(),
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            }),
            GroupRequest::List(_) => GroupReply::List(Vec::new()),
            GroupRequest::DeleteOffsets { partitions, .. } => {
                GroupReply::DeleteOffsets(error, vec![error; partitions.len()])
            }
            GroupRequest::Heartbeat(_) | GroupRequest::Delete(_) => GroupReply::Error(error),
        }
    }

    pub(super) fn group_id(&self) -> Option<&str> {
        match self {
            GroupRequest::Join(input) => Some(&input.group_id),
            GroupRequest::Sync(input) => Some(&input.group_id),
            GroupRequest::Heartbeat(input) => Some(&input.group_id),
            GroupRequest::Leave { group_id, .. }
            | GroupRequest::Commit { group_id, .. }
            | GroupRequest::FetchOffsets { group_id, .. }
            | GroupRequest::DeleteOffsets { group_id, .. } => Some(group_id),
            GroupRequest::Describe(group_id) | GroupRequest::Delete(group_id) => Some(group_id),
            GroupRequest::List(_) => None,
        }
    }
}

//! Heartbeat, LeaveGroup and the group checks of OffsetCommit: how members stay in a group,
//! leave it, and prove they may commit for it.

use pinlog_protocol::error_code::ErrorCode;

use super::api::{HeartbeatInput, LeaveOutput, LeavingMember, LeftMember};
use super::group::GroupState;
use super::rebalance::Ctx;
use super::Coordinator;
use crate::limits::GROUPS_MAX;

impl Coordinator {
    /// Extends the member's session. REBALANCE_IN_PROGRESS is how a member learns it must
    /// rejoin.
    pub fn heartbeat(&mut self, now_ms: i64, input: HeartbeatInput) -> ErrorCode {
        if input.group_id.is_empty() {
            return ErrorCode::InvalidGroupId;
        }
        let Some(group) = self.groups.get_mut(&input.group_id) else {
            return ErrorCode::UnknownMemberId;
        };
        if let Err(error) =
            group.validate_member(&input.member_id, input.group_instance_id.as_deref())
        {
            return error;
        }
        if input.generation_id != group.generation_id {
            return ErrorCode::IllegalGeneration;
        }
        let state = group.state;
        let Some(member) = group.members.get_mut(&input.member_id) else {
            return ErrorCode::UnknownMemberId;
        };
        let error = match state {
            GroupState::Empty => return ErrorCode::UnknownMemberId,
            GroupState::PreparingRebalance => ErrorCode::RebalanceInProgress,
            GroupState::CompletingRebalance | GroupState::Stable => ErrorCode::None,
        };
        member.extend_session(now_ms);
        self.settle(&input.group_id, now_ms);
        error
    }

    /// Removes members by member id, or (admin removal of static members) by group instance
    /// id with an empty member id. The group rebalances without them.
    pub fn leave_group(
        &mut self,
        now_ms: i64,
        group_id: &str,
        members: Vec<LeavingMember>,
    ) -> LeaveOutput {
        if group_id.is_empty() {
            return LeaveOutput {
                error: ErrorCode::InvalidGroupId,
                members: Vec::new(),
            };
        }
        let Some(group) = self.groups.get_mut(group_id) else {
            let members = members
                .into_iter()
                .map(|m| left(m, ErrorCode::UnknownMemberId))
                .collect();
            return LeaveOutput {
                error: ErrorCode::None,
                members,
            };
        };
        let mut ctx = Ctx {
            now_ms,
            config: &self.config,
            outbox: &mut self.outbox,
        };
        let mut results = Vec::with_capacity(members.len());
        for leaving in members {
            let instance_id = leaving.group_instance_id.as_deref();
            let error = if leaving.member_id.is_empty() {
                match instance_id.and_then(|id| group.static_member_id(id)) {
                    Some(member_id) => {
                        let member_id = member_id.to_string();
                        group.remove_member_and_update_group(&mut ctx, &member_id, "left");
                        ErrorCode::None
                    }
                    None => ErrorCode::UnknownMemberId,
                }
            } else if group.pending_members.remove(&leaving.member_id).is_some() {
                group.try_complete_join(&mut ctx);
                ErrorCode::None
            } else {
                match group.validate_member(&leaving.member_id, instance_id) {
                    Ok(()) => {
                        group.remove_member_and_update_group(&mut ctx, &leaving.member_id, "left");
                        ErrorCode::None
                    }
                    Err(error) => error,
                }
            };
            results.push(left(leaving, error));
        }
        self.settle(group_id, now_ms);
        LeaveOutput {
            error: ErrorCode::None,
            members: results,
        }
    }

    /// Kafka's validateOffsetCommit for the classic protocol. Generation -1 with no member
    /// (a consumer that assigns partitions itself, or an admin tool) may commit only while
    /// the group has no members; anyone else must be a current member of the current
    /// generation, and nobody commits between JoinGroup and the assignment.
    pub fn validate_offset_commit(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> ErrorCode {
        let Some(group) = self.groups.get(group_id) else {
            if generation_id >= 0 {
                // A generation of a group this coordinator does not know: stale.
                return ErrorCode::IllegalGeneration;
            }
            if self.groups.len() >= GROUPS_MAX {
                return ErrorCode::CoordinatorNotAvailable;
            }
            return ErrorCode::None;
        };
        if generation_id < 0 && group.state == GroupState::Empty {
            return ErrorCode::None;
        }
        if generation_id >= 0 || !member_id.is_empty() || group_instance_id.is_some() {
            if let Err(error) = group.validate_member(member_id, group_instance_id) {
                return error;
            }
            if generation_id != group.generation_id {
                return ErrorCode::IllegalGeneration;
            }
        } else if group.state != GroupState::Empty {
            return ErrorCode::UnknownMemberId;
        }
        if group.state == GroupState::CompletingRebalance {
            return ErrorCode::RebalanceInProgress;
        }
        ErrorCode::None
    }
}

fn left(member: LeavingMember, error: ErrorCode) -> LeftMember {
    LeftMember {
        member_id: member.member_id,
        group_instance_id: member.group_instance_id,
        error,
    }
}

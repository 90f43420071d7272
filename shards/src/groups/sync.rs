//! SyncGroup (Kafka's handleSyncGroup): the leader hands in the assignment, every member gets
//! its part. Followers that ask before the leader has answered wait (parked) for it.

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use super::api::{Completion, SyncInput, SyncOutput, Token};
use super::group::{Group, GroupState};
use super::rebalance::Ctx;
use super::Coordinator;

impl Coordinator {
    /// Answers at once, or parks a follower's request under `token` (None) until the leader
    /// sends the assignment.
    pub fn sync_group(
        &mut self,
        now_ms: i64,
        token: Token,
        input: SyncInput,
    ) -> Option<SyncOutput> {
        if input.group_id.is_empty() {
            return Some(SyncOutput::error(ErrorCode::InvalidGroupId));
        }
        if self.outbox.is_parked(token) {
            return Some(SyncOutput::error(ErrorCode::UnknownServerError));
        }
        let group_id = input.group_id.clone();
        let Some(group) = self.groups.get_mut(&group_id) else {
            return Some(SyncOutput::error(ErrorCode::UnknownMemberId));
        };
        let mut ctx = Ctx {
            now_ms,
            config: &self.config,
            outbox: &mut self.outbox,
        };
        let immediate = group.sync(&mut ctx, token, input);
        if group.pending_sync.is_empty() {
            group.sync_deadline_ms = None;
        }
        self.settle(&group_id, now_ms);
        immediate.or_else(|| self.outbox.take_sync(token))
    }
}

impl Group {
    fn sync(&mut self, ctx: &mut Ctx, token: Token, input: SyncInput) -> Option<SyncOutput> {
        if let Err(error) = self.validate_sync(&input) {
            return Some(SyncOutput::error(error));
        }
        let member_id = input.member_id;
        match self.state {
            GroupState::Empty => Some(SyncOutput::error(ErrorCode::UnknownMemberId)),
            GroupState::PreparingRebalance => {
                Some(SyncOutput::error(ErrorCode::RebalanceInProgress))
            }
            GroupState::CompletingRebalance => {
                let member = self.members.get_mut(&member_id)?;
                if let Some(previous) = member.sync_token.replace(token) {
                    let superseded = SyncOutput::error(ErrorCode::RebalanceInProgress);
                    ctx.outbox.complete(previous, Completion::Sync(superseded));
                }
                ctx.outbox.park(token, &self.group_id, &member_id);
                self.pending_sync.remove(&member_id);
                if self.is_leader(&member_id) {
                    self.apply_assignment(input.assignments);
                    self.propagate_assignment(ctx);
                    self.state = GroupState::Stable;
                    tracing::info!(
                        group = %self.group_id,
                        generation = self.generation_id,
                        "rebalance complete: group is stable"
                    );
                }
                None
            }
            GroupState::Stable => {
                self.pending_sync.remove(&member_id);
                let member = self.members.get_mut(&member_id)?;
                member.extend_session(ctx.now_ms);
                Some(SyncOutput {
                    error: ErrorCode::None,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                })
            }
        }
    }

    fn validate_sync(&self, input: &SyncInput) -> Result<(), ErrorCode> {
        self.validate_member(&input.member_id, input.group_instance_id.as_deref())?;
        if input.generation_id != self.generation_id {
            return Err(ErrorCode::IllegalGeneration);
        }
        let type_differs =
            input.protocol_type.is_some() && input.protocol_type != self.protocol_type;
        let name_differs =
            input.protocol_name.is_some() && input.protocol_name != self.protocol_name;
        if type_differs || name_differs {
            return Err(ErrorCode::InconsistentGroupProtocol);
        }
        Ok(())
    }

    /// Members the leader left out get an empty assignment; entries for ids that are not
    /// members are ignored; a member listed twice gets its last entry.
    fn apply_assignment(&mut self, assignments: Vec<(String, Bytes)>) {
        for member in self.members.values_mut() {
            member.assignment = Bytes::new();
        }
        for (member_id, assignment) in assignments {
            if let Some(member) = self.members.get_mut(&member_id) {
                member.assignment = assignment;
            }
        }
    }

    /// Answers every parked SyncGroup; their sessions start now, since members do not
    /// heartbeat while they wait.
    fn propagate_assignment(&mut self, ctx: &mut Ctx) {
        let protocol_type = self.protocol_type.clone();
        let protocol_name = self.protocol_name.clone();
        for member_id in self.member_ids_in_join_order() {
            let Some(member) = self.members.get_mut(&member_id) else {
                continue;
            };
            if let Some(token) = member.sync_token.take() {
                let output = SyncOutput {
                    error: ErrorCode::None,
                    protocol_type: protocol_type.clone(),
                    protocol_name: protocol_name.clone(),
                    assignment: member.assignment.clone(),
                };
                ctx.outbox.complete(token, Completion::Sync(output));
                member.extend_session(ctx.now_ms);
            }
        }
    }
}

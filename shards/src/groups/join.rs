//! JoinGroup (Kafka's handleJoinGroup): new members get an id (after MEMBER_ID_REQUIRED when
//! the client asks for that, KIP-394), static members take over their instance's seat
//! (KIP-345), known members rejoin; anything that changes the group starts a rebalance.

use pinlog_protocol::error_code::ErrorCode;

use super::api::{JoinInput, JoinOutput, Token};
use super::group::{Group, GroupState, Member};
use super::rebalance::Ctx;
use super::Coordinator;
use crate::limits::{GROUPS_MAX, GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS, GROUP_PENDING_MEMBERS_MAX};

impl Coordinator {
    /// Answers at once, or parks the request under `token` (None) until the rebalance
    /// completes; the answer then comes from `take_completions`.
    pub fn join_group(
        &mut self,
        now_ms: i64,
        token: Token,
        input: JoinInput,
    ) -> Option<JoinOutput> {
        if input.group_id.is_empty() {
            return Some(JoinOutput::error(
                input.member_id,
                ErrorCode::InvalidGroupId,
            ));
        }
        if self.outbox.is_parked(token) {
            return Some(JoinOutput::error(
                input.member_id,
                ErrorCode::UnknownServerError,
            ));
        }
        if input.session_timeout_ms < self.config.min_session_timeout_ms
            || input.session_timeout_ms > self.config.max_session_timeout_ms
        {
            return Some(JoinOutput::error(
                input.member_id,
                ErrorCode::InvalidSessionTimeout,
            ));
        }
        let is_new_member = input.member_id.is_empty();
        if !self.groups.contains_key(&input.group_id) {
            // Only a member without an id creates a group; an id for an unknown group is
            // stale (e.g. from before a restart): the client must rejoin from scratch.
            if !is_new_member {
                return Some(JoinOutput::error(
                    input.member_id,
                    ErrorCode::UnknownMemberId,
                ));
            }
            if self.groups.len() >= GROUPS_MAX {
                return Some(JoinOutput::error("", ErrorCode::CoordinatorNotAvailable));
            }
            let group = Group::new(&input.group_id);
            self.groups.insert(input.group_id.clone(), group);
        }
        let new_member_id = if is_new_member {
            let prefix = input
                .group_instance_id
                .as_deref()
                .unwrap_or(&input.client_id);
            let prefix = prefix.to_string();
            Some(self.new_member_id(&prefix))
        } else {
            None
        };
        let group_id = input.group_id.clone();
        let Some(group) = self.groups.get_mut(&group_id) else {
            return Some(JoinOutput::error(
                input.member_id,
                ErrorCode::UnknownServerError,
            ));
        };
        let mut ctx = Ctx {
            now_ms,
            config: &self.config,
            outbox: &mut self.outbox,
        };
        let immediate = if !group.accepts_joining_member(&input.member_id, ctx.config) {
            group.remove_member(&input.member_id, ErrorCode::GroupMaxSizeReached, ctx.outbox);
            Some(JoinOutput::error("", ErrorCode::GroupMaxSizeReached))
        } else {
            match new_member_id {
                Some(member_id) => group.join_new_member(&mut ctx, token, member_id, input),
                None => group.join_known_member(&mut ctx, token, input),
            }
        };
        group.try_complete_join(&mut ctx);
        self.settle(&group_id, now_ms);
        immediate.or_else(|| self.outbox.take_join(token))
    }
}

impl Group {
    /// Kafka's acceptJoiningMember: while rebalancing, the members that already rejoined count
    /// toward the size (so the last to rejoin are the ones turned away if the limit shrank).
    fn accepts_joining_member(&self, member_id: &str, config: &super::CoordinatorConfig) -> bool {
        match self.state {
            GroupState::Empty => true,
            GroupState::PreparingRebalance => {
                let rejoined = self.members.values().filter(|m| m.awaiting_join).count();
                self.members.get(member_id).is_some_and(|m| m.awaiting_join)
                    || rejoined < config.max_group_size
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.members.contains_key(member_id) || self.members.len() < config.max_group_size
            }
        }
    }

    fn join_new_member(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        member_id: String,
        input: JoinInput,
    ) -> Option<JoinOutput> {
        if !self.supports_protocols(&input.protocol_type, &input.protocols) {
            return Some(JoinOutput::error("", ErrorCode::InconsistentGroupProtocol));
        }
        if let Some(instance_id) = input.group_instance_id.clone() {
            if let Some(old_member_id) = self.static_member_id(&instance_id).map(str::to_string) {
                return self.replace_static_member_and_rebalance(
                    ctx,
                    token,
                    &old_member_id,
                    member_id,
                    input,
                );
            }
        } else if input.require_known_member_id {
            if self.pending_members.len() >= GROUP_PENDING_MEMBERS_MAX {
                return Some(JoinOutput::error("", ErrorCode::GroupMaxSizeReached));
            }
            let deadline_ms = ctx
                .now_ms
                .saturating_add(i64::from(input.session_timeout_ms));
            self.pending_members.insert(member_id.clone(), deadline_ms);
            return Some(JoinOutput::error(member_id, ErrorCode::MemberIdRequired));
        }
        self.add_member_and_rebalance(ctx, token, member_id, input);
        None
    }

    fn join_known_member(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        input: JoinInput,
    ) -> Option<JoinOutput> {
        let member_id = input.member_id.clone();
        if !self.supports_protocols(&input.protocol_type, &input.protocols) {
            return Some(JoinOutput::error(
                member_id,
                ErrorCode::InconsistentGroupProtocol,
            ));
        }
        if self.pending_members.contains_key(&member_id) {
            // Ids from MEMBER_ID_REQUIRED go to dynamic members only; Kafka fails such a
            // request with an internal error too.
            if input.group_instance_id.is_some() {
                return Some(JoinOutput::error(member_id, ErrorCode::UnknownServerError));
            }
            self.add_member_and_rebalance(ctx, token, member_id, input);
            return None;
        }
        if let Err(error) = self.validate_member(&member_id, input.group_instance_id.as_deref()) {
            return Some(JoinOutput::error(member_id, error));
        }
        let unchanged = self
            .members
            .get(&member_id)
            .is_some_and(|m| m.protocols == input.protocols);
        match self.state {
            GroupState::CompletingRebalance if unchanged => {
                // Most likely the member lost the JoinGroup answer: give it again.
                let is_leader = self.is_leader(&member_id);
                Some(self.current_generation(&member_id, is_leader))
            }
            // The leader rejoining a Stable group asks for a rebalance on purpose (e.g. the
            // topics it subscribes to changed) even with the same metadata.
            GroupState::Stable if unchanged && !self.is_leader(&member_id) => {
                Some(self.current_generation(&member_id, false))
            }
            GroupState::PreparingRebalance
            | GroupState::CompletingRebalance
            | GroupState::Stable => {
                self.update_member(
                    &member_id,
                    input.protocols,
                    input.rebalance_timeout_ms,
                    input.session_timeout_ms,
                );
                self.park_join(&member_id, token, ctx.outbox);
                self.maybe_prepare_rebalance(ctx, "member rejoined");
                None
            }
            GroupState::Empty => Some(JoinOutput::error(member_id, ErrorCode::UnknownMemberId)),
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        member_id: String,
        input: JoinInput,
    ) {
        if self.state == GroupState::PreparingRebalance && self.generation_id == 0 {
            self.new_member_added = true;
        }
        self.add_member(Member {
            member_id: member_id.clone(),
            group_instance_id: input.group_instance_id,
            client_id: input.client_id,
            client_host: input.client_host,
            session_timeout_ms: input.session_timeout_ms,
            rebalance_timeout_ms: input.rebalance_timeout_ms,
            protocol_type: input.protocol_type,
            protocols: input.protocols,
            assignment: bytes::Bytes::new(),
            join_seq: 0,
            is_new: true,
            awaiting_join: false,
            join_token: None,
            sync_token: None,
            session_deadline_ms: ctx.now_ms.saturating_add(GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS),
        });
        self.park_join(&member_id, token, ctx.outbox);
        self.maybe_prepare_rebalance(ctx, "new member joined");
    }

    /// KIP-345: a restarted static member takes over its old seat under a new id. In a
    /// Stable group whose protocol it does not change this needs no rebalance: it gets the
    /// current generation (the old leader id, so it does not run an assignment no one would
    /// read) and fetches its old assignment with SyncGroup.
    fn replace_static_member_and_rebalance(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        old_member_id: &str,
        new_member_id: String,
        input: JoinInput,
    ) -> Option<JoinOutput> {
        let Some(instance_id) = input.group_instance_id.as_deref() else {
            return Some(JoinOutput::error("", ErrorCode::UnknownServerError));
        };
        let old_leader = self.leader_id.clone();
        self.replace_static_member(instance_id, old_member_id, &new_member_id, ctx.outbox);
        self.update_member(
            &new_member_id,
            input.protocols,
            input.rebalance_timeout_ms,
            input.session_timeout_ms,
        );
        if let Some(member) = self.members.get_mut(&new_member_id) {
            member.extend_session(ctx.now_ms);
        }
        match self.state {
            GroupState::Stable if self.select_protocol() == self.protocol_name => {
                let mut output = self.current_generation(&new_member_id, false);
                output.leader = old_leader.unwrap_or_default();
                Some(output)
            }
            GroupState::Empty => {
                // A known static member implies members: unreachable, answered safely.
                Some(JoinOutput::error("", ErrorCode::UnknownServerError))
            }
            _ => {
                // In CompletingRebalance the leader may be assigning to the old id: redo it.
                self.park_join(&new_member_id, token, ctx.outbox);
                self.maybe_prepare_rebalance(ctx, "static member rejoined with a new id");
                None
            }
        }
    }
}

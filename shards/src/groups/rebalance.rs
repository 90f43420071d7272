//! The rebalance state machine of one group (Kafka's prepareRebalance / onCompleteJoin /
//! DelayedJoin / DelayedSync / heartbeat expiry), driven by requests and by `process_timers`.
//!
//! Empty/Stable/CompletingRebalance --(join, leave, expiry)--> PreparingRebalance
//! PreparingRebalance --(all rejoined, or timer)--> CompletingRebalance (or Empty)
//! CompletingRebalance --(leader's SyncGroup)--> Stable

use pinlog_protocol::error_code::ErrorCode;

use super::api::{Completion, CoordinatorConfig, SyncOutput};
use super::group::{Group, GroupState, JoinTimer};
use super::outbox::Outbox;
use crate::limits::GROUP_JOIN_RETRY_MS_MIN;

/// What a group's state machine needs from the coordinator for one step.
pub(super) struct Ctx<'a> {
    pub now_ms: i64,
    pub config: &'a CoordinatorConfig,
    pub outbox: &'a mut Outbox,
}

impl Group {
    /// A rebalance starts unless one is already being prepared.
    pub fn maybe_prepare_rebalance(&mut self, ctx: &mut Ctx, reason: &str) {
        if matches!(
            self.state,
            GroupState::Empty | GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(ctx, reason);
        }
    }

    pub fn prepare_rebalance(&mut self, ctx: &mut Ctx, reason: &str) {
        if self.state == GroupState::CompletingRebalance {
            // Members waiting for the assignment must rejoin instead.
            self.propagate_assignment_error(ctx, ErrorCode::RebalanceInProgress);
        }
        self.pending_sync.clear();
        self.sync_deadline_ms = None;
        let rebalance_timeout_ms = self.rebalance_timeout_ms();
        self.join_timer = Some(if self.state == GroupState::Empty {
            let delay_ms = i64::from(ctx.config.initial_rebalance_delay_ms.max(0));
            JoinTimer::Initial {
                deadline_ms: ctx.now_ms.saturating_add(delay_ms),
                delay_ms,
                remaining_ms: (rebalance_timeout_ms - delay_ms).max(0),
            }
        } else {
            JoinTimer::Regular {
                deadline_ms: ctx.now_ms.saturating_add(rebalance_timeout_ms),
            }
        });
        tracing::info!(
            group = %self.group_id,
            from = self.state.name(),
            generation = self.generation_id,
            reason,
            "preparing to rebalance"
        );
        self.state = GroupState::PreparingRebalance;
        self.try_complete_join(ctx);
    }

    /// Ends the join phase early once every member rejoined (not during the initial delay,
    /// whose point is to wait for members that have not joined yet).
    pub fn try_complete_join(&mut self, ctx: &mut Ctx) {
        if self.state == GroupState::PreparingRebalance
            && matches!(self.join_timer, Some(JoinTimer::Regular { .. }))
            && self.has_all_members_joined()
        {
            self.complete_join(ctx);
        }
    }

    /// Removes a member (left, expired) and lets the group react: a settled group rebalances,
    /// a rebalancing one may now have everyone it waits for.
    pub fn remove_member_and_update_group(&mut self, ctx: &mut Ctx, member_id: &str, why: &str) {
        if self
            .remove_member(member_id, ErrorCode::UnknownMemberId, ctx.outbox)
            .is_none()
        {
            return;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(ctx, why)
            }
            GroupState::PreparingRebalance => self.try_complete_join(ctx),
            GroupState::Empty => {}
        }
    }

    /// Kafka's onCompleteJoin: dynamic members that did not rejoin are dropped (static ones
    /// keep their seat until their session expires), then the next generation starts and
    /// every waiting JoinGroup is answered; the leader gets all members' metadata.
    fn complete_join(&mut self, ctx: &mut Ctx) {
        let not_rejoined: Vec<String> = self
            .members_in_join_order()
            .into_iter()
            .filter(|m| !m.awaiting_join && m.group_instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in &not_rejoined {
            self.remove_member(member_id, ErrorCode::UnknownMemberId, ctx.outbox);
        }
        if !self.elect_joined_leader() && !self.members.is_empty() {
            // Only static members that have not rejoined are left: wait for them to rejoin
            // or for their sessions to expire.
            let wait_ms = self.rebalance_timeout_ms().max(GROUP_JOIN_RETRY_MS_MIN);
            self.join_timer = Some(JoinTimer::Regular {
                deadline_ms: ctx.now_ms.saturating_add(wait_ms),
            });
            return;
        }
        self.join_timer = None;
        self.generation_id = self.generation_id.saturating_add(1);
        if self.members.is_empty() {
            self.protocol_name = None;
            self.state = GroupState::Empty;
            return;
        }
        self.protocol_name = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        let leader_view = self.joined_members();
        let without_members = self.current_generation("", false);
        let now_ms = ctx.now_ms;
        for member_id in self.member_ids_in_join_order() {
            let is_leader = self.is_leader(&member_id);
            let Some(member) = self.members.get_mut(&member_id) else {
                continue;
            };
            if let Some(token) = member.join_token.take() {
                let mut output = without_members.clone();
                output.member_id = member_id.clone();
                if is_leader {
                    output.members = leader_view.clone();
                }
                ctx.outbox.complete(token, Completion::Join(output));
            }
            member.awaiting_join = false;
            member.is_new = false;
            member.extend_session(now_ms);
            self.pending_sync.insert(member_id);
        }
        self.sync_deadline_ms = Some(now_ms.saturating_add(self.rebalance_timeout_ms()));
        tracing::info!(
            group = %self.group_id,
            generation = self.generation_id,
            members = self.members.len(),
            "rebalance: join phase complete"
        );
    }

    /// Keeps the leader if it rejoined, else hands leadership to a member that did; false
    /// when no member rejoined.
    fn elect_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader_id.as_deref() else {
            return false;
        };
        if self.members.get(leader).is_some_and(|m| m.awaiting_join) {
            return true;
        }
        let joined = self
            .members_in_join_order()
            .into_iter()
            .find(|m| m.awaiting_join)
            .map(|m| m.member_id.clone());
        match joined {
            Some(new_leader) => {
                self.leader_id = Some(new_leader);
                true
            }
            None => false,
        }
    }

    /// Answers every parked SyncGroup with `error` and forgets the assignment.
    fn propagate_assignment_error(&mut self, ctx: &mut Ctx, error: ErrorCode) {
        for member_id in self.member_ids_in_join_order() {
            let Some(member) = self.members.get_mut(&member_id) else {
                continue;
            };
            member.assignment = bytes::Bytes::new();
            if let Some(token) = member.sync_token.take() {
                ctx.outbox
                    .complete(token, Completion::Sync(SyncOutput::error(error)));
                // It did not heartbeat while it waited: its session starts now.
                member.extend_session(ctx.now_ms);
            }
        }
    }

    /// Runs whatever is due at `ctx.now_ms`: expired pending members and sessions, the end of
    /// the join phase, members that never sent SyncGroup. Each runs at most once per call,
    /// so a zero timeout cannot loop; what it reschedules is picked up by the next tick.
    pub fn process_timers(&mut self, ctx: &mut Ctx) {
        let now_ms = ctx.now_ms;
        self.pending_members
            .retain(|_, deadline| *deadline > now_ms);

        let mut expired: Vec<(u64, String)> = self
            .members
            .values()
            .filter(|m| m.expiry_deadline_ms().is_some_and(|d| d <= now_ms))
            .map(|m| (m.join_seq, m.member_id.clone()))
            .collect();
        expired.sort();
        for (_, member_id) in expired {
            tracing::info!(group = %self.group_id, member = %member_id, "session expired");
            self.remove_member_and_update_group(ctx, &member_id, "session expired");
        }

        if let Some(timer) = self.join_timer {
            if timer.deadline_ms() <= now_ms && self.state == GroupState::PreparingRebalance {
                self.on_join_timer(ctx, timer);
            }
        }

        if self.sync_deadline_ms.is_some_and(|d| d <= now_ms) {
            self.sync_deadline_ms = None;
            self.on_sync_timeout(ctx);
        }
        self.try_complete_join(ctx);
    }

    fn on_join_timer(&mut self, ctx: &mut Ctx, timer: JoinTimer) {
        match timer {
            JoinTimer::Initial {
                delay_ms,
                remaining_ms,
                ..
            } if self.new_member_added && remaining_ms != 0 => {
                self.new_member_added = false;
                let next_delay_ms =
                    i64::from(ctx.config.initial_rebalance_delay_ms.max(0)).min(remaining_ms);
                self.join_timer = Some(JoinTimer::Initial {
                    deadline_ms: ctx.now_ms.saturating_add(next_delay_ms),
                    delay_ms: next_delay_ms,
                    remaining_ms: (remaining_ms - delay_ms).max(0),
                });
            }
            _ => self.complete_join(ctx),
        }
    }

    /// Kafka's DelayedSync: members that got their JoinGroup answer but never asked for their
    /// assignment are removed, and the group rebalances without them.
    fn on_sync_timeout(&mut self, ctx: &mut Ctx) {
        if !matches!(
            self.state,
            GroupState::CompletingRebalance | GroupState::Stable
        ) || self.pending_sync.is_empty()
        {
            return;
        }
        let mut missing: Vec<String> = self.pending_sync.iter().cloned().collect();
        missing.sort();
        for member_id in &missing {
            self.remove_member(member_id, ErrorCode::UnknownMemberId, ctx.outbox);
        }
        self.prepare_rebalance(ctx, "members did not send SyncGroup in time");
    }

    /// When `process_timers` next has something to do for this group.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        let pending = self.pending_members.values().copied();
        let sessions = self.members.values().filter_map(|m| m.expiry_deadline_ms());
        let join = self.join_timer.map(JoinTimer::deadline_ms);
        let sync = self.sync_deadline_ms;
        pending.chain(sessions).chain(join).chain(sync).min()
    }
}

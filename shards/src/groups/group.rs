//! One classic group and its members: membership bookkeeping (static ids, protocol support
//! counts, leader) that every request path shares. The rebalance state machine built on it is
//! in `rebalance.rs`.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use super::api::{Completion, JoinOutput, JoinedMember, SyncOutput, Token};
pub(super) use super::member::Member;
use super::outbox::Outbox;

/// Kafka's classic group states; `Dead` groups are removed from the coordinator at once, so a
/// live group is never Dead (the name is still what DescribeGroups answers for an unknown one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl GroupState {
    /// Kafka's state name, as DescribeGroups and ListGroups show it.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

/// The state name DescribeGroups gives an unknown or deleted group.
pub const DEAD_STATE: &str = "Dead";

/// Which phase timer of a PreparingRebalance group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JoinTimer {
    /// `group.initial.rebalance.delay.ms` for a group that was Empty: extended by another
    /// delay while new members keep arriving, up to the rebalance timeout in total.
    Initial {
        deadline_ms: i64,
        delay_ms: i64,
        remaining_ms: i64,
    },
    /// The rebalance timeout; the join phase also ends as soon as every member rejoined.
    Regular { deadline_ms: i64 },
}

impl JoinTimer {
    pub fn deadline_ms(self) -> i64 {
        match self {
            JoinTimer::Initial { deadline_ms, .. } | JoinTimer::Regular { deadline_ms } => {
                deadline_ms
            }
        }
    }
}

#[derive(Debug)]
pub(super) struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    /// Kept when the group becomes Empty, as Kafka does (ListGroups shows it).
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    pub members: HashMap<String, Member>,
    /// group instance id -> member id
    static_members: HashMap<String, String>,
    /// protocol name -> how many members support it
    protocol_support: HashMap<String, usize>,
    /// Member ids handed out with MEMBER_ID_REQUIRED -> when they expire.
    pub pending_members: HashMap<String, i64>,
    /// Members of the current generation that have not sent SyncGroup yet.
    pub pending_sync: HashSet<String>,
    pub sync_deadline_ms: Option<i64>,
    pub join_timer: Option<JoinTimer>,
    pub new_member_added: bool,
    next_join_seq: u64,
}

impl Group {
    pub fn new(group_id: &str) -> Group {
        Group {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: HashMap::new(),
            static_members: HashMap::new(),
            protocol_support: HashMap::new(),
            pending_members: HashMap::new(),
            pending_sync: HashSet::new(),
            sync_deadline_ms: None,
            join_timer: None,
            new_member_added: false,
            next_join_seq: 0,
        }
    }

    pub fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }

    pub fn static_member_id(&self, group_instance_id: &str) -> Option<&str> {
        self.static_members
            .get(group_instance_id)
            .map(String::as_str)
    }

    /// Kafka's `validateCurrentMember`: a static member must be the instance's current
    /// member id (else it was replaced by a newer instance: FENCED_INSTANCE_ID).
    pub fn validate_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<(), ErrorCode> {
        if let Some(instance_id) = group_instance_id {
            match self.static_member_id(instance_id) {
                Some(current) if current != member_id => return Err(ErrorCode::FencedInstanceId),
                Some(_) => {}
                None => return Err(ErrorCode::UnknownMemberId),
            }
        }
        if self.members.contains_key(member_id) {
            Ok(())
        } else {
            Err(ErrorCode::UnknownMemberId)
        }
    }

    /// Whether a member with these protocols fits: an Empty group takes any non-empty
    /// protocol list; otherwise the type must match and one protocol must be supported by
    /// every current member.
    pub fn supports_protocols(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.state == GroupState::Empty {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(name, _)| {
                self.protocol_support.get(name).copied().unwrap_or(0) == self.members.len()
            })
    }

    /// Kafka's vote: each member votes for its most preferred protocol that every member
    /// supports; the most votes win. Ties go to the earliest joiner's vote, so the choice
    /// does not depend on hash order.
    pub fn select_protocol(&self) -> Option<String> {
        let candidates: HashSet<&str> = self
            .protocol_support
            .iter()
            .filter(|(_, count)| **count == self.members.len())
            .map(|(name, _)| name.as_str())
            .collect();
        let mut votes: Vec<(&str, usize)> = Vec::new();
        for member in self.members_in_join_order() {
            if let Some(vote) = member.vote(&candidates) {
                match votes.iter_mut().find(|(name, _)| *name == vote) {
                    Some((_, count)) => *count += 1,
                    None => votes.push((vote, 1)),
                }
            }
        }
        let most = votes.iter().map(|(_, count)| *count).max()?;
        votes
            .into_iter()
            .find(|(_, count)| *count == most)
            .map(|(name, _)| name.to_string())
    }

    pub fn members_in_join_order(&self) -> Vec<&Member> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|member| member.join_seq);
        members
    }

    pub fn member_ids_in_join_order(&self) -> Vec<String> {
        self.members_in_join_order()
            .into_iter()
            .map(|member| member.member_id.clone())
            .collect()
    }

    /// The largest rebalance timeout of the members: the time the group gives all to rejoin.
    pub fn rebalance_timeout_ms(&self) -> i64 {
        self.members
            .values()
            .map(|member| i64::from(member.rebalance_timeout_ms.max(0)))
            .max()
            .unwrap_or(0)
    }

    pub fn has_all_members_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join)
    }

    pub fn add_member(&mut self, mut member: Member) {
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if let Some(instance_id) = &member.group_instance_id {
            self.static_members
                .insert(instance_id.clone(), member.member_id.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        member.join_seq = self.next_join_seq;
        self.next_join_seq += 1;
        self.count_protocols(&member.protocols, true);
        self.pending_members.remove(&member.member_id);
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member, answering its parked requests with `error`; the leader passes to
    /// the earliest remaining joiner.
    pub fn remove_member(
        &mut self,
        member_id: &str,
        error: ErrorCode,
        outbox: &mut Outbox,
    ) -> Option<Member> {
        let member = self.members.remove(member_id)?;
        self.count_protocols(&member.protocols, false);
        if let Some(instance_id) = &member.group_instance_id {
            self.static_members.remove(instance_id);
        }
        if let Some(token) = member.join_token {
            outbox.complete(token, Completion::Join(JoinOutput::error("", error)));
        }
        if let Some(token) = member.sync_token {
            outbox.complete(token, Completion::Sync(SyncOutput::error(error)));
        }
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader_id = self
                .members_in_join_order()
                .first()
                .map(|m| m.member_id.clone());
        }
        Some(member)
    }

    /// A static member's new instance takes over its seat under a new member id; requests
    /// the old id has parked are answered FENCED_INSTANCE_ID.
    pub fn replace_static_member(
        &mut self,
        group_instance_id: &str,
        old_member_id: &str,
        new_member_id: &str,
        outbox: &mut Outbox,
    ) {
        let Some(mut member) = self.members.remove(old_member_id) else {
            return;
        };
        let fenced = ErrorCode::FencedInstanceId;
        if let Some(token) = member.join_token.take() {
            outbox.complete(
                token,
                Completion::Join(JoinOutput::error(old_member_id, fenced)),
            );
        }
        if let Some(token) = member.sync_token.take() {
            outbox.complete(token, Completion::Sync(SyncOutput::error(fenced)));
        }
        member.awaiting_join = false;
        member.member_id = new_member_id.to_string();
        if self.pending_sync.remove(old_member_id) {
            self.pending_sync.insert(new_member_id.to_string());
        }
        if self.is_leader(old_member_id) {
            self.leader_id = Some(new_member_id.to_string());
        }
        self.static_members
            .insert(group_instance_id.to_string(), new_member_id.to_string());
        self.members.insert(new_member_id.to_string(), member);
    }

    /// Replaces a member's protocols and timeouts with those of its latest JoinGroup.
    pub fn update_member(
        &mut self,
        member_id: &str,
        protocols: Vec<(String, Bytes)>,
        rebalance_timeout_ms: i32,
        session_timeout_ms: i32,
    ) {
        let Some(member) = self.members.get_mut(member_id) else {
            return;
        };
        let old = std::mem::replace(&mut member.protocols, protocols);
        member.rebalance_timeout_ms = rebalance_timeout_ms;
        member.session_timeout_ms = session_timeout_ms;
        let new = member.protocols.clone();
        self.count_protocols(&old, false);
        self.count_protocols(&new, true);
    }

    /// Records a JoinGroup the member waits in; a JoinGroup it already had waiting is
    /// answered REBALANCE_IN_PROGRESS so the client simply retries.
    pub fn park_join(&mut self, member_id: &str, token: Token, outbox: &mut Outbox) {
        let Some(member) = self.members.get_mut(member_id) else {
            return;
        };
        if let Some(previous) = member.join_token.replace(token) {
            let superseded = JoinOutput::error(member_id, ErrorCode::RebalanceInProgress);
            outbox.complete(previous, Completion::Join(superseded));
        }
        member.awaiting_join = true;
        outbox.park(token, &self.group_id, member_id);
    }

    /// The current generation's JoinGroup answer, for a member whose join changes nothing.
    pub fn current_generation(&self, member_id: &str, with_members: bool) -> JoinOutput {
        JoinOutput {
            error: ErrorCode::None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: if with_members {
                self.joined_members()
            } else {
                Vec::new()
            },
        }
    }

    /// What the leader gets to compute the assignment: every member's metadata for the
    /// chosen protocol.
    pub fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members_in_join_order()
            .into_iter()
            .map(|member| JoinedMember {
                member_id: member.member_id.clone(),
                group_instance_id: member.group_instance_id.clone(),
                metadata: member.metadata(protocol),
            })
            .collect()
    }

    /// Counts each protocol name once per member, even if a member lists it twice.
    fn count_protocols(&mut self, protocols: &[(String, Bytes)], add: bool) {
        let names: HashSet<&str> = protocols.iter().map(|(name, _)| name.as_str()).collect();
        for name in names {
            let count = self.protocol_support.entry(name.to_string()).or_insert(0);
            if add {
                *count += 1;
            } else {
                *count = count.saturating_sub(1);
            }
            if *count == 0 {
                self.protocol_support.remove(name);
            }
        }
    }

    #[cfg(test)]
    pub fn check_invariants(&self) {
        for (instance_id, member_id) in &self.static_members {
            let member = &self.members[member_id];
            assert_eq!(
                member.group_instance_id.as_deref(),
                Some(instance_id.as_str())
            );
        }
        let statics = self
            .members
            .values()
            .filter(|m| m.group_instance_id.is_some());
        assert_eq!(statics.count(), self.static_members.len());
        let mut expected: HashMap<String, usize> = HashMap::new();
        for member in self.members.values() {
            let names: HashSet<&str> = member.protocols.iter().map(|(n, _)| n.as_str()).collect();
            for name in names {
                *expected.entry(name.to_string()).or_insert(0) += 1;
            }
        }
        assert_eq!(expected, self.protocol_support);
        match &self.leader_id {
            Some(leader) => assert!(self.members.contains_key(leader), "leader is a member"),
            None => assert!(self.members.is_empty(), "a group with members has a leader"),
        }
        match self.state {
            GroupState::Empty => assert!(self.members.is_empty()),
            GroupState::Stable | GroupState::CompletingRebalance => {
                assert!(!self.members.is_empty())
            }
            GroupState::PreparingRebalance => {}
        }
        assert!(self
            .pending_sync
            .iter()
            .all(|id| self.members.contains_key(id)));
        assert_eq!(
            self.join_timer.is_some(),
            self.state == GroupState::PreparingRebalance
        );
        if self.state != GroupState::CompletingRebalance {
            assert!(self.members.values().all(|m| m.sync_token.is_none()));
        }
        if self.state != GroupState::PreparingRebalance {
            assert!(self.members.values().all(|m| m.join_token.is_none()));
        }
    }
}

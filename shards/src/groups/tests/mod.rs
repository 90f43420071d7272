//! A harness that drives the coordinator like the wiring does and checks, after every call,
//! the internal invariants and that each parked token is answered exactly once.

mod admin;
mod fencing;
mod parked;
mod persist;
mod random;
mod rebalance;
mod static_members;

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use super::*;

pub(super) const GROUP: &str = "g";
pub(super) const SESSION_MS: i32 = 10_000;
pub(super) const REBALANCE_MS: i32 = 30_000;

pub(super) struct Harness {
    pub coordinator: Coordinator,
    pub now_ms: i64,
    next_token: Token,
    outstanding: HashSet<Token>,
    pub done: HashMap<Token, Completion>,
    /// Immediate answers by the token the call used.
    immediate: HashMap<Token, Completion>,
}

impl Harness {
    /// Kafka's default settings (a 3 s initial rebalance delay).
    pub fn new() -> Harness {
        Harness::with_config(CoordinatorConfig::default())
    }

    pub fn with_config(config: CoordinatorConfig) -> Harness {
        Harness {
            coordinator: Coordinator::with_seed(config, 7),
            now_ms: 1_000_000,
            next_token: 1,
            outstanding: HashSet::new(),
            done: HashMap::new(),
            immediate: HashMap::new(),
        }
    }

    /// Sends a JoinGroup; returns the token it used (answer via `join_output`).
    pub fn join(&mut self, input: JoinInput) -> Token {
        let token = self.take_token();
        match self.coordinator.join_group(self.now_ms, token, input) {
            Some(output) => {
                self.immediate.insert(token, Completion::Join(output));
            }
            None => {
                self.outstanding.insert(token);
            }
        }
        self.after_call();
        token
    }

    pub fn sync(&mut self, input: SyncInput) -> Token {
        let token = self.take_token();
        match self.coordinator.sync_group(self.now_ms, token, input) {
            Some(output) => {
                self.immediate.insert(token, Completion::Sync(output));
            }
            None => {
                self.outstanding.insert(token);
            }
        }
        self.after_call();
        token
    }

    pub fn heartbeat(&mut self, member_id: &str, generation_id: i32) -> ErrorCode {
        self.heartbeat_static(member_id, None, generation_id)
    }

    pub fn heartbeat_static(
        &mut self,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
    ) -> ErrorCode {
        let input = HeartbeatInput {
            group_id: GROUP.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: group_instance_id.map(str::to_string),
        };
        let error = self.coordinator.heartbeat(self.now_ms, input);
        self.after_call();
        error
    }

    pub fn leave(&mut self, members: Vec<LeavingMember>) -> LeaveOutput {
        let output = self.coordinator.leave_group(self.now_ms, GROUP, members);
        self.after_call();
        output
    }

    pub fn cancel(&mut self, token: Token) {
        self.coordinator.cancel(token);
        self.outstanding.remove(&token);
        self.after_call();
    }

    /// Moves the clock and fires the timer the way the wiring would: at every deadline
    /// passed on the way.
    pub fn advance(&mut self, ms: i64) {
        let until = self.now_ms + ms;
        for _ in 0..10_000 {
            match self.coordinator.next_deadline_ms() {
                Some(deadline) if deadline <= until => {
                    self.now_ms = self.now_ms.max(deadline);
                    self.coordinator.tick(self.now_ms);
                    self.after_call();
                }
                _ => break,
            }
        }
        self.now_ms = until;
    }

    /// Moves the clock in small steps until every token is answered (a join phase ends).
    pub fn advance_until_answered(&mut self, tokens: &[Token]) {
        for _ in 0..1_000 {
            if tokens.iter().all(|t| !self.is_parked(*t)) {
                return;
            }
            self.advance(100);
        }
        panic!("tokens {tokens:?} still parked");
    }

    /// The answer to a request: immediate, or completed since. None while still parked.
    pub fn reply(&self, token: Token) -> Option<&Completion> {
        self.immediate.get(&token).or_else(|| self.done.get(&token))
    }

    pub fn join_output(&self, token: Token) -> JoinOutput {
        match self.reply(token) {
            Some(Completion::Join(output)) => output.clone(),
            other => panic!("token {token}: expected a JoinGroup answer, got {other:?}"),
        }
    }

    pub fn sync_output(&self, token: Token) -> SyncOutput {
        match self.reply(token) {
            Some(Completion::Sync(output)) => output.clone(),
            other => panic!("token {token}: expected a SyncGroup answer, got {other:?}"),
        }
    }

    pub fn is_parked(&self, token: Token) -> bool {
        self.reply(token).is_none()
    }

    pub fn outstanding(&self) -> &HashSet<Token> {
        &self.outstanding
    }

    fn take_token(&mut self) -> Token {
        self.next_token += 1;
        self.next_token
    }

    fn after_call(&mut self) {
        for (token, completion) in self.coordinator.take_completions() {
            assert!(
                self.outstanding.remove(&token),
                "token {token} answered twice or never parked"
            );
            self.done.insert(token, completion);
        }
        self.coordinator.check_invariants();
    }

    /// Everything a member needs to take part: its id and generation.
    pub fn state(&self) -> GroupDescription {
        self.coordinator.describe_group(GROUP)
    }
}

pub(super) fn join_input(member_id: &str, client_id: &str) -> JoinInput {
    JoinInput {
        group_id: GROUP.into(),
        member_id: member_id.into(),
        group_instance_id: None,
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), Bytes::from(format!("sub-{client_id}")))],
        client_id: client_id.into(),
        client_host: "/127.0.0.1".into(),
        require_known_member_id: false,
        reason: None,
    }
}

pub(super) fn static_input(instance_id: &str) -> JoinInput {
    JoinInput {
        group_instance_id: Some(instance_id.into()),
        ..join_input("", instance_id)
    }
}

pub(super) fn sync_input(member_id: &str, generation_id: i32) -> SyncInput {
    SyncInput {
        group_id: GROUP.into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: Vec::new(),
    }
}

/// The leader's SyncGroup giving each member the assignment "a-<member id>".
pub(super) fn leader_sync(output: &JoinOutput) -> SyncInput {
    SyncInput {
        assignments: output
            .members
            .iter()
            .map(|m| (m.member_id.clone(), assignment_for(&m.member_id)))
            .collect(),
        ..sync_input(&output.member_id, output.generation_id)
    }
}

pub(super) fn assignment_for(member_id: &str) -> Bytes {
    Bytes::from(format!("a-{member_id}"))
}

pub(super) fn leaving(member_id: &str) -> LeavingMember {
    LeavingMember {
        member_id: member_id.into(),
        group_instance_id: None,
        reason: None,
    }
}

/// Answers of a completed join phase, the leader's first.
pub(super) fn joined(h: &Harness, tokens: &[Token]) -> Vec<JoinOutput> {
    let mut outputs: Vec<JoinOutput> = tokens.iter().map(|t| h.join_output(*t)).collect();
    outputs.sort_by_key(|o| o.leader != o.member_id);
    outputs
}

/// Syncs every member (leader first) and checks each got its own assignment.
pub(super) fn sync_all(h: &mut Harness, outputs: &[JoinOutput]) {
    for output in outputs {
        let input = if output.leader == output.member_id {
            leader_sync(output)
        } else {
            sync_input(&output.member_id, output.generation_id)
        };
        let token = h.sync(input);
        let synced = h.sync_output(token);
        assert_eq!(synced.error, ErrorCode::None);
        assert_eq!(synced.assignment, assignment_for(&output.member_id));
    }
}

/// Forms a Stable group of `clients` dynamic members, all joining at once within the initial
/// rebalance delay; returns their join answers, the leader's first.
pub(super) fn stable_group(h: &mut Harness, clients: &[&str]) -> Vec<JoinOutput> {
    let tokens: Vec<Token> = clients
        .iter()
        .map(|client| h.join(join_input("", client)))
        .collect();
    h.advance_until_answered(&tokens);
    let outputs = joined(h, &tokens);
    let generation = outputs[0].generation_id;
    assert!(outputs
        .iter()
        .all(|o| o.error == ErrorCode::None && o.generation_id == generation));
    sync_all(h, &outputs);
    assert_eq!(h.state().state, "Stable");
    outputs
}

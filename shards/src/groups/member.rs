//! A member of a classic group: what it joined with, what it was assigned, and when its
//! session runs out.

use std::collections::HashSet;

use bytes::Bytes;

use super::api::Token;

#[derive(Debug, Clone)]
pub(super) struct Member {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    /// Order of joining: the leader falls to the earliest joiner, responses go out in it.
    pub join_seq: u64,
    /// Joined without an id and has not completed a rebalance yet.
    pub is_new: bool,
    /// Sent a JoinGroup for the current rebalance (still true if its connection went away).
    pub awaiting_join: bool,
    pub join_token: Option<Token>,
    pub sync_token: Option<Token>,
    pub session_deadline_ms: i64,
}

impl Member {
    /// When the member's session runs out, or None while it cannot heartbeat: Kafka counts a
    /// member waiting in a JoinGroup or SyncGroup as alive (librdkafka stops heartbeating
    /// then). A new member can still expire: it has no id to heartbeat with.
    pub fn expiry_deadline_ms(&self) -> Option<i64> {
        if !self.is_new && (self.awaiting_join || self.sync_token.is_some()) {
            None
        } else {
            Some(self.session_deadline_ms)
        }
    }

    pub fn metadata(&self, protocol_name: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol_name)
            .map(|(_, metadata)| metadata.clone())
            .unwrap_or_default()
    }

    /// The member's most preferred protocol among those every member supports.
    pub fn vote<'a>(&'a self, candidates: &HashSet<&str>) -> Option<&'a str> {
        self.protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .find(|name| candidates.contains(name))
    }

    pub fn extend_session(&mut self, now_ms: i64) {
        self.session_deadline_ms = now_ms.saturating_add(i64::from(self.session_timeout_ms));
    }
}

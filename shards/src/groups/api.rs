//! What the wiring hands the coordinator and what it gets back: one struct per request and
//! response, close to the Kafka messages but without wire versions (the handlers map versions,
//! e.g. JoinGroup v0 passes its session timeout as the rebalance timeout).

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use crate::limits::GROUP_MEMBERS_MAX_DEFAULT;

/// The wiring's handle for a request the coordinator parked (a JoinGroup waiting for the
/// rebalance, a SyncGroup waiting for the leader). Tokens of parked requests must be unique.
pub type Token = u64;

/// Kafka's `group.*` broker settings for the classic protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// `group.min.session.timeout.ms`
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms`
    pub max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group
    /// waits for more members, so a starting fleet of consumers does not rebalance once each.
    pub initial_rebalance_delay_ms: i32,
    /// `group.max.size`
    pub max_group_size: usize,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 3_000,
            max_group_size: GROUP_MEMBERS_MAX_DEFAULT,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinInput {
    pub group_id: String,
    /// Empty for a member that does not have an id yet.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    /// (protocol name, protocol metadata), in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    pub client_id: String,
    pub client_host: String,
    /// JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its id (KIP-394).
    pub require_known_member_id: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinOutput {
    pub error: ErrorCode,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// Empty when there is no leader (errors).
    pub leader: String,
    /// Always false: JoinGroup v9's SkipAssignment is not offered.
    pub skip_assignment: bool,
    pub member_id: String,
    /// Every member's metadata for the chosen protocol, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinOutput {
    pub(crate) fn error(member_id: impl Into<String>, error: ErrorCode) -> JoinOutput {
        JoinOutput {
            error,
            generation_id: NO_GENERATION,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.into(),
            members: Vec::new(),
        }
    }
}

/// Kafka's generation id for "no generation" (errors, simple consumers' commits).
pub const NO_GENERATION: i32 = -1;

#[derive(Debug, Clone, PartialEq)]
pub struct JoinedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncInput {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// SyncGroup v5+; checked against the group's when present.
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// The leader's assignment, (member id, assignment); empty from followers.
    pub assignments: Vec<(String, Bytes)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutput {
    pub error: ErrorCode,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncOutput {
    pub(crate) fn error(error: ErrorCode) -> SyncOutput {
        SyncOutput {
            error,
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatInput {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

/// One member of a LeaveGroup request: by member id, or (admin removal of a static member)
/// by group instance id with an empty member id.
#[derive(Debug, Clone, PartialEq)]
pub struct LeavingMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeaveOutput {
    /// The request's top-level error; per-member errors are in `members`.
    pub error: ErrorCode,
    pub members: Vec<LeftMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeftMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub error: ErrorCode,
}

/// A DescribeGroups entry. Metadata and assignments are only filled in a Stable group, as in
/// Kafka; an unknown group is described as "Dead" with no error (DescribeGroups v6+ answers
/// GROUP_ID_NOT_FOUND for it: the wiring maps that from the "Dead" state).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDescription {
    pub error: ErrorCode,
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<DescribedMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DescribedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

/// The answer to a parked request, handed out by `Coordinator::take_completions`.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    Join(JoinOutput),
    Sync(SyncOutput),
}

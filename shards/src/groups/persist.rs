//! What of a group survives a coordinator restart, as Kafka keeps it in `__consumer_offsets`:
//! a Stable group's generation, protocol, leader and members with their assignments, or an
//! Empty group's protocol type and generation. After a restart the members' sessions start
//! anew: a member that heartbeats within its session timeout keeps its seat and assignment
//! with no rebalance; one that does not is removed, which starts one.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::group::{Group, GroupState, Member};
use super::Coordinator;

/// A group as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    /// In join order; empty for an Empty group.
    pub members: Vec<MemberRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Vec<u8>)>,
    pub assignment: Vec<u8>,
}

impl Coordinator {
    /// The group's record when it is Stable or Empty (the states Kafka persists); `None`
    /// mid-rebalance or for an unknown group.
    pub fn group_record(&self, group_id: &str) -> Option<GroupRecord> {
        let group = self.groups.get(group_id)?;
        if !matches!(group.state, GroupState::Stable | GroupState::Empty) {
            return None;
        }
        Some(GroupRecord {
            generation_id: group.generation_id,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            leader_id: group.leader_id.clone(),
            members: group
                .members_in_join_order()
                .into_iter()
                .map(|m| MemberRecord {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    session_timeout_ms: m.session_timeout_ms,
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    protocol_type: m.protocol_type.clone(),
                    protocols: m
                        .protocols
                        .iter()
                        .map(|(name, metadata)| (name.clone(), metadata.to_vec()))
                        .collect(),
                    assignment: m.assignment.to_vec(),
                })
                .collect(),
        })
    }

    /// The group's generation and state, cheap to compare: a change means a new record.
    pub fn group_signature(&self, group_id: &str) -> Option<(i32, &'static str, usize)> {
        let group = self.groups.get(group_id)?;
        Some((group.generation_id, group.state.name(), group.members.len()))
    }

    /// Every group this coordinator holds.
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }

    /// Rebuilds a group from its record (at load, before any request for it).
    pub fn restore_group(&mut self, now_ms: i64, group_id: &str, record: GroupRecord) {
        let mut group = Group::new(group_id);
        for m in record.members {
            let mut member = Member {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                client_id: m.client_id,
                client_host: m.client_host,
                session_timeout_ms: m.session_timeout_ms,
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                protocol_type: m.protocol_type,
                protocols: m
                    .protocols
                    .into_iter()
                    .map(|(name, metadata)| (name, Bytes::from(metadata)))
                    .collect(),
                assignment: Bytes::from(m.assignment),
                join_seq: 0,
                is_new: false,
                awaiting_join: false,
                join_token: None,
                sync_token: None,
                session_deadline_ms: 0,
            };
            member.extend_session(now_ms);
            group.add_member(member);
        }
        group.generation_id = record.generation_id;
        group.protocol_type = record.protocol_type;
        group.protocol_name = record.protocol_name;
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.leader_id = None;
        } else {
            group.state = GroupState::Stable;
            if let Some(leader) = record.leader_id.filter(|id| group.members.contains_key(id)) {
                group.leader_id = Some(leader);
            }
        }
        self.groups.insert(group_id.to_string(), group);
        self.refresh_deadline(group_id);
    }
}

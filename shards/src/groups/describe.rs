//! DescribeGroups, ListGroups, DeleteGroups, and groups known only through committed offsets.

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use super::api::{DescribedMember, GroupDescription};
use super::group::{Group, GroupState, DEAD_STATE};
use super::Coordinator;
use crate::limits::GROUPS_MAX;

impl Coordinator {
    /// An unknown group is "Dead" with no error, as Kafka answers DescribeGroups before v6.
    pub fn describe_group(&self, group_id: &str) -> GroupDescription {
        let Some(group) = self.groups.get(group_id) else {
            return GroupDescription {
                error: ErrorCode::None,
                group_id: group_id.to_string(),
                state: DEAD_STATE.to_string(),
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            };
        };
        // Kafka shows the protocol, metadata and assignments only once they are settled.
        let stable = group.state == GroupState::Stable;
        let protocol = if stable {
            group.protocol_name.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let members = group
            .members_in_join_order()
            .into_iter()
            .map(|member| DescribedMember {
                member_id: member.member_id.clone(),
                group_instance_id: member.group_instance_id.clone(),
                client_id: member.client_id.clone(),
                client_host: member.client_host.clone(),
                metadata: if stable {
                    member.metadata(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    member.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect();
        GroupDescription {
            error: ErrorCode::None,
            group_id: group_id.to_string(),
            state: group.state.name().to_string(),
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            protocol,
            members,
        }
    }

    /// (group id, protocol type, state) of every group, sorted by id; `states_filter` keeps
    /// the groups in any of those states (case-insensitive, as Kafka), or all when empty.
    pub fn list_groups(&self, states_filter: &[String]) -> Vec<(String, String, String)> {
        let mut listed: Vec<(String, String, String)> = self
            .groups
            .values()
            .filter(|group| {
                states_filter.is_empty()
                    || states_filter
                        .iter()
                        .any(|state| state.eq_ignore_ascii_case(group.state.name()))
            })
            .map(|group| {
                (
                    group.group_id.clone(),
                    group.protocol_type.clone().unwrap_or_default(),
                    group.state.name().to_string(),
                )
            })
            .collect();
        listed.sort();
        listed
    }

    /// Deletes an Empty group; the wiring deletes its committed offsets too.
    pub fn delete_group(&mut self, group_id: &str) -> ErrorCode {
        let Some(group) = self.groups.get(group_id) else {
            return ErrorCode::GroupIdNotFound;
        };
        if group.state != GroupState::Empty {
            return ErrorCode::NonEmptyGroup;
        }
        // Pending members (handed an id, not yet rejoined) go with the group: their rejoin
        // finds no group and is told UNKNOWN_MEMBER_ID, as in Kafka.
        self.groups.remove(group_id);
        self.refresh_deadline(group_id);
        ErrorCode::None
    }

    /// Registers a group that exists only through committed offsets (a simple consumer's
    /// commits, or offsets loaded at start) as Empty. False when the coordinator is full.
    pub fn ensure_group(&mut self, group_id: &str) -> bool {
        if self.groups.contains_key(group_id) {
            return true;
        }
        if self.groups.len() >= GROUPS_MAX {
            return false;
        }
        self.groups
            .insert(group_id.to_string(), Group::new(group_id));
        true
    }
}

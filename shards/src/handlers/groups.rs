//! The classic group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
//! ListGroups, DeleteGroups. Each request goes to the shard coordinating its group.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::delete_groups_response::DeletableGroupResult;
use pinlog_protocol::generated::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use pinlog_protocol::generated::join_group_response::JoinGroupResponseMember;
use pinlog_protocol::generated::leave_group_response::MemberResponse;
use pinlog_protocol::generated::list_groups_response::ListedGroup;
use pinlog_protocol::generated::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, ResponseBody, SyncGroupRequest,
    SyncGroupResponse,
};

use crate::group_manager::{self, GroupReply, GroupRequest};
use crate::groups::{HeartbeatInput, JoinInput, LeavingMember, SyncInput};
use crate::shard::Shard;

/// JoinGroup: v1 adds the rebalance timeout, v4 the member-id-required round trip, v7 the
/// protocol type in the response.
const JOIN_REBALANCE_TIMEOUT_VERSION: i16 = 1;
const JOIN_REQUIRE_MEMBER_ID_VERSION: i16 = 4;
const JOIN_PROTOCOL_TYPE_VERSION: i16 = 7;
/// SyncGroup answers with the protocol type and name from v5.
const SYNC_PROTOCOL_VERSION: i16 = 5;
/// LeaveGroup names members in a batch from v3.
const LEAVE_BATCH_VERSION: i16 = 3;
/// The group type ListGroups v5 reports; pinlog has only the classic protocol.
const GROUP_TYPE_CLASSIC: &str = "classic";

pub async fn join(
    shard: &Rc<Shard>,
    request: JoinGroupRequest,
    version: i16,
    client_id: String,
    client_host: String,
) -> ResponseBody {
    let input = JoinInput {
        group_id: request.group_id,
        member_id: request.member_id,
        group_instance_id: request.group_instance_id,
        session_timeout_ms: request.session_timeout_ms,
        rebalance_timeout_ms: if version >= JOIN_REBALANCE_TIMEOUT_VERSION {
            request.rebalance_timeout_ms
        } else {
            request.session_timeout_ms
        },
        protocol_type: request.protocol_type,
        protocols: request
            .protocols
            .into_iter()
            .map(|p| (p.name, p.metadata))
            .collect(),
        client_id,
        client_host,
        require_known_member_id: version >= JOIN_REQUIRE_MEMBER_ID_VERSION,
        reason: request.reason,
    };
    let output = match group_manager::call(shard, GroupRequest::Join(input)).await {
        GroupReply::Join(output) => output,
        other => return join_error(error_of(other), version),
    };
    ResponseBody::JoinGroup(JoinGroupResponse {
        error_code: output.error.code(),
        generation_id: output.generation_id,
        protocol_type: if version >= JOIN_PROTOCOL_TYPE_VERSION {
            output.protocol_type
        } else {
            None
        },
        protocol_name: protocol_name_at(version, output.protocol_name),
        leader: output.leader,
        skip_assignment: false,
        member_id: output.member_id,
        members: output
            .members
            .into_iter()
            .map(|m| JoinGroupResponseMember {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                metadata: m.metadata,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

fn join_error(error: ErrorCode, version: i16) -> ResponseBody {
    ResponseBody::JoinGroup(JoinGroupResponse {
        error_code: error.code(),
        generation_id: -1,
        protocol_name: protocol_name_at(version, None),
        ..Default::default()
    })
}

/// JoinGroup's protocol name may be null only from v7; before, "no protocol" is "".
fn protocol_name_at(version: i16, name: Option<String>) -> Option<String> {
    if version >= JOIN_PROTOCOL_TYPE_VERSION {
        name
    } else {
        Some(name.unwrap_or_default())
    }
}

/// The error a reply of an unexpected kind stands for.
fn error_of(reply: GroupReply) -> ErrorCode {
    match reply {
        GroupReply::Error(error) => error,
        _ => ErrorCode::UnknownServerError,
    }
}

pub async fn sync(shard: &Rc<Shard>, request: SyncGroupRequest, version: i16) -> ResponseBody {
    let input = SyncInput {
        group_id: request.group_id,
        generation_id: request.generation_id,
        member_id: request.member_id,
        group_instance_id: request.group_instance_id,
        protocol_type: request.protocol_type,
        protocol_name: request.protocol_name,
        assignments: request
            .assignments
            .into_iter()
            .map(|a| (a.member_id, a.assignment))
            .collect(),
    };
    let output = match group_manager::call(shard, GroupRequest::Sync(input)).await {
        GroupReply::Sync(output) => output,
        other => {
            return ResponseBody::SyncGroup(SyncGroupResponse {
                error_code: error_of(other).code(),
                ..Default::default()
            })
        }
    };
    let with_protocol = version >= SYNC_PROTOCOL_VERSION;
    ResponseBody::SyncGroup(SyncGroupResponse {
        error_code: output.error.code(),
        protocol_type: output.protocol_type.filter(|_| with_protocol),
        protocol_name: output.protocol_name.filter(|_| with_protocol),
        assignment: output.assignment,
        ..Default::default()
    })
}

pub async fn heartbeat(shard: &Rc<Shard>, request: HeartbeatRequest) -> ResponseBody {
    let input = HeartbeatInput {
        group_id: request.group_id,
        generation_id: request.generation_id,
        member_id: request.member_id,
        group_instance_id: request.group_instance_id,
    };
    let error = error_of(group_manager::call(shard, GroupRequest::Heartbeat(input)).await);
    ResponseBody::Heartbeat(HeartbeatResponse {
        error_code: error.code(),
        ..Default::default()
    })
}

pub async fn leave(shard: &Rc<Shard>, request: LeaveGroupRequest, version: i16) -> ResponseBody {
    let batched = version >= LEAVE_BATCH_VERSION;
    let members = if batched {
        request
            .members
            .into_iter()
            .map(|m| LeavingMember {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                reason: m.reason,
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: request.member_id,
            group_instance_id: None,
            reason: None,
        }]
    };
    let request = GroupRequest::Leave {
        group_id: request.group_id,
        members,
    };
    let output = match group_manager::call(shard, request).await {
        GroupReply::Leave(output) => output,
        other => {
            return ResponseBody::LeaveGroup(LeaveGroupResponse {
                error_code: error_of(other).code(),
                ..Default::default()
            })
        }
    };
    // Before v3 one member leaves and its error is the response's error.
    let error = if batched {
        output.error
    } else {
        match output.members.first() {
            Some(member) if output.error == ErrorCode::None => member.error,
            _ => output.error,
        }
    };
    ResponseBody::LeaveGroup(LeaveGroupResponse {
        error_code: error.code(),
        members: if batched {
            output
                .members
                .into_iter()
                .map(|m| MemberResponse {
                    member_id: m.member_id,
                    group_instance_id: m.group_instance_id,
                    error_code: m.error.code(),
                    ..Default::default()
                })
                .collect()
        } else {
            Vec::new()
        },
        ..Default::default()
    })
}

pub async fn describe(shard: &Rc<Shard>, request: DescribeGroupsRequest) -> ResponseBody {
    let mut groups = Vec::with_capacity(request.groups.len());
    for group_id in request.groups {
        let described =
            match group_manager::call(shard, GroupRequest::Describe(group_id.clone())).await {
                GroupReply::Describe(d) => DescribedGroup {
                    error_code: d.error.code(),
                    group_id: d.group_id,
                    group_state: d.state,
                    protocol_type: d.protocol_type,
                    protocol_data: d.protocol,
                    members: d
                        .members
                        .into_iter()
                        .map(|m| DescribedGroupMember {
                            member_id: m.member_id,
                            group_instance_id: m.group_instance_id,
                            client_id: m.client_id,
                            client_host: m.client_host,
                            member_metadata: m.metadata,
                            member_assignment: m.assignment,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                },
                other => DescribedGroup {
                    error_code: error_of(other).code(),
                    group_id,
                    ..Default::default()
                },
            };
        groups.push(described);
    }
    ResponseBody::DescribeGroups(DescribeGroupsResponse {
        groups,
        ..Default::default()
    })
}

pub async fn list(shard: &Rc<Shard>, request: ListGroupsRequest) -> ResponseBody {
    let classic_wanted = request.types_filter.is_empty()
        || request
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case(GROUP_TYPE_CLASSIC));
    let groups = if classic_wanted {
        match group_manager::call(shard, GroupRequest::List(request.states_filter)).await {
            GroupReply::List(groups) => groups,
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    ResponseBody::ListGroups(ListGroupsResponse {
        error_code: ErrorCode::None.code(),
        groups: groups
            .into_iter()
            .map(|(group_id, protocol_type, state)| ListedGroup {
                group_id,
                protocol_type,
                group_state: state,
                group_type: GROUP_TYPE_CLASSIC.into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

pub async fn delete(shard: &Rc<Shard>, request: DeleteGroupsRequest) -> ResponseBody {
    let mut results = Vec::with_capacity(request.groups_names.len());
    for group_id in request.groups_names {
        let error =
            error_of(group_manager::call(shard, GroupRequest::Delete(group_id.clone())).await);
        results.push(DeletableGroupResult {
            group_id,
            error_code: error.code(),
            ..Default::default()
        });
    }
    ResponseBody::DeleteGroups(DeleteGroupsResponse {
        results,
        ..Default::default()
    })
}

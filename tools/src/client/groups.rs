//! Group calls: FindCoordinator, ListGroups, DescribeGroups, DeleteGroups, OffsetFetch and
//! OffsetCommit. Calls about one group go to its coordinator.

use pinlog_protocol::generated::describe_groups_response::DescribedGroup;
use pinlog_protocol::generated::list_groups_response::ListedGroup;
use pinlog_protocol::generated::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use pinlog_protocol::generated::{
    ApiKey, DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, ListGroupsRequest,
    OffsetCommitRequest, OffsetFetchRequest, RequestBody, ResponseBody,
};

use super::{check, unexpected, Client, ClientError, KafkaError};

/// FindCoordinator v3: one key, flexible.
const FIND_COORDINATOR_VERSION: i16 = 3;
/// ListGroups v4: the states filter.
const LIST_GROUPS_VERSION: i16 = 4;
const DESCRIBE_GROUPS_VERSION: i16 = 5;
const DELETE_GROUPS_VERSION: i16 = 2;
/// OffsetFetch v7: the last one-group version.
const OFFSET_FETCH_VERSION: i16 = 7;
/// OffsetCommit v8: group instance ids, flexible.
const OFFSET_COMMIT_VERSION: i16 = 8;
/// FindCoordinator's key type for a consumer group.
const KEY_TYPE_GROUP: i8 = 0;
/// An OffsetCommit from outside the group: no generation and no member, which a coordinator
/// accepts only while the group has no members.
const GENERATION_NONE: i32 = -1;

/// A committed offset of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl Client {
    /// `host:port` of `group`'s coordinator.
    pub fn find_coordinator(&mut self, group: &str) -> Result<String, ClientError> {
        let api = ApiKey::FindCoordinator;
        let request = FindCoordinatorRequest {
            key: group.to_string(),
            key_type: KEY_TYPE_GROUP,
            ..Default::default()
        };
        let body = self.send(
            FIND_COORDINATOR_VERSION,
            RequestBody::FindCoordinator(request),
        )?;
        let ResponseBody::FindCoordinator(response) = body else {
            return Err(unexpected(api, &body));
        };
        check(api, response.error_code, || format!("group {group}"))?;
        Ok(format!("{}:{}", response.host, response.port))
    }

    /// Sends a request about `group` to its coordinator.
    pub(super) fn send_to_coordinator(
        &mut self,
        group: &str,
        version: i16,
        body: RequestBody,
    ) -> Result<ResponseBody, ClientError> {
        let address = self.find_coordinator(group)?;
        self.connection_to(&address)?.send(version, body)
    }

    /// Every group the bootstrap broker coordinates, or those in one of `states` when given.
    pub fn list_groups(&mut self, states: &[String]) -> Result<Vec<ListedGroup>, ClientError> {
        let api = ApiKey::ListGroups;
        let request = ListGroupsRequest {
            states_filter: states.to_vec(),
            ..Default::default()
        };
        let body = self.send(LIST_GROUPS_VERSION, RequestBody::ListGroups(request))?;
        let ResponseBody::ListGroups(response) = body else {
            return Err(unexpected(api, &body));
        };
        check(api, response.error_code, || "the group list".to_string())?;
        Ok(response.groups)
    }

    /// State, protocol and members of `group`.
    pub fn describe_group(&mut self, group: &str) -> Result<DescribedGroup, ClientError> {
        let api = ApiKey::DescribeGroups;
        let request = DescribeGroupsRequest {
            groups: vec![group.to_string()],
            ..Default::default()
        };
        let body = self.send_to_coordinator(
            group,
            DESCRIBE_GROUPS_VERSION,
            RequestBody::DescribeGroups(request),
        )?;
        let ResponseBody::DescribeGroups(response) = body else {
            return Err(unexpected(api, &body));
        };
        let described = response
            .groups
            .into_iter()
            .find(|g| g.group_id == group)
            .ok_or_else(|| ClientError::Missing {
                api,
                what: format!("group {group}"),
            })?;
        check(api, described.error_code, || format!("group {group}"))?;
        Ok(described)
    }

    /// Deletes `group` with its committed offsets; the coordinator refuses a group with members.
    pub fn delete_group(&mut self, group: &str) -> Result<(), ClientError> {
        let api = ApiKey::DeleteGroups;
        let request = DeleteGroupsRequest {
            groups_names: vec![group.to_string()],
            ..Default::default()
        };
        let body = self.send_to_coordinator(
            group,
            DELETE_GROUPS_VERSION,
            RequestBody::DeleteGroups(request),
        )?;
        let ResponseBody::DeleteGroups(response) = body else {
            return Err(unexpected(api, &body));
        };
        match response.results.iter().find(|r| r.group_id == group) {
            Some(result) => check(api, result.error_code, || format!("group {group}")),
            None => Err(ClientError::Missing {
                api,
                what: format!("group {group}"),
            }),
        }
    }

    /// Every offset `group` has committed, sorted by topic and partition.
    pub fn committed_offsets(&mut self, group: &str) -> Result<Vec<Committed>, ClientError> {
        let api = ApiKey::OffsetFetch;
        let request = OffsetFetchRequest {
            group_id: group.to_string(),
            topics: None,
            ..Default::default()
        };
        let body = self.send_to_coordinator(
            group,
            OFFSET_FETCH_VERSION,
            RequestBody::OffsetFetch(request),
        )?;
        let ResponseBody::OffsetFetch(response) = body else {
            return Err(unexpected(api, &body));
        };
        check(api, response.error_code, || format!("group {group}"))?;
        let mut committed = Vec::new();
        for topic in response.topics {
            for partition in topic.partitions {
                check(api, partition.error_code, || {
                    format!(
                        "group {group}, {}/{}",
                        topic.name, partition.partition_index
                    )
                })?;
                if partition.committed_offset >= 0 {
                    committed.push(Committed {
                        topic: topic.name.clone(),
                        partition: partition.partition_index,
                        offset: partition.committed_offset,
                    });
                }
            }
        }
        committed.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(committed)
    }

    /// Commits `offsets` (partition, offset) of `topic` for `group` from outside the group
    /// (generation -1, no member id); returns each partition's error, if any.
    pub fn commit_offsets_as_admin(
        &mut self,
        group: &str,
        topic: &str,
        offsets: &[(i32, i64)],
    ) -> Result<Vec<(i32, Option<KafkaError>)>, ClientError> {
        self.commit_offsets(group, None, topic, offsets)
    }

    /// Commits `offsets` as `member` (member id, generation), or from outside the group.
    pub fn commit_offsets(
        &mut self,
        group: &str,
        member: Option<(&str, i32)>,
        topic: &str,
        offsets: &[(i32, i64)],
    ) -> Result<Vec<(i32, Option<KafkaError>)>, ClientError> {
        let api = ApiKey::OffsetCommit;
        let (member_id, generation) = member.unwrap_or(("", GENERATION_NONE));
        let request = OffsetCommitRequest {
            group_id: group.to_string(),
            generation_id_or_member_epoch: generation,
            member_id: member_id.to_string(),
            group_instance_id: None,
            topics: vec![OffsetCommitRequestTopic {
                name: topic.to_string(),
                partitions: offsets
                    .iter()
                    .map(
                        |&(partition_index, committed_offset)| OffsetCommitRequestPartition {
                            partition_index,
                            committed_offset,
                            committed_leader_epoch: -1,
                            committed_metadata: Some(String::new()),
                            ..Default::default()
                        },
                    )
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = self.send_to_coordinator(
            group,
            OFFSET_COMMIT_VERSION,
            RequestBody::OffsetCommit(request),
        )?;
        let ResponseBody::OffsetCommit(response) = body else {
            return Err(unexpected(api, &body));
        };
        Ok(response
            .topics
            .into_iter()
            .flat_map(|t| t.partitions)
            .map(|p| (p.partition_index, KafkaError::from_code(p.error_code)))
            .collect())
    }
}

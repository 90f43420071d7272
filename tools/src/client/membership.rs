//! A consumer group member's calls: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
//! OffsetCommit with the member's generation, and the embedded consumer protocol
//! (`ConsumerProtocolSubscription` / `ConsumerProtocolAssignment`: a version, then the message)
//! that members exchange through the coordinator.

use bytes::Bytes;
use pinlog_protocol::generated::consumer_protocol_assignment::TopicPartition;
use pinlog_protocol::generated::join_group_request::JoinGroupRequestProtocol;
use pinlog_protocol::generated::join_group_response::JoinGroupResponseMember;
use pinlog_protocol::generated::leave_group_request::MemberIdentity;
use pinlog_protocol::generated::sync_group_request::SyncGroupRequestAssignment;
use pinlog_protocol::generated::{
    ApiKey, ConsumerProtocolAssignment, ConsumerProtocolSubscription, HeartbeatRequest,
    JoinGroupRequest, LeaveGroupRequest, RequestBody, ResponseBody, SyncGroupRequest,
};
use pinlog_protocol::wire::{Message, Reader, Writer};

use super::{unexpected, Client, ClientError, KafkaError};

const JOIN_GROUP_VERSION: i16 = 7;
const SYNC_GROUP_VERSION: i16 = 5;
const HEARTBEAT_VERSION: i16 = 4;
const LEAVE_GROUP_VERSION: i16 = 4;
/// The consumer protocol version this member writes (topics and user data only).
const CONSUMER_PROTOCOL_VERSION: i16 = 0;
pub const PROTOCOL_TYPE: &str = "consumer";
/// The one assignment strategy offered: Kafka's RangeAssignor, which every Kafka client
/// offers too, so the CLI can share a group with them.
pub const RANGE: &str = "range";

/// What a JoinGroup round gave this member.
#[derive(Debug)]
pub struct Joined {
    pub member_id: String,
    pub generation: i32,
    /// Every member and its subscription when this member leads, else empty.
    pub members: Vec<(String, Vec<String>)>,
    pub leads: bool,
}

/// A member's calls fail with the coordinator's error code when it sent one.
#[derive(Debug)]
pub enum GroupCallError {
    Kafka(KafkaError),
    Client(ClientError),
}

impl From<ClientError> for GroupCallError {
    fn from(error: ClientError) -> Self {
        GroupCallError::Client(error)
    }
}

fn failed(code: i16) -> Result<(), GroupCallError> {
    match KafkaError::from_code(code) {
        None => Ok(()),
        Some(error) => Err(GroupCallError::Kafka(error)),
    }
}

/// A subscription to `topics`, as a JoinGroup protocol's metadata.
pub fn encode_subscription(topics: &[String]) -> Bytes {
    let subscription = ConsumerProtocolSubscription {
        topics: topics.to_vec(),
        ..Default::default()
    };
    let mut writer = Writer::new();
    writer.i16(CONSUMER_PROTOCOL_VERSION);
    subscription
        .encode(&mut writer, CONSUMER_PROTOCOL_VERSION)
        .expect("a subscription of topic names encodes");
    writer.into_bytes()
}

/// The topics of a member's subscription. Later versions only add fields after the topics, so
/// a version newer than this tool knows is read as the newest it knows (as Kafka does).
pub fn decode_subscription(metadata: Bytes) -> Option<Vec<String>> {
    let mut reader = Reader::new(metadata, "ConsumerProtocolSubscription", 0);
    let version = reader.i16("version").ok()?;
    let known = ConsumerProtocolSubscription::VERSIONS;
    if version < known.min {
        return None;
    }
    let subscription = ConsumerProtocolSubscription::decode(&mut reader, version.min(known.max));
    subscription.ok().map(|subscription| subscription.topics)
}

/// An assignment of (topic, partitions), as SyncGroup carries it.
pub fn encode_assignment(partitions: &[(String, Vec<i32>)]) -> Bytes {
    let assignment = ConsumerProtocolAssignment {
        assigned_partitions: partitions
            .iter()
            .map(|(topic, partitions)| TopicPartition {
                topic: topic.clone(),
                partitions: partitions.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut writer = Writer::new();
    writer.i16(CONSUMER_PROTOCOL_VERSION);
    assignment
        .encode(&mut writer, CONSUMER_PROTOCOL_VERSION)
        .expect("an assignment encodes");
    writer.into_bytes()
}

/// The partitions of `topic` in an assignment; an empty one (no partitions for this member)
/// is empty.
pub fn decode_assignment(bytes: Bytes, topic: &str) -> Option<Vec<i32>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let mut reader = Reader::new(bytes, "ConsumerProtocolAssignment", 0);
    let version = reader.i16("version").ok()?;
    let known = ConsumerProtocolAssignment::VERSIONS;
    if version < known.min {
        return None;
    }
    let assignment =
        ConsumerProtocolAssignment::decode(&mut reader, version.min(known.max)).ok()?;
    let mut partitions: Vec<i32> = assignment
        .assigned_partitions
        .into_iter()
        .filter(|assigned| assigned.topic == topic)
        .flat_map(|assigned| assigned.partitions)
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    Some(partitions)
}

impl Client {
    /// One JoinGroup round. A first join (no member id) is answered MEMBER_ID_REQUIRED with the
    /// id to join with, and joined again with it.
    pub fn join_group(
        &mut self,
        group: &str,
        member_id: &str,
        topics: &[String],
        session_timeout_ms: i32,
        rebalance_timeout_ms: i32,
    ) -> Result<Joined, GroupCallError> {
        let mut member_id = member_id.to_string();
        loop {
            let request = JoinGroupRequest {
                group_id: group.to_string(),
                session_timeout_ms,
                rebalance_timeout_ms,
                member_id: member_id.clone(),
                protocol_type: PROTOCOL_TYPE.to_string(),
                protocols: vec![JoinGroupRequestProtocol {
                    name: RANGE.to_string(),
                    metadata: encode_subscription(topics),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let body = self.send_to_coordinator(
                group,
                JOIN_GROUP_VERSION,
                RequestBody::JoinGroup(request),
            )?;
            let ResponseBody::JoinGroup(response) = body else {
                return Err(unexpected(ApiKey::JoinGroup, &body).into());
            };
            let required = pinlog_protocol::error_code::ErrorCode::MemberIdRequired;
            if KafkaError::from_code(response.error_code) == Some(KafkaError::Known(required))
                && member_id.is_empty()
                && !response.member_id.is_empty()
            {
                member_id = response.member_id;
                continue;
            }
            failed(response.error_code)?;
            let leads = response.leader == response.member_id;
            let members = response
                .members
                .into_iter()
                .map(
                    |JoinGroupResponseMember {
                         member_id,
                         metadata,
                         ..
                     }| {
                        (member_id, decode_subscription(metadata).unwrap_or_default())
                    },
                )
                .collect();
            return Ok(Joined {
                member_id: response.member_id,
                generation: response.generation_id,
                members,
                leads,
            });
        }
    }

    /// SyncGroup: the leader sends every member's assignment, the others none; each gets its
    /// own back.
    pub fn sync_group(
        &mut self,
        group: &str,
        joined: &Joined,
        assignments: Vec<(String, Bytes)>,
    ) -> Result<Bytes, GroupCallError> {
        let request = SyncGroupRequest {
            group_id: group.to_string(),
            generation_id: joined.generation,
            member_id: joined.member_id.clone(),
            protocol_type: Some(PROTOCOL_TYPE.to_string()),
            protocol_name: Some(RANGE.to_string()),
            assignments: assignments
                .into_iter()
                .map(|(member_id, assignment)| SyncGroupRequestAssignment {
                    member_id,
                    assignment,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let body =
            self.send_to_coordinator(group, SYNC_GROUP_VERSION, RequestBody::SyncGroup(request))?;
        let ResponseBody::SyncGroup(response) = body else {
            return Err(unexpected(ApiKey::SyncGroup, &body).into());
        };
        failed(response.error_code)?;
        Ok(response.assignment)
    }

    pub fn heartbeat(
        &mut self,
        group: &str,
        member_id: &str,
        generation: i32,
    ) -> Result<(), GroupCallError> {
        let request = HeartbeatRequest {
            group_id: group.to_string(),
            generation_id: generation,
            member_id: member_id.to_string(),
            ..Default::default()
        };
        let body =
            self.send_to_coordinator(group, HEARTBEAT_VERSION, RequestBody::Heartbeat(request))?;
        let ResponseBody::Heartbeat(response) = body else {
            return Err(unexpected(ApiKey::Heartbeat, &body).into());
        };
        failed(response.error_code)
    }

    pub fn leave_group(&mut self, group: &str, member_id: &str) -> Result<(), GroupCallError> {
        let request = LeaveGroupRequest {
            group_id: group.to_string(),
            members: vec![MemberIdentity {
                member_id: member_id.to_string(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let body =
            self.send_to_coordinator(group, LEAVE_GROUP_VERSION, RequestBody::LeaveGroup(request))?;
        let ResponseBody::LeaveGroup(response) = body else {
            return Err(unexpected(ApiKey::LeaveGroup, &body).into());
        };
        failed(response.error_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_and_assignments_round_trip() {
        let topics = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            decode_subscription(encode_subscription(&topics)),
            Some(topics)
        );
        let assignment =
            encode_assignment(&[("a".to_string(), vec![3, 1]), ("b".to_string(), vec![0])]);
        assert_eq!(decode_assignment(assignment, "a"), Some(vec![1, 3]));
        assert_eq!(decode_assignment(Bytes::new(), "a"), Some(Vec::new()));
    }

    #[test]
    fn a_newer_subscription_version_is_read_as_the_newest_known() {
        // Version 9 (unknown): the topics come first in every version.
        let subscription = ConsumerProtocolSubscription {
            topics: vec!["t".to_string()],
            ..Default::default()
        };
        let mut writer = Writer::new();
        writer.i16(9);
        subscription.encode(&mut writer, 3).unwrap();
        assert_eq!(
            decode_subscription(writer.into_bytes()),
            Some(vec!["t".to_string()])
        );
        assert_eq!(decode_subscription(Bytes::from_static(b"\xff")), None);
    }
}

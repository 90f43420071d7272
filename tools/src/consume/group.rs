//! `pinlog consume --group G` (without `--partition`) as a member of the group, as
//! kafka-console-consumer is: it joins with Kafka's range assignment, reads only the partitions
//! the group gives it, heartbeats between fetches, and on a rebalance commits its positions
//! and joins again. When it stops (a stop condition, Ctrl-C, or an error) it commits and
//! leaves, so the group rebalances at once instead of after the session timeout.
//!
//! When this member leads it computes every member's assignment: the range assignor per
//! subscribed topic (members sorted by id, each a run of consecutive partitions, the first
//! `partitions % members` one more), which is what Kafka's and librdkafka's "range" compute,
//! so the CLI can share a group with other clients.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;

use super::ConsumeError;
use crate::client::membership::{self, GroupCallError, Joined};
use crate::client::{Client, ClientError, KafkaError};

/// The coordinator declares the member dead after this long without a heartbeat.
const SESSION_TIMEOUT_MS: i32 = 10_000;
/// How long the coordinator may wait for this member to join a rebalance; below the client's
/// 30 s I/O timeout. The coordinator waits for the largest rebalance timeout of the group's
/// members, though: in a group with Java consumers (300 s by default) a slow rebalance can
/// outlast the I/O timeout, and the command then fails with a timeout.
const REBALANCE_TIMEOUT_MS: i32 = 20_000;
/// Wait before asking again a coordinator that is loading its groups or moved.
const COORDINATOR_RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// A third of the session timeout, as Kafka's consumer defaults have it.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(3_000);
/// JoinGroup/SyncGroup rounds one join may take (each rebalance that overtakes it costs one).
const JOIN_ROUNDS_MAX: u32 = 20;

/// This process's membership of a group.
pub struct GroupMember {
    group: String,
    topic: String,
    member_id: String,
    generation: i32,
    last_heartbeat: Instant,
}

/// What a heartbeat learnt.
#[derive(Debug, PartialEq, Eq)]
pub enum Heartbeat {
    Stable,
    /// The group rebalances: commit, then join again.
    Rebalance,
    /// The member was removed or its generation is gone: its positions cannot be committed.
    Lost,
}

impl GroupMember {
    /// Joins `group` subscribed to `topic`; returns the member and its partitions.
    pub fn join(
        client: &mut Client,
        group: &str,
        topic: &str,
    ) -> Result<(GroupMember, Vec<i32>), ConsumeError> {
        let mut member = GroupMember {
            group: group.to_string(),
            topic: topic.to_string(),
            member_id: String::new(),
            generation: -1,
            last_heartbeat: Instant::now(),
        };
        let partitions = member.rejoin(client)?;
        Ok((member, partitions))
    }

    /// Joins again (after a rebalance or a lost membership) and returns the new partitions.
    pub fn rejoin(&mut self, client: &mut Client) -> Result<Vec<i32>, ConsumeError> {
        let topics = [self.topic.clone()];
        for _ in 0..JOIN_ROUNDS_MAX {
            if super::stop::requested() {
                return Err(ConsumeError::Group {
                    group: self.group.clone(),
                    error: "interrupted while joining".to_string(),
                });
            }
            let joined = match client.join_group(
                &self.group,
                &self.member_id,
                &topics,
                SESSION_TIMEOUT_MS,
                REBALANCE_TIMEOUT_MS,
            ) {
                Ok(joined) => joined,
                Err(error) if self.retry(&error) => continue,
                Err(error) => return Err(self.error(error)),
            };
            self.member_id = joined.member_id.clone();
            self.generation = joined.generation;
            let assignments = if joined.leads {
                range_assignments(client, &joined)?
            } else {
                Vec::new()
            };
            match client.sync_group(&self.group, &joined, assignments) {
                Ok(assignment) => {
                    self.last_heartbeat = Instant::now();
                    return membership::decode_assignment(assignment, &self.topic).ok_or_else(
                        || ConsumeError::Assignment {
                            group: self.group.clone(),
                        },
                    );
                }
                Err(error) if self.retry(&error) => continue,
                Err(error) => return Err(self.error(error)),
            }
        }
        Err(ConsumeError::Group {
            group: self.group.clone(),
            error: format!("no stable assignment after {JOIN_ROUNDS_MAX} rebalances"),
        })
    }

    /// A heartbeat, when one is due.
    pub fn heartbeat_if_due(&mut self, client: &mut Client) -> Result<Heartbeat, ConsumeError> {
        if self.last_heartbeat.elapsed() < HEARTBEAT_INTERVAL {
            return Ok(Heartbeat::Stable);
        }
        self.last_heartbeat = Instant::now();
        match client.heartbeat(&self.group, &self.member_id, self.generation) {
            Ok(()) => Ok(Heartbeat::Stable),
            Err(GroupCallError::Kafka(KafkaError::Known(ErrorCode::RebalanceInProgress))) => {
                Ok(Heartbeat::Rebalance)
            }
            Err(error) if self.retry(&error) => Ok(Heartbeat::Lost),
            Err(error) => Err(self.error(error)),
        }
    }

    /// Commits `offsets` (partition, next offset) as this member of its generation.
    pub fn commit(
        &self,
        client: &mut Client,
        offsets: &[(i32, i64)],
    ) -> Result<Vec<(i32, Option<KafkaError>)>, ConsumeError> {
        let member = Some((self.member_id.as_str(), self.generation));
        Ok(client.commit_offsets(&self.group, member, &self.topic, offsets)?)
    }

    /// Leaves the group; a failure only means the coordinator finds out by the session timeout.
    pub fn leave(&self, client: &mut Client) {
        if let Err(error) = client.leave_group(&self.group, &self.member_id) {
            tracing::warn!(group = %self.group, error = ?error, "could not leave the group");
        }
    }

    /// Whether `error` only means "join again"; forgets a member id the group no longer knows,
    /// and waits a little for a coordinator that is loading or moved.
    fn retry(&mut self, error: &GroupCallError) -> bool {
        let GroupCallError::Kafka(KafkaError::Known(code)) = error else {
            return false;
        };
        match code {
            ErrorCode::CoordinatorLoadInProgress
            | ErrorCode::CoordinatorNotAvailable
            | ErrorCode::NotCoordinator => {
                std::thread::sleep(COORDINATOR_RETRY_BACKOFF);
                true
            }
            ErrorCode::UnknownMemberId | ErrorCode::FencedInstanceId => {
                self.member_id.clear();
                self.generation = -1;
                true
            }
            ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration => true,
            _ => false,
        }
    }

    fn error(&self, error: GroupCallError) -> ConsumeError {
        match error {
            GroupCallError::Client(error) => error.into(),
            GroupCallError::Kafka(error) => ConsumeError::Group {
                group: self.group.clone(),
                error: error.to_string(),
            },
        }
    }
}

/// Whether a commit's error says the member is out of the group's current generation.
pub fn membership_ended(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::Known(
            ErrorCode::UnknownMemberId
                | ErrorCode::IllegalGeneration
                | ErrorCode::RebalanceInProgress
                | ErrorCode::FencedInstanceId
        )
    )
}

/// Every member's assignment, by the range assignor over each topic any member subscribes to.
fn range_assignments(
    client: &mut Client,
    joined: &Joined,
) -> Result<Vec<(String, Bytes)>, ConsumeError> {
    let topics: BTreeSet<&String> = joined.members.iter().flat_map(|(_, t)| t).collect();
    let mut counts = Vec::new();
    for topic in topics {
        match client.partitions(topic) {
            Ok(partitions) => counts.push((topic.clone(), partitions)),
            // A topic that does not exist (yet) has nothing to assign; any other failure
            // must not hand every member an empty assignment.
            Err(ClientError::Kafka {
                error: KafkaError::Known(ErrorCode::UnknownTopicOrPartition),
                ..
            }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let assignments = range(&joined.members, &counts);
    Ok(assignments
        .into_iter()
        .map(|(member, partitions)| (member, membership::encode_assignment(&partitions)))
        .collect())
}

/// A member's share: (topic, partitions) runs.
type Share = Vec<(String, Vec<i32>)>;

/// The range assignor: `members` (id, subscribed topics), `topics` (name, partitions).
fn range(members: &[(String, Vec<String>)], topics: &[(String, Vec<i32>)]) -> Vec<(String, Share)> {
    let mut assigned: Vec<(String, Share)> = members
        .iter()
        .map(|(member, _)| (member.clone(), Vec::new()))
        .collect();
    assigned.sort_by(|a, b| a.0.cmp(&b.0));
    for (topic, partitions) in topics {
        let mut partitions = partitions.clone();
        partitions.sort_unstable();
        let subscribed: Vec<usize> = assigned
            .iter()
            .enumerate()
            .filter(|(_, (member, _))| {
                members
                    .iter()
                    .any(|(id, topics)| id == member && topics.contains(topic))
            })
            .map(|(index, _)| index)
            .collect();
        if subscribed.is_empty() {
            continue;
        }
        let each = partitions.len() / subscribed.len();
        let extra = partitions.len() % subscribed.len();
        let mut next = 0;
        for (rank, &index) in subscribed.iter().enumerate() {
            let take = each + usize::from(rank < extra);
            let run = partitions[next..next + take].to_vec();
            next += take;
            if !run.is_empty() {
                assigned[index].1.push((topic.clone(), run));
            }
        }
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> (String, Vec<String>) {
        (
            id.to_string(),
            topics.iter().map(|topic| topic.to_string()).collect(),
        )
    }

    #[test]
    fn the_range_assignor_gives_runs_and_the_first_members_the_remainder() {
        let members = [
            member("b", &["t", "u"]),
            member("a", &["t"]),
            member("c", &["t"]),
        ];
        let topics = [
            ("t".to_string(), (0..8).collect::<Vec<i32>>()),
            ("u".to_string(), vec![0, 1]),
        ];
        let assigned = range(&members, &topics);
        let of = |id: &str| {
            assigned
                .iter()
                .find(|(member, _)| member == id)
                .map(|(_, partitions)| partitions.clone())
                .unwrap()
        };
        assert_eq!(of("a"), vec![("t".to_string(), vec![0, 1, 2])]);
        assert_eq!(
            of("b"),
            vec![
                ("t".to_string(), vec![3, 4, 5]),
                ("u".to_string(), vec![0, 1])
            ]
        );
        assert_eq!(of("c"), vec![("t".to_string(), vec![6, 7])]);
    }

    #[test]
    fn more_members_than_partitions_leaves_some_without_any() {
        let members = [
            member("a", &["t"]),
            member("b", &["t"]),
            member("c", &["t"]),
        ];
        let assigned = range(&members, &[("t".to_string(), vec![0, 1])]);
        let counts: Vec<usize> = assigned.iter().map(|(_, p)| p.len()).collect();
        assert_eq!(counts, [1, 1, 0]);
    }
}

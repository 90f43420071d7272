//! `pinlog group describe --group G`: state, members with their assignments, and per
//! partition the committed offset, the log end and the lag.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use pinlog_protocol::generated::describe_groups_response::DescribedGroupMember;
use pinlog_protocol::generated::ConsumerProtocolAssignment;
use pinlog_protocol::wire::{Message, Reader};
use serde::Serialize;

use pinlog_protocol::error_code::ErrorCode;

use super::{connect, kafka_error, Common, GroupError};
use crate::client::topics::LATEST_TIMESTAMP;
use crate::client::Client;
use crate::table;

/// Kafka's state name for a group the coordinator does not know.
const STATE_DEAD: &str = "Dead";
/// The protocol type of consumer groups, whose assignments follow ConsumerProtocolAssignment.
const PROTOCOL_TYPE_CONSUMER: &str = "consumer";

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_name = "GROUP")]
    pub group: String,
}

#[derive(Debug, Serialize)]
struct Description {
    group: String,
    state: String,
    protocol_type: String,
    protocol: String,
    members: Vec<MemberView>,
    offsets: Vec<OffsetView>,
}

#[derive(Debug, Serialize)]
struct MemberView {
    member_id: String,
    instance_id: Option<String>,
    client_id: String,
    host: String,
    /// Topic to its assigned partitions.
    assignment: BTreeMap<String, Vec<i32>>,
}

#[derive(Debug, Serialize)]
struct OffsetView {
    topic: String,
    partition: i32,
    committed: Option<i64>,
    log_end: i64,
    lag: Option<i64>,
    member: Option<String>,
}

pub fn run(args: &DescribeArgs) -> Result<(), GroupError> {
    let mut client = connect(&args.common)?;
    let description = describe(&mut client, &args.group)?;
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&description)?);
    } else {
        print!("{}", render(&description));
    }
    Ok(())
}

fn describe(client: &mut Client, group: &str) -> Result<Description, GroupError> {
    let no_such_group = || GroupError::NoSuchGroup(group.to_string());
    let described = client
        .describe_group(group)
        .map_err(|error| match kafka_error(&error) {
            Some(ErrorCode::GroupIdNotFound) => no_such_group(),
            _ => error.into(),
        })?;
    let committed = client.committed_offsets(group)?;
    if described.group_state == STATE_DEAD && committed.is_empty() {
        return Err(no_such_group());
    }
    let consumer = described.protocol_type == PROTOCOL_TYPE_CONSUMER;
    let members: Vec<MemberView> = described
        .members
        .iter()
        .map(|m| member_view(m, consumer))
        .collect();

    // Every partition that is committed or assigned, with who owns it.
    let mut owners: BTreeMap<(String, i32), Option<String>> = committed
        .iter()
        .map(|c| ((c.topic.clone(), c.partition), None))
        .collect();
    for member in &members {
        for (topic, partitions) in &member.assignment {
            for partition in partitions {
                owners.insert((topic.clone(), *partition), Some(member.member_id.clone()));
            }
        }
    }
    let topics: BTreeSet<&String> = owners.keys().map(|(topic, _)| topic).collect();
    let mut log_ends = BTreeMap::new();
    for topic in topics {
        let partitions: Vec<i32> = owners
            .keys()
            .filter(|(t, _)| t == topic)
            .map(|(_, p)| *p)
            .collect();
        for (partition, end) in client.offsets_for(topic, &partitions, LATEST_TIMESTAMP)? {
            log_ends.insert((topic.clone(), partition), end);
        }
    }
    let offsets = owners
        .into_iter()
        .map(|((topic, partition), member)| {
            let committed = committed
                .iter()
                .find(|c| c.topic == topic && c.partition == partition)
                .map(|c| c.offset);
            let log_end = log_ends
                .get(&(topic.clone(), partition))
                .copied()
                .unwrap_or(-1);
            OffsetView {
                lag: committed.map(|offset| (log_end - offset).max(0)),
                topic,
                partition,
                committed,
                log_end,
                member,
            }
        })
        .collect();
    Ok(Description {
        group: described.group_id,
        state: described.group_state,
        protocol_type: described.protocol_type,
        protocol: described.protocol_data,
        members,
        offsets,
    })
}

fn member_view(member: &DescribedGroupMember, consumer: bool) -> MemberView {
    MemberView {
        member_id: member.member_id.clone(),
        instance_id: member.group_instance_id.clone(),
        client_id: member.client_id.clone(),
        host: member.client_host.clone(),
        assignment: if consumer {
            decode_assignment(&member.member_assignment)
        } else {
            BTreeMap::new()
        },
    }
}

/// A consumer-protocol assignment (a version, then the body at that version); empty when it
/// cannot be read, which describe reports rather than fails on.
fn decode_assignment(bytes: &Bytes) -> BTreeMap<String, Vec<i32>> {
    let Some(prefix) = bytes.get(..2) else {
        return BTreeMap::new();
    };
    let version = i16::from_be_bytes([prefix[0], prefix[1]]);
    let mut reader = Reader::new(bytes.slice(2..), ConsumerProtocolAssignment::NAME, version);
    match ConsumerProtocolAssignment::decode(&mut reader, version) {
        Ok(assignment) => assignment
            .assigned_partitions
            .into_iter()
            .map(|tp| {
                let mut partitions = tp.partitions;
                partitions.sort_unstable();
                (tp.topic, partitions)
            })
            .collect(),
        Err(_) => BTreeMap::new(),
    }
}

fn render(description: &Description) -> String {
    let mut out = table::render(
        &["GROUP", "STATE", "PROTOCOL-TYPE", "PROTOCOL", "MEMBERS"],
        &[vec![
            description.group.clone(),
            description.state.clone(),
            description.protocol_type.clone(),
            description.protocol.clone(),
            description.members.len().to_string(),
        ]],
    );
    if !description.members.is_empty() {
        let rows: Vec<Vec<String>> = description
            .members
            .iter()
            .map(|m| {
                let assignment: Vec<String> = m
                    .assignment
                    .iter()
                    .map(|(topic, partitions)| {
                        let list: Vec<String> = partitions.iter().map(i32::to_string).collect();
                        format!("{topic}:{}", list.join(","))
                    })
                    .collect();
                vec![
                    m.member_id.clone(),
                    m.instance_id.clone().unwrap_or_else(|| "-".into()),
                    m.client_id.clone(),
                    m.host.clone(),
                    assignment.join(" "),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table::render(
            &[
                "MEMBER-ID",
                "INSTANCE-ID",
                "CLIENT-ID",
                "HOST",
                "ASSIGNMENT",
            ],
            &rows,
        ));
    }
    if !description.offsets.is_empty() {
        let dash = || "-".to_string();
        let rows: Vec<Vec<String>> = description
            .offsets
            .iter()
            .map(|o| {
                vec![
                    o.topic.clone(),
                    o.partition.to_string(),
                    o.committed.map_or_else(dash, |c| c.to_string()),
                    o.log_end.to_string(),
                    o.lag.map_or_else(dash, |l| l.to_string()),
                    o.member.clone().unwrap_or_else(dash),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table::render(
            &[
                "TOPIC",
                "PARTITION",
                "COMMITTED",
                "LOG-END",
                "LAG",
                "MEMBER-ID",
            ],
            &rows,
        ));
    }
    out
}

//! `pinlog topic describe [NAME...]`: per topic (every topic when none is named), its partitions (leader, replicas, in-sync
//! replicas, log start and end offsets, bytes on disk) and the configs set on the topic itself. Configs at
//! their broker default are left out, as `kafka-topics --describe` does.

use std::collections::BTreeMap;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::metadata_response::MetadataResponseTopic;
use pinlog_protocol::generated::ApiKey;
use serde::Serialize;

use super::{about_topic, connect, TopicError};
use crate::client::admin::CONFIG_SOURCE_TOPIC;
use crate::client::topics::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use crate::client::{Client, ClientError, KafkaError};
use crate::common::Common;
use crate::table;

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The topics to describe; every topic when none is named.
    pub names: Vec<String>,
    /// Without names: leave out internal topics such as `__consumer_offsets`.
    #[arg(long)]
    pub exclude_internal: bool,
}

#[derive(Debug, Serialize)]
struct Described {
    topic: String,
    internal: bool,
    partitions: Vec<Partition>,
    /// The topic's own overrides, by name.
    configs: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Serialize)]
struct Partition {
    partition: i32,
    leader: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
    log_start_offset: i64,
    log_end_offset: i64,
    /// Bytes of the partition's log on the broker (-1: not reported).
    size_bytes: i64,
}

pub fn run(args: &DescribeArgs) -> Result<(), TopicError> {
    let mut client = connect(&args.common)?;
    let names = if args.names.is_empty() {
        let mut every: Vec<String> = client
            .metadata(None)?
            .topics
            .into_iter()
            .filter(|t| !(args.exclude_internal && t.is_internal))
            .filter_map(|t| t.name)
            .collect();
        every.sort();
        every
    } else {
        args.names.clone()
    };
    if names.is_empty() {
        if args.common.json {
            println!("[]");
        }
        return Ok(());
    }
    let metadata = client.metadata(Some(&names))?;
    let mut described = Vec::new();
    for name in &names {
        let topic = metadata
            .topics
            .iter()
            .find(|t| t.name.as_deref() == Some(name.as_str()))
            .ok_or_else(|| TopicError::NoSuchTopic(name.clone()))?;
        described.push(describe(&mut client, name, topic)?);
    }
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&described)?);
        return Ok(());
    }
    for (index, topic) in described.iter().enumerate() {
        if index > 0 {
            println!();
        }
        print_text(topic);
    }
    Ok(())
}

fn describe(
    client: &mut Client,
    name: &str,
    topic: &MetadataResponseTopic,
) -> Result<Described, TopicError> {
    match KafkaError::from_code(topic.error_code) {
        None => {}
        Some(KafkaError::Known(ErrorCode::UnknownTopicOrPartition)) => {
            return Err(TopicError::NoSuchTopic(name.to_string()))
        }
        Some(error) => {
            return Err(TopicError::Client(ClientError::Kafka {
                api: ApiKey::Metadata,
                error,
                context: Some(format!("topic {name}")),
            }))
        }
    }
    let indexes: Vec<i32> = topic.partitions.iter().map(|p| p.partition_index).collect();
    let starts = client
        .offsets_for(name, &indexes, EARLIEST_TIMESTAMP)
        .map_err(about_topic(name))?;
    let ends = client
        .offsets_for(name, &indexes, LATEST_TIMESTAMP)
        .map_err(about_topic(name))?;
    let sizes = client
        .partition_sizes(name, &indexes)
        .map_err(about_topic(name))?;
    let of_partition = |offsets: &[(i32, i64)], partition: i32| {
        offsets
            .iter()
            .find(|(p, _)| *p == partition)
            .map_or(-1, |(_, offset)| *offset)
    };
    let mut partitions: Vec<Partition> = topic
        .partitions
        .iter()
        .map(|p| Partition {
            partition: p.partition_index,
            leader: p.leader_id,
            replicas: p.replica_nodes.clone(),
            isr: p.isr_nodes.clone(),
            log_start_offset: of_partition(&starts, p.partition_index),
            log_end_offset: of_partition(&ends, p.partition_index),
            size_bytes: of_partition(&sizes, p.partition_index),
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    let configs = client
        .topic_configs(name)
        .map_err(about_topic(name))?
        .into_iter()
        .filter(|c| c.source == CONFIG_SOURCE_TOPIC)
        .map(|c| (c.name, c.value))
        .collect();
    Ok(Described {
        topic: name.to_string(),
        internal: topic.is_internal,
        partitions,
        configs,
    })
}

fn print_text(topic: &Described) {
    let configs: Vec<String> = topic
        .configs
        .iter()
        .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("")))
        .collect();
    println!(
        "Topic: {}  Partitions: {}  Configs: {}",
        topic.topic,
        topic.partitions.len(),
        if configs.is_empty() {
            "-".to_string()
        } else {
            configs.join(",")
        }
    );
    let nodes = |ids: &[i32]| ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<Vec<String>> = topic
        .partitions
        .iter()
        .map(|p| {
            vec![
                p.partition.to_string(),
                p.leader.to_string(),
                nodes(&p.replicas),
                nodes(&p.isr),
                p.log_start_offset.to_string(),
                p.log_end_offset.to_string(),
                p.size_bytes.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "PARTITION",
                "LEADER",
                "REPLICAS",
                "ISR",
                "LOG-START",
                "LOG-END",
                "SIZE"
            ],
            &rows
        )
    );
}

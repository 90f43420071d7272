//! Cluster metadata: topics, their partitions and configs, and broker configs.
//!
//! Shard 0 owns the [`log::MetadataLog`]; every change is a [`MetadataRecord`] appended there
//! (durably) before it is applied. Every shard keeps its own copy of the applied state, which
//! shard 0 updates by broadcasting the records over the mesh; handlers read a shard's copy
//! without locks.

pub mod configs;
pub mod log;

use std::collections::BTreeMap;

use pinlog_protocol::wire::Uuid;
use serde::{Deserialize, Serialize};

/// A topic as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMetadata {
    pub name: String,
    pub id: [u8; 16],
    pub partitions: i32,
    /// Topic-level overrides (Kafka names, e.g. `retention.ms`); the rest come from the broker.
    pub configs: BTreeMap<String, String>,
}

impl TopicMetadata {
    pub fn uuid(&self) -> Uuid {
        Uuid(self.id)
    }
}

/// One change to the cluster metadata, as stored in the metadata log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataRecord {
    CreateTopic(TopicMetadata),
    DeleteTopic {
        name: String,
    },
    /// The topic now has `partitions` partitions (only ever more).
    SetPartitions {
        name: String,
        partitions: i32,
    },
    /// The topic's overrides are replaced by `configs`.
    SetTopicConfigs {
        name: String,
        configs: BTreeMap<String, String>,
    },
    /// The broker-level overrides are replaced by `configs`.
    SetBrokerConfigs {
        configs: BTreeMap<String, String>,
    },
    /// Producer ids below `next` are handed out; after a restart allocation resumes there, so
    /// an id never repeats.
    ProducerIdsAllocated {
        next: i64,
    },
}

/// The applied state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterMetadata {
    /// Kafka's cluster id: 22 characters of URL-safe base64, made once per data directory.
    pub cluster_id: String,
    pub topics: BTreeMap<String, TopicMetadata>,
    pub broker_configs: BTreeMap<String, String>,
    /// The first producer id not yet handed out.
    pub next_producer_id: i64,
}

impl ClusterMetadata {
    pub fn apply(&mut self, record: &MetadataRecord) {
        match record {
            MetadataRecord::CreateTopic(topic) => {
                self.topics.insert(topic.name.clone(), topic.clone());
            }
            MetadataRecord::DeleteTopic { name } => {
                self.topics.remove(name);
            }
            MetadataRecord::SetPartitions { name, partitions } => {
                if let Some(topic) = self.topics.get_mut(name) {
                    topic.partitions = topic.partitions.max(*partitions);
                }
            }
            MetadataRecord::SetTopicConfigs { name, configs } => {
                if let Some(topic) = self.topics.get_mut(name) {
                    topic.configs = configs.clone();
                }
            }
            MetadataRecord::SetBrokerConfigs { configs } => {
                self.broker_configs = configs.clone();
            }
            MetadataRecord::ProducerIdsAllocated { next } => {
                self.next_producer_id = self.next_producer_id.max(*next);
            }
        }
    }

    pub fn topic(&self, name: &str) -> Option<&TopicMetadata> {
        self.topics.get(name)
    }

    pub fn topic_by_id(&self, id: &Uuid) -> Option<&TopicMetadata> {
        self.topics.values().find(|topic| topic.id == id.0)
    }
}

/// Kafka's rules for topic names: 1 to 249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("topic name is empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("topic name cannot be '{name}'"));
    }
    if name.len() > 249 {
        return Err(format!(
            "topic name is {} characters, the maximum is 249",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "topic name '{name}' contains '{bad}'; only ASCII alphanumerics, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

/// A fresh random topic id (never all zeros, which means "no id" on the wire).
pub fn new_topic_id() -> [u8; 16] {
    loop {
        let id: [u8; 16] = rand::random();
        if id != [0; 16] {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka() {
        assert!(validate_topic_name("orders.v1_eu-west").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("a/b").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
    }

    #[test]
    fn records_apply_in_order() {
        let mut metadata = ClusterMetadata::default();
        metadata.apply(&MetadataRecord::CreateTopic(TopicMetadata {
            name: "t".into(),
            id: [1; 16],
            partitions: 2,
            configs: BTreeMap::new(),
        }));
        metadata.apply(&MetadataRecord::SetPartitions {
            name: "t".into(),
            partitions: 5,
        });
        assert_eq!(metadata.topic("t").unwrap().partitions, 5);
        assert!(metadata.topic_by_id(&Uuid([1; 16])).is_some());
        metadata.apply(&MetadataRecord::DeleteTopic { name: "t".into() });
        assert!(metadata.topics.is_empty());
    }

    #[test]
    fn producer_id_allocation_never_goes_back() {
        let mut metadata = ClusterMetadata::default();
        metadata.apply(&MetadataRecord::ProducerIdsAllocated { next: 2000 });
        metadata.apply(&MetadataRecord::ProducerIdsAllocated { next: 1000 });
        assert_eq!(metadata.next_producer_id, 2000);
    }
}

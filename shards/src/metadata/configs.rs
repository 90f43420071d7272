//! Topic and broker configs: the settings pinlog honours, their validation, defaults and the
//! effective value of each (topic override, else dynamic broker setting, else the static
//! configuration, else Kafka's default).

use std::collections::BTreeMap;

use pinlog_engine::LogConfig;

use super::{ClusterMetadata, TopicMetadata};
use crate::config::BrokerConfig;

/// Kafka's `ConfigType` codes (DescribeConfigs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean = 1,
    Int = 3,
    Long = 5,
    List = 7,
}

/// Kafka's `ConfigSource` codes (DescribeConfigs v1+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    TopicConfig = 1,
    DynamicBrokerConfig = 2,
    StaticBrokerConfig = 4,
    DefaultConfig = 5,
}

/// One topic-level setting and the broker setting that gives its default.
#[derive(Debug)]
pub struct TopicConfigDef {
    pub name: &'static str,
    pub broker_name: &'static str,
    pub config_type: ConfigType,
    pub min: i64,
    pub doc: &'static str,
}

/// The topic configs pinlog honours. Anything else is INVALID_CONFIG, never silently ignored.
pub const TOPIC_CONFIGS: &[TopicConfigDef] = &[
    TopicConfigDef {
        name: "cleanup.policy",
        broker_name: "log.cleanup.policy",
        config_type: ConfigType::List,
        min: 0,
        doc: "delete: old segments are deleted by retention; compact: kept (compaction is not implemented yet, so nothing is deleted)",
    },
    TopicConfigDef {
        name: "retention.ms",
        broker_name: "log.retention.ms",
        config_type: ConfigType::Long,
        min: -1,
        doc: "delete closed segments whose newest record is older than this; -1: no limit",
    },
    TopicConfigDef {
        name: "retention.bytes",
        broker_name: "log.retention.bytes",
        config_type: ConfigType::Long,
        min: -1,
        doc: "delete the oldest closed segments while a partition is larger; -1: no limit",
    },
    TopicConfigDef {
        name: "segment.bytes",
        broker_name: "log.segment.bytes",
        config_type: ConfigType::Int,
        min: 1024 * 1024,
        doc: "roll the active segment at this size",
    },
    TopicConfigDef {
        name: "segment.ms",
        broker_name: "log.roll.ms",
        config_type: ConfigType::Long,
        min: 1,
        doc: "roll the active segment when its first record is this old",
    },
    TopicConfigDef {
        name: "segment.jitter.ms",
        broker_name: "log.roll.jitter.ms",
        config_type: ConfigType::Long,
        min: 0,
        doc: "each segment rolls by age up to this much before segment.ms, so partitions created together do not roll together",
    },
    TopicConfigDef {
        name: "flush.ms",
        broker_name: "log.flush.interval.ms",
        config_type: ConfigType::Long,
        min: 0,
        doc: "fdatasync data that has waited this long even without an acks=all append",
    },
    TopicConfigDef {
        name: "flush.messages",
        broker_name: "log.flush.interval.messages",
        config_type: ConfigType::Long,
        min: 1,
        doc: "fdatasync after this many records even without an acks=all append",
    },
    TopicConfigDef {
        name: "max.message.bytes",
        broker_name: "message.max.bytes",
        config_type: ConfigType::Int,
        min: 0,
        doc: "the largest record batch accepted",
    },
];

/// Broker-only settings shown by DescribeConfigs (read-only here).
pub const BROKER_ONLY_CONFIGS: &[(&str, ConfigType)] = &[
    ("num.partitions", ConfigType::Int),
    ("auto.create.topics.enable", ConfigType::Boolean),
    ("socket.request.max.bytes", ConfigType::Int),
];

pub fn topic_config_def(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|def| def.name == name)
}

pub fn topic_config_def_by_broker_name(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|def| def.broker_name == name)
}

/// Checks a value for a topic config; the error is the message for INVALID_CONFIG.
pub fn validate(def: &TopicConfigDef, value: &str) -> Result<(), String> {
    match def.config_type {
        ConfigType::List => {
            let policies: Vec<&str> = value.split(',').map(str::trim).collect();
            if policies.is_empty()
                || policies
                    .iter()
                    .any(|policy| !matches!(*policy, "delete" | "compact"))
            {
                return Err(format!(
                    "invalid value '{value}' for {}: expected a list of delete and compact",
                    def.name
                ));
            }
            Ok(())
        }
        ConfigType::Int | ConfigType::Long => {
            let max = if def.config_type == ConfigType::Int {
                i64::from(i32::MAX)
            } else {
                i64::MAX
            };
            match value.trim().parse::<i64>() {
                Ok(number) if number >= def.min && number <= max => Ok(()),
                Ok(number) => Err(format!(
                    "invalid value {number} for {}: must be between {} and {max}",
                    def.name, def.min
                )),
                Err(_) => Err(format!(
                    "invalid value '{value}' for {}: expected an integer",
                    def.name
                )),
            }
        }
        ConfigType::Boolean => Err(format!("{} is not a topic config", def.name)),
    }
}

/// The value a topic config has when neither the topic nor a dynamic broker setting overrides
/// it: from the static configuration.
pub fn static_default(def: &TopicConfigDef, broker: &BrokerConfig) -> String {
    let log = &broker.log;
    let optional =
        |value: Option<u64>, none: i64| value.map_or(none.to_string(), |v| v.to_string());
    match def.name {
        "cleanup.policy" => "delete".into(),
        "retention.ms" => optional(log.retention_ms, -1),
        "retention.bytes" => optional(log.retention_bytes, -1),
        "segment.bytes" => log.segment_bytes.to_string(),
        "segment.ms" => optional(log.segment_ms, i64::MAX),
        "segment.jitter.ms" => log.segment_jitter_ms.to_string(),
        "flush.ms" => optional(log.flush_ms, i64::MAX),
        "flush.messages" => optional(log.flush_messages, i64::MAX),
        "max.message.bytes" => log.max_message_bytes.to_string(),
        _ => String::new(),
    }
}

/// A config's effective value and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveConfig {
    pub name: String,
    pub value: String,
    pub source: ConfigSource,
    pub config_type: ConfigType,
    pub doc: &'static str,
}

/// Every topic config's effective value, in [`TOPIC_CONFIGS`] order.
pub fn topic_configs(
    topic: &TopicMetadata,
    metadata: &ClusterMetadata,
    broker: &BrokerConfig,
) -> Vec<EffectiveConfig> {
    TOPIC_CONFIGS
        .iter()
        .map(|def| {
            let (value, source) = if let Some(value) = topic.configs.get(def.name) {
                (value.clone(), ConfigSource::TopicConfig)
            } else if let Some(value) = metadata.broker_configs.get(def.broker_name) {
                (value.clone(), ConfigSource::DynamicBrokerConfig)
            } else {
                (static_default(def, broker), ConfigSource::DefaultConfig)
            };
            EffectiveConfig {
                name: def.name.into(),
                value,
                source,
                config_type: def.config_type,
                doc: def.doc,
            }
        })
        .collect()
}

/// The broker's configs: the topic defaults under their broker names, then broker-only ones.
pub fn broker_configs(metadata: &ClusterMetadata, broker: &BrokerConfig) -> Vec<EffectiveConfig> {
    let mut configs: Vec<EffectiveConfig> = TOPIC_CONFIGS
        .iter()
        .map(|def| {
            let (value, source) = match metadata.broker_configs.get(def.broker_name) {
                Some(value) => (value.clone(), ConfigSource::DynamicBrokerConfig),
                None => (
                    static_default(def, broker),
                    ConfigSource::StaticBrokerConfig,
                ),
            };
            EffectiveConfig {
                name: def.broker_name.into(),
                value,
                source,
                config_type: def.config_type,
                doc: def.doc,
            }
        })
        .collect();
    for (name, config_type) in BROKER_ONLY_CONFIGS {
        let value = match *name {
            "num.partitions" => broker.default_partitions.to_string(),
            "auto.create.topics.enable" => broker.auto_create_topics.to_string(),
            _ => broker.request_bytes_max.to_string(),
        };
        configs.push(EffectiveConfig {
            name: (*name).into(),
            value,
            source: ConfigSource::StaticBrokerConfig,
            config_type: *config_type,
            doc: "",
        });
    }
    configs
}

/// The engine settings of a topic's partitions.
pub fn log_config(
    topic: &TopicMetadata,
    metadata: &ClusterMetadata,
    broker: &BrokerConfig,
) -> LogConfig {
    let values: BTreeMap<String, String> = topic_configs(topic, metadata, broker)
        .into_iter()
        .map(|config| (config.name, config.value))
        .collect();
    let number = |name: &str| values.get(name).and_then(|v| v.trim().parse::<i64>().ok());
    // Negative means "no limit"; Long.MAX (Kafka's default for the flush settings) too.
    let limit = |name: &str| {
        number(name)
            .filter(|v| (0..i64::MAX).contains(v))
            .map(|v| v as u64)
    };
    let compact_only = values
        .get("cleanup.policy")
        .is_some_and(|policy| !policy.split(',').any(|p| p.trim() == "delete"));
    let mut config = broker.log.log_config(broker.io_mode());
    if let Some(bytes) = limit("segment.bytes") {
        config.segment_bytes = bytes;
    }
    config.segment_ms = limit("segment.ms");
    config.segment_jitter_ms = limit("segment.jitter.ms").unwrap_or(0);
    config.flush_ms = limit("flush.ms");
    config.flush_messages = limit("flush.messages");
    if let Some(bytes) = limit("max.message.bytes") {
        config.max_message_bytes = bytes.min(u64::from(u32::MAX)) as u32;
    }
    // A compacted topic keeps its data until compaction exists: deleting by retention would
    // drop the latest value of keys that compaction keeps.
    config.retention_ms = if compact_only {
        None
    } else {
        limit("retention.ms")
    };
    config.retention_bytes = if compact_only {
        None
    } else {
        limit("retention.bytes")
    };
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(configs: &[(&str, &str)]) -> TopicMetadata {
        TopicMetadata {
            name: "t".into(),
            id: [1; 16],
            partitions: 1,
            configs: configs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn topic_overrides_beat_dynamic_broker_settings_which_beat_defaults() {
        let broker = BrokerConfig::default();
        let mut metadata = ClusterMetadata::default();
        metadata
            .broker_configs
            .insert("log.retention.ms".into(), "5000".into());
        metadata
            .broker_configs
            .insert("log.segment.bytes".into(), "2097152".into());
        let config = log_config(&topic(&[("retention.ms", "1000")]), &metadata, &broker);
        assert_eq!(config.retention_ms, Some(1000));
        assert_eq!(config.segment_bytes, 2 * 1024 * 1024);
        assert_eq!(config.flush_ms, None);
        let sources: Vec<_> = topic_configs(&topic(&[("retention.ms", "1")]), &metadata, &broker)
            .into_iter()
            .map(|c| (c.name, c.source))
            .collect();
        assert!(sources.contains(&("retention.ms".into(), ConfigSource::TopicConfig)));
        assert!(sources.contains(&("segment.bytes".into(), ConfigSource::DynamicBrokerConfig)));
        assert!(sources.contains(&("flush.ms".into(), ConfigSource::DefaultConfig)));
    }

    #[test]
    fn values_are_validated() {
        let def = |name| topic_config_def(name).unwrap();
        assert!(validate(def("retention.ms"), "-1").is_ok());
        assert!(validate(def("retention.ms"), "-2").is_err());
        assert!(validate(def("segment.bytes"), "100").is_err());
        assert!(validate(def("segment.bytes"), "99999999999").is_err());
        assert!(validate(def("cleanup.policy"), "compact,delete").is_ok());
        assert!(validate(def("cleanup.policy"), "shred").is_err());
        assert!(validate(def("flush.ms"), "soon").is_err());
        assert!(topic_config_def("unclean.leader.election.enable").is_none());
    }

    #[test]
    fn roll_jitter_comes_from_the_topic_and_the_broker() {
        let broker = BrokerConfig::default();
        let metadata = ClusterMetadata::default();
        let plain = log_config(&topic(&[]), &metadata, &broker);
        assert_eq!(plain.segment_jitter_ms, 0);
        assert_eq!(plain.segment_bytes_jitter_percent, 5);
        let jittered = log_config(
            &topic(&[("segment.jitter.ms", "60000")]),
            &metadata,
            &broker,
        );
        assert_eq!(jittered.segment_jitter_ms, 60_000);
        assert!(validate(topic_config_def("segment.jitter.ms").unwrap(), "-1").is_err());
    }

    #[test]
    fn a_compacted_topic_is_not_deleted_by_retention() {
        let config = log_config(
            &topic(&[("cleanup.policy", "compact"), ("retention.ms", "10")]),
            &ClusterMetadata::default(),
            &BrokerConfig::default(),
        );
        assert_eq!(config.retention_ms, None);
    }
}

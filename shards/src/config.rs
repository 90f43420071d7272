//! The broker's configuration: what `pinlog serve` takes from flags and its TOML file.
//!
//! Every field has a default, so an empty file (or none) gives the embedded default broker:
//! data in `./pinlog-data`, listening on `127.0.0.1:9092`, one shard per core.

use std::net::SocketAddr;
use std::path::PathBuf;

use pinlog_engine::{IoMode, LogConfig};
use serde::Deserialize;

use crate::limits;

/// The broker's settings. Field names are the TOML keys; unknown keys are an error, so that a
/// typo never silently leaves a default in place.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// Where partition logs and the metadata log live.
    pub data_dir: PathBuf,
    /// Address every shard binds (SO_REUSEPORT).
    pub listen: SocketAddr,
    /// `host:port` given to clients in Metadata; the listen address when unset.
    pub advertise: Option<String>,
    /// Shards (one pinned executor each); one per available core when unset.
    pub shards: Option<usize>,
    /// This broker's node id (Kafka's `node.id`).
    pub node_id: i32,
    /// Kafka's `auto.create.topics.enable`: Metadata for an unknown topic creates it.
    pub auto_create_topics: bool,
    /// Kafka's `num.partitions`: partitions of an auto-created topic, and of a CreateTopics
    /// request that leaves the count to the broker (-1).
    pub default_partitions: i32,
    /// Kafka's `socket.request.max.bytes`: larger request frames close the connection.
    pub request_bytes_max: usize,
    /// Request bytes a shard holds in flight (read, not yet answered); beyond it the shard
    /// stops reading its sockets until responses drain.
    pub shard_inflight_bytes_max: usize,
    /// Bytes of each shard's batch cache.
    pub shard_cache_bytes: usize,
    /// Allow a data directory on a filesystem without O_DIRECT (tmpfs) through buffered I/O.
    pub allow_buffered_io: bool,
    /// Broker-wide defaults of the topic-level log settings (Kafka's `log.*` settings).
    pub log: LogDefaults,
    /// Kafka's `log.retention.check.interval.ms`: how often each shard deletes the closed
    /// segments that its logs' `retention.bytes` / `retention.ms` no longer keep.
    pub log_retention_check_interval_ms: u64,
    /// Kafka's `offsets.topic.num.partitions`: partitions of `__consumer_offsets`, fixed when
    /// the topic is first created.
    pub offsets_topic_partitions: i32,
    /// Kafka's `offsets.retention.minutes`: offsets of a group without members, not committed
    /// for this long, are deleted.
    pub offsets_retention_minutes: i64,
    /// Kafka's `offsets.retention.check.interval.ms`: how often expired offsets are looked for.
    pub offsets_retention_check_interval_ms: u64,
    /// Kafka's `group.initial.rebalance.delay.ms`: how long a new group waits for more members
    /// before its first rebalance.
    pub group_initial_rebalance_delay_ms: i32,
    /// Kafka's `group.min.session.timeout.ms` and `group.max.session.timeout.ms`.
    pub group_min_session_timeout_ms: i32,
    pub group_max_session_timeout_ms: i32,
    /// Test switch, never for production: every Nth Produce response (counted per shard) is
    /// dropped after the append, by closing the connection, so that tests can show that
    /// idempotent producers' retries are deduplicated.
    pub test_drop_every_nth_produce_response: Option<u32>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            data_dir: PathBuf::from("./pinlog-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertise: None,
            shards: None,
            node_id: 0,
            auto_create_topics: true,
            default_partitions: 1,
            request_bytes_max: limits::REQUEST_BYTES_MAX_DEFAULT,
            shard_inflight_bytes_max: limits::SHARD_INFLIGHT_BYTES_MAX_DEFAULT,
            shard_cache_bytes: pinlog_engine::limits::CACHE_BYTES_DEFAULT,
            allow_buffered_io: false,
            log: LogDefaults::default(),
            log_retention_check_interval_ms: limits::LOG_RETENTION_CHECK_MS_DEFAULT,
            offsets_topic_partitions: 16,
            offsets_retention_minutes: 7 * 24 * 60,
            offsets_retention_check_interval_ms: limits::OFFSETS_RETENTION_CHECK_MS_DEFAULT,
            group_initial_rebalance_delay_ms: 3_000,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            test_drop_every_nth_produce_response: None,
        }
    }
}

impl BrokerConfig {
    pub fn io_mode(&self) -> IoMode {
        if self.allow_buffered_io {
            IoMode::AllowBuffered
        } else {
            IoMode::Direct
        }
    }

    /// The shard count: the configured one, else one per available core.
    pub fn shard_count(&self) -> usize {
        self.shards.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
    }

    /// `(host, port)` that clients are told to connect to.
    pub fn advertised(&self) -> (String, i32) {
        let fallback = || (self.listen.ip().to_string(), i32::from(self.listen.port()));
        let Some(advertise) = &self.advertise else {
            return fallback();
        };
        match advertise.rsplit_once(':') {
            Some((host, port)) => match port.parse::<u16>() {
                Ok(port) => (host.trim_matches(['[', ']']).to_string(), i32::from(port)),
                Err(_) => fallback(),
            },
            None => (advertise.clone(), i32::from(self.listen.port())),
        }
    }
}

/// The broker's default size jitter of segment rolls, in percent (Redpanda's default).
pub const SEGMENT_BYTES_JITTER_PERCENT_DEFAULT: u8 = 5;

/// Kafka's broker-level `log.*` defaults, applied to topics that do not override them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogDefaults {
    /// `log.segment.bytes`
    pub segment_bytes: u64,
    /// `log.roll.ms`
    pub segment_ms: Option<u64>,
    /// `log.roll.jitter.ms`
    pub segment_jitter_ms: u64,
    /// Redpanda's `log_segment_size_jitter_percent` (5 there too): each segment rolls up to
    /// this share of `segment.bytes` early, so partitions filling alike do not roll together.
    pub segment_bytes_jitter_percent: u8,
    /// `log.retention.bytes`
    pub retention_bytes: Option<u64>,
    /// `log.retention.ms`
    pub retention_ms: Option<u64>,
    /// `log.flush.interval.messages`
    pub flush_messages: Option<u64>,
    /// `log.flush.interval.ms`
    pub flush_ms: Option<u64>,
    /// `message.max.bytes`
    pub max_message_bytes: u32,
    /// Not a Kafka setting: pre-write each log's next segment file with zeros in the
    /// background, so that young logs, not only those at their retention limit, write into
    /// files whose writes and fdatasyncs change no metadata (lower, flatter Durable latency).
    /// Writes young segments twice; off by default.
    pub prewrite_segments: bool,
}

impl Default for LogDefaults {
    fn default() -> Self {
        let kafka = LogConfig::default();
        LogDefaults {
            segment_bytes: kafka.segment_bytes,
            segment_ms: kafka.segment_ms,
            segment_jitter_ms: kafka.segment_jitter_ms,
            segment_bytes_jitter_percent: SEGMENT_BYTES_JITTER_PERCENT_DEFAULT,
            retention_bytes: kafka.retention_bytes,
            retention_ms: kafka.retention_ms,
            flush_messages: kafka.flush_messages,
            flush_ms: kafka.flush_ms,
            max_message_bytes: kafka.max_message_bytes,
            prewrite_segments: kafka.prewrite_spare,
        }
    }
}

impl LogDefaults {
    pub fn log_config(&self, io_mode: IoMode) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            segment_jitter_ms: self.segment_jitter_ms,
            segment_bytes_jitter_percent: self.segment_bytes_jitter_percent,
            retention_bytes: self.retention_bytes,
            retention_ms: self.retention_ms,
            flush_messages: self.flush_messages,
            flush_ms: self.flush_ms,
            max_message_bytes: self.max_message_bytes,
            prewrite_spare: self.prewrite_segments,
            io_mode,
            ..LogConfig::default()
        }
    }
}

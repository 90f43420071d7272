//! Per-log configuration: Kafka's topic-level settings that the storage engine honours.

/// How segment files are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IoMode {
    /// O_DIRECT through io_uring; a filesystem without it (tmpfs) is an error at open.
    #[default]
    Direct,
    /// O_DIRECT where the filesystem supports it and buffered I/O through the page cache where
    /// it does not (tmpfs). For development and tests; fdatasync still orders durability.
    AllowBuffered,
}

/// Kafka's per-topic log settings, with Kafka's names in the docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll the active segment when it would grow beyond this.
    pub segment_bytes: u64,
    /// `segment.ms`: roll the active segment when its first batch is older than this.
    pub segment_ms: Option<u64>,
    /// `segment.jitter.ms`: each segment rolls by age up to this much before `segment.ms`,
    /// so logs created together do not roll together (see `log::roll_jitter`).
    pub segment_jitter_ms: u64,
    /// Not a Kafka setting (Redpanda's `log_segment_size_jitter_percent`): each segment rolls
    /// by size up to this percentage of `segment.bytes` early, so partitions that fill at the
    /// same rate do not roll together. At most `SEGMENT_BYTES_JITTER_PERCENT_MAX`.
    pub segment_bytes_jitter_percent: u8,
    /// `retention.bytes`: delete the oldest closed segments while the log is larger.
    pub retention_bytes: Option<u64>,
    /// `retention.ms`: delete closed segments whose newest record is older than this.
    pub retention_ms: Option<u64>,
    /// `flush.messages`: fdatasync after this many records even without a Durable append.
    pub flush_messages: Option<u64>,
    /// `flush.ms`: fdatasync data that has waited this long even without a Durable append.
    pub flush_ms: Option<u64>,
    /// `index.interval.bytes`: bytes between two sparse index entries.
    pub index_interval_bytes: u32,
    /// `max.message.bytes`: the largest batch accepted.
    pub max_message_bytes: u32,
    pub io_mode: IoMode,
    /// Not a Kafka setting: apply retention as soon as a segment is due (by size, looked at
    /// as appends come; by age, at each roll), not only when the owner's periodic check calls
    /// for it. Kafka deletes only in that check (every `log.retention.check.interval.ms`);
    /// deleting as soon as a segment is due is within what retention promises, and keeps a log
    /// at its limit writing into recycled files (see `log::recycle`). On by default; tests
    /// that count deletions turn it off.
    pub retention_eager: bool,
    /// Not a Kafka setting: pre-write the next segment's file with zeros in the background
    /// (see `log::prewrite`), so that even a young log's segments are written files, whose
    /// writes and fdatasyncs change no metadata. Costs writing young segments twice; off by
    /// default.
    pub prewrite_spare: bool,
    /// Not a Kafka setting: appended bytes between producer-state snapshots taken between
    /// rolls (see `log::snapshots`), written once their offset is durable, so that a reopen
    /// after a crash replays no more than this (Kafka snapshots at rolls only, and replays up
    /// to a whole segment).
    pub producer_snapshot_interval_bytes: u64,
}

impl Default for LogConfig {
    /// Kafka's defaults: 1 GiB segments, 7 days retention, no forced flushes (durability comes
    /// from acks=all appends, which are always synced).
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: Some(7 * 24 * 3600 * 1000),
            segment_jitter_ms: 0,
            segment_bytes_jitter_percent: 0,
            retention_bytes: None,
            retention_ms: Some(7 * 24 * 3600 * 1000),
            flush_messages: None,
            flush_ms: None,
            index_interval_bytes: 4096,
            max_message_bytes: 1024 * 1024 + 12,
            io_mode: IoMode::Direct,
            retention_eager: true,
            prewrite_spare: false,
            producer_snapshot_interval_bytes: crate::limits::PRODUCER_SNAPSHOT_INTERVAL_BYTES,
        }
    }
}

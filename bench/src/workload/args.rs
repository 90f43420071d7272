//! The options every workload kind shares, and their checks.
//!
//! Defaults follow Kafka 4's producer where it has one: `--batch-size 16KiB` (`batch.size`
//! 16384), `--linger-ms 5` (`linger.ms`, 5 since Kafka 4.0), `--max-in-flight 5`
//! (`max.in.flight.requests.per.connection`), `--acks all`. `--rate` is the total across all
//! producer connections. `--records N` is the total too, split evenly over the producers
//! (or, for `consume`, the consumers); without it a run lasts `--warmup` + `--duration`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::units::{ByteSize, CoreList, HumanDuration, Keys, MessageSize, MESSAGE_BYTES_MAX};
use pinlog_protocol::records::Compression;

/// Most topics `--topics` creates.
pub const TOPICS_MAX: u32 = 1000;
/// Most partitions per topic.
pub const PARTITIONS_MAX: u32 = 10_000;
/// Most producer or consumer connections.
pub const CONNECTIONS_MAX: u32 = 256;
/// Most outstanding Produce requests per connection.
pub const MAX_IN_FLIGHT_MAX: u32 = 64;
/// Largest producer batch (one batch per partition per request).
pub const BATCH_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Most batch bytes one Produce request carries when several partitions' batches are ready
/// (Kafka's producer default `max.request.size`); a batch larger than this goes alone.
pub const PRODUCE_REQUEST_BYTES_MAX: u64 = 1024 * 1024;
/// Longest `--linger-ms`.
pub const LINGER_MS_MAX: u64 = 10_000;
/// Most repetitions.
pub const REPEAT_MAX: u32 = 100;
/// Slowest `--rate`: one record per 1000 s. Slower schedules would push due times past what
/// the clock can add.
pub const RATE_MIN: f64 = 0.001;
/// Duration of a run when neither `--duration` nor `--records` is given.
pub const DURATION_DEFAULT: Duration = Duration::from_secs(10);

/// Which client library drives the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// pinlog's own pipelined glommio client.
    Pinlog,
    /// librdkafka, as a neutral reference.
    Rdkafka,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum AcksArg {
    #[value(name = "0")]
    #[serde(rename = "0")]
    None,
    #[value(name = "1")]
    #[serde(rename = "1")]
    Leader,
    #[value(name = "all")]
    #[serde(rename = "all")]
    All,
}

impl AcksArg {
    /// The `acks` field of a Produce request.
    pub fn wire_value(self) -> i16 {
        match self {
            AcksArg::None => 0,
            AcksArg::Leader => 1,
            AcksArg::All => -1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompressionArg {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl CompressionArg {
    pub fn codec(self) -> Compression {
        match self {
            CompressionArg::None => Compression::None,
            CompressionArg::Gzip => Compression::Gzip,
            CompressionArg::Snappy => Compression::Snappy,
            CompressionArg::Lz4 => Compression::Lz4,
            CompressionArg::Zstd => Compression::Zstd,
        }
    }

    /// librdkafka's `compression.type` value.
    pub fn name(self) -> &'static str {
        match self {
            CompressionArg::None => "none",
            CompressionArg::Gzip => "gzip",
            CompressionArg::Snappy => "snappy",
            CompressionArg::Lz4 => "lz4",
            CompressionArg::Zstd => "zstd",
        }
    }
}

/// `pinlog-bench <kind>` options. Serialised as the report's `config`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct LoadArgs {
    /// Brokers to bootstrap from, HOST:PORT[,HOST:PORT...]: the first that answers is used.
    #[arg(long)]
    pub bootstrap: String,
    /// The client that drives the load.
    #[arg(long, value_enum, default_value_t = ClientKind::Pinlog)]
    pub client: ClientKind,
    /// Topic name; with --topics N > 1 the topics are NAME-0 .. NAME-(N-1).
    #[arg(long, default_value = "pinlog-bench")]
    pub topic: String,
    #[arg(long, default_value_t = 1)]
    pub topics: u32,
    /// Partitions per topic; topics are created with this many if missing.
    #[arg(long, default_value_t = 16)]
    pub partitions: u32,
    /// Replication factor of the topics created (both clients; -1: the broker's default).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub replication_factor: i16,
    /// Value size: BYTES, uniform:MIN..MAX or normal:MEAN,STDDEV.
    #[arg(long, default_value = "1024")]
    pub message_size: MessageSize,
    /// none, random, or N distinct keys.
    #[arg(long, default_value = "none")]
    pub keys: Keys,
    /// Producer connections.
    #[arg(long, default_value_t = 1)]
    pub producers: u32,
    /// Consumer connections.
    #[arg(long, default_value_t = 1)]
    pub consumers: u32,
    #[arg(long, value_enum, default_value_t = AcksArg::All)]
    pub acks: AcksArg,
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub compression: CompressionArg,
    /// Largest batch per partition before it is sent.
    #[arg(long, default_value = "16KiB")]
    pub batch_size: ByteSize,
    /// How long a batch that is not full waits for more records.
    #[arg(long, default_value_t = 5)]
    pub linger_ms: u64,
    /// Outstanding Produce requests per connection.
    #[arg(long, default_value_t = 5)]
    pub max_in_flight: u32,
    /// Measured time after the warm-up (default 10s unless --records is given).
    #[arg(long, conflicts_with = "records")]
    pub duration: Option<HumanDuration>,
    /// Total records to send (or, for consume, to read) instead of a duration.
    #[arg(long)]
    pub records: Option<u64>,
    /// Time at the start whose completions are not measured.
    #[arg(long, default_value = "2s")]
    pub warmup: HumanDuration,
    /// Fixed total send rate in records per second; latency is then measured from each
    /// record's intended send time. Without it producers send as fast as they can.
    #[arg(long)]
    pub rate: Option<f64>,
    /// consume: first write this many records (not measured) so there is something to read.
    #[arg(long)]
    pub prefill: Option<u64>,
    /// Run the workload K times; the report holds every run plus median and spread.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Write the full report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Draw latency percentiles and throughput over time as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// CPUs the bench's executors (or threads, with rdkafka) pin to, e.g. 0,2-3. Default: the
    /// last core.
    #[arg(long)]
    pub cores: Option<CoreList>,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgsError {
    #[error("--{name} is {value}; it must be between {min} and {max}")]
    OutOfRange {
        name: &'static str,
        value: String,
        min: String,
        max: String,
    },
    #[error("--rate must be a number of records per second of at least {RATE_MIN}, not {0}")]
    Rate(f64),
    #[error("--plot {0}: name the file *.svg or *.png")]
    PlotFormat(PathBuf),
    #[error("--{option} {path}: {parent} is not a directory")]
    NoDirectory {
        option: &'static str,
        path: PathBuf,
        parent: PathBuf,
    },
    #[error("--topic must not be empty")]
    EmptyTopic,
}

impl LoadArgs {
    /// Checks every bound; the workloads rely on them.
    pub fn validate(&self) -> Result<(), ArgsError> {
        check("topics", self.topics, 1, TOPICS_MAX)?;
        check("partitions", self.partitions, 1, PARTITIONS_MAX)?;
        check("producers", self.producers, 1, CONNECTIONS_MAX)?;
        check("consumers", self.consumers, 1, CONNECTIONS_MAX)?;
        check("max-in-flight", self.max_in_flight, 1, MAX_IN_FLIGHT_MAX)?;
        check("batch-size", self.batch_size.0, 1, BATCH_BYTES_MAX)?;
        check("linger-ms", self.linger_ms, 0, LINGER_MS_MAX)?;
        check("repeat", self.repeat, 1, REPEAT_MAX)?;
        if self.message_size.max_bytes() > MESSAGE_BYTES_MAX {
            return Err(ArgsError::OutOfRange {
                name: "message-size",
                value: self.message_size.to_string(),
                min: "0".to_string(),
                max: MESSAGE_BYTES_MAX.to_string(),
            });
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate >= RATE_MIN) {
                return Err(ArgsError::Rate(rate));
            }
        }
        if self.topic.is_empty() {
            return Err(ArgsError::EmptyTopic);
        }
        // Checked before the run, not after minutes of it.
        if let Some(path) = &self.plot {
            if crate::report::plot::PlotFormat::of(path).is_none() {
                return Err(ArgsError::PlotFormat(path.clone()));
            }
        }
        for (option, path) in [("json", &self.json), ("plot", &self.plot)] {
            let Some(path) = path else { continue };
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(parent) = parent.filter(|parent| !parent.is_dir()) {
                return Err(ArgsError::NoDirectory {
                    option,
                    path: path.clone(),
                    parent: parent.to_path_buf(),
                });
            }
        }
        Ok(())
    }

    /// The topic names, `--topic` alone or `NAME-0 ..` for several.
    pub fn topic_names(&self) -> Vec<String> {
        match self.topics {
            1 => vec![self.topic.clone()],
            n => (0..n).map(|i| format!("{}-{i}", self.topic)).collect(),
        }
    }

    /// The measured time of a duration-bound run (`None` when `--records` bounds it).
    pub fn measured_duration(&self) -> Option<Duration> {
        match (self.duration, self.records) {
            (Some(duration), _) => Some(duration.0),
            (None, Some(_)) => None,
            (None, None) => Some(DURATION_DEFAULT),
        }
    }

    /// The CPUs to pin to: `--cores`, or the last core.
    pub fn core_list(&self) -> Vec<usize> {
        match &self.cores {
            Some(cores) if !cores.0.is_empty() => cores.0.clone(),
            _ => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                vec![cores - 1]
            }
        }
    }
}

fn check<T: PartialOrd + ToString>(
    name: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ArgsError> {
    if value < min || value > max {
        return Err(ArgsError::OutOfRange {
            name,
            value: value.to_string(),
            min: min.to_string(),
            max: max.to_string(),
        });
    }
    Ok(())
}

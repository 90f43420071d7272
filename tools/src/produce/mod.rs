//! `pinlog produce TOPIC`: one record per input line, from stdin or `--file`.
//!
//! Lines are batched per partition into RecordBatch v2 (the protocol crate's builder) and sent
//! in one Produce request per leader when a batch fills ([`BATCH_RECORDS_MAX`],
//! [`BATCH_BYTES_MAX`]), when the pending batches together reach [`REQUEST_BYTES_MAX`], when
//! input pauses for [`LINGER`], and at the end of input. Requests go one at a time, so records
//! of one partition land in input order. Partitions come from `--partition`, or from the
//! [`partitioner`] (murmur2 of the key, sticky when there is none).

mod input;
mod partitioner;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::{BatchBuilder, BuildError, Compression, Header, NewRecord};

use self::partitioner::Partitioner;
use crate::client::records::Acks;
use crate::client::{Client, ClientError, KafkaError};
use crate::common::Bootstrap;

/// Records per batch at most (Kafka's clients bound batches by bytes only; a count bound keeps
/// tiny records from making huge batches of overhead).
const BATCH_RECORDS_MAX: usize = 10_000;
/// Bytes of records per batch, before compression: a quarter of Kafka's default
/// `max.message.bytes` (1 MiB), so that a batch never hits it unless a single line does.
const BATCH_BYTES_MAX: usize = 256 * 1024;
/// Bytes of all pending batches that make a request go out.
const REQUEST_BYTES_MAX: usize = 1024 * 1024;
/// How long input may pause before the pending records are sent anyway.
const LINGER: Duration = Duration::from_millis(100);
/// What a record costs in a batch beyond its key, value and header bytes (varints, attributes);
/// an estimate for the bounds above, not an exact size.
const RECORD_OVERHEAD_BYTES: usize = 20;

const _: () = assert!(BATCH_BYTES_MAX <= REQUEST_BYTES_MAX);

#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub bootstrap: Bootstrap,
    pub topic: String,
    /// Read lines from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Each line is KEY SEP VALUE, split at the first SEP; a line without SEP is an error.
    /// Without this flag lines are values and records have no key.
    #[arg(long, value_name = "SEP")]
    pub key_separator: Option<String>,
    /// A header on every record, as KEY=VALUE; repeat for several.
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
    /// Send every record to this partition instead of choosing by key.
    #[arg(long, value_name = "P")]
    pub partition: Option<i32>,
    /// Acknowledgement to wait for: 0 (none, nothing is confirmed), 1 (the leader) or all.
    #[arg(long, value_enum, default_value = "all")]
    pub acks: AcksArg,
    /// Compression codec of the batches.
    #[arg(long, value_enum, default_value = "none")]
    pub compression: CompressionArg,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AcksArg {
    #[value(name = "0")]
    Zero,
    #[value(name = "1")]
    One,
    All,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompressionArg {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("topic {0} does not exist")]
    NoSuchTopic(String),
    #[error("topic {topic} has no partition {partition} (it has {count})")]
    NoSuchPartition {
        topic: String,
        partition: i32,
        count: usize,
    },
    #[error("reading {source_name}: {source}")]
    Input {
        source_name: String,
        source: std::io::Error,
    },
    #[error("line {line} is longer than {bytes_max} bytes")]
    LineTooLong { line: u64, bytes_max: usize },
    #[error("line {line} has no key separator")]
    NoKeySeparator { line: u64 },
    #[error("--key-separator may not be empty")]
    EmptyKeySeparator,
    #[error("--header {0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    #[error("building a batch: {0}")]
    Build(#[from] BuildError),
    #[error("the input reader stopped without saying why")]
    ReaderLost,
}

/// Runs `pinlog produce`, printing per partition how many records went where.
pub fn run(args: &ProduceArgs) -> Result<(), ProduceError> {
    let headers = parse_headers(&args.headers)?;
    if args.key_separator.as_deref() == Some("") {
        return Err(ProduceError::EmptyKeySeparator);
    }
    let mut client = Client::connect(&args.bootstrap.bootstrap)?;
    let leaders = client.leaders(&args.topic).map_err(|error| match error {
        ClientError::Kafka {
            error: KafkaError::Known(ErrorCode::UnknownTopicOrPartition),
            ..
        } => ProduceError::NoSuchTopic(args.topic.clone()),
        other => other.into(),
    })?;
    if let Some(partition) = args.partition {
        if !leaders.contains_key(&partition) {
            return Err(ProduceError::NoSuchPartition {
                topic: args.topic.clone(),
                partition,
                count: leaders.len(),
            });
        }
    }
    let lines = input::spawn_reader(args.file.clone())?;
    let mut sender = Sender {
        client,
        topic: args.topic.clone(),
        leaders,
        acks: match args.acks {
            AcksArg::Zero => Acks::None,
            AcksArg::One => Acks::Leader,
            AcksArg::All => Acks::All,
        },
        compression: compression(args.compression),
        pending: BTreeMap::new(),
        pending_bytes: 0,
        counts: BTreeMap::new(),
    };
    let partition_count = u32::try_from(sender.leaders.len()).unwrap_or(1).max(1);
    let mut partitioner = Partitioner::new(partition_count);
    loop {
        let (number, line) = match lines.recv_timeout(LINGER) {
            Ok(line) => line?,
            Err(RecvTimeoutError::Timeout) => {
                if sender.send_pending()? {
                    partitioner.batch_sent();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let (key, value) = match &args.key_separator {
            Some(separator) => {
                let (key, value) = input::split_key(&line, separator.as_bytes(), number)?;
                (
                    Some(Bytes::copy_from_slice(key)),
                    Bytes::copy_from_slice(value),
                )
            }
            None => (None, Bytes::from(line)),
        };
        let partition = args
            .partition
            .unwrap_or_else(|| partitioner.partition(key.as_deref()));
        let record = NewRecord {
            key,
            value: Some(value),
            headers: headers.clone(),
            timestamp: now_ms(),
        };
        if sender.add(partition, record)? {
            partitioner.batch_sent();
        }
    }
    sender.send_pending()?;
    if !args.quiet {
        println!("{}", sender.summary());
    }
    Ok(())
}

/// Pending batches per partition, and what was sent so far.
struct Sender {
    client: Client,
    topic: String,
    leaders: BTreeMap<i32, String>,
    acks: Acks,
    compression: Compression,
    pending: BTreeMap<i32, Pending>,
    pending_bytes: usize,
    /// Records sent per partition.
    counts: BTreeMap<i32, u64>,
}

#[derive(Default)]
struct Pending {
    builder: BatchBuilder,
    records: usize,
    bytes: usize,
}

impl Sender {
    /// Adds a record; sends everything pending when a bound is reached. Returns whether it
    /// sent.
    fn add(&mut self, partition: i32, record: NewRecord) -> Result<bool, ProduceError> {
        let bytes = record_bytes(&record);
        let pending = self.pending.entry(partition).or_insert_with(|| Pending {
            builder: BatchBuilder::new().compression(self.compression),
            ..Default::default()
        });
        pending.builder.push(record);
        pending.records += 1;
        pending.bytes += bytes;
        self.pending_bytes += bytes;
        let full = pending.records >= BATCH_RECORDS_MAX || pending.bytes >= BATCH_BYTES_MAX;
        if full || self.pending_bytes >= REQUEST_BYTES_MAX {
            return self.send_pending();
        }
        Ok(false)
    }

    /// Sends every pending batch, one request per leader. Returns whether there was any.
    fn send_pending(&mut self) -> Result<bool, ProduceError> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        let mut by_leader: BTreeMap<String, Vec<(i32, Bytes)>> = BTreeMap::new();
        for (partition, pending) in std::mem::take(&mut self.pending) {
            let leader = self.leaders.get(&partition).cloned().unwrap_or_default();
            let batch = pending.builder.build()?;
            by_leader
                .entry(leader)
                .or_default()
                .push((partition, batch));
            *self.counts.entry(partition).or_default() += pending.records as u64;
        }
        self.pending_bytes = 0;
        for (leader, record_sets) in by_leader {
            self.client
                .produce(&leader, &self.topic, record_sets, self.acks)?;
        }
        Ok(true)
    }

    /// `produced 5 record(s) to orders: partition 0: 2, partition 1: 3`.
    fn summary(&self) -> String {
        let total: u64 = self.counts.values().sum();
        let verb = match self.acks {
            Acks::None => "sent (acks=0, unconfirmed)",
            Acks::Leader | Acks::All => "produced",
        };
        let per_partition: Vec<String> = self
            .counts
            .iter()
            .map(|(partition, count)| format!("partition {partition}: {count}"))
            .collect();
        let mut line = format!("{verb} {total} record(s) to {}", self.topic);
        if !per_partition.is_empty() {
            line.push_str(": ");
            line.push_str(&per_partition.join(", "));
        }
        line
    }
}

fn parse_headers(texts: &[String]) -> Result<Vec<Header>, ProduceError> {
    texts
        .iter()
        .map(|text| match text.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok(Header {
                key: Bytes::copy_from_slice(key.as_bytes()),
                value: Some(Bytes::copy_from_slice(value.as_bytes())),
            }),
            _ => Err(ProduceError::NotKeyValue(text.clone())),
        })
        .collect()
}

fn record_bytes(record: &NewRecord) -> usize {
    let key = record.key.as_ref().map_or(0, Bytes::len);
    let value = record.value.as_ref().map_or(0, Bytes::len);
    let headers: usize = record
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, Bytes::len))
        .sum();
    key + value + headers + RECORD_OVERHEAD_BYTES
}

fn compression(arg: CompressionArg) -> Compression {
    match arg {
        CompressionArg::None => Compression::None,
        CompressionArg::Gzip => Compression::Gzip,
        CompressionArg::Snappy => Compression::Snappy,
        CompressionArg::Lz4 => Compression::Lz4,
        CompressionArg::Zstd => Compression::Zstd,
    }
}

/// Milliseconds since the epoch; 0 for a clock before 1970, which Kafka takes as a timestamp.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

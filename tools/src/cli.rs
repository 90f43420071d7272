//! The command line: `pinlog [--log-level FILTER] <command>`.

use clap::{Parser, Subcommand};

use crate::cluster::ClusterCommand;
use crate::consume::ConsumeArgs;
use crate::dump_log::DumpLogArgs;
use crate::group::GroupCommand;
use crate::produce::ProduceArgs;
use crate::serve::ServeArgs;
use crate::topic::TopicCommand;

/// pinlog: a Kafka-compatible log broker, thread-per-core.
#[derive(Debug, Parser)]
#[command(name = "pinlog", version, propagate_version = true)]
pub struct Cli {
    /// Log filter for stderr, e.g. `info` or `warn,pinlog_shards=debug` (RUST_LOG syntax);
    /// overrides RUST_LOG. Without either, only warnings and errors are logged.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the broker until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Topics on a running broker: create, list, describe, delete, alter-config, add-partitions.
    #[command(subcommand)]
    Topic(TopicCommand),
    /// Send lines of stdin or a file to a topic, one record per line.
    Produce(ProduceArgs),
    /// Print a topic's records, as text or JSON lines.
    Consume(ConsumeArgs),
    /// The cluster a broker belongs to: id, controller, brokers, API versions.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Inspect a data directory, partition directory or segment file offline: batches, CRCs,
    /// index entries. Exits non-zero when it finds corruption.
    DumpLog(DumpLogArgs),
    /// Consumer groups on a running broker: list, describe, delete, reset-offsets.
    #[command(subcommand)]
    Group(GroupCommand),
}

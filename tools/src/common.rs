//! Flags the commands that talk to a running broker share.

/// Where the operator commands look for a broker unless told otherwise (Kafka's default port).
pub const BOOTSTRAP_DEFAULT: &str = "127.0.0.1:9092";

/// The broker to ask, and the output format, for commands that print a report.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Brokers to ask, as host:port[,host:port...]: the first that answers is used.
    #[arg(long, value_name = "HOST:PORT[,...]", default_value = BOOTSTRAP_DEFAULT)]
    pub bootstrap: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The broker to ask, for commands whose output is records rather than a report.
#[derive(Debug, Clone, clap::Args)]
pub struct Bootstrap {
    /// Brokers to ask, as host:port[,host:port...]: the first that answers is used.
    #[arg(long, value_name = "HOST:PORT[,...]", default_value = BOOTSTRAP_DEFAULT)]
    pub bootstrap: String,
}

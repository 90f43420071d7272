//! `pinlog serve`: run the broker.
//!
//! The configuration comes from three layers, each overriding the one before: the embedded
//! defaults ([`BrokerConfig::default`]), the TOML file given with `--config`, and the flags.
//! `pinlog serve` alone runs the embedded default broker.

pub mod config;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use pinlog_shards::{BrokerConfig, BrokerError};

use self::config::ConfigError;

/// Flags of `pinlog serve`. Every one left out keeps the value of the file, or the default.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML file of broker settings; its keys are the fields of BrokerConfig (`data_dir`,
    /// `listen`, `shards`, `[log]`, ...). Unknown keys are an error.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory of the partition logs and the metadata log (default ./pinlog-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address every shard listens on (default 127.0.0.1:9092).
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<SocketAddr>,

    /// host:port given to clients in Metadata responses (default: the listen address).
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Option<String>,

    /// Number of shards, each a pinned executor on its own core (default: one per core).
    #[arg(long, value_name = "N")]
    pub shards: Option<NonZeroUsize>,

    /// Accept a data directory on a filesystem without O_DIRECT (tmpfs), using buffered I/O.
    #[arg(long)]
    pub allow_buffered_io: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("broker: {0}")]
    Broker(#[from] BrokerError),
}

/// Runs the broker until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<(), ServeError> {
    let config = config::broker_config(args)?;
    tracing::info!(?config, "starting the broker");
    pinlog_shards::serve(config)?;
    Ok(())
}

impl ServeArgs {
    /// Writes the flags that were given over `config`.
    pub fn override_config(&self, config: &mut BrokerConfig) {
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(advertise) = &self.advertise {
            config.advertise = Some(advertise.clone());
        }
        if let Some(shards) = self.shards {
            config.shards = Some(shards.get());
        }
        // A switch can only turn buffered I/O on: its absence says nothing about the file.
        if self.allow_buffered_io {
            config.allow_buffered_io = true;
        }
    }
}

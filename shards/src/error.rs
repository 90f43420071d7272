//! Errors that stop the broker from starting or end it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    Engine(#[from] pinlog_engine::EngineError),
    #[error("binding {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("metadata log {}: {reason}", path.display())]
    MetadataLog { path: PathBuf, reason: String },
    #[error("starting shard {shard}: {reason}")]
    Shard { shard: usize, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
}

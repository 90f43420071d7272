//! The `pinlog` binary: `serve` and the operator commands.
//!
//! `main.rs` parses the command line ([`cli`]), sets up logging to stderr ([`logging`]) and
//! hands the command to its module. [`serve`] turns flags and an optional TOML file into a
//! [`pinlog_shards::BrokerConfig`] (flags win over the file, the file over the embedded
//! defaults) and runs the broker. The operator commands [`topic`], [`produce`], [`consume`],
//! [`cluster`] and [`group`] talk to a running broker through [`client`], a small blocking
//! client on pinlog's own protocol crate; [`dump_log`] reads a data directory offline.
//!
//! Errors are enums per module whose messages carry their causes, so `main` prints exactly one
//! line and exits non-zero.

pub mod cli;
pub mod client;
pub mod cluster;
pub mod common;
pub mod consume;
pub mod datetime;
pub mod dump_log;
pub mod group;
pub mod logging;
pub mod produce;
pub mod serve;
pub mod table;
pub mod topic;

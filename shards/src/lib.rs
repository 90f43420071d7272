//! pinlog's thread-per-core runtime: the broker that Kafka clients talk to.
//!
//! How the pieces fit (DESIGN.md, "Threading" and "Routing"):
//! - [`runtime`] starts one pinned glommio executor per shard, binds its memory to its core's
//!   NUMA node, joins the channel mesh, opens the partitions the shard owns and listens.
//! - [`router`] says which shard owns a partition: one pure function.
//! - [`mesh`] carries requests for other shards' partitions and their replies.
//! - [`network`] reads request frames, dispatches them and writes responses in request order.
//! - [`handlers`] holds one module per Kafka API.
//! - [`metadata`] is the cluster metadata (topics, partitions, configs): a log owned by shard 0,
//!   applied on start and broadcast to every shard on change.

pub mod config;
pub mod controller;
pub mod error;
pub mod group_manager;
pub mod group_offsets;
pub mod groups;
pub mod handlers;
pub mod limits;
pub mod log_recovery;
pub mod mesh;
pub mod metadata;
pub mod network;
pub mod numa;
pub mod partition_ops;
pub mod router;
pub mod runtime;
pub mod shard;

pub use config::{BrokerConfig, LogDefaults};
pub use error::BrokerError;
pub use runtime::serve;

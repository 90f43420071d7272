//! The storage engine a shard owns: partition logs of Kafka RecordBatch v2 bytes on io_uring
//! O_DIRECT (see DESIGN.md, "Storage engine"). It knows nothing of sockets or Kafka requests.
//!
//! How the pieces fit:
//! - [`DataDir`] takes the data directory's lock once per process and refuses a filesystem
//!   without O_DIRECT (tmpfs) unless [`IoMode::AllowBuffered`] is chosen.
//! - [`ShardStorage`] is what one shard's logs share: the bounded batch cache and log ids.
//! - [`PartitionLog`] is one partition: segments (`<base_offset:020>.log` with `.index` and
//!   `.timeindex`), the DMA appender and its flusher (group-committed fdatasync for
//!   [`Durability::Durable`]), reads by offset and by time, long-poll waits, recovery,
//!   retention and truncation, and idempotent-producer state.
//! - [`io`] is the only module that touches glommio; its [`FaultPlan`] injects failed writes,
//!   failed syncs and a full disk for tests.
//!
//! Pure parts, testable without I/O: [`index`] (Kafka's sparse index formats), [`cache`],
//! [`producer_state`], [`segment::scan`].

pub mod cache;
pub mod config;
pub mod error;
pub mod hash;
pub mod index;
pub mod io;
pub mod limits;
pub mod log;
pub mod producer_state;
pub mod segment;
pub mod storage;

pub use config::{IoMode, LogConfig};
pub use error::EngineError;
pub use io::FaultPlan;
pub use log::{AppendOutcome, Durability, LogErasure, PartitionLog, ReadBatches};
pub use storage::{DataDir, ShardStorage};

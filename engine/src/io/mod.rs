//! The engine's I/O: the only module that touches glommio.
//!
//! [`SegmentFile`] is a DMA file (io_uring, O_DIRECT) with a fault-injection seam: a
//! [`FaultPlan`] shared with a test makes writes, syncs or free space fail, so the same log
//! code runs in production and under injected faults. [`data_dir`] holds the data directory's
//! lock and the filesystem check that refuses tmpfs in [`IoMode::Direct`](crate::IoMode);
//! [`blocking`] runs metadata syscalls off the shard thread; [`SharedFlush`] lets a shard's
//! logs share one device flush where their files carry no metadata to sync;
//! [`recommended_io_memory`] sizes the DMA memory a shard's executor is built with.

pub mod blocking;
pub mod data_dir;
mod faults;
mod file;
mod memory;
mod shared_flush;

pub use faults::FaultPlan;
pub use file::{AlignedBuffer, SegmentFile};
pub use memory::{recommended_io_memory, IoMemory};
pub(crate) use shared_flush::{FlushError, SharedFlush};

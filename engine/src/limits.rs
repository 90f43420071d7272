//! Every bound of the storage engine, in one place. Units come last in each name.

/// Size of the appender's write-behind buffer: one DMA write carries at most this much.
pub const APPEND_BUFFER_BYTES: usize = 1024 * 1024;

/// Page size the appender writes in; O_DIRECT offsets and lengths are multiples of it.
pub const PAGE_BYTES: usize = 4096;

/// Most of `segment.bytes` that size jitter may take off a segment (see `log::roll_jitter`).
pub const SEGMENT_BYTES_JITTER_PERCENT_MAX: u8 = 50;

/// Writes of one log that may be in flight at once (only page-disjoint ones overlap).
pub const WRITES_IN_FLIGHT_MAX: usize = 4;

/// Bytes appended to one log but not yet written to the device; an append beyond this waits
/// for the flusher (back-pressure instead of unbounded memory).
pub const UNWRITTEN_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Segment files grow by pre-allocation (fallocate) in steps up to this size, so that appends
/// rarely change file metadata and fdatasync has none to carry.
pub const PREALLOCATE_STEP_BYTES: u64 = 64 * 1024 * 1024;

/// A new segment's first pre-allocation; each next step doubles the file up to
/// `PREALLOCATE_STEP_BYTES` (see `segment::preallocation_target`). Fallocate reserves real
/// blocks: a full step up front had an idle broker's 16 `__consumer_offsets` partitions hold
/// 1 GiB of disk, and each new partition 64 MiB, before anything was written.
pub const PREALLOCATE_FIRST_BYTES: u64 = 1024 * 1024;
/// Free space a pre-allocation step must leave on the filesystem, else only what the write
/// needs is reserved: a step that does not fit would, while ext4 tries it, take every free
/// block, and the index and snapshot writes running beside it would fail for want of space.
pub const PREALLOCATE_FREE_MARGIN_BYTES: u64 = 4 * 1024 * 1024;
/// Each write of zeros that pre-writes a spare segment (`log::prewrite`), one in flight.
pub const PREWRITE_WRITE_BYTES: usize = 256 * 1024;

/// Eager retention looks at a log at most once per this many bytes appended to it.
pub const RETENTION_CHECK_STEP_BYTES: u64 = 1024 * 1024;

/// DMA memory (glommio's `io_memory`) a shard's executor gets when locked memory is not
/// bounded: room for the windows of many logs (1 MiB each plus the sealed ones being written)
/// in memory registered with io_uring. It is pinned for the executor's life.
pub const IO_MEMORY_BYTES_MAX: usize = 256 * 1024 * 1024;

/// The least DMA memory to build an executor with (glommio's own floor is 64 KiB): when the
/// memlock limit allows less, buffers are heap buffers anyway.
pub const IO_MEMORY_BYTES_MIN: usize = 1024 * 1024;

/// A deleted segment is erased by cutting this much off its end at a time (each cut frees,
/// and with `discard` trims, that many bytes), with the log's other metadata jobs in between.
pub const ERASE_CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// A log's list of waiters (appends, long polls) is pruned of abandoned ones once it holds
/// this many, then whenever it doubles; live waiters are bounded by the requests in flight.
pub const WAITERS_PRUNE_MIN: usize = 64;

/// Largest read issued to the device for one fetch.
pub const READ_CHUNK_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Places where recent reads of one log ended that a log remembers (see `log::read_hints`):
/// one per reader reading on, for this many readers of a partition at once.
pub const READ_HINTS_MAX: usize = 4;

/// Largest record batch the engine accepts, whatever a topic's `max.message.bytes` says.
pub const BATCH_BYTES_MAX: usize = 64 * 1024 * 1024;

/// The most a crash can leave written after a write it lost: the writes of one log in flight
/// at once. Segments after a closed one that ends early and hold more than this are set aside,
/// not removed (see `log::early_end`).
pub const CRASH_TAIL_BYTES_MAX: u64 = (WRITES_IN_FLIGHT_MAX * APPEND_BUFFER_BYTES) as u64;

/// Size of the chunks recovery reads while scanning a segment's tail.
pub const RECOVERY_READ_BYTES: usize = 1024 * 1024;

const _: () = assert!(APPEND_BUFFER_BYTES.is_multiple_of(PAGE_BYTES));
const _: () = assert!(RECOVERY_READ_BYTES.is_multiple_of(PAGE_BYTES));
const _: () = assert!(PREALLOCATE_STEP_BYTES.is_multiple_of(PAGE_BYTES as u64));
const _: () = assert!(PREWRITE_WRITE_BYTES.is_multiple_of(PAGE_BYTES));
const _: () = assert!(UNWRITTEN_BYTES_MAX >= 2 * APPEND_BUFFER_BYTES);
const _: () = assert!(IO_MEMORY_BYTES_MIN >= APPEND_BUFFER_BYTES);
const _: () = assert!(IO_MEMORY_BYTES_MAX >= IO_MEMORY_BYTES_MIN);

// Producer state (producer_state.rs).

/// Batches remembered per producer for duplicate detection: Kafka's
/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`, matching the at most 5 in-flight requests an
/// idempotent producer may have per connection.
pub const PRODUCER_BATCHES_RETAINED_MAX: usize = 5;

/// Producers tracked per partition; beyond it the least recently appended one is forgotten.
pub const PRODUCER_STATE_PRODUCERS_MAX: usize = 64 * 1024;

/// Kafka's `producer.id.expiration.ms` default (1 day): a producer idle this long is forgotten.
pub const PRODUCER_ID_EXPIRATION_MS_DEFAULT: i64 = 24 * 60 * 60 * 1000;

// Indexes (index.rs).

/// Kafka's `index.interval.bytes` default: bytes between two sparse index entries.
pub const INDEX_INTERVAL_BYTES_DEFAULT: u32 = 4096;

/// Largest index file: Kafka's `segment.index.bytes` default (10 MiB); a segment rolls when
/// either of its indexes is full.
pub const INDEX_FILE_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Entries of an offset index (8 bytes each) within [`INDEX_FILE_BYTES_MAX`].
pub const OFFSET_INDEX_ENTRIES_MAX: usize = INDEX_FILE_BYTES_MAX / 8;

/// Entries of a time index (12 bytes each) within [`INDEX_FILE_BYTES_MAX`].
pub const TIME_INDEX_ENTRIES_MAX: usize = INDEX_FILE_BYTES_MAX / 12;

// Batch cache (cache.rs).

/// Default bound of a shard's batch cache.
pub const CACHE_BYTES_DEFAULT: usize = 128 * 1024 * 1024;

/// What the batch cache charges per batch on top of its bytes: its entries in the per-log map
/// and the eviction queue. Keeps many tiny batches from growing the maps beyond the bound.
pub const CACHE_BATCH_OVERHEAD_BYTES: usize = 128;

const _: () = assert!(TIME_INDEX_ENTRIES_MAX >= 2); // one slot is kept for the final entry
const _: () = assert!(CACHE_BYTES_DEFAULT >= BATCH_BYTES_MAX + CACHE_BATCH_OVERHEAD_BYTES);

/// Appended bytes between two periodic producer-state snapshots (`LogConfig`'s default): what
/// a reopen after a crash replays at most, besides its unflushed tail. A roll's snapshot
/// restarts the count.
pub const PRODUCER_SNAPSHOT_INTERVAL_BYTES: u64 = 64 * 1024 * 1024;

/// Producer-state snapshots kept per log (older ones are deleted when a new one is written).
pub const SNAPSHOTS_RETAINED: usize = 2;

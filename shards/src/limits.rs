//! Every bound of the broker runtime, in one place. Units come last in each name.

/// Kafka's `socket.request.max.bytes` default: a larger request frame closes the connection.
pub const REQUEST_BYTES_MAX_DEFAULT: usize = 100 * 1024 * 1024;

/// Request bytes one shard holds in flight by default (read from sockets, not yet answered).
pub const SHARD_INFLIGHT_BYTES_MAX_DEFAULT: usize = 256 * 1024 * 1024;

/// Requests one connection may have in flight (read, response not yet written). librdkafka
/// keeps at most 5 per connection by default (`max.in.flight`), Java clients 5 as well; the
/// bound only stops a client that pipelines without limit from holding unbounded state.
pub const CONNECTION_REQUESTS_IN_FLIGHT_MAX: usize = 128;

/// Smallest read buffer a connection keeps; a frame larger than it is read in one step into a
/// buffer of the frame's size (bounded by the request size limit).
pub const CONNECTION_READ_BUFFER_BYTES: usize = 64 * 1024;

/// Messages queued in each direction between two shards of the mesh.
pub const MESH_CHANNEL_MESSAGES: usize = 1024;

/// Cross-shard requests a shard waits on at once (its pending-reply table).
pub const MESH_PENDING_REPLIES_MAX: usize = 64 * 1024;

/// Topics the cluster holds; CreateTopics beyond it fails with a policy error.
pub const TOPICS_MAX: usize = 100_000;

/// Partitions of one topic (Kafka imposes none by default; this keeps a request from creating
/// millions of logs).
pub const PARTITIONS_PER_TOPIC_MAX: i32 = 10_000;

/// Largest record in the metadata log; larger records are refused (at write) or treated as
/// corruption (at read).
pub const METADATA_RECORD_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Longest a Fetch may wait (its max_wait_ms is capped to this).
pub const FETCH_WAIT_MS_MAX: u64 = 30_000;

/// How often a shard checks whether the process was asked to shut down.
pub const SHUTDOWN_POLL_MS: u64 = 50;

/// Longest a clean shutdown waits for in-flight requests before closing the logs anyway.
pub const SHUTDOWN_DRAIN_MS_MAX: u64 = 10_000;

/// Partition logs a shard opens concurrently (at start, or for a new topic).
pub const PARTITIONS_OPENED_AT_ONCE: usize = 64;

/// Longest the broker waits for every shard to open its partitions and listen.
pub const SHARD_START_SECONDS_MAX: u64 = 600;

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

/// How long the start-up check waits for a connection to the listen address, which succeeds
/// only when another process listens there (see `network::check_address_free`).
pub const LISTEN_PROBE_TIMEOUT_MS: u64 = 1000;
/// Connections the check tries, this far apart, before it calls the address taken: a broker
/// killed a moment ago still answers for a few milliseconds.
pub const LISTEN_PROBE_ATTEMPTS: u32 = 20;
pub const LISTEN_PROBE_INTERVAL_MS: u64 = 100;

/// Longest a clean shutdown waits for in-flight requests before closing the logs anyway.
pub const SHUTDOWN_DRAIN_MS_MAX: u64 = 10_000;

/// How often a shard looks for logs that failed on a full disk, to reopen them once there is
/// room again.
pub const FAILED_LOG_CHECK_MS: u64 = 1000;
/// Free bytes the data directory's filesystem must have before such a log is reopened: with
/// less, the reopened log would fail again at its first writes.
pub const FAILED_LOG_REOPEN_FREE_BYTES: u64 = 8 * 1024 * 1024;

/// A partition whose log failed to open is tried again at most every `2^this` failed-log
/// checks while it keeps failing (64 s).
pub const UNOPENED_BACKOFF_MAX_DOUBLINGS: u32 = 6;

/// Partition logs a shard opens concurrently (at start, or for a new topic).
pub const PARTITIONS_OPENED_AT_ONCE: usize = 64;

/// Longest the broker waits for every shard to open its partitions and listen.
pub const SHARD_START_SECONDS_MAX: u64 = 600;

/// Consumer groups one coordinator holds (live or known only through committed offsets); a
/// JoinGroup or commit that would create one more answers COORDINATOR_NOT_AVAILABLE.
pub const GROUPS_MAX: usize = 100_000;

/// Default `group.max.size`. Kafka's default is unbounded (Integer.MAX_VALUE); every member
/// holds its protocol metadata and assignment, so the broker keeps a bound.
pub const GROUP_MEMBERS_MAX_DEFAULT: usize = 10_000;

/// Members of one group that were handed a member id (MEMBER_ID_REQUIRED) and have not yet
/// rejoined with it; beyond it a new member is answered GROUP_MAX_SIZE_REACHED.
pub const GROUP_PENDING_MEMBERS_MAX: usize = 10_000;

/// Kafka's `NewMemberJoinTimeoutMs`: a member that joined without an id and is still waiting
/// for the rebalance is dropped after this long (it never learned its id, so it cannot
/// heartbeat; if it is still alive it retries).
pub const GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS: i64 = 5 * 60 * 1000;

/// Shortest wait before a rebalance in which no member rejoined is retried, so a client that
/// sends a zero rebalance timeout cannot make the coordinator spin.
pub const GROUP_JOIN_RETRY_MS_MIN: i64 = 1_000;

const _: () = assert!(GROUP_PENDING_MEMBERS_MAX >= 1 && GROUP_MEMBERS_MAX_DEFAULT >= 1);
/// Bytes read at a time while a shard replays its `__consumer_offsets` partitions.
pub const GROUP_LOAD_READ_BYTES: usize = 1024 * 1024;

/// How often a shard runs its groups' timers (session expiry, rebalance delays and timeouts):
/// the resolution of those timeouts, which Kafka sets in seconds.
pub const GROUP_TICK_MS: u64 = 100;

/// Kafka's `log.retention.check.interval.ms` default: how often each shard applies its logs'
/// `retention.bytes` and `retention.ms`.
pub const LOG_RETENTION_CHECK_MS_DEFAULT: u64 = 300_000;

/// Kafka's `offsets.retention.check.interval.ms` default: how often expired offsets are
/// looked for.
pub const OFFSETS_RETENTION_CHECK_MS_DEFAULT: u64 = 600_000;

//! Every bound of the protocol crate, in one place.

/// Default largest frame accepted from a client (Kafka's `socket.request.max.bytes`, 100 MiB).
pub const FRAME_BYTES_MAX_DEFAULT: usize = 100 * 1024 * 1024;

/// Record payloads at least this large are emitted as their own chunk by the writer instead of
/// being copied; below it a copy is cheaper than another iovec.
pub const ZERO_COPY_RECORDS_MIN_BYTES: usize = 512;

/// Largest decompressed size of one batch's records (Kafka's default `message.max.bytes` is
/// ~1 MiB; a broker may raise it, so allow headroom). A payload that inflates beyond this is
/// treated as a decompression bomb.
pub const DECOMPRESSED_BATCH_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Most elements an array decoder reserves before it has decoded any: the wire count is already
/// bounded by the frame, but a struct can be far larger in memory than on the wire, so capacity
/// beyond this grows only with elements actually decoded.
pub const ARRAY_PREALLOC_ELEMENTS_MAX: usize = 1024;

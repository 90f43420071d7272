//! Blocking filesystem calls run off the shard thread.
//!
//! Creating, renaming, syncing and unlinking small metadata files (indexes, snapshots, the
//! log-start file) and unlinking segments are synchronous syscalls; on ext4 mounted with
//! `discard` an unlink or truncate of a large file can take over 100 ms. Run on the shard
//! thread, they stall every partition of the shard. [`run`] hands them to glommio's blocking
//! thread pool (one thread unless the executor builder says otherwise, so the calls of a
//! shard run in the order they are submitted) and yields until they finish.

/// Runs `call` on the executor's blocking thread pool and returns its result.
pub async fn run<R, F>(call: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    glommio::executor().spawn_blocking(call).await
}

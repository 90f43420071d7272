//! Logs that failed on a full disk take writes again once there is room.
//!
//! A log whose write or fdatasync found the disk full fails: it refuses appends (producers get
//! KAFKA_STORAGE_ERROR, which they retry) and keeps serving what it wrote. Space comes back
//! when retention deletes segments, a topic is deleted or an operator frees some; the shard
//! then closes the failed log and opens it again, and recovery cuts whatever the failed writes
//! left, exactly as after a crash. Other failures (EIO and the like) are not retried: a
//! failing device needs an operator, and the log stays failed until the broker restarts.

use std::rc::Rc;
use std::time::Duration;

use pinlog_engine::io::data_dir::available_bytes;

use crate::limits::{FAILED_LOG_CHECK_MS, FAILED_LOG_REOPEN_FREE_BYTES};
use crate::shard::Shard;

/// Runs until the shard shuts down.
pub async fn run_failed_log_recovery(shard: Rc<Shard>) {
    let interval = Duration::from_millis(FAILED_LOG_CHECK_MS);
    while !shard.is_shutting_down() {
        glommio::timer::sleep(interval).await;
        reopen_failed_logs(&shard).await;
    }
}

/// Reopens every log that failed for want of space, if the disk has room for it now.
pub async fn reopen_failed_logs(shard: &Shard) {
    let failed = shard.logs_failed_for_space();
    if failed.is_empty() {
        return;
    }
    let data_dir = &shard.config().data_dir;
    match available_bytes(data_dir) {
        Ok(free) if free >= FAILED_LOG_REOPEN_FREE_BYTES => {}
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(shard = shard.id(), "reading the free space: {error}");
            return;
        }
    }
    for (topic, partition, log) in failed {
        if shard.is_shutting_down() {
            return;
        }
        // Closing a failed log flushes nothing (its flush fails at once); it releases the
        // files and waiters, which now get a retriable NOT_LEADER_OR_FOLLOWER.
        let _ = log.close().await;
        match shard.reopen_log(&topic, partition, &log).await {
            Ok(()) => tracing::info!(
                shard = shard.id(),
                topic,
                partition,
                "reopened a log that failed on a full disk; it takes writes again"
            ),
            // The old log, closed, stays in its slot: requests get NOT_LEADER_OR_FOLLOWER
            // until a restart opens the partition.
            Err(error) => tracing::error!(
                shard = shard.id(),
                topic,
                partition,
                "reopening a log that failed on a full disk: {error}"
            ),
        }
    }
}

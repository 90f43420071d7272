//! Logs that failed on a full disk take writes again once there is room, and partitions
//! whose logs could not be opened (created on a full disk) are opened then.
//!
//! A log whose write or fdatasync found the disk full fails: it refuses appends (producers get
//! KAFKA_STORAGE_ERROR, which they retry) and keeps serving what it wrote. Space comes back
//! when retention deletes segments, a topic is deleted or an operator frees some; the shard
//! then closes the failed log and opens it again, and recovery cuts whatever the failed writes
//! left, exactly as after a crash. Other failures (EIO and the like) are not retried: a
//! failing device needs an operator, and the log stays failed until the broker restarts.

use std::rc::Rc;
use std::time::Duration;

use pinlog_engine::io::data_dir::has_room_for;
use pinlog_engine::{EngineError, PartitionLog};

use crate::limits::{
    FAILED_LOG_CHECK_MS, FAILED_LOG_REOPEN_FREE_BYTES, UNOPENED_BACKOFF_MAX_DOUBLINGS,
};
use crate::shard::{Reopen, Shard};

/// A log closed for a reopen whose open failed: its slot keeps the closed log (requests get a
/// retriable NOT_LEADER_OR_FOLLOWER) until a later try opens it.
type Closed = (String, i32, PartitionLog);

/// Runs until the shard shuts down.
pub async fn run_failed_log_recovery(shard: Rc<Shard>) {
    let interval = Duration::from_millis(FAILED_LOG_CHECK_MS);
    let mut closed = Vec::new();
    let mut unopened = Backoff::default();
    let mut open_failures_seen = 0;
    while !shard.is_shutting_down() {
        glommio::timer::sleep(interval).await;
        closed = reopen_failed_logs(&shard, closed).await;
        // A partition that failed to open since the last try (a new topic) is tried at once.
        if shard.open_failures() != open_failures_seen {
            unopened = Backoff::default();
        }
        if shard.partitions_unopened() && unopened.due() && has_room(&shard) {
            let still = shard.open_unopened_partitions().await;
            unopened.tried(still);
            open_failures_seen = shard.open_failures();
        }
    }
}

/// Partitions whose log could not be opened (created on a full disk, say) are tried again
/// each check at first, then less and less often while they keep failing (up to every
/// `2^UNOPENED_BACKOFF_MAX_DOUBLINGS` checks), so that a partition that cannot open for good
/// does not log an error every second.
#[derive(Default)]
struct Backoff {
    checks_to_skip: u32,
    skipped: u32,
    doublings: u32,
}

impl Backoff {
    fn due(&mut self) -> bool {
        if self.skipped < self.checks_to_skip {
            self.skipped += 1;
            return false;
        }
        true
    }

    fn tried(&mut self, still_failing: bool) {
        self.skipped = 0;
        if still_failing {
            self.doublings = (self.doublings + 1).min(UNOPENED_BACKOFF_MAX_DOUBLINGS);
            self.checks_to_skip = (1 << self.doublings) - 1;
        } else {
            *self = Backoff::default();
        }
    }
}

fn has_room(shard: &Shard) -> bool {
    match has_room_for(&shard.config().data_dir, FAILED_LOG_REOPEN_FREE_BYTES) {
        Ok(room) => room,
        Err(error) => {
            tracing::warn!(shard = shard.id(), "probing the free space: {error}");
            false
        }
    }
}

/// Reopens every log that failed for want of space (and every one left closed by a failed
/// try) if the disk has room for it now; returns those still closed.
pub async fn reopen_failed_logs(shard: &Shard, closed: Vec<Closed>) -> Vec<Closed> {
    let mut candidates = closed;
    candidates.extend(shard.logs_failed_for_space());
    if candidates.is_empty() {
        return candidates;
    }
    if !has_room(shard) {
        return candidates
            .into_iter()
            .filter(|(_, _, log)| log.is_closed())
            .collect();
    }
    let mut still_closed = Vec::new();
    for (topic, partition, log) in candidates {
        if shard.is_shutting_down() {
            break;
        }
        match shard.reopen_log(&topic, partition, &log).await {
            Ok(Reopen::Reopened) => tracing::info!(
                shard = shard.id(),
                topic,
                partition,
                "reopened a log that failed on a full disk; it takes writes again"
            ),
            Ok(Reopen::Gone | Reopen::Busy) => {}
            // Still no room after all (others took it): tried again at the next check.
            Err(EngineError::NoSpace { .. }) => still_closed.push((topic, partition, log)),
            // Anything else waits for an operator, as a log failed by an I/O error does.
            Err(error) => tracing::error!(
                shard = shard.id(),
                topic,
                partition,
                "reopening a log that failed on a full disk failed; the partition is \
                 unavailable until the broker restarts: {error}"
            ),
        }
    }
    still_closed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unopened_partitions_are_tried_less_often_while_they_fail_and_at_once_after() {
        let mut backoff = Backoff::default();
        let mut tries = Vec::new();
        for check in 1..=40 {
            if backoff.due() {
                tries.push(check);
                backoff.tried(true);
            }
        }
        // Each wait twice the one before.
        assert_eq!(tries, [1, 3, 7, 15, 31]);
        let mut backoff = Backoff::default();
        for _ in 0..10 {
            if backoff.due() {
                backoff.tried(true);
            }
        }
        backoff.tried(false);
        assert!(backoff.due(), "a success resets the backoff");
    }
}

//! How much DMA memory to give glommio's reactor (`LocalExecutorBuilder::io_memory`).
//!
//! glommio allocates the buffers of DMA files from one region per executor, which it registers
//! with io_uring: writes from it are fixed-buffer writes (no page pinning per write) and its
//! pages are faulted in once. When the region is full, buffers come from the heap instead:
//! each write then pins its pages and each fresh buffer page-faults. The engine keeps a 1 MiB
//! window per log plus the sealed windows being written, so glommio's default (10 MiB) fills
//! with a few logs.
//!
//! Registration is charged against `RLIMIT_MEMLOCK` (per user, once for each of glommio's
//! three rings) unless the process has `CAP_IPC_LOCK`; if it fails, glommio logs a warning and
//! every buffer is a heap buffer. [`recommended_io_memory`] sizes the region to what
//! registration will accept, raising the soft limit to the hard one first.

use crate::limits::{IO_MEMORY_BYTES_MAX, IO_MEMORY_BYTES_MIN};

/// glommio registers the region with each of its rings (main, poll, latency).
const RINGS_REGISTERING: u64 = 3;
/// Locked memory left for anything else of the process (the rings themselves on old kernels).
const MEMLOCK_HEADROOM_BYTES: u64 = 1024 * 1024;
const CAP_IPC_LOCK: u32 = 14;

/// The io_memory to build a shard's executor with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoMemory {
    pub bytes: usize,
    pub reason: String,
}

/// The DMA memory for each of `shards` executors of this process: [`IO_MEMORY_BYTES_MAX`]
/// when registration is not bounded (`CAP_IPC_LOCK`, or an unlimited `RLIMIT_MEMLOCK`),
/// otherwise what the memlock limit allows, after raising its soft value to the hard one.
/// Logs the decision.
pub fn recommended_io_memory(shards: usize) -> IoMemory {
    let plan = plan(shards.max(1) as u64);
    tracing::info!(bytes = plan.bytes, reason = %plan.reason, "DMA memory per shard");
    plan
}

fn plan(shards: u64) -> IoMemory {
    if has_ipc_lock() {
        return IoMemory {
            bytes: IO_MEMORY_BYTES_MAX,
            reason: "CAP_IPC_LOCK: registration is not charged to RLIMIT_MEMLOCK".to_owned(),
        };
    }
    let limit = match raise_memlock_limit() {
        Ok(None) => {
            return IoMemory {
                bytes: IO_MEMORY_BYTES_MAX,
                reason: "RLIMIT_MEMLOCK is unlimited".to_owned(),
            }
        }
        Ok(Some(limit)) => limit,
        Err(error) => {
            return IoMemory {
                bytes: IO_MEMORY_BYTES_MIN,
                reason: format!("RLIMIT_MEMLOCK unreadable ({error}): the minimum"),
            }
        }
    };
    let per_shard = limit.saturating_sub(MEMLOCK_HEADROOM_BYTES) / RINGS_REGISTERING / shards;
    // Whole MiB, as the engine's windows are.
    let fits = (per_shard / (1 << 20) * (1 << 20)) as usize;
    if fits < IO_MEMORY_BYTES_MIN {
        return IoMemory {
            bytes: IO_MEMORY_BYTES_MIN,
            reason: format!(
                "RLIMIT_MEMLOCK {limit} bytes leaves {per_shard} per shard (charged {RINGS_REGISTERING} times): \
                 too little; DMA buffers will mostly be heap buffers (raise `ulimit -l`)"
            ),
        };
    }
    IoMemory {
        bytes: fits.min(IO_MEMORY_BYTES_MAX),
        reason: format!(
            "RLIMIT_MEMLOCK {limit} bytes over {shards} shard(s), charged {RINGS_REGISTERING} times each"
        ),
    }
}

/// Whether the effective capabilities include CAP_IPC_LOCK (from /proc/self/status).
fn has_ipc_lock() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}

/// Raises the soft RLIMIT_MEMLOCK to the hard one; the resulting soft limit in bytes, `None`
/// if unlimited.
fn raise_memlock_limit() -> Result<Option<u64>, std::io::Error> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads one valid rlimit; raising the soft limit up to the hard one
        // needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) } == 0 {
            limit = raised;
        }
    }
    Ok((limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recommendation_is_within_bounds() {
        let plan = recommended_io_memory(4);
        assert!((IO_MEMORY_BYTES_MIN..=IO_MEMORY_BYTES_MAX).contains(&plan.bytes));
        assert!(!plan.reason.is_empty());
    }
}

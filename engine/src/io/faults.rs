//! Faults a test can inject into a [`SegmentFile`](super::SegmentFile).

use std::cell::Cell;

/// A plan of faults, shared (`Rc`) between a test and the files it should affect.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// The next write fails with this errno (once).
    write_errno: Cell<Option<i32>>,
    /// The next fdatasync fails with this errno (once).
    sync_errno: Cell<Option<i32>>,
    /// Bytes that may still be written before every write fails with ENOSPC.
    space_left_bytes: Cell<Option<u64>>,
    /// Pre-allocations to more than this many bytes fail with ENOSPC: a disk with room for
    /// the data but not for a whole pre-allocation step.
    preallocate_max_bytes: Cell<Option<u64>>,
    /// fdatasyncs that went through (for tests of group commit).
    syncs: Cell<u64>,
    /// Bytes read from the files (for tests of what opening a log reads).
    read_bytes: Cell<u64>,
}

impl FaultPlan {
    pub fn fail_next_write(&self, errno: i32) {
        self.write_errno.set(Some(errno));
    }

    pub fn fail_next_sync(&self, errno: i32) {
        self.sync_errno.set(Some(errno));
    }

    /// Whether the failure armed by [`FaultPlan::fail_next_sync`] is still to come.
    pub fn sync_failure_pending(&self) -> bool {
        self.sync_errno.get().is_some()
    }

    /// Makes the disk "full" after `bytes` more bytes; `None` gives the space back.
    pub fn set_space_left(&self, bytes: Option<u64>) {
        self.space_left_bytes.set(bytes);
    }

    /// Makes pre-allocations of files past `bytes` fail with ENOSPC; `None` lifts the limit.
    pub fn limit_preallocation(&self, bytes: Option<u64>) {
        self.preallocate_max_bytes.set(bytes);
    }

    pub(super) fn before_preallocate(&self, size: u64) -> Result<(), std::io::Error> {
        match self.preallocate_max_bytes.get() {
            Some(max) if size > max => Err(std::io::Error::from_raw_os_error(libc::ENOSPC)),
            _ => Ok(()),
        }
    }

    pub(super) fn before_write(&self, len: usize) -> Result<(), std::io::Error> {
        if let Some(errno) = self.write_errno.take() {
            return Err(std::io::Error::from_raw_os_error(errno));
        }
        if let Some(left) = self.space_left_bytes.get() {
            if (len as u64) > left {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.space_left_bytes.set(Some(left - len as u64));
        }
        Ok(())
    }

    /// How many bytes the files under this plan have read.
    pub fn read_bytes(&self) -> u64 {
        self.read_bytes.get()
    }

    pub(super) fn note_read(&self, len: usize) {
        self.read_bytes.set(self.read_bytes.get() + len as u64);
    }

    /// How many fdatasyncs the files under this plan have issued.
    pub fn syncs(&self) -> u64 {
        self.syncs.get()
    }

    pub(super) fn before_sync(&self) -> Result<(), std::io::Error> {
        match self.sync_errno.take() {
            Some(errno) => Err(std::io::Error::from_raw_os_error(errno)),
            None => {
                self.syncs.set(self.syncs.get() + 1);
                Ok(())
            }
        }
    }
}

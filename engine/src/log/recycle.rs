//! Segment recycling: the data file of a segment that retention deletes is kept as the log's
//! spare (at most one per log) and becomes the file of the next segment a roll starts.
//!
//! Why: a fresh segment is pre-allocated with fallocate, which on ext4 (and XFS) leaves
//! *unwritten* extents. Every write into them converts extents, a metadata change, so each
//! fdatasync commits the journal: the metadata-free sync that pre-allocation was meant to buy
//! is lost. A recycled file's blocks are already written, so writes overwrite them and an
//! fdatasync is a device flush. Measured on this machine's ext4 (16 KiB O_DIRECT write +
//! fdatasync, 4000 times): p50 0.24 ms and p99.9 0.7–1.1 ms into fallocated space, p50 0.11 ms
//! and p99.9 0.2 ms into written blocks. In steady state retention deletes a segment for every
//! one a roll starts, so a log that retains by size or time writes into recycled files only.
//!
//! Safety of the old bytes: past the new segment's data the file still holds the old
//! segment's batches. They are never served (reads stop at the readable length) and recovery
//! rejects them: its scan requires each batch to continue the offsets of the one before, and
//! an old batch's offsets lie below the new segment's base, because the spare comes from a
//! segment that retention deleted below the log start. Two things could break that and so
//! discard the spare: a truncation (offsets may go back below the spare's) and a restart (the
//! spare's history is not known; it is removed at open). A clean close cuts the old bytes off
//! the active segment, so that offline tools see a clean end of log.

use std::path::{Path, PathBuf};

use crate::error::EngineError;
use crate::segment::{PREWRITE_SPARE_FILE, SPARE_SEGMENT_FILE};

pub(crate) fn spare_path(dir: &Path) -> PathBuf {
    dir.join(SPARE_SEGMENT_FILE)
}

/// Keeps `candidate`, one of `deleted` (data files renamed for erasing), as the spare instead
/// of erasing it; true if it did. Blocking: run it on the blocking pool.
pub(crate) fn keep_spare(dir: &Path, deleted: &mut Vec<PathBuf>, candidate: &Path) -> bool {
    let Some(index) = deleted.iter().position(|path| path == candidate) else {
        return false;
    };
    let path = &deleted[index];
    match std::fs::rename(path, spare_path(dir)) {
        Ok(()) => {
            deleted.remove(index);
            true
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "could not keep a deleted segment as a spare; erasing it");
            false
        }
    }
}

/// Gives the spare the name of a new segment; false (and no spare left) if that failed, in
/// which case the caller creates the segment afresh. A rename is one quick metadata call.
pub(crate) fn take_spare(dir: &Path, segment: &Path) -> bool {
    match std::fs::rename(spare_path(dir), segment) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "could not reuse the spare segment file");
            let _ = discard_spare(dir);
            false
        }
    }
}

/// Removes the spare if there is one, and a spare left half pre-written (`log::prewrite`).
pub(crate) fn discard_spare(dir: &Path) -> Result<(), EngineError> {
    for path in [spare_path(dir), dir.join(PREWRITE_SPARE_FILE)] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EngineError::io("remove", path, e)),
        }
    }
    Ok(())
}

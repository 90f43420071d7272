//! A closed segment whose batches end before the next segment begins. After a crash that is
//! the roll's last write of the old segment, lost while a few writes to the new segment
//! completed: the log ends there and those later segments hold nothing anyone was promised
//! (an acknowledgement waits for every byte before it). But a damaged tail of an old segment
//! (bit rot, a stray write) looks the same, and then the later segments hold acknowledged data,
//! possibly gigabytes of it.
//!
//! The two are told apart by how much the later segments hold: a crash leaves at most the
//! writes that were in flight ([`CRASH_TAIL_BYTES_MAX`]). Up to that they are removed, as
//! Kafka does when it truncates an unflushed log; beyond it they are moved, whole, into a
//! `set-aside-<ms>` directory of the partition with an error in the log, so an operator can
//! inspect them with `pinlog dump-log` instead of finding them gone.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::EngineError;
use crate::index::SegmentIndexes;
use crate::io::data_dir::sync_dir;
use crate::io::{FaultPlan, SegmentFile};
use crate::limits::{BATCH_BYTES_MAX, CRASH_TAIL_BYTES_MAX};
use crate::segment::{segment_path, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

const SEGMENT_SUFFIXES: [&str; 3] = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX];

/// Removes the segments `later` (base offsets, after the one that ends early) or, when they
/// hold more than a crash leaves, sets them aside. Returns where they went, if set aside.
pub(super) async fn drop_later_segments(
    dir: &Path,
    later: &[i64],
    faults: &Option<Rc<FaultPlan>>,
    index_interval_bytes: u32,
) -> Result<Option<PathBuf>, EngineError> {
    let held = data_bytes_up_to(dir, later, faults, index_interval_bytes).await?;
    if held <= CRASH_TAIL_BYTES_MAX {
        for &base in later {
            for suffix in SEGMENT_SUFFIXES {
                let path = segment_path(dir, base, suffix);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(EngineError::io("remove", path, e)),
                }
            }
        }
        sync_dir(dir).await?;
        return Ok(None);
    }
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let aside = dir.join(format!("set-aside-{millis}"));
    std::fs::create_dir(&aside).map_err(|e| EngineError::io("create directory", &aside, e))?;
    for &base in later {
        for suffix in SEGMENT_SUFFIXES {
            let path = segment_path(dir, base, suffix);
            let Some(name) = path.file_name() else {
                continue;
            };
            match std::fs::rename(&path, aside.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::io("rename", path, e)),
            }
        }
    }
    sync_dir(&aside).await?;
    sync_dir(dir).await?;
    Ok(Some(aside))
}

/// Bytes of valid batches the segments hold, counted until they pass [`CRASH_TAIL_BYTES_MAX`]
/// (so a long log is not read whole to learn that it is long).
async fn data_bytes_up_to(
    dir: &Path,
    bases: &[i64],
    faults: &Option<Rc<FaultPlan>>,
    index_interval_bytes: u32,
) -> Result<u64, EngineError> {
    let mut held = 0;
    for &base in bases {
        let file =
            SegmentFile::open(&segment_path(dir, base, LOG_SUFFIX), false, faults.clone()).await?;
        let size = file.size().await?;
        // Past the bound by a whole batch at most: enough to know.
        let limit = size.min(CRASH_TAIL_BYTES_MAX + BATCH_BYTES_MAX as u64);
        let indexes = SegmentIndexes::new(base, index_interval_bytes);
        let scanned = super::open::scan_segment(&file, base, 0, limit, indexes).await;
        file.close().await?;
        held += scanned?.data_len;
        if held > CRASH_TAIL_BYTES_MAX {
            break;
        }
    }
    Ok(held)
}

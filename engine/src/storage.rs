//! What a shard's logs share: the batch cache, log ids, the device flush, and the data
//! directory.

use std::cell::{Cell, RefCell};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::cache::BatchCache;
use crate::config::IoMode;
use crate::error::EngineError;
use crate::io::data_dir::{self, DataDirLock};
use crate::io::{FaultPlan, SharedFlush};

/// The process-wide hold on a data directory: its lock, taken once before any shard opens a
/// log. Checks that the filesystem supports O_DIRECT unless buffered I/O is allowed.
pub struct DataDir {
    lock: DataDirLock,
}

impl DataDir {
    pub fn open(path: &Path, io_mode: IoMode) -> Result<DataDir, EngineError> {
        let lock = data_dir::lock(path)?;
        data_dir::check_direct_io(path, io_mode)?;
        Ok(DataDir { lock })
    }

    pub fn path(&self) -> &Path {
        self.lock.path()
    }
}

/// Per-shard storage state, shared (`Rc`) by the shard's logs. Not `Send`: it lives and dies
/// on its shard.
pub struct ShardStorage {
    root: PathBuf,
    cache: Rc<RefCell<BatchCache>>,
    next_log_id: Cell<u64>,
    faults: Option<Rc<FaultPlan>>,
    device_probed: Cell<bool>,
    /// One shared flush per device (`st_dev`) the shard's logs are on: a flush covers only
    /// its own device. Bounded by the devices a data directory spans.
    shared_flushes: RefCell<Vec<(u64, Rc<SharedFlush>)>>,
    /// Whether logs opened from now on may share it (see [`ShardStorage::set_flush_sharing`]).
    flush_sharing: Cell<bool>,
    /// One log of the shard pre-writes a spare at a time (`log::prewrite`): the zeros queue
    /// behind one another, not in front of the appends.
    prewrite_turn: Rc<glommio::sync::Semaphore>,
}

impl ShardStorage {
    pub fn new(root: &Path, cache_bytes: usize) -> Rc<ShardStorage> {
        ShardStorage::build(root, cache_bytes, None)
    }

    /// Storage whose segment files inject the faults of `plan` (tests).
    pub fn with_faults(root: &Path, cache_bytes: usize, plan: Rc<FaultPlan>) -> Rc<ShardStorage> {
        ShardStorage::build(root, cache_bytes, Some(plan))
    }

    fn build(root: &Path, cache_bytes: usize, faults: Option<Rc<FaultPlan>>) -> Rc<ShardStorage> {
        Rc::new(ShardStorage {
            root: root.to_path_buf(),
            cache: Rc::new(RefCell::new(BatchCache::new(cache_bytes))),
            next_log_id: Cell::new(1),
            faults,
            device_probed: Cell::new(false),
            shared_flushes: RefCell::default(),
            flush_sharing: Cell::new(true),
            prewrite_turn: Rc::new(glommio::sync::Semaphore::new(1)),
        })
    }

    pub(crate) fn prewrite_turn(&self) -> Rc<glommio::sync::Semaphore> {
        self.prewrite_turn.clone()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn cache(&self) -> Rc<RefCell<BatchCache>> {
        self.cache.clone()
    }

    pub(crate) fn faults(&self) -> Option<Rc<FaultPlan>> {
        self.faults.clone()
    }

    /// See [`data_dir::prime_device_probe`]: once per shard, before its first segment opens.
    pub(crate) async fn prime_device_probe(&self, dir: &Path) -> Result<(), EngineError> {
        if self.device_probed.get() {
            return Ok(());
        }
        data_dir::prime_device_probe(dir).await?;
        self.device_probed.set(true);
        Ok(())
    }

    /// The shard's shared flush of the device `dir` is on, for a log in `dir` if its
    /// filesystem makes a flush device-wide (see `io::shared_flush`); `None` means every file
    /// syncs on its own.
    pub(crate) fn shared_flush_for(
        &self,
        dir: &Path,
    ) -> Result<Option<Rc<SharedFlush>>, EngineError> {
        if !self.flush_sharing.get() || !data_dir::flush_is_device_wide(dir)? {
            return Ok(None);
        }
        let device = std::fs::metadata(dir)
            .map_err(|e| EngineError::io("stat", dir, e))?
            .dev();
        let mut flushes = self.shared_flushes.borrow_mut();
        if let Some((_, flush)) = flushes.iter().find(|(dev, _)| *dev == device) {
            return Ok(Some(flush.clone()));
        }
        let flush = Rc::new(SharedFlush::default());
        flushes.push((device, flush.clone()));
        Ok(Some(flush))
    }

    /// On by default. Off, every log opened afterwards fdatasyncs each of its files itself,
    /// as before the shared flush existed: for measuring what sharing gains, or for a device
    /// whose cache flush should not be trusted to cover files it was not asked for.
    pub fn set_flush_sharing(&self, enabled: bool) {
        self.flush_sharing.set(enabled);
    }

    pub(crate) fn next_log_id(&self) -> u64 {
        let id = self.next_log_id.get();
        self.next_log_id.set(id + 1);
        id
    }
}

//! The data directory: an exclusive lock, the O_DIRECT filesystem check, directory syncs.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::IoMode;
use crate::error::{from_glommio, EngineError};

const LOCK_FILE: &str = ".lock";

/// Holds the data directory's lock (flock on `<dir>/.lock`) for as long as it lives; the file
/// records the holder's pid for the error another process gets.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Creates the directory if needed and takes its lock; a second process gets
/// [`EngineError::DirectoryLocked`].
pub fn lock(dir: &Path) -> Result<DataDirLock, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io("create directory", dir, e))?;
    let lock_path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| EngineError::io("open", &lock_path, e))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(EngineError::DirectoryLocked {
                path: dir.to_path_buf(),
                holder: text.trim().parse().ok(),
            });
        }
        return Err(EngineError::io("flock", &lock_path, error));
    }
    // The pid only names the holder in a second process's error; the flock is the lock. On a
    // full disk the write fails (truncating frees the block only later) and the broker must
    // still start, to serve what it holds.
    let pid = std::process::id().to_string();
    if let Err(error) = file
        .set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| file.write_all(pid.as_bytes()))
    {
        tracing::warn!(path = %lock_path.display(), %error, "could not write the pid into the lock file");
    }
    Ok(DataDirLock {
        _file: file,
        path: dir.to_path_buf(),
    })
}

/// Refuses a directory whose filesystem cannot do O_DIRECT, unless buffered I/O is allowed.
/// glommio would silently fall back to buffered I/O on tmpfs; we want the operator to know.
pub fn check_direct_io(dir: &Path, mode: IoMode) -> Result<(), EngineError> {
    if mode == IoMode::AllowBuffered {
        return Ok(());
    }
    if let Some(filesystem) = memory_filesystem(dir)? {
        return Err(EngineError::DirectIoUnsupported {
            path: dir.to_path_buf(),
            filesystem,
        });
    }
    // Other filesystems may refuse O_DIRECT too (EINVAL at open): probe once.
    let probe = dir.join(".direct-io-probe");
    let result = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&probe);
    let _ = std::fs::remove_file(&probe);
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Err(EngineError::DirectIoUnsupported {
            path: dir.to_path_buf(),
            filesystem: "a filesystem",
        }),
        Err(e) => Err(EngineError::io("probe O_DIRECT", &probe, e)),
    }
}

fn memory_filesystem(dir: &Path) -> Result<Option<&'static str>, EngineError> {
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    Ok(match filesystem_magic(dir)? {
        t if t == libc::TMPFS_MAGIC => Some("tmpfs"),
        RAMFS_MAGIC => Some("ramfs"),
        _ => None,
    })
}

/// Whether an fdatasync of a file with nothing of its own to write still flushes the device's
/// write cache on `dir`'s filesystem (see `io::shared_flush`): true for ext4 and XFS, whose
/// fsync paths end in a cache flush whenever the file's metadata needed no journal commit.
pub fn flush_is_device_wide(dir: &Path) -> Result<bool, EngineError> {
    let magic = filesystem_magic(dir)?;
    Ok(magic == libc::EXT4_SUPER_MAGIC || magic == libc::XFS_SUPER_MAGIC)
}

/// The file [`has_room_for`] reserves and removes.
const SPACE_PROBE_FILE: &str = ".space-probe";

/// Whether this process can reserve `bytes` on `dir`'s filesystem now: tried for real (a
/// fallocate in a scratch file, removed again), because no statfs figure says it. Root may or
/// may not use the blocks ext4 reserves (that takes CAP_SYS_RESOURCE, which containers
/// drop), and ext4 keeps a further reserve (up to 2%) that no one's writes get.
pub fn has_room_for(dir: &Path, bytes: u64) -> Result<bool, EngineError> {
    use std::os::fd::AsRawFd;
    let path = dir.join(SPACE_PROBE_FILE);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| EngineError::io("create", &path, e))?;
    let length = libc::off_t::try_from(bytes).unwrap_or(libc::off_t::MAX);
    // SAFETY: a valid open descriptor; fallocate reads no memory of ours.
    let reserved = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, length) } == 0;
    let error = std::io::Error::last_os_error();
    drop(file);
    let _ = std::fs::remove_file(&path);
    match (reserved, error.raw_os_error()) {
        (true, _) => Ok(true),
        (false, Some(libc::ENOSPC)) => Ok(false),
        (false, _) => Err(EngineError::io("fallocate", &path, error)),
    }
}

/// The size of `dir`'s filesystem and what an unprivileged writer may still allocate (free
/// less the blocks reserved for root: what Kafka calls usable space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub total_bytes: u64,
    pub available_bytes: u64,
}

// The statfs fields' types differ between architectures: the casts are not all no-ops.
#[allow(clippy::unnecessary_cast)]
pub fn capacity(dir: &Path) -> Result<Capacity, EngineError> {
    let stat = statfs(dir)?;
    // Block counts are in fragment units; old kernels leave f_frsize zero.
    let block = match stat.f_frsize as u64 {
        0 => stat.f_bsize as u64,
        fragment => fragment,
    };
    Ok(Capacity {
        total_bytes: (stat.f_blocks as u64).saturating_mul(block),
        available_bytes: (stat.f_bavail as u64).saturating_mul(block),
    })
}

#[allow(clippy::unnecessary_cast)]
fn filesystem_magic(dir: &Path) -> Result<i64, EngineError> {
    Ok(statfs(dir)?.f_type as i64)
}

fn statfs(dir: &Path) -> Result<libc::statfs, EngineError> {
    let c_path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).map_err(|_| {
        EngineError::io(
            "statfs",
            dir,
            std::io::Error::from(std::io::ErrorKind::InvalidInput),
        )
    })?;
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a valid out-pointer.
    if unsafe { libc::statfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(EngineError::io(
            "statfs",
            dir,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(stat)
}

/// Makes a directory's entries (new or removed segment files) durable.
pub async fn sync_dir(dir: &Path) -> Result<(), EngineError> {
    let directory = glommio::io::Directory::open(dir)
        .await
        .map_err(|e| from_glommio("open", dir, e))?;
    directory
        .sync()
        .await
        .map_err(|e| from_glommio("fsync", dir, e))?;
    directory
        .close()
        .await
        .map_err(|e| from_glommio("close", dir, e))
}

/// Works around glommio 0.9's iopoll probe. glommio decides, per thread and block device,
/// whether DMA reads may use io_uring's poll ring by reading the first DMA file it opens on
/// that device. A new, empty segment file answers that read without reaching the device, so
/// glommio concludes iopoll works, and every later read fails with EOPNOTSUPP on devices
/// without poll queues (virtio, most cloud disks). Opening a file that holds real data first
/// makes the probe reach the device and learn the truth. Call once per shard thread before it
/// opens segments in `dir`. A segment of `dir` that holds a batch serves as that file, so a
/// log on a full disk still opens (and serves its data); else a probe file is written.
pub async fn prime_device_probe(dir: &Path) -> Result<(), EngineError> {
    if let Some(segment) = segment_with_data(dir) {
        let probe = glommio::io::DmaFile::open(&segment)
            .await
            .map_err(|e| from_glommio("open", &segment, e))?;
        return probe
            .close()
            .await
            .map_err(|e| from_glommio("close", &segment, e));
    }
    let path = dir.join(".device-probe");
    {
        let mut file = File::create(&path).map_err(|e| EngineError::io("create", &path, e))?;
        file.write_all(&[0xa5; 4096])
            .and_then(|_| file.sync_all())
            .map_err(|e| EngineError::io("write", &path, e))?;
    }
    let probe = glommio::io::DmaFile::open(&path)
        .await
        .map_err(|e| from_glommio("open", &path, e))?;
    probe
        .close()
        .await
        .map_err(|e| from_glommio("close", &path, e))?;
    std::fs::remove_file(&path).map_err(|e| EngineError::io("remove", &path, e))
}

/// A segment file whose first page holds data, in `dir` or in another log's directory beside
/// it: a batch's length field (bytes 8..12) is not zero, where a pre-allocated but unwritten
/// start reads as zeros.
fn segment_with_data(dir: &Path) -> Option<std::path::PathBuf> {
    segment_with_data_in(dir).or_else(|| {
        std::fs::read_dir(dir.parent()?)
            .ok()?
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
            .find_map(|entry| segment_with_data_in(&entry.path()))
    })
}

fn segment_with_data_in(dir: &Path) -> Option<std::path::PathBuf> {
    use std::io::Read;
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let path = entry.path();
        if path
            .extension()
            .is_none_or(|x| x != crate::segment::LOG_SUFFIX)
        {
            return None;
        }
        let mut head = [0u8; 12];
        File::open(&path).ok()?.read_exact(&mut head).ok()?;
        let length = u32::from_be_bytes(head[8..12].try_into().expect("4 bytes"));
        (length > 0 && entry.metadata().ok()?.len() >= 4096).then_some(path)
    })
}

//! A segment file: glommio's `DmaFile` plus the fault seam.

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use glommio::io::{DmaBuffer, DmaFile, OpenOptions};

use super::FaultPlan;
use crate::error::{from_glommio, EngineError};

/// A buffer aligned for O_DIRECT, allocated by the file's reactor.
pub struct AlignedBuffer(pub(crate) DmaBuffer);

impl AlignedBuffer {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.0.as_bytes_mut()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Shrinks the buffer to `len` bytes (a multiple of the page size when written).
    pub fn truncate(&mut self, len: usize) {
        self.0.trim_to_size(len);
    }
}

/// One segment's data file. Owned by the shard that owns the log; not shared across threads.
pub struct SegmentFile {
    file: DmaFile,
    path: PathBuf,
    faults: Option<Rc<FaultPlan>>,
    /// Bytes from the start whose blocks are written and synced already (a recycled segment's
    /// old length; 0 otherwise): overwriting them changes no metadata that recovery needs.
    overwrite_len: Cell<u64>,
    /// A completed change may have left metadata that only this file's own fdatasync writes:
    /// its creation, a pre-allocation or truncation, a write past `overwrite_len` (which
    /// converts unwritten extents). While false, a device flush makes its writes durable
    /// (see `io::shared_flush`).
    metadata_unsynced: Cell<bool>,
    /// The kernel confirms that writes to this file bypass the page cache. ext4 opens a file
    /// with O_DIRECT and still buffers it when it journals the file's data (`data=journal`,
    /// `chattr +j`) or encrypts it without inline encryption; a device flush does not cover
    /// such writes, so without this every sync of the file is its own.
    direct_confirmed: bool,
}

impl SegmentFile {
    /// Opens (and with `create`, creates) a file for reading and writing with O_DIRECT.
    pub async fn open(
        path: &Path,
        create: bool,
        faults: Option<Rc<FaultPlan>>,
    ) -> Result<Self, EngineError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .dma_open(path)
            .await
            .map_err(|e| from_glommio("open", path, e))?;
        let direct_confirmed = direct_io_confirmed(file.as_raw_fd());
        Ok(SegmentFile {
            file,
            path: path.to_path_buf(),
            faults,
            overwrite_len: Cell::new(0),
            metadata_unsynced: Cell::new(true),
            direct_confirmed,
        })
    }

    /// Declares the first `len` bytes written and synced: a recycled file, reused at its old
    /// length.
    pub fn set_overwrite_len(&self, len: u64) {
        self.overwrite_len.set(len);
    }

    /// Records a completed write of `[position, end)`. Called by the log in log order, as it
    /// counts the write as written, so that a sync that covers the write also sees this.
    pub fn note_written(&self, end: u64) {
        if end > self.overwrite_len.get() {
            self.metadata_unsynced.set(true);
        }
    }

    /// Whether the file needs an fdatasync of its own for what was noted so far; a sync about
    /// to cover it calls this, which clears the flag.
    pub fn take_metadata_unsynced(&self) -> bool {
        self.metadata_unsynced.replace(false) || !self.direct_confirmed
    }

    /// Whether the kernel confirmed that this file's writes bypass the page cache.
    pub fn direct_io_confirmed(&self) -> bool {
        self.direct_confirmed
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A buffer of `len` bytes aligned for this file. Its contents are unspecified: callers
    /// write every byte they later write to the file (the appender zeroes its padding).
    pub fn alloc_buffer(&self, len: usize) -> AlignedBuffer {
        AlignedBuffer(self.file.alloc_dma_buffer(len))
    }

    /// Writes the whole buffer at `position` (both page-aligned). A short write is an error:
    /// the caller treats the region as unwritten.
    pub async fn write_at(&self, buffer: AlignedBuffer, position: u64) -> Result<(), EngineError> {
        let len = buffer.len();
        if let Some(faults) = &self.faults {
            faults
                .before_write(len)
                .map_err(|e| EngineError::io("write", &self.path, e))?;
        }
        let written = self
            .file
            .write_at(buffer.0, position)
            .await
            .map_err(|e| from_glommio("write", &self.path, e))?;
        if written != len {
            return Err(EngineError::io(
                "write",
                &self.path,
                std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    format!("short write: {written} of {len} bytes"),
                ),
            ));
        }
        Ok(())
    }

    /// Reads up to `len` bytes at `position` into an owned `Bytes` (one copy out of the DMA
    /// buffer, whose memory belongs to this shard's reactor). Fewer bytes at end of file.
    pub async fn read_at(&self, position: u64, len: usize) -> Result<Bytes, EngineError> {
        let read = self
            .file
            .read_at(position, len)
            .await
            .map_err(|e| from_glommio("read", &self.path, e))?;
        if let Some(faults) = &self.faults {
            faults.note_read(read.len());
        }
        Ok(Bytes::copy_from_slice(&read))
    }

    pub async fn sync(&self) -> Result<(), EngineError> {
        if let Some(faults) = &self.faults {
            faults
                .before_sync()
                .map_err(|e| EngineError::io("fdatasync", &self.path, e))?;
        }
        self.file
            .fdatasync()
            .await
            .map_err(|e| from_glommio("fdatasync", &self.path, e))
    }

    /// Pre-allocates the file to `size` bytes (zeros beyond the data), so appends within it
    /// change no file size and fdatasync carries no size update. On a full disk the file
    /// keeps its size: ext4 keeps whatever a failed fallocate managed to allocate (up to all
    /// the free space, the file growing by it), which would leave no block for the writes of
    /// this log or any other; the file is cut back to give it up.
    pub async fn preallocate(&self, size: u64) -> Result<(), EngineError> {
        if let Some(faults) = &self.faults {
            faults
                .before_preallocate(size)
                .map_err(|e| EngineError::io("fallocate", &self.path, e))?;
        }
        let before = self.size().await?;
        self.metadata_unsynced.set(true);
        let result = self
            .file
            .pre_allocate(size, false)
            .await
            .map_err(|e| from_glommio("fallocate", &self.path, e));
        if let Err(EngineError::NoSpace { .. }) = result {
            if size > before {
                if let Err(error) = self.truncate(before).await {
                    tracing::warn!(%error, "could not give back a failed pre-allocation");
                }
            }
        }
        result
    }

    pub async fn truncate(&self, size: u64) -> Result<(), EngineError> {
        self.metadata_unsynced.set(true);
        self.overwrite_len.set(self.overwrite_len.get().min(size));
        self.file
            .truncate(size)
            .await
            .map_err(|e| from_glommio("truncate", &self.path, e))
    }

    pub async fn size(&self) -> Result<u64, EngineError> {
        self.file
            .file_size()
            .await
            .map_err(|e| from_glommio("stat", &self.path, e))
    }

    pub async fn close(self) -> Result<(), EngineError> {
        let path = self.path;
        self.file
            .close()
            .await
            .map_err(|e| from_glommio("close", &path, e))
    }
}

/// Whether `statx` says direct I/O is in effect for the open file (Linux 6.1 and later report
/// it; an older kernel, or a filesystem that does not say, counts as no).
fn direct_io_confirmed(fd: std::os::fd::RawFd) -> bool {
    // SAFETY: an all-zero statx is a valid value of the plain C struct.
    let mut stat: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open for the duration of the call, the path is a valid empty C string
    // (with AT_EMPTY_PATH the call looks at fd itself) and stat a valid out-pointer.
    let result = unsafe {
        libc::statx(
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_DIOALIGN,
            &mut stat,
        )
    };
    result == 0 && stat.stx_mask & libc::STATX_DIOALIGN != 0 && stat.stx_dio_offset_align != 0
}

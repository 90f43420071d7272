//! The plain-syscall floors of the latency test: a bare O_DIRECT write + fdatasync, and the
//! simplest group commit at a rate. No io_uring, no engine.

use std::alloc::Layout;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use super::{LatencyRun, GENERATOR_SLEEP_MIN, MIB, RAW_FILE_BYTES};

/// The largest write of the raw group-commit baseline.
const GROUP_COMMIT_BYTES_MAX: usize = 8 * MIB;
const PAGE_BYTES: usize = 4096;

/// Plain syscalls: an O_DIRECT `pwrite` at the next position of a pre-written file (wrapping
/// around at its end), then `fdatasync`. No io_uring, no engine.
pub struct SyncWriter {
    file: File,
    buffer: *mut u8,
    buffer_bytes: usize,
    file_bytes: u64,
    position: u64,
}

impl SyncWriter {
    /// A file of `file_bytes`, written through, and a buffer for writes of up to
    /// `buffer_bytes` (a multiple of the page size).
    pub fn new(path: &Path, buffer_bytes: usize, file_bytes: u64) -> SyncWriter {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .expect("creating the sync file");
        let layout = Self::layout(buffer_bytes);
        // SAFETY: a non-zero size; freed in Drop with the same layout.
        let buffer = unsafe { std::alloc::alloc(layout) };
        assert!(!buffer.is_null());
        // SAFETY: `buffer` holds `layout.size()` bytes we own.
        unsafe { std::ptr::write_bytes(buffer, 0xa5, layout.size()) };
        let writer = SyncWriter {
            file,
            buffer,
            buffer_bytes,
            file_bytes,
            position: 0,
        };
        for position in (0..file_bytes).step_by(buffer_bytes) {
            let len = buffer_bytes.min((file_bytes - position) as usize);
            writer
                .file
                .write_all_at(writer.bytes(len), position)
                .expect("filling the sync file");
        }
        writer.file.sync_all().expect("syncing the sync file");
        writer
    }

    fn layout(bytes: usize) -> Layout {
        Layout::from_size_align(bytes, PAGE_BYTES).expect("a valid layout")
    }

    fn bytes(&self, len: usize) -> &[u8] {
        assert!(len <= self.buffer_bytes);
        // SAFETY: `buffer` holds `buffer_bytes` initialised bytes for as long as `self`.
        unsafe { std::slice::from_raw_parts(self.buffer, len) }
    }

    /// Writes `len` bytes and waits for them with fdatasync.
    pub fn write_and_sync(&mut self, len: usize) {
        if self.position + len as u64 > self.file_bytes {
            self.position = 0;
        }
        self.file
            .write_all_at(self.bytes(len), self.position)
            .expect("a write");
        self.file.sync_data().expect("an fdatasync");
        self.position += len as u64;
    }
}

impl Drop for SyncWriter {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.buffer, Self::layout(self.buffer_bytes)) };
    }
}

/// The simplest group commit, as the floor of Durable appends at a rate: appends of
/// `append_bytes` due at `rate_per_s` from the start, one thread of plain syscalls that
/// writes everything due (up to `GROUP_COMMIT_BYTES_MAX`) in one `pwrite`, `fdatasync`s, and
/// repeats, into a written-through file (overwrites, as recycled segments take). Each latency
/// counts from the append's intended time, as the engine's runs do.
pub fn raw_group_commit(
    path: &Path,
    append_bytes: usize,
    rate_per_s: f64,
    length: Duration,
) -> LatencyRun {
    let mut writer = SyncWriter::new(path, GROUP_COMMIT_BYTES_MAX, RAW_FILE_BYTES);
    let interval = Duration::from_secs_f64(1.0 / rate_per_s);
    let count = (length.as_secs_f64() * rate_per_s) as u64;
    // Writes are whole pages (O_DIRECT), as the engine's are: a group is rounded up.
    let group_max = ((GROUP_COMMIT_BYTES_MAX - PAGE_BYTES) / append_bytes) as u64;
    let mut latencies = Vec::with_capacity(count as usize);
    let start = Instant::now();
    let intended = |i: u64| start + interval.mul_f64(i as f64);
    let mut done = 0u64;
    while done < count {
        let now = Instant::now();
        let next = intended(done);
        if next > now {
            // Sleep most of the wait, spin the rest (a sleep overshoots by tens of µs).
            let wait = next - now;
            if wait > GENERATOR_SLEEP_MIN {
                std::thread::sleep(wait - GENERATOR_SLEEP_MIN / 2);
            } else {
                std::hint::spin_loop();
            }
            continue;
        }
        let due = ((now - start).as_secs_f64() * rate_per_s) as u64 + 1;
        let group = due.min(count).saturating_sub(done).clamp(1, group_max);
        writer.write_and_sync((group as usize * append_bytes).next_multiple_of(PAGE_BYTES));
        let finished = Instant::now();
        latencies.extend((done..done + group).map(|i| finished - intended(i)));
        done += group;
    }
    drop(writer);
    let _ = std::fs::remove_file(path);
    LatencyRun {
        rate_per_s,
        latencies,
        send_lags: Vec::new(),
        elapsed: start.elapsed(),
    }
}

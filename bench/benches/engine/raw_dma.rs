//! The raw baselines of the throughput benchmarks: glommio DMA writes of 1 MiB buffers with no
//! engine, overwriting written blocks (the device's limit) or filling fresh fallocated
//! extents (the filesystem's limit for what the engine does), into one file or spread over as
//! many files as the engine's 64-partition runs write; and the bare 16 KiB write + fdatasync.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use glommio::io::{DmaFile, OpenOptions as DmaOpenOptions};
use glommio::LocalExecutor;

use super::plain_sync::SyncWriter;
use super::{Results, KIB, MIB, RAW_FILE_BYTES};

/// The fresh files' bytes in all, large enough that a sample does not wrap around (which
/// would overwrite written blocks).
const RAW_FRESH_BYTES: u64 = 4096 * MIB as u64;
pub(super) const RAW_WRITE_BYTES: usize = MIB;
pub(super) const SYNC_WRITE_BYTES: usize = 16 * KIB;
pub(super) const SYNC_FILE_BYTES: u64 = 64 * MIB as u64;

/// One raw case: writes in flight, whether they fill fresh fallocated extents (as the
/// engine's segments are) or overwrite written blocks, and the files they go to in turn.
#[derive(Clone, Copy)]
pub(super) struct RawCase {
    pub depth: usize,
    pub fresh: bool,
    pub files: usize,
}

pub(super) const RAW_DMA_CASES: [RawCase; 5] = [
    RawCase::overwriting(1),
    RawCase::overwriting(4),
    RawCase::overwriting(16),
    RawCase::FALLOCATED,
    // The 64-partition runs' shape without the engine: 64 fresh files written in turn, with
    // as many bytes in flight as the engine benchmarks keep (`IN_FLIGHT_BYTES`).
    RawCase {
        depth: 32,
        fresh: true,
        files: 64,
    },
];

impl RawCase {
    /// The baseline the goals are judged against: one fresh fallocated file at queue depth 4.
    pub const FALLOCATED: RawCase = RawCase {
        depth: 4,
        fresh: true,
        files: 1,
    };

    const fn overwriting(depth: usize) -> RawCase {
        RawCase {
            depth,
            fresh: false,
            files: 1,
        }
    }

    /// `raw/dma-write-1MiB/qd4`, `.../qd4-fallocated`, `.../qd32-fallocated-64files`.
    pub fn name(self) -> String {
        format!("raw/dma-write-1MiB/{}", self.case())
    }

    fn case(self) -> String {
        let mut case = format!("qd{}", self.depth);
        if self.fresh {
            case.push_str("-fallocated");
        }
        if self.files > 1 {
            case.push_str(&format!("-{}files", self.files));
        }
        case
    }

    /// Each file's size: a pre-written one wraps around; fresh ones share `RAW_FRESH_BYTES`.
    fn file_bytes(self) -> u64 {
        if self.fresh {
            RAW_FRESH_BYTES / self.files as u64
        } else {
            RAW_FILE_BYTES
        }
    }
}

pub(super) fn raw_baselines(c: &mut Criterion, ex: &LocalExecutor, root: &Path, results: &Results) {
    let mut group = c.benchmark_group("raw");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Bytes(RAW_WRITE_BYTES as u64));
    for case in RAW_DMA_CASES {
        let name = case.name();
        // Set up on first use: criterion calls the routine only if its filter selects it.
        let files: RefCell<Option<Rc<Vec<DmaFile>>>> = RefCell::new(None);
        let next_write = Cell::new(0u64);
        group.bench_function(BenchmarkId::new("dma-write-1MiB", case.case()), |b| {
            let files = files
                .borrow_mut()
                .get_or_insert_with(|| Rc::new(ex.run(raw_dma_files(root, case))))
                .clone();
            b.iter_custom(|iters| {
                if case.fresh {
                    ex.run(reallocate(&files, case));
                    next_write.set(0);
                }
                let elapsed = ex.run(dma_writes(files.clone(), case, iters, &next_write));
                results.record(&name, iters * RAW_WRITE_BYTES as u64, elapsed);
                elapsed
            })
        });
        if let Some(files) = files.into_inner() {
            ex.run(async {
                let files = Rc::into_inner(files).expect("no write in flight");
                for file in files {
                    file.close().await.expect("closing a raw file");
                }
            });
            for index in 0..case.files {
                let _ = std::fs::remove_file(raw_path(root, index));
            }
        }
    }

    let name = "raw/write+fdatasync-16KiB";
    let path = root.join("raw-sync");
    let writer: RefCell<Option<SyncWriter>> = RefCell::new(None);
    group.throughput(Throughput::Bytes(SYNC_WRITE_BYTES as u64));
    group.bench_function("write+fdatasync-16KiB", |b| {
        let mut writer = writer.borrow_mut();
        let writer =
            writer.get_or_insert_with(|| SyncWriter::new(&path, SYNC_WRITE_BYTES, SYNC_FILE_BYTES));
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                writer.write_and_sync(SYNC_WRITE_BYTES);
            }
            let elapsed = start.elapsed();
            results.record(name, iters * SYNC_WRITE_BYTES as u64, elapsed);
            elapsed
        })
    });
    if writer.into_inner().is_some() {
        let _ = std::fs::remove_file(&path);
    }
    group.finish();
}

fn raw_path(root: &Path, index: usize) -> std::path::PathBuf {
    root.join(format!("raw-dma-{index}"))
}

/// The case's files, pre-allocated. Pre-written too unless fresh: the measured writes then
/// overwrite written blocks and change no metadata. Fresh ones have unwritten extents, as the
/// engine's segment files do, which the filesystem converts as the writes complete.
async fn raw_dma_files(root: &Path, case: RawCase) -> Vec<DmaFile> {
    let mut files = Vec::with_capacity(case.files);
    for index in 0..case.files {
        let file = DmaOpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .dma_open(raw_path(root, index))
            .await
            .expect("creating a raw file");
        file.pre_allocate(case.file_bytes(), false)
            .await
            .expect("pre-allocating a raw file");
        if !case.fresh {
            let mut position = 0;
            while position < case.file_bytes() {
                let mut buffer = file.alloc_dma_buffer(RAW_WRITE_BYTES);
                buffer.as_bytes_mut().fill(0xa5);
                file.write_at(buffer, position)
                    .await
                    .expect("filling a raw file");
                position += RAW_WRITE_BYTES as u64;
            }
        }
        file.fdatasync().await.expect("syncing a raw file");
        files.push(file);
    }
    files
}

/// Gives the files fresh unwritten extents again (outside the timing).
async fn reallocate(files: &[DmaFile], case: RawCase) {
    for file in files {
        file.truncate(0).await.expect("truncating a raw file");
        file.pre_allocate(case.file_bytes(), false)
            .await
            .expect("pre-allocating a raw file");
        file.fdatasync().await.expect("syncing a raw file");
    }
}

/// `iters` 1 MiB writes with `case.depth` in flight, to the files in turn, each file written
/// sequentially and wrapped around at its end.
async fn dma_writes(
    files: Rc<Vec<DmaFile>>,
    case: RawCase,
    iters: u64,
    next: &Cell<u64>,
) -> Duration {
    let issued = Rc::new(Cell::new(0u64));
    let first = next.get();
    let start = Instant::now();
    let writers: Vec<_> = (0..case.depth)
        .map(|_| {
            let (files, issued) = (files.clone(), issued.clone());
            glommio::spawn_local(async move {
                while issued.get() < iters {
                    let index = first + issued.get();
                    issued.set(issued.get() + 1);
                    let file = &files[(index % case.files as u64) as usize];
                    let round = index / case.files as u64;
                    let position = (round * RAW_WRITE_BYTES as u64) % case.file_bytes();
                    let buffer = file.alloc_dma_buffer(RAW_WRITE_BYTES);
                    let written = file.write_at(buffer, position).await.expect("a write");
                    assert_eq!(written, RAW_WRITE_BYTES);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await;
    }
    next.set(first + iters);
    start.elapsed()
}

//! Decompression bombs: 100 MiB of zeros, compressed by every codec, is refused under a 1 MiB
//! cap, and the refusal never allocates anywhere near 100 MiB.
//!
//! The allocator of this test binary records the peak of live heap bytes, which is why this file
//! holds a single test: tests of one binary run on parallel threads and would share the count.
//! zstd allocates through C's malloc, which this does not see; its window is bounded by the
//! decoder's window limit instead (see `zstd_huge_window_is_refused` in records_compression.rs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use pinlog_protocol::records::{
    compress, decompress, BatchBuilder, BatchError, Compression, CompressionError, NewRecord,
    RecordBatch,
};

struct PeakAlloc;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let live = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Runs `f` and returns its result and the most heap it held above what was live before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_BYTES.store(before, Ordering::Relaxed);
    let result = f();
    (result, PEAK_BYTES.load(Ordering::Relaxed) - before)
}

const BOMB_BYTES: usize = 100 << 20;
const CAP_BYTES: usize = 1 << 20;
/// The cap, plus the codecs' bounded working memory (the zstd window floor of 8 MiB is the
/// largest), and slack; far below the 100 MiB the bomb would inflate to.
const PEAK_BYTES_MAX: usize = 12 << 20;

#[test]
fn bombs_are_refused_without_inflating() {
    let zeros = vec![0u8; BOMB_BYTES];
    let mut bombs: Vec<(Compression, Vec<u8>)> = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ]
    .into_iter()
    .map(|codec| (codec, compress(codec, &zeros).unwrap()))
    .collect();
    // Raw snappy declares its length up front: refused before any output.
    bombs.push((
        Compression::Snappy,
        snap::raw::Encoder::new().compress_vec(&zeros).unwrap(),
    ));
    drop(zeros);

    for (codec, bomb) in &bombs {
        let (result, peak) = peak_during(|| decompress(*codec, bomb, CAP_BYTES));
        assert_eq!(
            result,
            Err(CompressionError::OutputTooLarge {
                codec: *codec,
                output_bytes_max: CAP_BYTES
            }),
            "{codec:?}, {} compressed bytes",
            bomb.len()
        );
        assert!(peak < PEAK_BYTES_MAX, "{codec:?} held {peak} bytes");
        eprintln!(
            "{codec:?}: {} byte bomb refused, peak heap {peak} bytes",
            bomb.len()
        );
    }

    // The same through a batch: a compressed batch whose records inflate past the cap.
    for codec in [Compression::Gzip, Compression::Zstd] {
        let batch = BatchBuilder::new()
            .compression(codec)
            .record(NewRecord {
                value: Some(vec![0u8; 4 << 20].into()),
                ..NewRecord::default()
            })
            .build()
            .unwrap();
        let batch = RecordBatch::new(batch).unwrap();
        batch.validate_header().unwrap();
        let (result, peak) = peak_during(|| batch.validate_records(CAP_BYTES));
        assert!(
            matches!(
                result,
                Err(BatchError::Decompress(
                    CompressionError::OutputTooLarge { .. }
                ))
            ),
            "{codec:?}: {result:?}"
        );
        assert!(peak < PEAK_BYTES_MAX, "{codec:?} held {peak} bytes");
    }
}

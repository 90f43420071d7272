//! CRC32C throughput: pinlog's `records::crc32c` (crc-fast, SIMD folding) against the `crc32c`
//! crate (SSE4.2 `crc32` instructions, three streams interleaved), with `memcpy` of the same
//! bytes as the raw baseline. All in one group so that one run compares them side by side:
//! quote the ratios, not the absolute numbers, as the machines are shared.
//!
//! `cargo bench -p pinlog-bench --bench crc32c`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A record batch's typical sizes: a small produce, a linger-filled batch, a large batch.
const SIZES_BYTES: [usize; 3] = [512, 16 * 1024, 1024 * 1024];

fn crc32c(c: &mut Criterion) {
    let mut group = c.benchmark_group("crc32c");
    for size in SIZES_BYTES {
        // Deterministic, non-trivial content; offset by one byte so neither crate gets an
        // aligned start for free.
        let buf: Vec<u8> = (0..size + 1).map(|i| (i * 31 + 7) as u8).collect();
        let data = &buf[1..];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("pinlog/crc-fast", size), data, |b, d| {
            b.iter(|| pinlog_protocol::records::crc32c(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("crc32c-crate", size), data, |b, d| {
            b.iter(|| crc32c::crc32c(black_box(d)))
        });
        let mut target = vec![0u8; size];
        group.bench_with_input(BenchmarkId::new("memcpy", size), data, |b, d| {
            b.iter(|| {
                target.copy_from_slice(black_box(d));
                black_box(&target);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, crc32c);
criterion_main!(benches);

//! The storage engine's append path against the device it runs on, in one run (DESIGN.md,
//! "Measuring"): quote the ratios, not the absolute numbers, as the disk and CPUs are shared.
//!
//! 1. Raw baselines: glommio DMA writes of 1 MiB buffers overwriting a pre-written file (the
//!    device limit, at queue depths 1, 4 and 16); the same into fresh fallocated extents, as
//!    the engine's pre-allocated segments are (the filesystem's limit: ext4 converts unwritten
//!    extents as writes complete), into one file and in turn into 64 files (the shape of the
//!    64-partition runs); and a bare O_DIRECT `pwrite` + `fdatasync` of 16 KiB (the floor of
//!    any durable append). The raw cases live in `engine/raw_dma.rs`.
//! 2. Engine appends: batches of 1 KiB records, 16 KiB and 1 MiB per batch, completing at
//!    `Durability::Written` (acks=1) and `Durability::Durable` (acks=all), to 1 partition and
//!    to 64 partitions of one shard. [`IN_FLIGHT_BYTES`] of appends are in flight at once, as
//!    many producers would keep them, so that the flusher can group writes and fdatasyncs.
//! 3. Latency (not criterion: it measures at a fixed rate): Durable appends of 16 KiB batches
//!    sent on a fixed schedule at half the Durable throughput measured in 2, each timed from
//!    its intended send time (no coordinated omission), next to the latencies of back-to-back
//!    bare 16 KiB write + fdatasync. Retention runs every second meanwhile, as in a broker.
//!    Then a summary: every throughput as a share of both limits, and the goals, judged
//!    against the fallocated baseline (the work the engine does: its segments are fresh
//!    pre-allocated files).
//!
//! Everything runs on one glommio executor on the main thread, with the DMA memory the engine
//! recommends (`io::recommended_io_memory`: registered with io_uring, sized to the memlock
//! limit); criterion drives it through `iter_custom`, each sample timed inside the
//! executor. Data lives under `$PINLOG_BENCH_DIR` or `target/bench-data` (a real filesystem:
//! O_DIRECT; never /tmp, which may be tmpfs).
//!
//! `cargo bench -p pinlog-bench --bench engine`; a filter runs a subset (the latency test runs
//! when the 16 KiB Durable benchmarks did).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput};
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use pinlog_engine::{DataDir, Durability, IoMode, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{BatchBuilder, NewRecord, RecordBatch};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// Value size of every record.
const RECORD_VALUE_BYTES: usize = KIB;
/// Record bytes per batch (the batch adds its 61-byte header and per-record framing).
const BATCH_SIZES_BYTES: [usize; 2] = [16 * KIB, MIB];
const PARTITION_COUNTS: [usize; 2] = [1, 64];
/// Appends in flight on the shard at once, spread over its partitions (at least one per
/// partition): what a shard serving many producers holds. Group commit needs it: an fdatasync
/// costs milliseconds here, so bytes per sync must be large to approach the device limit.
const IN_FLIGHT_BYTES: usize = 32 * MIB;
/// The batch cache bound, as a shard's default.
const CACHE_BYTES: usize = 128 * MIB;
/// Retention keeps the disk from filling: enforced after every sample, outside the timing.
const RETENTION_BYTES: u64 = 1024 * MIB as u64;

/// The pre-written raw-baseline files, written in 1 MiB steps that wrap around.
const RAW_FILE_BYTES: u64 = 1024 * MIB as u64;

const WARM_UP: Duration = Duration::from_secs(1);
const MEASUREMENT: Duration = Duration::from_secs(4);
const SAMPLES: usize = 10;

/// The latency test's batch size, its length per configuration, and its share of the maximum.
const LATENCY_BATCH_BYTES: usize = 16 * KIB;
/// Long enough at one partition for the log to reach its retention limit and write into
/// recycled files, as a broker's logs do in steady state.
const LATENCY_WARM_UP: Duration = Duration::from_secs(4);
const LATENCY_MEASUREMENT: Duration = Duration::from_secs(15);
const LATENCY_LOAD_FRACTION: f64 = 0.5;
/// The generator's shortest sleep: appends due by the time it wakes go out together.
const GENERATOR_SLEEP_MIN: Duration = Duration::from_micros(50);
/// The name of the latency rows of the raw group commit, the floor of the engine rows after.
const RAW_GROUP_COMMIT: &str = "raw group commit";

#[path = "engine/plain_sync.rs"]
mod plain_sync;
#[path = "engine/raw_dma.rs"]
mod raw_dma;
#[path = "engine/recycled_latency.rs"]
mod recycled_latency;

use plain_sync::{raw_group_commit, SyncWriter};
use raw_dma::{raw_baselines, RawCase, RAW_DMA_CASES, SYNC_FILE_BYTES, SYNC_WRITE_BYTES};

fn main() {
    let root = bench_root();
    let _ = std::fs::remove_dir_all(&root);
    let data_dir = DataDir::open(&root, IoMode::Direct).expect("a data directory with O_DIRECT");
    let io_memory = pinlog_engine::io::recommended_io_memory(1);
    println!(
        "DMA memory: {} MiB ({})",
        io_memory.bytes >> 20,
        io_memory.reason
    );
    let executor = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(io_memory.bytes)
        .make()
        .expect("a glommio executor");
    // glommio's iopoll probe must read real data before this thread opens any DMA file.
    executor
        .run(pinlog_engine::io::data_dir::prime_device_probe(
            data_dir.path(),
        ))
        .expect("the device probe");

    let results = Results::default();
    let mut criterion = Criterion::default()
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES)
        .configure_from_args();
    raw_baselines(&mut criterion, &executor, data_dir.path(), &results);
    engine_appends(&mut criterion, &executor, data_dir.path(), &results);
    criterion.final_summary();

    let latencies = latency(&executor, data_dir.path(), &results);
    print_summary(&results, &latencies);
    drop(data_dir);
    let _ = std::fs::remove_dir_all(&root);
}

fn bench_root() -> PathBuf {
    std::env::var_os("PINLOG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("target/tmp has a parent")
                .join("bench-data")
        })
}

// Engine appends.

fn engine_appends(c: &mut Criterion, ex: &LocalExecutor, root: &Path, results: &Results) {
    let mut group = c.benchmark_group("append");
    group.sampling_mode(SamplingMode::Flat);
    for batch_bytes in BATCH_SIZES_BYTES {
        let batch = Rc::new(batch_of(batch_bytes));
        for durability in [Durability::Written, Durability::Durable] {
            for partitions in PARTITION_COUNTS {
                let name = append_name(batch_bytes, durability, partitions);
                let Some(id) = name.strip_prefix("append/") else {
                    unreachable!("append names start with append/")
                };
                let shard: RefCell<Option<Rc<Shard>>> = RefCell::new(None);
                group.throughput(Throughput::Bytes(batch.size_bytes() as u64));
                group.bench_function(id, |b| {
                    let shard = shard
                        .borrow_mut()
                        .get_or_insert_with(|| {
                            Rc::new(ex.run(Shard::open(root, partitions, batch.size_bytes())))
                        })
                        .clone();
                    b.iter_custom(|iters| {
                        let elapsed = ex.run(shard.append_all(&batch, durability, iters));
                        ex.run(shard.enforce_retention());
                        results.record(&name, iters * batch.size_bytes() as u64, elapsed);
                        elapsed
                    })
                });
                if let Some(shard) = shard.into_inner() {
                    ex.run(Rc::into_inner(shard).expect("one owner").delete());
                }
            }
        }
    }
    group.finish();
}

fn append_name(batch_bytes: usize, durability: Durability, partitions: usize) -> String {
    let durability = match durability {
        Durability::None => "none",
        Durability::Written => "written",
        Durability::Durable => "durable",
    };
    format!(
        "append/{}/{durability}/{partitions}p",
        size_name(batch_bytes)
    )
}

fn size_name(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{}MiB", bytes / MIB)
    } else {
        format!("{}KiB", bytes / KIB)
    }
}

/// A batch of `record_bytes / RECORD_VALUE_BYTES` records of `RECORD_VALUE_BYTES` each, with
/// current timestamps (so that time retention keeps it) and incompressible-looking values.
fn batch_of(record_bytes: usize) -> RecordBatch {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as i64;
    let mut builder = BatchBuilder::new();
    for i in 0..record_bytes / RECORD_VALUE_BYTES {
        let value: Vec<u8> = (0..RECORD_VALUE_BYTES)
            .map(|j| ((i * 131 + j * 31 + 7) % 251) as u8)
            .collect();
        builder.push(NewRecord {
            key: None,
            value: Some(Bytes::from(value)),
            headers: Vec::new(),
            timestamp: now_ms,
        });
    }
    RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
}

/// One shard's logs for one benchmark, in a directory of their own.
struct Shard {
    dir: PathBuf,
    logs: Vec<PartitionLog>,
}

impl Shard {
    async fn open(root: &Path, partitions: usize, batch_bytes: usize) -> Shard {
        let dir = root.join(format!("shard-{partitions}p-{batch_bytes}"));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = ShardStorage::new(&dir, CACHE_BYTES);
        let config = LogConfig {
            retention_bytes: Some(RETENTION_BYTES),
            max_message_bytes: (batch_bytes + KIB) as u32,
            ..LogConfig::default()
        };
        Shard::open_logs(dir, &storage, partitions, config).await
    }

    /// `partitions` logs named `t-N` in `dir`, on `storage`.
    async fn open_logs(
        dir: PathBuf,
        storage: &Rc<ShardStorage>,
        partitions: usize,
        config: LogConfig,
    ) -> Shard {
        let mut logs = Vec::with_capacity(partitions);
        for partition in 0..partitions {
            let log =
                PartitionLog::open(storage, &dir.join(format!("t-{partition}")), config.clone())
                    .await
                    .expect("opening a log");
            logs.push(log);
        }
        Shard { dir, logs }
    }

    /// `count` appends of `batch`, with up to `IN_FLIGHT_BYTES` of them in flight at once.
    async fn append_all(
        &self,
        batch: &Rc<RecordBatch>,
        durability: Durability,
        count: u64,
    ) -> Duration {
        let per_partition = (IN_FLIGHT_BYTES / self.logs.len() / batch.size_bytes()).max(1);
        let started = Rc::new(Cell::new(0u64));
        let start = Instant::now();
        let producers: Vec<_> = (0..per_partition * self.logs.len())
            .map(|i| {
                let log = self.logs[i % self.logs.len()].clone();
                let (batch, started) = (batch.clone(), started.clone());
                glommio::spawn_local(async move {
                    while started.get() < count {
                        started.set(started.get() + 1);
                        log.append(std::slice::from_ref(&*batch), durability, 0)
                            .await
                            .expect("an append");
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.await;
        }
        start.elapsed()
    }

    async fn enforce_retention(&self) {
        for log in &self.logs {
            log.enforce_retention().await.expect("retention");
        }
    }

    async fn delete(self) {
        for log in &self.logs {
            let erasure = log.delete().await.expect("deleting a log");
            // Waited for here: the next benchmark must not share the device with it.
            erasure.run().await.expect("erasing a deleted log");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// Latency at a fixed rate.

/// Latency percentiles of one configuration, in microseconds, with what the generator did.
struct Percentiles {
    name: String,
    /// The rate asked for, and the rate of completions over the whole run (below the asked
    /// rate when the system could not keep up and a backlog built).
    rate_per_s: f64,
    completed_per_s: f64,
    /// How late the generator itself sent (p99): a large value means the numbers measure the
    /// generator, not the engine.
    send_lag_p99_us: f64,
    samples: usize,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    max_us: f64,
}

impl Percentiles {
    fn of(name: String, run: LatencyRun) -> Percentiles {
        let LatencyRun {
            rate_per_s,
            mut latencies,
            mut send_lags,
            elapsed,
        } = run;
        assert!(!latencies.is_empty(), "a latency run records samples");
        let samples = latencies.len();
        Percentiles {
            name,
            rate_per_s,
            completed_per_s: samples as f64 / elapsed.as_secs_f64(),
            send_lag_p99_us: quantile_us(&mut send_lags, 0.99),
            samples,
            p50_us: quantile_us(&mut latencies, 0.50),
            p99_us: quantile_us(&mut latencies, 0.99),
            p999_us: quantile_us(&mut latencies, 0.999),
            max_us: quantile_us(&mut latencies, 1.0),
        }
    }
}

/// The `q` quantile (nearest rank) in microseconds; 0 for no values.
fn quantile_us(values: &mut [Duration], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
    values[rank - 1].as_secs_f64() * 1e6
}

/// What one fixed-rate run measured.
struct LatencyRun {
    rate_per_s: f64,
    latencies: Vec<Duration>,
    send_lags: Vec<Duration>,
    /// From the first intended send to the last completion.
    elapsed: Duration,
}

fn latency(ex: &LocalExecutor, root: &Path, results: &Results) -> Vec<Percentiles> {
    let mut out = Vec::new();
    let measured = PARTITION_COUNTS.iter().any(|&partitions| {
        let name = append_name(LATENCY_BATCH_BYTES, Durability::Durable, partitions);
        results.throughput(&name).is_some()
    });
    if !measured {
        println!("\nno latency test: it runs at a rate the 16 KiB Durable benchmarks measure");
        return out;
    }
    println!("\nlatency at a fixed rate ({LATENCY_MEASUREMENT:?} each; from intended send times)");
    let path = root.join("latency-sync");
    let mut writer = SyncWriter::new(&path, SYNC_WRITE_BYTES, SYNC_FILE_BYTES);
    let start = Instant::now();
    let mut bare = Vec::new();
    while start.elapsed() < LATENCY_MEASUREMENT {
        let write_start = Instant::now();
        writer.write_and_sync(SYNC_WRITE_BYTES);
        bare.push(write_start.elapsed());
    }
    let elapsed = start.elapsed();
    out.push(Percentiles::of(
        "bare write+fdatasync 16KiB, back to back".to_owned(),
        LatencyRun {
            rate_per_s: bare.len() as f64 / elapsed.as_secs_f64(),
            latencies: bare,
            send_lags: Vec::new(),
            elapsed,
        },
    ));
    drop(writer);
    let _ = std::fs::remove_file(&path);

    let batch = Rc::new(batch_of(LATENCY_BATCH_BYTES));
    for partitions in PARTITION_COUNTS {
        let name = append_name(LATENCY_BATCH_BYTES, Durability::Durable, partitions);
        let Some(max) = results.throughput(&name) else {
            println!("{name}: not measured in this run, so no rate to test latency at");
            continue;
        };
        let rate = LATENCY_LOAD_FRACTION * max.mean_bytes_per_s / batch.size_bytes() as f64;
        let raw = raw_group_commit(
            &root.join("latency-group-commit"),
            batch.size_bytes(),
            rate,
            LATENCY_MEASUREMENT,
        );
        out.push(Percentiles::of(
            format!("{RAW_GROUP_COMMIT} at the {partitions}p rate"),
            raw,
        ));
        let shard = ex.run(Shard::open(root, partitions, batch.size_bytes()));
        ex.run(shard.fixed_rate(&batch, rate, LATENCY_WARM_UP));
        let run = ex.run(shard.fixed_rate(&batch, rate, LATENCY_MEASUREMENT));
        ex.run(shard.delete());
        out.push(Percentiles::of(
            format!("{name} at {:.0}% of its max", LATENCY_LOAD_FRACTION * 100.0),
            run,
        ));
        if partitions > 1 {
            out.extend(recycled_latency::recycled_latency(
                ex, root, partitions, &batch, rate,
            ));
            out.extend(recycled_latency::young_latency(
                ex, root, partitions, &batch, rate,
            ));
        }
    }
    out
}

impl Shard {
    /// Durable appends of `batch` at `rate_per_s`, round robin over the logs, for `length`:
    /// each latency is counted from the append's intended send time, so a stall delays the
    /// sends behind it and counts against them too.
    async fn fixed_rate(
        &self,
        batch: &Rc<RecordBatch>,
        rate_per_s: f64,
        length: Duration,
    ) -> LatencyRun {
        let interval = Duration::from_secs_f64(1.0 / rate_per_s);
        let count = (length.as_secs_f64() * rate_per_s) as u64;
        let latencies = Rc::new(RefCell::new(Vec::with_capacity(count as usize)));
        let mut send_lags = Vec::with_capacity(count as usize);
        let start = Instant::now();
        let mut sent = 0u64;
        let mut next_retention = start;
        while sent < count {
            let intended = start + interval.mul_f64(sent as f64);
            let now = Instant::now();
            if intended > now {
                // Every sleep arms an io_uring timeout: sleeping until each append's own time
                // cost the shard more than the appends (the latencies still count from each
                // append's intended time).
                let wake = intended.max(now + GENERATOR_SLEEP_MIN);
                glommio::timer::sleep(wake - now).await;
                continue;
            }
            if now >= next_retention {
                // As a broker would, in the background; appends keep their schedule.
                let logs = self.logs.clone();
                glommio::spawn_local(async move {
                    for log in logs {
                        // Fails only once the log is closed at the end of the test.
                        let _ = log.enforce_retention().await;
                    }
                })
                .detach();
                next_retention = now + Duration::from_secs(1);
            }
            send_lags.push(now - intended);
            let log = self.logs[sent as usize % self.logs.len()].clone();
            let (batch, latencies) = (batch.clone(), latencies.clone());
            // Detached: a join handle kept per append would keep every finished task's memory
            // until the end, and the growing heap's page faults cost the shard a fifth of its
            // time.
            glommio::spawn_local(async move {
                log.append(std::slice::from_ref(&*batch), Durability::Durable, 0)
                    .await
                    .expect("an append");
                latencies.borrow_mut().push(intended.elapsed());
            })
            .detach();
            sent += 1;
        }
        while latencies.borrow().len() < count as usize {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        LatencyRun {
            rate_per_s,
            latencies: Rc::into_inner(latencies)
                .expect("every append finished")
                .into_inner(),
            send_lags,
            elapsed: start.elapsed(),
        }
    }
}

// Results and the summary.

/// What each benchmark measured, sample by sample, for the summary's ratios and the latency
/// test's rate (criterion keeps its own estimates to itself).
#[derive(Default)]
struct Results {
    samples: RefCell<BTreeMap<String, Vec<(u64, Duration)>>>,
}

struct Rate {
    mean_bytes_per_s: f64,
    min_bytes_per_s: f64,
    max_bytes_per_s: f64,
}

impl Results {
    fn record(&self, name: &str, bytes: u64, elapsed: Duration) {
        self.samples
            .borrow_mut()
            .entry(name.to_owned())
            .or_default()
            .push((bytes, elapsed));
    }

    /// Over the measurement samples (the last `SAMPLES` calls; the ones before are warm-up).
    fn throughput(&self, name: &str) -> Option<Rate> {
        let samples = self.samples.borrow();
        let all = samples.get(name)?;
        let measured = &all[all.len().saturating_sub(SAMPLES)..];
        let bytes: u64 = measured.iter().map(|(b, _)| b).sum();
        let seconds: f64 = measured.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let rates = measured.iter().map(|(b, d)| *b as f64 / d.as_secs_f64());
        Some(Rate {
            mean_bytes_per_s: bytes as f64 / seconds,
            min_bytes_per_s: rates.clone().fold(f64::INFINITY, f64::min),
            max_bytes_per_s: rates.fold(0.0, f64::max),
        })
    }
}

fn print_summary(results: &Results, latencies: &[Percentiles]) {
    let gib = |bytes_per_s: f64| bytes_per_s / (1024.0 * 1024.0 * 1024.0);
    let names: Vec<String> = results.samples.borrow().keys().cloned().collect();
    let device = RAW_DMA_CASES
        .iter()
        .filter(|case| !case.fresh && case.files == 1)
        .filter_map(|case| results.throughput(&case.name()))
        .map(|t| t.mean_bytes_per_s)
        .fold(0.0, f64::max);
    // The filesystem's limit for what the engine does: writes into fresh fallocated extents.
    let fallocated = results
        .throughput(&RawCase::FALLOCATED.name())
        .map_or(0.0, |t| t.mean_bytes_per_s);
    // The same over as many fresh files as the 64-partition runs write.
    let fallocated_files = RAW_DMA_CASES
        .iter()
        .filter(|case| case.fresh && case.files > 1)
        .find_map(|case| results.throughput(&case.name()))
        .map_or(0.0, |t| t.mean_bytes_per_s);
    let percent_of = |rate: f64, limit: f64| {
        if limit > 0.0 {
            format!("{:.1}%", 100.0 * rate / limit)
        } else {
            "-".to_owned()
        }
    };
    println!("\nthroughput (mean over the measurement samples; spread = (max-min)/mean)");
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>7} {:>10} {:>11}",
        "benchmark", "GiB/s", "min", "max", "spread", "of device", "of falloc."
    );
    for name in names {
        let Some(t) = results.throughput(&name) else {
            continue;
        };
        println!(
            "{:<44} {:>8.3} {:>8.3} {:>8.3} {:>6.1}% {:>10} {:>11}",
            name,
            gib(t.mean_bytes_per_s),
            gib(t.min_bytes_per_s),
            gib(t.max_bytes_per_s),
            100.0 * (t.max_bytes_per_s - t.min_bytes_per_s) / t.mean_bytes_per_s,
            percent_of(t.mean_bytes_per_s, device),
            percent_of(t.mean_bytes_per_s, fallocated),
        );
    }
    if device > 0.0 {
        println!(
            "device limit (best raw DMA queue depth, overwriting): {:.3} GiB/s",
            gib(device)
        );
    }
    if fallocated > 0.0 {
        println!(
            "filesystem limit (raw DMA qd4 into fresh fallocated extents): {:.3} GiB/s",
            gib(fallocated)
        );
    }
    if fallocated_files > 0.0 {
        println!(
            "the same over 64 fresh files in turn, qd32 (the 64p runs' shape): {:.3} GiB/s",
            gib(fallocated_files)
        );
    }
    // The goals are judged against the fresh fallocated extents: that is the work the engine
    // does (its segments are fresh pre-allocated files). Overwriting written blocks is cheaper
    // for the device, and only recycled segment files could have it; its share is shown too.
    if fallocated > 0.0 {
        for (label, name, goal) in [
            ("1 MiB Written, 1p", "append/1MiB/written/1p", 0.90),
            ("1 MiB Written, 64p", "append/1MiB/written/64p", 0.90),
            ("1 MiB Durable, 1p", "append/1MiB/durable/1p", 0.75),
            ("1 MiB Durable, 64p", "append/1MiB/durable/64p", 0.75),
        ] {
            if let Some(t) = results.throughput(name) {
                let ratio = t.mean_bytes_per_s / fallocated;
                let worst = t.min_bytes_per_s / fallocated;
                let of_files = if label.ends_with("64p") {
                    format!(
                        "; {} of 64 fresh files",
                        percent_of(t.mean_bytes_per_s, fallocated_files)
                    )
                } else {
                    String::new()
                };
                println!(
                    "goal {label}: {:.1}% of fallocated, slowest sample {:.1}% (goal {:.0}%: {}); {} of overwriting{of_files}",
                    100.0 * ratio,
                    100.0 * worst,
                    100.0 * goal,
                    if ratio >= goal { "met" } else { "MISSED" },
                    percent_of(t.mean_bytes_per_s, device),
                );
            }
        }
    }
    if latencies.is_empty() {
        return;
    }
    println!("\nlatency (microseconds)");
    println!(
        "{:<50} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "configuration", "rate/s", "done/s", "lag p99", "samples", "p50", "p99", "p99.9", "max"
    );
    for p in latencies {
        println!(
            "{:<50} {:>7.0} {:>7.0} {:>7.0} {:>8} {:>8.0} {:>8.0} {:>8.0} {:>8.0}",
            p.name,
            p.rate_per_s,
            p.completed_per_s,
            p.send_lag_p99_us,
            p.samples,
            p.p50_us,
            p.p99_us,
            p.p999_us,
            p.max_us
        );
    }
    // After the bare row: the raw group commit at a rate, then the engine's rows at that rate.
    let bare_p99 = latencies[0].p99_us;
    let mut raw_p99 = f64::NAN;
    for engine in &latencies[1..] {
        if engine.name.starts_with(RAW_GROUP_COMMIT) {
            raw_p99 = engine.p99_us;
            continue;
        }
        let ratio = engine.p99_us / bare_p99;
        println!(
            "goal p99 {} <= 2x bare p99: {:.2}x: {}; {:.2}x the raw group commit's p99 at its rate",
            engine.name,
            ratio,
            if ratio <= 2.0 { "met" } else { "MISSED" },
            engine.p99_us / raw_p99,
        );
    }
}

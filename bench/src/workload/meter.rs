//! [`Meter`]: a task's [`Recorder`] plus the live figures behind the progress line.
//!
//! The recorder stays task-local (no sharing on the hot path); the live figures are shared
//! by all tasks of a workload ([`LiveStats`]), so each meter adds into them at most every
//! [`LIVE_FLUSH_INTERVAL`] rather than per record. [`Progress`] prints them once a second
//! on stderr, with the p99 of the latencies reported in that second.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::report::recorder::LATENCY_US_MAX;
use crate::report::Recorder;

/// How often a meter adds its counts into the shared live figures.
pub const LIVE_FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// How often the progress line is printed.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// Significant digits of the live latency histograms (they only feed the progress line).
const LIVE_SIGNIFICANT_DIGITS: u8 = 2;

fn live_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, LIVE_SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// A workload's running totals, shared by its tasks and read by the progress line.
pub struct LiveStats {
    name: String,
    records: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

impl LiveStats {
    pub fn new(name: &str) -> Arc<LiveStats> {
        Arc::new(LiveStats {
            name: name.to_string(),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            latency: Mutex::new(live_histogram()),
        })
    }

    /// The workload's name (`produce`, `consume`, `end-to-end`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records completed so far in the whole run, warm-up included.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LiveStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStats")
            .field("name", &self.name)
            .field("records", &self.records())
            .finish_non_exhaustive()
    }
}

/// One task's measurements: the recorder for the report, and the live figures.
pub struct Meter {
    recorder: Recorder,
    live: Arc<LiveStats>,
    records: u64,
    bytes: u64,
    errors: u64,
    /// Error reasons already printed, so a run that fails thousands of times says why once.
    reported: Vec<String>,
    latency: Histogram<u64>,
    flushed_at: Instant,
}

/// Distinct error reasons one task prints; later new ones are only counted.
pub const ERROR_REASONS_REPORTED_MAX: usize = 8;

impl Meter {
    pub fn new(measure_from: Instant, live: Arc<LiveStats>) -> Meter {
        Meter {
            recorder: Recorder::new(measure_from),
            live,
            records: 0,
            bytes: 0,
            errors: 0,
            reported: Vec::new(),
            latency: live_histogram(),
            flushed_at: Instant::now(),
        }
    }

    pub fn completed(&mut self, at: Instant, records: u64, bytes: u64) {
        self.recorder.record_completed(at, records, bytes);
        self.records += records;
        self.bytes += bytes;
        self.flush_if_due(at);
    }

    pub fn latency(&mut self, at: Instant, latency: Duration, count: u64) {
        self.recorder.record_latency(at, latency, count);
        let latency_us = (latency.as_micros() as u64).clamp(1, LATENCY_US_MAX);
        self.latency.saturating_record_n(latency_us, count);
    }

    /// A failed send or fetch; `reason` goes to stderr the first time it is seen.
    pub fn error(&mut self, at: Instant, reason: impl std::fmt::Display) {
        let reason = reason.to_string();
        if self.reported.len() < ERROR_REASONS_REPORTED_MAX && !self.reported.contains(&reason) {
            eprintln!("pinlog-bench: {}: {reason}", self.live.name());
            self.reported.push(reason);
        }
        self.recorder.record_error(at);
        self.errors += 1;
        self.flush_if_due(at);
    }

    /// The recorder, after the last live figures went out.
    pub fn finish(mut self) -> Recorder {
        self.flush();
        self.recorder
    }

    fn flush_if_due(&mut self, at: Instant) {
        if at.saturating_duration_since(self.flushed_at) >= LIVE_FLUSH_INTERVAL {
            self.flushed_at = at;
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.live.records.fetch_add(self.records, Ordering::Relaxed);
        self.live.bytes.fetch_add(self.bytes, Ordering::Relaxed);
        self.live.errors.fetch_add(self.errors, Ordering::Relaxed);
        (self.records, self.bytes, self.errors) = (0, 0, 0);
        if !self.latency.is_empty() {
            if let Ok(mut shared) = self.live.latency.lock() {
                // Same bounds on both sides, so adding cannot fail.
                let _ = shared.add(&self.latency);
            }
            self.latency.reset();
        }
    }
}

/// The once-a-second progress line; stops when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    printer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Prints `stats` every second on stderr until dropped; nothing when `quiet`.
    pub fn start(stats: Vec<Arc<LiveStats>>, quiet: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let printer = (!quiet).then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || print_every_second(&stats, &stop))
        });
        Progress { stop, printer }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(printer) = self.printer.take() {
            let _ = printer.join();
        }
    }
}

fn print_every_second(stats: &[Arc<LiveStats>], stop: &AtomicBool) {
    let started = Instant::now();
    let mut previous: Vec<(u64, u64)> = vec![(0, 0); stats.len()];
    let mut next_tick = started + PROGRESS_INTERVAL;
    while !stop.load(Ordering::Relaxed) {
        // Short sleeps, so that dropping the progress does not wait up to a second.
        let now = Instant::now();
        if now < next_tick {
            std::thread::sleep((next_tick - now).min(Duration::from_millis(50)));
            continue;
        }
        next_tick += PROGRESS_INTERVAL;
        let mut line = format!("{:>4}s", started.elapsed().as_secs());
        for (live, (records_before, bytes_before)) in stats.iter().zip(previous.iter_mut()) {
            let records = live.records.load(Ordering::Relaxed);
            let bytes = live.bytes.load(Ordering::Relaxed);
            let errors = live.errors.load(Ordering::Relaxed);
            let p99 = live.latency.lock().ok().and_then(|mut histogram| {
                let p99 = (!histogram.is_empty()).then(|| histogram.value_at_quantile(0.99));
                histogram.reset();
                p99
            });
            line += &format!(
                "  | {} {:>9} rec/s {:>8.1} MB/s p99 {:>9} errors {}",
                live.name,
                records - *records_before,
                (bytes - *bytes_before) as f64 / 1e6,
                p99.map_or_else(|| "-".to_string(), |us| format!("{:.2}ms", us as f64 / 1e3)),
                errors,
            );
            (*records_before, *bytes_before) = (records, bytes);
        }
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }
}

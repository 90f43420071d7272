//! [`Recorder`]: one workload's completions and latencies on one thread, merged at the end.
//!
//! Every sending or fetching task owns a recorder (no sharing, no atomics on the hot path);
//! the workload merges them when the run ends and [`Recorder::finish`] turns the sum into a
//! [`WorkloadResult`]. Completions before `measure_from` (the warm-up) are not counted.
//! Latencies go into an HDR histogram with 3 significant digits in microseconds; a latency
//! beyond [`LATENCY_US_MAX`] is recorded as that maximum, never dropped, so a stall shows.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::model::{LatencySummary, PercentilePoint, SecondSample, WorkloadResult};

/// Largest latency the histograms resolve; larger ones are clamped to it.
pub const LATENCY_US_MAX: u64 = 60 * 1_000_000;
/// Significant digits of the run-wide histogram (0.1% error).
const LATENCY_SIGNIFICANT_DIGITS: u8 = 3;
/// Significant digits of the per-second histograms, which only feed the timeline's p99.
const SECOND_SIGNIFICANT_DIGITS: u8 = 2;
/// Longest measured window the per-second timeline keeps; later seconds are folded into the
/// last one so that memory stays bounded however long a run is.
pub const TIMELINE_SECONDS_MAX: usize = 3600;
/// Ticks per half distance for the plotted percentile distribution (HdrHistogram's convention).
const DISTRIBUTION_TICKS_PER_HALF: u32 = 5;

#[derive(Clone)]
struct Second {
    records: u64,
    bytes: u64,
    latency: Option<Histogram<u64>>,
}

#[derive(Clone)]
pub struct Recorder {
    measure_from: Instant,
    records: u64,
    bytes: u64,
    errors: u64,
    latency: Histogram<u64>,
    seconds: Vec<Second>,
}

fn new_histogram(digits: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, digits)
        .expect("constant histogram bounds are valid")
}

impl Recorder {
    /// A recorder that counts what completes from `measure_from` on.
    pub fn new(measure_from: Instant) -> Recorder {
        Recorder {
            measure_from,
            records: 0,
            bytes: 0,
            errors: 0,
            latency: new_histogram(LATENCY_SIGNIFICANT_DIGITS),
            seconds: Vec::new(),
        }
    }

    /// The timeline slot of `at`, or `None` during the warm-up.
    fn second(&mut self, at: Instant) -> Option<&mut Second> {
        let since = at.checked_duration_since(self.measure_from)?;
        let index = (since.as_secs() as usize).min(TIMELINE_SECONDS_MAX - 1);
        if self.seconds.len() <= index {
            self.seconds.resize(
                index + 1,
                Second {
                    records: 0,
                    bytes: 0,
                    latency: None,
                },
            );
        }
        Some(&mut self.seconds[index])
    }

    /// `records` records of `bytes` payload bytes completed at `at`.
    pub fn record_completed(&mut self, at: Instant, records: u64, bytes: u64) {
        if let Some(second) = self.second(at) {
            second.records += records;
            second.bytes += bytes;
            self.records += records;
            self.bytes += bytes;
        }
    }

    /// `count` records completed at `at`, each `latency` after it was due.
    pub fn record_latency(&mut self, at: Instant, latency: Duration, count: u64) {
        let latency_us = (latency.as_micros() as u64).clamp(1, LATENCY_US_MAX);
        let Some(second) = self.second(at) else {
            return;
        };
        second
            .latency
            .get_or_insert_with(|| new_histogram(SECOND_SIGNIFICANT_DIGITS))
            .saturating_record_n(latency_us, count);
        self.latency.saturating_record_n(latency_us, count);
    }

    /// A send or fetch failed at `at`.
    pub fn record_error(&mut self, at: Instant) {
        if at >= self.measure_from {
            self.errors += 1;
        }
    }

    /// Records and bytes counted so far (for the progress line).
    pub fn totals(&self) -> (u64, u64) {
        (self.records, self.bytes)
    }

    /// Adds `other`'s counts into this recorder (same warm-up end assumed).
    pub fn merge(&mut self, other: &Recorder) {
        self.records += other.records;
        self.bytes += other.bytes;
        self.errors += other.errors;
        self.latency
            .add(&other.latency)
            .expect("histograms share their bounds");
        if self.seconds.len() < other.seconds.len() {
            self.seconds.resize(
                other.seconds.len(),
                Second {
                    records: 0,
                    bytes: 0,
                    latency: None,
                },
            );
        }
        for (mine, theirs) in self.seconds.iter_mut().zip(&other.seconds) {
            mine.records += theirs.records;
            mine.bytes += theirs.bytes;
            if let Some(histogram) = &theirs.latency {
                match &mut mine.latency {
                    Some(own) => own.add(histogram).expect("histograms share their bounds"),
                    None => mine.latency = Some(histogram.clone()),
                }
            }
        }
    }

    /// The result of a workload named `name` whose measured window lasted `measured`.
    /// `with_latency` is false for workloads that measure none (their histogram is empty).
    pub fn finish(&self, name: &str, measured: Duration, with_latency: bool) -> WorkloadResult {
        let duration_secs = measured.as_secs_f64().max(f64::MIN_POSITIVE);
        let latency = (with_latency && !self.latency.is_empty()).then(|| summary(&self.latency));
        let latency_distribution = if latency.is_some() {
            self.latency
                .iter_quantiles(DISTRIBUTION_TICKS_PER_HALF)
                .map(|value| PercentilePoint {
                    percentile: value.quantile_iterated_to() * 100.0,
                    latency_us: value.value_iterated_to() as f64,
                })
                .collect()
        } else {
            Vec::new()
        };
        let timeline = self
            .seconds
            .iter()
            .enumerate()
            .map(|(second, sample)| SecondSample {
                second: second as u32,
                records: sample.records,
                bytes: sample.bytes,
                latency_p99_us: sample
                    .latency
                    .as_ref()
                    .map(|h| h.value_at_quantile(0.99) as f64),
            })
            .collect();
        WorkloadResult {
            name: name.to_string(),
            records: self.records,
            bytes: self.bytes,
            errors: self.errors,
            duration_secs,
            records_per_sec: self.records as f64 / duration_secs,
            mb_per_sec: self.bytes as f64 / duration_secs / 1e6,
            latency,
            latency_distribution,
            timeline,
        }
    }
}

fn summary(histogram: &Histogram<u64>) -> LatencySummary {
    let at = |quantile: f64| histogram.value_at_quantile(quantile) as f64;
    LatencySummary {
        count: histogram.len(),
        mean_us: histogram.mean(),
        p50_us: at(0.50),
        p90_us: at(0.90),
        p99_us: at(0.99),
        p999_us: at(0.999),
        p9999_us: at(0.9999),
        max_us: histogram.max() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_completions_are_not_counted_and_seconds_are_bucketed() {
        let start = Instant::now();
        let measure_from = start + Duration::from_secs(1);
        let mut recorder = Recorder::new(measure_from);
        recorder.record_completed(start, 10, 1000);
        recorder.record_completed(measure_from + Duration::from_millis(100), 2, 200);
        recorder.record_completed(measure_from + Duration::from_millis(2500), 3, 300);
        recorder.record_latency(measure_from, Duration::from_micros(250), 4);
        let result = recorder.finish("produce", Duration::from_secs(3), true);
        assert_eq!((result.records, result.bytes), (5, 500));
        assert_eq!(result.timeline.len(), 3);
        assert_eq!(result.timeline[0].records, 2);
        assert_eq!(result.timeline[1].records, 0);
        assert_eq!(result.timeline[2].records, 3);
        let latency = result.latency.expect("latency was recorded");
        assert_eq!(latency.count, 4);
        assert!((latency.p99_us - 250.0).abs() < 1.0);
    }

    #[test]
    fn merged_recorders_add_up_and_a_stall_is_clamped_not_dropped() {
        let measure_from = Instant::now();
        let mut first = Recorder::new(measure_from);
        let mut second = Recorder::new(measure_from);
        first.record_completed(measure_from, 1, 10);
        second.record_completed(measure_from, 2, 20);
        second.record_latency(measure_from, Duration::from_secs(3600), 1);
        first.merge(&second);
        let result = first.finish("end-to-end", Duration::from_secs(1), true);
        assert_eq!((result.records, result.bytes), (3, 30));
        let max_us = result.latency.expect("one latency").max_us;
        assert!(max_us >= LATENCY_US_MAX as f64 * 0.99);
    }
}

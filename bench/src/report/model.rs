//! The results document `pinlog-bench` writes with `--json` and `compare` reads back.
//!
//! One [`Report`] per invocation: what was run ([`Report::config`], the workload's own options
//! as JSON so the document stays readable by other tools), where ([`HostInfo`]), and the
//! results of every repetition ([`RunResult`]), plus per-metric median and spread across the
//! repetitions ([`WorkloadSummary`]) that `compare` judges regressions by. The committed JSON
//! schema (`bench/schema/report.schema.json`) describes exactly these types; bump
//! [`REPORT_SCHEMA_VERSION`] on any incompatible change.
//!
//! Units are in the field names: `_us` microseconds, `_secs` seconds, `mb` = 10^6 bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the document's layout, written into every report.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub host: HostInfo,
    /// Wall-clock start of the first repetition, RFC 3339 in UTC.
    pub started_at: String,
    /// The workload kind (`produce`, `consume`, `end-to-end`).
    pub kind: String,
    /// Every option of the run, as the command line resolved them.
    pub config: serde_json::Value,
    /// One entry per repetition (`--repeat K` gives K), in the order they ran.
    pub runs: Vec<RunResult>,
    /// Per workload, each metric's median and spread over `runs`.
    pub summary: Vec<WorkloadSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// `pinlog` (own client) or `rdkafka`, with librdkafka's version for the latter.
    pub client: String,
    pub client_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostInfo {
    pub hostname: String,
    pub cores: u32,
    pub cpu_model: String,
    pub memory_bytes: u64,
    pub kernel: String,
    pub os: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    /// 0-based repetition number.
    pub repetition: u32,
    pub workloads: Vec<WorkloadResult>,
}

/// What one workload (`produce`, `consume` or `end-to-end`) measured in one repetition, after
/// the warm-up.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkloadResult {
    pub name: String,
    /// Records and payload bytes (key + value) completed in the measured window.
    pub records: u64,
    pub bytes: u64,
    /// Failed sends or fetches in the measured window.
    pub errors: u64,
    pub duration_secs: f64,
    pub records_per_sec: f64,
    pub mb_per_sec: f64,
    /// `None` when the workload measures no latency.
    pub latency: Option<LatencySummary>,
    /// The latency distribution for plotting: value at each percentile step.
    pub latency_distribution: Vec<PercentilePoint>,
    /// One sample per whole second of the measured window.
    pub timeline: Vec<SecondSample>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub p9999_us: f64,
    pub max_us: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct PercentilePoint {
    pub percentile: f64,
    pub latency_us: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SecondSample {
    /// Seconds since the end of the warm-up.
    pub second: u32,
    pub records: u64,
    pub bytes: u64,
    /// p99 latency of the records completed in this second, if any were measured.
    pub latency_p99_us: Option<f64>,
}

/// A workload's metrics over all repetitions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkloadSummary {
    pub name: String,
    /// By metric name: [`METRIC_RECORDS_PER_SEC`], [`METRIC_MB_PER_SEC`], and
    /// `latency_p50_us` ... `latency_max_us` (see [`LATENCY_METRICS`]).
    pub metrics: BTreeMap<String, Spread>,
}

/// Median and spread of one metric over the repetitions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Every repetition's value, in run order.
    pub values: Vec<f64>,
}

pub const METRIC_RECORDS_PER_SEC: &str = "records_per_sec";
pub const METRIC_MB_PER_SEC: &str = "mb_per_sec";
/// Reads one latency metric out of a [`LatencySummary`].
pub type LatencyGetter = fn(&LatencySummary) -> f64;
/// Latency metric names with a getter; lower is better for all of them.
pub const LATENCY_METRICS: [(&str, LatencyGetter); 7] = [
    ("latency_p50_us", |l| l.p50_us),
    ("latency_p90_us", |l| l.p90_us),
    ("latency_p99_us", |l| l.p99_us),
    ("latency_p999_us", |l| l.p999_us),
    ("latency_p9999_us", |l| l.p9999_us),
    ("latency_max_us", |l| l.max_us),
    ("latency_mean_us", |l| l.mean_us),
];

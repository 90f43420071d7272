//! Reports fabricated with known medians and spreads, and the files the tests write them to.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

use pinlog_bench::report::{
    summarize, write_json, HostInfo, LatencySummary, PercentilePoint, Report, RunResult,
    SecondSample, ToolInfo, WorkloadResult, REPORT_SCHEMA_VERSION,
};

/// Every fabricated workload runs this long.
const DURATION_SECS: u32 = 10;
const RECORD_BYTES: f64 = 100.0;

/// One workload's result in one repetition: `records_per_sec`, and with `p99_us` a latency
/// distribution whose other percentiles are fixed multiples of the p99.
pub fn workload(name: &str, records_per_sec: f64, p99_us: Option<f64>) -> WorkloadResult {
    let records = (records_per_sec * f64::from(DURATION_SECS)) as u64;
    let latency = p99_us.map(|p99| LatencySummary {
        count: records,
        mean_us: p99 * 0.6,
        p50_us: p99 * 0.5,
        p90_us: p99 * 0.8,
        p99_us: p99,
        p999_us: p99 * 1.5,
        p9999_us: p99 * 2.0,
        max_us: p99 * 3.0,
    });
    let latency_distribution = match p99_us {
        Some(p99) => [
            (0.0, 0.1),
            (50.0, 0.5),
            (90.0, 0.8),
            (99.0, 1.0),
            (99.9, 1.5),
            (100.0, 3.0),
        ]
        .iter()
        .map(|&(percentile, factor)| PercentilePoint {
            percentile,
            latency_us: p99 * factor,
        })
        .collect(),
        None => Vec::new(),
    };
    WorkloadResult {
        name: name.to_string(),
        records,
        bytes: (records as f64 * RECORD_BYTES) as u64,
        errors: 0,
        duration_secs: f64::from(DURATION_SECS),
        records_per_sec,
        mb_per_sec: records_per_sec * RECORD_BYTES / 1e6,
        latency,
        latency_distribution,
        timeline: (0..DURATION_SECS)
            .map(|second| SecondSample {
                second,
                records: records_per_sec as u64,
                bytes: (records_per_sec * RECORD_BYTES) as u64,
                latency_p99_us: p99_us,
            })
            .collect(),
    }
}

/// A `kind` report with one run per entry of `runs`, summarised as the tool does.
pub fn report(kind: &str, runs: Vec<Vec<WorkloadResult>>) -> Report {
    let runs: Vec<RunResult> = runs
        .into_iter()
        .enumerate()
        .map(|(repetition, workloads)| RunResult {
            repetition: repetition as u32,
            workloads,
        })
        .collect();
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "pinlog-bench".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            client: "pinlog".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
        },
        host: HostInfo {
            hostname: "ci-runner".into(),
            cores: 2,
            cpu_model: "fabricated".into(),
            memory_bytes: 4 << 30,
            kernel: "6.1.0".into(),
            os: "Debian GNU/Linux 12 (bookworm)".into(),
        },
        started_at: "2025-01-01T00:00:00Z".into(),
        kind: kind.into(),
        config: serde_json::json!({ "record_bytes": RECORD_BYTES, "duration_secs": DURATION_SECS }),
        summary: summarize(&runs),
        runs,
    }
}

/// A fresh directory for one test under cargo's temp dir; the process id keeps concurrent
/// runs from other worktrees (sharing the target dir) apart.
pub fn test_dir(test: &str) -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pinlog-bench-{test}-{}", std::process::id()));
    // Left over from an earlier run with the same id, if any.
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("create the test directory");
    directory
}

/// Writes `report` as `name` in `directory` and returns its path.
pub fn write(report: &Report, directory: &std::path::Path, name: &str) -> PathBuf {
    let path = directory.join(name);
    write_json(report, &path).expect("write the report");
    path
}

/// The committed schema every report must validate against.
pub const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");

/// The committed JSON schema, compiled once per test.
pub struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    pub fn new() -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        let index = compiler
            .compile(SCHEMA_PATH, &mut schemas)
            .unwrap_or_else(|error| panic!("the committed schema does not compile: {error:#}"));
        Validator { schemas, index }
    }

    pub fn check(&self, document: &Value) -> Result<(), String> {
        self.schemas
            .validate(document, self.index)
            .map_err(|error| format!("{error}"))
    }
}

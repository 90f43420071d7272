//! Reports built from real [`Recorder`] data, for the table and plot tests.

use std::time::{Duration, Instant};

use super::model::{HostInfo, Report, RunResult, ToolInfo, REPORT_SCHEMA_VERSION};
use super::{summarize, Recorder};

/// A `kind` report of `repetitions` runs, each with a latency-measuring `produce` workload and
/// an `end-to-end` one that measured no latency, both over three seconds.
pub fn report(kind: &str, repetitions: u32) -> Report {
    let runs: Vec<RunResult> = (0..repetitions)
        .map(|repetition| {
            let slower = f64::from(repetition) * 0.05 + 1.0;
            RunResult {
                repetition,
                workloads: vec![
                    recorded("produce", slower, true),
                    recorded("end-to-end", slower, false),
                ],
            }
        })
        .collect();
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "pinlog-bench".into(),
            version: "0.1.0".into(),
            client: "pinlog".into(),
            client_version: "0.1.0".into(),
        },
        host: HostInfo {
            hostname: "bench<1>&co".into(),
            cores: 2,
            cpu_model: "test cpu".into(),
            memory_bytes: 1 << 30,
            kernel: "6.1.0".into(),
            os: "Linux".into(),
        },
        started_at: "2025-01-01T00:00:00Z".into(),
        kind: kind.into(),
        config: serde_json::json!({ "record_bytes": 100 }),
        summary: summarize(&runs),
        runs,
    }
}

fn recorded(name: &str, slower: f64, with_latency: bool) -> crate::report::WorkloadResult {
    let measure_from = Instant::now();
    let mut recorder = Recorder::new(measure_from);
    let records_per_ms = (10.0 / slower).round() as u64;
    for millisecond in 0..3000u64 {
        let at = measure_from + Duration::from_millis(millisecond);
        recorder.record_completed(at, records_per_ms, records_per_ms * 100);
        let latency_us = (100.0 + (millisecond % 97) as f64 * 10.0) * slower;
        recorder.record_latency(at, Duration::from_micros(latency_us as u64), records_per_ms);
    }
    recorder.finish(name, Duration::from_secs(3), with_latency)
}

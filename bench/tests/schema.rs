//! The committed JSON schema (`bench/schema/report.schema.json`) describes the reports the
//! tool writes: real recorder output and fabricated reports validate, broken ones do not.

mod common;

use std::time::{Duration, Instant};

use common::Validator;
use pinlog_bench::report::{
    read_json, summarize, HostInfo, Recorder, Report, ReportError, RunResult, ToolInfo,
    REPORT_SCHEMA_VERSION,
};
use serde_json::Value;

fn as_json(report: &Report) -> Value {
    serde_json::to_value(report).expect("a report serialises")
}

/// A report as `pinlog-bench` builds it: recorder output over two repetitions, one workload
/// with latency, one without, and a second in which records completed but no latency was.
fn recorded_report() -> Report {
    let runs: Vec<RunResult> = (0..2)
        .map(|repetition| {
            let measure_from = Instant::now();
            let mut with_latency = Recorder::new(measure_from);
            let mut without_latency = Recorder::new(measure_from);
            for millisecond in 0..2000u64 {
                let at = measure_from + Duration::from_millis(millisecond);
                with_latency.record_completed(at, 5, 500);
                with_latency.record_latency(at, Duration::from_micros(50 + millisecond), 5);
                without_latency.record_completed(at, 3, 300);
            }
            with_latency.record_completed(measure_from + Duration::from_millis(2500), 1, 100);
            with_latency.record_error(measure_from);
            RunResult {
                repetition,
                workloads: vec![
                    with_latency.finish("end-to-end", Duration::from_secs(3), true),
                    without_latency.finish("produce", Duration::from_secs(2), false),
                ],
            }
        })
        .collect();
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "pinlog-bench".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            client: "rdkafka".into(),
            client_version: "2.10.0".into(),
        },
        host: HostInfo::detect(),
        started_at: "2025-06-01T12:00:00Z".into(),
        kind: "end-to-end".into(),
        config: serde_json::json!({ "brokers": "localhost:9092", "repeat": 2, "acks": "all" }),
        summary: summarize(&runs),
        runs,
    }
}

#[test]
fn a_report_from_real_recorder_data_validates_and_reads_back() {
    let validator = Validator::new();
    let report = recorded_report();
    let json = as_json(&report);
    // The cases the schema must allow for: null latency and a second without latency.
    assert!(json.pointer("/runs/0/workloads/1/latency") == Some(&Value::Null));
    assert!(json.pointer("/runs/0/workloads/0/timeline/2/latency_p99_us") == Some(&Value::Null));
    validator
        .check(&json)
        .unwrap_or_else(|error| panic!("{error}"));

    let directory = common::test_dir("schema-round-trip");
    let path = common::write(&report, &directory, "report.json");
    let read = read_json(&path).expect("read back");
    assert_eq!(read, report);
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn a_fabricated_report_validates() {
    let validator = Validator::new();
    let runs = (0..3)
        .map(|run| {
            let jitter = 1.0 + f64::from(run) * 0.01;
            vec![
                common::workload("produce", 100_000.0 * jitter, Some(800.0 * jitter)),
                common::workload("consume", 150_000.0 * jitter, None),
            ]
        })
        .collect();
    let report = common::report("produce", runs);
    validator
        .check(&as_json(&report))
        .unwrap_or_else(|error| panic!("{error}"));
}

/// Damages a valid report in one way.
type Breakage = fn(&mut Value);

#[test]
fn broken_reports_fail_validation() {
    let validator = Validator::new();
    let valid = as_json(&common::report(
        "produce",
        vec![vec![common::workload("produce", 1000.0, Some(500.0))]],
    ));
    let breakages: [(&str, Breakage); 6] = [
        ("a missing required field", |json| {
            json.as_object_mut().map(|report| report.remove("host"));
        }),
        ("a missing nested field", |json| {
            let spread = json.pointer_mut("/summary/0/metrics/records_per_sec");
            spread
                .and_then(Value::as_object_mut)
                .map(|s| s.remove("median"));
        }),
        ("an unknown field", |json| {
            json["tool"]["colour"] = "blue".into()
        }),
        ("a wrong type", |json| {
            json["runs"][0]["workloads"][0]["records"] = "many".into()
        }),
        ("a negative count", |json| {
            json["host"]["cores"] = (-2).into()
        }),
        ("an unknown metric", |json| {
            json["summary"][0]["metrics"]["latency_p42_us"] =
                json["summary"][0]["metrics"]["latency_p99_us"].clone();
        }),
    ];
    validator
        .check(&valid)
        .unwrap_or_else(|error| panic!("{error}"));
    for (breakage, apply) in breakages {
        let mut broken = valid.clone();
        apply(&mut broken);
        assert_ne!(broken, valid, "{breakage} changed nothing");
        assert!(
            validator.check(&broken).is_err(),
            "{breakage} passed validation"
        );
    }
}

#[test]
fn a_report_of_another_schema_version_is_refused() {
    let mut report = common::report(
        "produce",
        vec![vec![common::workload("produce", 1.0, None)]],
    );
    report.schema_version = REPORT_SCHEMA_VERSION + 1;
    let directory = common::test_dir("schema-version");
    let path = common::write(&report, &directory, "future.json");
    let error = read_json(&path);
    assert!(
        matches!(error, Err(ReportError::SchemaVersion { .. })),
        "{error:?}"
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

//! Which differences between two reports are errors, warnings, or regressions.

use std::path::Path;

use super::*;
use crate::report::fixtures;

fn default_gates() -> Gates {
    Gates {
        threshold: Threshold { fraction: 0.05 },
        throughput: ThroughputMetric::RecordsPerSec,
        percentiles: vec![Percentile::P99],
        percentiles_requested: false,
        allow_config_diff: false,
    }
}

#[test]
fn a_report_compared_with_itself_passes_with_every_metric_shown() {
    let report = fixtures::report("produce", 3);
    let comparison = compare(&report, &report, &default_gates()).expect("comparable");
    assert!(comparison.passed);
    assert!(comparison.warnings.is_empty(), "{:?}", comparison.warnings);
    // produce: 2 throughput + 7 latency metrics; end-to-end: 2 throughput metrics.
    assert_eq!(comparison.rows.len(), 11);
    let gated: Vec<&str> = comparison
        .rows
        .iter()
        .filter(|row| row.gated)
        .map(|row| row.metric)
        .collect();
    assert_eq!(
        gated,
        ["records_per_sec", "latency_p99_us", "records_per_sec"]
    );
    let text = render(&comparison, Path::new("a.json"), Path::new("b.json"));
    assert!(
        text.lines()
            .last()
            .is_some_and(|line| line.starts_with("PASS")),
        "{text}"
    );
}

#[test]
fn different_kinds_and_a_missing_workload_are_errors() {
    let baseline = fixtures::report("produce", 1);
    let other_kind = fixtures::report("consume", 1);
    let error = compare(&baseline, &other_kind, &default_gates()).map(|c| c.passed);
    assert!(
        matches!(error, Err(CompareError::KindMismatch { .. })),
        "{error:?}"
    );

    let mut fewer = baseline.clone();
    for run in &mut fewer.runs {
        run.workloads
            .retain(|workload| workload.name != "end-to-end");
    }
    fewer.summary = summarize(&fewer.runs);
    let error = compare(&baseline, &fewer, &default_gates()).map(|c| c.passed);
    assert!(
        matches!(error, Err(CompareError::MissingWorkload { .. })),
        "{error:?}"
    );
    // The other way round only the candidate has it: a warning.
    let comparison = compare(&fewer, &baseline, &default_gates()).expect("comparable");
    assert!(comparison.passed);
    assert!(comparison.warnings[0].contains("only in the candidate"));
}

#[test]
fn a_gated_percentile_the_candidate_lost_is_an_error_one_the_baseline_lacks_a_warning() {
    let with_latency = fixtures::report("produce", 1);
    let mut without = with_latency.clone();
    for workload in without.runs.iter_mut().flat_map(|run| &mut run.workloads) {
        workload.latency = None;
    }
    without.summary = summarize(&without.runs);
    let error = compare(&with_latency, &without, &default_gates()).map(|c| c.passed);
    assert!(
        matches!(error, Err(CompareError::MissingMetric { .. })),
        "{error:?}"
    );
    let comparison = compare(&without, &with_latency, &default_gates()).expect("comparable");
    assert!(comparison.passed);
    assert!(comparison.warnings[0].contains("the baseline has no p99"));
    // A percentile asked for that neither report has is said, not silently skipped.
    let requested = Gates {
        percentiles_requested: true,
        ..default_gates()
    };
    let comparison = compare(&without, &without, &requested).expect("comparable");
    assert!(comparison
        .warnings
        .iter()
        .any(|w| w.contains("neither report measured p99")));
}

#[test]
fn differing_options_are_an_error_unless_allowed_and_output_options_do_not_count() {
    let mut baseline = fixtures::report("produce", 1);
    baseline.config = serde_json::json!({
        "acks": "all", "rate": null, "partitions": 16, "json": "a.json", "plot": null,
        "quiet": false, "repeat": 3, "bootstrap": "10.0.0.1:9092",
    });
    let mut candidate = baseline.clone();
    candidate.config = serde_json::json!({
        "acks": "1", "rate": 5000.0, "partitions": 16, "json": "b.json", "plot": "b.svg",
        "quiet": true, "repeat": 5, "bootstrap": "10.0.0.2:9092", "cores": "2-3",
    });
    let error = compare(&baseline, &candidate, &default_gates()).map(|c| c.passed);
    let Err(CompareError::ConfigMismatch { differences }) = error else {
        panic!("not a config mismatch: {error:?}");
    };
    assert_eq!(
        differences,
        "acks all vs 1, cores absent vs 2-3, rate unset vs 5000.0"
    );

    let allowed = Gates {
        allow_config_diff: true,
        ..default_gates()
    };
    let comparison = compare(&baseline, &candidate, &allowed).expect("allowed");
    assert!(comparison.passed);
    assert_eq!(
        comparison.warnings,
        [
            "measured against different brokers: bootstrap 10.0.0.1:9092 vs 10.0.0.2:9092",
            "the configurations differ in: acks all vs 1, cores absent vs 2-3, \
             rate unset vs 5000.0",
        ]
    );

    // Only output options, repeat and bootstrap differ: comparable without the flag.
    let mut same_experiment = baseline.clone();
    same_experiment.config = serde_json::json!({
        "acks": "all", "rate": null, "partitions": 16, "json": null, "plot": "c.svg",
        "quiet": true, "repeat": 1, "bootstrap": "10.0.0.1:9092",
    });
    let comparison = compare(&baseline, &same_experiment, &default_gates()).expect("same");
    assert!(comparison.passed);
    assert!(comparison.warnings.is_empty(), "{:?}", comparison.warnings);

    // A different client library is a different experiment even with identical options.
    let mut other_client = baseline.clone();
    other_client.tool.client = "rdkafka".into();
    let error = compare(&baseline, &other_client, &default_gates()).map(|c| c.passed);
    assert!(
        matches!(&error, Err(CompareError::ConfigMismatch { differences })
            if differences == "tool.client pinlog vs rdkafka"),
        "{error:?}"
    );
}

#[test]
fn errors_only_the_candidate_has_fail_the_workload_errors_on_both_sides_warn() {
    fn with_errors(repetitions: u32, errors: u64) -> Report {
        let mut report = fixtures::report("produce", repetitions);
        for workload in report.runs.iter_mut().flat_map(|run| &mut run.workloads) {
            if workload.name == "produce" {
                workload.errors = errors;
            }
        }
        report
    }
    let clean = with_errors(3, 0);
    let failing = with_errors(3, 4);
    // Same throughput and latency: only the errors can fail it.
    let comparison = compare(&clean, &failing, &default_gates()).expect("comparable");
    assert!(!comparison.passed);
    assert!(
        comparison.regressions.is_empty(),
        "{:?}",
        comparison.regressions
    );
    assert_eq!(comparison.new_errors, ["produce 12 errors"]);
    let text = render(&comparison, Path::new("a.json"), Path::new("b.json"));
    assert_eq!(
        text.lines().last(),
        Some("FAIL: errors where the baseline had none: produce 12 errors"),
        "{text}"
    );

    let comparison = compare(&failing, &failing, &default_gates()).expect("comparable");
    assert!(comparison.passed);
    assert_eq!(
        comparison.warnings,
        [
            "workload produce: the baseline had 12 errors and the candidate 12, \
          so both measured only what succeeded"
        ]
    );
    let comparison = compare(&failing, &clean, &default_gates()).expect("comparable");
    assert!(comparison.passed);
    assert_eq!(
        comparison.warnings,
        ["workload produce: the baseline had 12 errors, the candidate none"]
    );
}

#[test]
fn a_baseline_that_measured_no_throughput_is_an_error() {
    let measured = fixtures::report("produce", 3);
    let mut ended_in_warm_up = measured.clone();
    let first = &mut ended_in_warm_up.runs[0].workloads[0];
    assert_eq!(first.name, "produce");
    (
        first.records,
        first.bytes,
        first.records_per_sec,
        first.mb_per_sec,
    ) = (0, 0, 0.0, 0.0);
    ended_in_warm_up.summary = summarize(&ended_in_warm_up.runs);

    let error = compare(&ended_in_warm_up, &measured, &default_gates()).map(|c| c.passed);
    let Err(error @ CompareError::ZeroBaselineThroughput { .. }) = error else {
        panic!("not a zero-throughput error: {error:?}");
    };
    assert_eq!(
        error.to_string(),
        "workload produce: the baseline's records/s is 0 in 1 of 3 repetitions, so it \
         measured nothing to gate against (did a --records run end inside the warm-up?)"
    );
    // The same in the candidate does not move its median: a warning, and the median judges.
    let comparison = compare(&measured, &ended_in_warm_up, &default_gates()).expect("ok");
    assert!(comparison.passed);
    assert_eq!(
        comparison.warnings,
        ["workload produce: the candidate's records/s is 0 in 1 of 3 repetitions"]
    );
}

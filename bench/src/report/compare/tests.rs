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
fn differing_configurations_are_named_in_a_warning() {
    let baseline = fixtures::report("produce", 1);
    let mut candidate = baseline.clone();
    candidate.config = serde_json::json!({ "record_bytes": 1000, "acks": "all" });
    let comparison = compare(&baseline, &candidate, &default_gates()).expect("comparable");
    assert_eq!(
        comparison.warnings,
        ["the configurations differ in: acks, record_bytes"]
    );
}

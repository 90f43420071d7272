//! `pinlog-bench compare` as CI runs it: the binary, report files on disk, and its exit code
//! (0 pass, 1 regression, 2 error).

mod common;

use std::path::Path;
use std::process::Command;

use common::workload;
use pinlog_bench::report::Report;

const BINARY: &str = env!("CARGO_BIN_EXE_pinlog-bench");
const THROUGHPUT: f64 = 100_000.0;
const P99_US: f64 = 2_000.0;

/// Repetitions jittering ±8% around the same centre, as the same code measures on a noisy
/// machine. The candidate's medians are chosen worse than the baseline's (records/s -6%, p99
/// +6.5%): beyond the 5% threshold but inside the baseline's own range (0.92–1.08), so only
/// the noise rule can (and must) let this pass.
const BASELINE_JITTER: [f64; 5] = [1.00, 0.92, 1.08, 0.97, 1.03];
const CANDIDATE_THROUGHPUT_JITTER: [f64; 5] = [0.93, 1.07, 0.94, 0.92, 0.945];
const CANDIDATE_LATENCY_JITTER: [f64; 5] = [1.07, 0.93, 1.06, 1.08, 1.065];

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn compare(directory: &Path, baseline: &Report, candidate: &Report, flags: &[&str]) -> Outcome {
    let baseline = common::write(baseline, directory, "baseline.json");
    let candidate = common::write(candidate, directory, "candidate.json");
    let output = Command::new(BINARY)
        .arg("compare")
        .arg(&baseline)
        .arg(&candidate)
        .args(flags)
        .output()
        .expect("run pinlog-bench");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A produce report with one repetition per `(throughput factor, p99 factor)`.
fn produce(factors: impl IntoIterator<Item = (f64, f64)>) -> Report {
    let runs = factors
        .into_iter()
        .map(|(throughput, p99)| {
            vec![workload(
                "produce",
                THROUGHPUT * throughput,
                Some(P99_US * p99),
            )]
        })
        .collect();
    common::report("produce", runs)
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

#[test]
fn a_20_percent_throughput_regression_fails() {
    let directory = common::test_dir("compare-throughput");
    let baseline = produce(BASELINE_JITTER.map(|f| (f, 1.0)).into_iter().take(3));
    let slower = produce([0.79, 0.80, 0.81].map(|f| (f, 1.0)));
    let outcome = compare(&directory, &baseline, &slower, &["--max-regression", "5%"]);
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    let verdict = last_line(&outcome.stdout);
    assert!(verdict.starts_with("FAIL"), "{}", outcome.stdout);
    assert!(verdict.contains("produce records/s -20.0%"), "{verdict}");
    assert!(!verdict.contains("p99"), "{verdict}");
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn a_median_shift_beyond_the_baseline_noise_fails_despite_overlapping_ranges() {
    let directory = common::test_dir("compare-overlap");
    let baseline = produce([0.92, 1.00, 1.08].map(|f| (f, 1.0)));
    // -15%: the best candidate repetition (0.90) is within 5% of the baseline's worst (0.92),
    // but the median (0.85) is below every baseline repetition.
    let slower = produce([0.80, 0.85, 0.90].map(|f| (f, 1.0)));
    let outcome = compare(&directory, &baseline, &slower, &["--max-regression", "5%"]);
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    let verdict = last_line(&outcome.stdout);
    assert!(verdict.contains("produce records/s -15.0%"), "{verdict}");
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn identical_code_on_a_noisy_machine_passes_thanks_to_the_spread() {
    let directory = common::test_dir("compare-noise");
    let baseline = produce(BASELINE_JITTER.map(|f| (f, f)));
    let candidate = produce(
        CANDIDATE_THROUGHPUT_JITTER
            .into_iter()
            .zip(CANDIDATE_LATENCY_JITTER),
    );
    let outcome = compare(
        &directory,
        &baseline,
        &candidate,
        &["--max-regression", "5%"],
    );
    assert_eq!(
        outcome.code,
        Some(0),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        last_line(&outcome.stdout).starts_with("PASS"),
        "{}",
        outcome.stdout
    );
    // Both gated metrics were saved by the baseline's noise, not by the threshold.
    let saved = outcome
        .stdout
        .lines()
        .filter(|line| line.ends_with("  within noise"));
    assert_eq!(saved.count(), 2, "{}", outcome.stdout);

    // The same medians measured once each: only the threshold applies, and it fails.
    let once_baseline = produce([(1.0, 1.0)]);
    let once_candidate = produce([(0.94, 1.065)]);
    let outcome = compare(
        &directory,
        &once_baseline,
        &once_candidate,
        &["--max-regression", "5"],
    );
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn a_latency_percentile_regression_fails_when_that_percentile_gates() {
    let directory = common::test_dir("compare-latency");
    let baseline = produce([(1.0, 1.0), (1.01, 0.98), (0.99, 1.02)]);
    let mut candidate = baseline.clone();
    for workload in candidate.runs.iter_mut().flat_map(|run| &mut run.workloads) {
        if let Some(latency) = &mut workload.latency {
            latency.p99_us *= 1.3;
        }
    }
    candidate.summary = pinlog_bench::report::summarize(&candidate.runs);

    let outcome = compare(&directory, &baseline, &candidate, &[]);
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    let verdict = last_line(&outcome.stdout);
    assert!(verdict.contains("produce p99 +30.0%"), "{verdict}");
    assert!(!verdict.contains("records/s"), "{verdict}");

    let median_only = ["--percentile", "p50", "--percentile", "p999"];
    let outcome = compare(&directory, &baseline, &candidate, &median_only);
    assert_eq!(
        outcome.code,
        Some(0),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome.stdout.contains("worse (not gated)"),
        "{}",
        outcome.stdout
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn failed_sends_only_the_candidate_has_fail_the_gate() {
    let directory = common::test_dir("compare-errors-gate");
    let baseline = produce([(1.0, 1.0), (1.01, 0.98), (0.99, 1.02)]);
    // Failing sends can look faster than succeeding ones.
    let mut candidate = produce([(1.2, 0.8), (1.21, 0.79), (1.19, 0.81)]);
    for workload in candidate.runs.iter_mut().flat_map(|run| &mut run.workloads) {
        workload.errors = 5;
    }
    let outcome = compare(&directory, &baseline, &candidate, &[]);
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert_eq!(
        last_line(&outcome.stdout),
        "FAIL: errors where the baseline had none: produce 15 errors",
        "{}",
        outcome.stdout
    );

    // Both sides failing the same way is said, not gated.
    let outcome = compare(&directory, &candidate, &candidate, &[]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stdout);
    assert!(
        outcome
            .stdout
            .contains("warning: workload produce: the baseline had 15 errors"),
        "{}",
        outcome.stdout
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn different_options_exit_2_unless_allowed() {
    let directory = common::test_dir("compare-config");
    let mut baseline = produce([(1.0, 1.0), (1.01, 0.98), (0.99, 1.02)]);
    baseline.config["acks"] = "all".into();
    baseline.config["json"] = "baseline.json".into();
    let mut candidate = baseline.clone();
    candidate.config["acks"] = "1".into();
    candidate.config["json"] = "candidate.json".into();

    let outcome = compare(&directory, &baseline, &candidate, &[]);
    assert_eq!(
        outcome.code,
        Some(2),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome
            .stderr
            .contains("different options: acks all vs 1; pass --allow-config-diff"),
        "{}",
        outcome.stderr
    );

    let outcome = compare(&directory, &baseline, &candidate, &["--allow-config-diff"]);
    assert_eq!(
        outcome.code,
        Some(0),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome
            .stdout
            .contains("warning: the configurations differ in: acks all vs 1\n"),
        "{}",
        outcome.stdout
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn a_baseline_that_measured_nothing_exits_2() {
    let directory = common::test_dir("compare-zero");
    let baseline = produce([(0.0, 1.0), (1.0, 1.0), (1.0, 1.0)]);
    let candidate = produce([(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)]);
    let outcome = compare(&directory, &baseline, &candidate, &[]);
    assert_eq!(
        outcome.code,
        Some(2),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome
            .stderr
            .contains("the baseline's records/s is 0 in 1 of 3 repetitions"),
        "{}",
        outcome.stderr
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn json_output_carries_the_verdict() {
    let directory = common::test_dir("compare-json");
    let baseline = produce([(1.0, 1.0)]);
    let slower = produce([(0.5, 1.0)]);
    let out = directory.join("comparison.json");
    let out_flag = out.to_str().expect("a UTF-8 temp path");
    let outcome = compare(&directory, &baseline, &slower, &["--json", out_flag]);
    assert_eq!(
        outcome.code,
        Some(1),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    let text = std::fs::read_to_string(&out).expect("the comparison was written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["passed"], false);
    assert_eq!(json["max_regression_percent"], 5.0);
    assert_eq!(json["regressions"][0], "produce records/s -50.0%");
    assert_eq!(json["rows"][0]["verdict"], "regressed");
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn unusable_input_exits_2_with_a_clear_message() {
    let directory = common::test_dir("compare-errors");
    let report = produce([(1.0, 1.0)]);
    let outcome = compare(&directory, &report, &report, &["--max-regression", "lots"]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("--max-regression \"lots\""),
        "{}",
        outcome.stderr
    );

    let outcome = compare(&directory, &report, &report, &["--max-regression", "0.05"]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("ambiguous"), "{}", outcome.stderr);

    let consume = common::report("consume", vec![vec![workload("consume", THROUGHPUT, None)]]);
    let outcome = compare(&directory, &report, &consume, &[]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert!(outcome
        .stderr
        .contains("produce report but the candidate a consume"));

    let renamed = common::report("produce", vec![vec![workload("other", THROUGHPUT, None)]]);
    let outcome = compare(&directory, &report, &renamed, &[]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert!(outcome
        .stderr
        .contains("workload produce of the baseline is missing"));

    let missing = directory.join("missing.json");
    let output = Command::new(BINARY)
        .arg("compare")
        .arg(&missing)
        .arg(&missing)
        .output()
        .expect("run pinlog-bench");
    assert_eq!(output.status.code(), Some(2));
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn help_documents_the_noise_rule() {
    let output = Command::new(BINARY)
        .args(["compare", "--help"])
        .output()
        .expect("run pinlog-bench");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Noise rule"), "{help}");
    assert!(help.contains("worst"), "{help}");
    assert!(help.contains("--allow-config-diff"), "{help}");
    assert!(help.contains("--percentile"), "{help}");
}

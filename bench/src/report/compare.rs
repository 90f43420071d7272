//! `pinlog-bench compare BASELINE.json CANDIDATE.json --max-regression 5%`: the perf-regression
//! gate.
//!
//! Workloads are matched by name and every metric both reports have is shown side by side
//! (median, `[min–max]` over the repetitions, change of the median). Only some metrics *gate*:
//! the throughput (`--throughput`, records/s by default; higher is better) always, and the
//! latency percentiles chosen with `--percentile` (p99 by default; lower is better).
//!
//! **Noise rule.** A gated metric regressed when the candidate's *median* is worse than the
//! baseline's median by more than the threshold, *and* also worse than the baseline's worst
//! repetition (its min for throughput, its max for latency): the shift exceeds both the
//! threshold and the noise the baseline itself showed. The candidate is judged by its median
//! alone, so one outlier repetition decides nothing and more repetitions sharpen the gate.
//! Identical code measured `--repeat K` times on a noisy machine lands inside the baseline's
//! range and passes. With one repetition on each side only the threshold applies.
//!
//! **What is an error.** The baseline says what must be checked, so the gate fails closed:
//! different workload kinds, a baseline workload missing from the candidate, or a gated
//! metric the baseline has and the candidate lacks are errors (exit 2). What cannot weaken the
//! gate is a warning: a workload only the candidate has, a gated metric the baseline lacks
//! (nothing to compare against), a requested percentile neither report measured, and
//! differing configurations or hosts.
//!
//! `--max-regression` is a percentage: `5%` and `5` both mean five percent; a bare number
//! below 1 (`0.05`) is refused as ambiguous.

mod judge;
mod output;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::Serialize;

use self::judge::{change_percent, judge, Better, Threshold, Verdict};
pub use self::output::render;
use self::output::write_comparison;
use super::format::{self, Show};
use super::model::{Report, Spread, WorkloadSummary, METRIC_MB_PER_SEC, METRIC_RECORDS_PER_SEC};
use super::{read_json, summarize, ReportError};

const NOISE_RULE_HELP: &str = "\
Noise rule: a gated metric regresses when the candidate's median is worse than the \
baseline's median by more than --max-regression AND also worse than the baseline's worst \
repetition (its lowest throughput, its highest latency): the shift must exceed both the \
threshold and the noise the baseline showed. With one repetition on each side only the \
threshold applies. Run both sides with --repeat K (K >= 3) so that noise is measured, not \
guessed.

Exit status: 0 when nothing regressed, 1 when a gated metric regressed, 2 on an error \
(unreadable report, different workload kinds, a baseline workload or gated metric missing \
from the candidate).";

#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = NOISE_RULE_HELP)]
pub struct CompareArgs {
    /// The report to compare against.
    pub baseline: PathBuf,
    /// The report under test.
    pub candidate: PathBuf,
    /// Largest tolerated regression, in percent: `5%` and `5` both mean five percent.
    /// A metric fails only beyond this AND beyond the baseline's noise (see --help).
    #[arg(long, default_value = "5%")]
    pub max_regression: String,
    /// The throughput metric that gates (higher is better).
    #[arg(long, value_enum, default_value_t = ThroughputMetric::RecordsPerSec)]
    pub throughput: ThroughputMetric,
    /// A latency percentile that gates (lower is better); repeat for several.
    /// Default: p99, when the reports measured latency.
    #[arg(long = "percentile", value_enum, value_name = "PERCENTILE")]
    pub percentiles: Vec<Percentile>,
    /// Also write the comparison as JSON to this file.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThroughputMetric {
    RecordsPerSec,
    MbPerSec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Percentile {
    P50,
    P90,
    P99,
    P999,
    P9999,
    Max,
}

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("--max-regression {text:?}: {reason}")]
    Threshold { text: String, reason: &'static str },
    #[error("the baseline is a {baseline} report but the candidate a {candidate} report")]
    KindMismatch { baseline: String, candidate: String },
    #[error("the baseline has no workload results to compare against")]
    EmptyBaseline,
    #[error("workload {workload} of the baseline is missing from the candidate")]
    MissingWorkload { workload: String },
    #[error(
        "workload {workload}: the baseline has {metric} but the candidate does not, \
         so it cannot be gated"
    )]
    MissingMetric { workload: String, metric: String },
}

/// A metric as `compare` shows and judges it.
struct Metric {
    name: &'static str,
    label: &'static str,
    better: Better,
    show: Show,
}

/// Every metric of a summary, in the order of the table.
const METRICS: [Metric; 9] = [
    throughput(METRIC_RECORDS_PER_SEC, "records/s", format::rate),
    throughput(METRIC_MB_PER_SEC, "MB/s", format::significant),
    latency("latency_p50_us", "p50"),
    latency("latency_p90_us", "p90"),
    latency("latency_p99_us", "p99"),
    latency("latency_p999_us", "p99.9"),
    latency("latency_p9999_us", "p99.99"),
    latency("latency_max_us", "max"),
    latency("latency_mean_us", "mean"),
];

const fn throughput(name: &'static str, label: &'static str, show: Show) -> Metric {
    Metric {
        name,
        label,
        better: Better::Higher,
        show,
    }
}

const fn latency(name: &'static str, label: &'static str) -> Metric {
    Metric {
        name,
        label,
        better: Better::Lower,
        show: format::latency_us,
    }
}

impl ThroughputMetric {
    fn metric_name(self) -> &'static str {
        match self {
            ThroughputMetric::RecordsPerSec => METRIC_RECORDS_PER_SEC,
            ThroughputMetric::MbPerSec => METRIC_MB_PER_SEC,
        }
    }
}

impl Percentile {
    fn metric_name(self) -> &'static str {
        match self {
            Percentile::P50 => "latency_p50_us",
            Percentile::P90 => "latency_p90_us",
            Percentile::P99 => "latency_p99_us",
            Percentile::P999 => "latency_p999_us",
            Percentile::P9999 => "latency_p9999_us",
            Percentile::Max => "latency_max_us",
        }
    }
}

/// What gates, resolved from the arguments.
#[derive(Debug, Clone)]
pub struct Gates {
    pub threshold: Threshold,
    pub throughput: ThroughputMetric,
    pub percentiles: Vec<Percentile>,
    /// False when `percentiles` is the default, which a latency-less report silently skips.
    pub percentiles_requested: bool,
}

/// One metric of one workload, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    pub metric: &'static str,
    pub gated: bool,
    pub baseline: Spread,
    pub candidate: Spread,
    pub change_percent: Option<f64>,
    pub verdict: Verdict,
}

/// The outcome of a comparison; `passed` is the gate's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub kind: String,
    pub max_regression_percent: f64,
    pub baseline_repetitions: usize,
    pub candidate_repetitions: usize,
    pub rows: Vec<Row>,
    pub warnings: Vec<String>,
    /// `workload metric change%` of each gated metric that regressed.
    pub regressions: Vec<String>,
    pub passed: bool,
}

/// Prints the side-by-side table; `Ok(true)` when nothing regressed beyond the threshold.
pub fn run(args: &CompareArgs) -> Result<bool, ReportError> {
    let gates = Gates {
        threshold: Threshold::parse(&args.max_regression)?,
        throughput: args.throughput,
        percentiles_requested: !args.percentiles.is_empty(),
        percentiles: if args.percentiles.is_empty() {
            vec![Percentile::P99]
        } else {
            args.percentiles.clone()
        },
    };
    let baseline = read_json(&args.baseline)?;
    let candidate = read_json(&args.candidate)?;
    let comparison = compare(&baseline, &candidate, &gates)?;
    print!("{}", render(&comparison, &args.baseline, &args.candidate));
    if let Some(path) = &args.json {
        write_comparison(&comparison, args, path)?;
    }
    Ok(comparison.passed)
}

/// Judges `candidate` against `baseline`; see the module doc for what is an error.
pub fn compare(
    baseline: &Report,
    candidate: &Report,
    gates: &Gates,
) -> Result<Comparison, CompareError> {
    if baseline.kind != candidate.kind {
        return Err(CompareError::KindMismatch {
            baseline: baseline.kind.clone(),
            candidate: candidate.kind.clone(),
        });
    }
    let baseline_summary = summary_of(baseline);
    let candidate_summary = summary_of(candidate);
    if baseline_summary.is_empty() {
        return Err(CompareError::EmptyBaseline);
    }
    let mut warnings = context_warnings(baseline, candidate);
    let gated: Vec<&str> = std::iter::once(gates.throughput.metric_name())
        .chain(gates.percentiles.iter().map(|p| p.metric_name()))
        .collect();
    let mut rows = Vec::new();
    for base in &baseline_summary {
        let Some(cand) = candidate_summary.iter().find(|c| c.name == base.name) else {
            return Err(CompareError::MissingWorkload {
                workload: base.name.clone(),
            });
        };
        for metric in &METRICS {
            let is_gated = gated.contains(&metric.name);
            match (base.metrics.get(metric.name), cand.metrics.get(metric.name)) {
                (Some(b), Some(c)) => rows.push(Row {
                    workload: base.name.clone(),
                    metric: metric.name,
                    gated: is_gated,
                    verdict: judge(metric.better, b, c, gates.threshold),
                    change_percent: change_percent(b, c),
                    baseline: b.clone(),
                    candidate: c.clone(),
                }),
                (Some(_), None) if is_gated => {
                    return Err(CompareError::MissingMetric {
                        workload: base.name.clone(),
                        metric: metric.name.to_string(),
                    })
                }
                (None, Some(_)) if is_gated => warnings.push(format!(
                    "workload {}: the baseline has no {}, so it is not gated",
                    base.name, metric.label
                )),
                (None, None) if is_gated && gates.percentiles_requested => warnings.push(format!(
                    "workload {}: neither report measured {}",
                    base.name, metric.label
                )),
                _ => {}
            }
        }
    }
    for cand in &candidate_summary {
        if !baseline_summary.iter().any(|b| b.name == cand.name) {
            warnings.push(format!(
                "workload {} is only in the candidate, so it is not compared",
                cand.name
            ));
        }
    }
    let regressions: Vec<String> = rows
        .iter()
        .filter(|row| row.gated && row.verdict == Verdict::Regressed)
        .map(|row| {
            format!(
                "{} {} {}",
                row.workload,
                label(row.metric),
                change_text(row)
            )
        })
        .collect();
    Ok(Comparison {
        kind: baseline.kind.clone(),
        max_regression_percent: gates.threshold.percent(),
        baseline_repetitions: baseline.runs.len(),
        candidate_repetitions: candidate.runs.len(),
        passed: regressions.is_empty(),
        rows,
        warnings,
        regressions,
    })
}

/// The report's summary, or one computed from its runs if it was written without.
fn summary_of(report: &Report) -> Vec<WorkloadSummary> {
    if report.summary.is_empty() {
        summarize(&report.runs)
    } else {
        report.summary.clone()
    }
}

/// Differences that make the comparison less meaningful without making it wrong.
fn context_warnings(baseline: &Report, candidate: &Report) -> Vec<String> {
    let mut warnings = Vec::new();
    if baseline.config != candidate.config {
        let differing = match (baseline.config.as_object(), candidate.config.as_object()) {
            (Some(b), Some(c)) => {
                let mut keys: Vec<&str> = b.keys().chain(c.keys()).map(String::as_str).collect();
                keys.sort_unstable();
                keys.dedup();
                keys.retain(|key| b.get(*key) != c.get(*key));
                keys.join(", ")
            }
            _ => "the whole configuration".to_string(),
        };
        warnings.push(format!("the configurations differ in: {differing}"));
    }
    let (b, c) = (&baseline.host, &candidate.host);
    if (&b.hostname, b.cores, &b.cpu_model) != (&c.hostname, c.cores, &c.cpu_model) {
        warnings.push(format!(
            "measured on different hosts: {} ({} cores) and {} ({} cores)",
            b.hostname, b.cores, c.hostname, c.cores
        ));
    }
    warnings
}

fn metric_info(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|metric| metric.name == name)
}

fn label(name: &str) -> &str {
    metric_info(name).map_or(name, |metric| metric.label)
}

fn change_text(row: &Row) -> String {
    row.change_percent
        .map_or_else(|| "n/a".to_string(), |change| format!("{change:+.1}%"))
}

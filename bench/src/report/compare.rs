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
//! **Errors of the workload.** A workload whose candidate counted failed sends or fetches
//! (`errors`, summed over the repetitions) while the baseline counted none regressed, however
//! fast it looks: failing is often faster than succeeding. When both have errors it is a
//! warning.
//!
//! **What is an error.** The baseline says what must be checked, so the gate fails closed:
//! different workload kinds, a baseline workload missing from the candidate, a gated metric
//! the baseline has and the candidate lacks, a baseline whose gated throughput is 0 in some
//! repetition (a `--records` run that ended inside the warm-up measured nothing, and its
//! worst repetition would excuse any candidate), and reports run with different options are
//! errors (exit 2). Options that only shape the output (`json`, `plot`, `quiet`) and `repeat`
//! are ignored; a different `bootstrap` is a warning; any other differing option, or a
//! different client (`tool.client`), is an error unless `--allow-config-diff` makes it a
//! warning. What cannot weaken the gate is a warning: a workload only the candidate has, a
//! gated metric the baseline lacks (nothing to compare against), a requested percentile
//! neither report measured, and different hosts.
//!
//! `--max-regression` is a percentage: `5%` and `5` both mean five percent; a bare number
//! below 1 (`0.05`) is refused as ambiguous.

mod judge;
mod output;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
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

A workload whose candidate had errors (failed sends or fetches) while the baseline had none \
regressed too.

Exit status: 0 when nothing regressed, 1 when a gated metric or a workload's errors \
regressed, 2 on an error (unreadable report, different workload kinds, a baseline workload \
or gated metric missing from the candidate, a baseline that measured 0 throughput, or \
reports run with different options or clients without --allow-config-diff).";

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
    /// Compare reports run with different options or clients, with a warning instead of an
    /// error. Output-only options (json, plot, quiet), repeat and bootstrap never count.
    #[arg(long)]
    pub allow_config_diff: bool,
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
    #[error(
        "workload {workload}: the baseline's {metric} is 0 in {repetitions}, so it measured \
         nothing to gate against (did a --records run end inside the warm-up?)"
    )]
    ZeroBaselineThroughput {
        workload: String,
        metric: &'static str,
        repetitions: String,
    },
    #[error(
        "the reports were run with different options: {differences}; \
         pass --allow-config-diff to compare them anyway"
    )]
    ConfigMismatch { differences: String },
}

/// A metric as `compare` shows and judges it.
struct Metric {
    name: &'static str,
    label: &'static str,
    better: Better,
    show: Show,
}

/// Options that shape only the output, or that the comparison already shows (`repeat`).
const CONFIG_KEYS_IGNORED: [&str; 4] = ["json", "plot", "quiet", "repeat"];
/// A different broker address is worth saying, but is not a different experiment.
const CONFIG_KEY_BOOTSTRAP: &str = "bootstrap";

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
    /// Differing options or clients are a warning instead of an error.
    pub allow_config_diff: bool,
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
    /// `workload N errors` of each workload whose candidate had errors and baseline none.
    pub new_errors: Vec<String>,
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
        allow_config_diff: args.allow_config_diff,
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
    let mut warnings = config_warnings(baseline, candidate, gates.allow_config_diff)?;
    warnings.extend(host_warning(baseline, candidate));
    let baseline_errors = error_totals(baseline);
    let candidate_errors = error_totals(candidate);
    let mut new_errors = Vec::new();
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
        check_baseline_measured(base, gates.throughput)?;
        warnings.extend(unmeasured_candidate_warning(cand, gates.throughput));
        let errors_of =
            |totals: &BTreeMap<&str, u64>| totals.get(base.name.as_str()).copied().unwrap_or(0);
        match (errors_of(&baseline_errors), errors_of(&candidate_errors)) {
            (0, 0) => {}
            (0, errors) => new_errors.push(format!("{} {errors} errors", base.name)),
            (errors, 0) => warnings.push(format!(
                "workload {}: the baseline had {errors} errors, the candidate none",
                base.name
            )),
            (base_errors, cand_errors) => warnings.push(format!(
                "workload {}: the baseline had {base_errors} errors and the candidate \
                 {cand_errors}, so both measured only what succeeded",
                base.name
            )),
        }
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
        passed: regressions.is_empty() && new_errors.is_empty(),
        rows,
        warnings,
        regressions,
        new_errors,
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

/// Failed sends or fetches per workload, summed over the repetitions.
fn error_totals(report: &Report) -> BTreeMap<&str, u64> {
    let mut totals = BTreeMap::new();
    for workload in report.runs.iter().flat_map(|run| &run.workloads) {
        let total: &mut u64 = totals.entry(workload.name.as_str()).or_default();
        *total = total.saturating_add(workload.errors);
    }
    totals
}

/// A baseline repetition with no throughput measured nothing; as the baseline's worst
/// repetition it would also excuse any candidate under the noise rule.
fn check_baseline_measured(
    base: &WorkloadSummary,
    throughput: ThroughputMetric,
) -> Result<(), CompareError> {
    let Some(spread) = base.metrics.get(throughput.metric_name()) else {
        return Ok(());
    };
    match unmeasured_repetitions(spread) {
        None => Ok(()),
        Some(repetitions) => Err(CompareError::ZeroBaselineThroughput {
            workload: base.name.clone(),
            metric: label(throughput.metric_name()),
            repetitions,
        }),
    }
}

/// A candidate repetition that measured nothing does not move its median, but is worth saying.
fn unmeasured_candidate_warning(
    cand: &WorkloadSummary,
    throughput: ThroughputMetric,
) -> Option<String> {
    let spread = cand.metrics.get(throughput.metric_name())?;
    unmeasured_repetitions(spread).map(|repetitions| {
        format!(
            "workload {}: the candidate's {} is 0 in {repetitions}",
            cand.name,
            label(throughput.metric_name())
        )
    })
}

/// `1 of 3 repetitions` when some repetition's throughput is not positive; `None` when all are.
fn unmeasured_repetitions(spread: &Spread) -> Option<String> {
    let unmeasured = |value: f64| value.is_nan() || value <= 0.0;
    if spread.values.is_empty() {
        return unmeasured(spread.median).then(|| "its summary".to_string());
    }
    let zero = spread
        .values
        .iter()
        .filter(|value| unmeasured(**value))
        .count();
    (zero > 0).then(|| format!("{zero} of {} repetitions", spread.values.len()))
}

/// Differing options or clients make it a different experiment: an error, or with
/// `allow_config_diff` a warning. See the module doc for the options that do not count.
fn config_warnings(
    baseline: &Report,
    candidate: &Report,
    allow_config_diff: bool,
) -> Result<Vec<String>, CompareError> {
    let mut warnings = Vec::new();
    let mut differences = Vec::new();
    match (baseline.config.as_object(), candidate.config.as_object()) {
        (Some(b), Some(c)) => {
            let mut keys: Vec<&str> = b.keys().chain(c.keys()).map(String::as_str).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                let (in_baseline, in_candidate) = (b.get(key), c.get(key));
                if in_baseline == in_candidate || CONFIG_KEYS_IGNORED.contains(&key) {
                    continue;
                }
                let difference = format!(
                    "{key} {} vs {}",
                    config_value(in_baseline),
                    config_value(in_candidate)
                );
                if key == CONFIG_KEY_BOOTSTRAP {
                    warnings.push(format!("measured against different brokers: {difference}"));
                } else {
                    differences.push(difference);
                }
            }
        }
        _ if baseline.config != candidate.config => {
            differences.push("the whole configuration".to_string());
        }
        _ => {}
    }
    let (b, c) = (&baseline.tool.client, &candidate.tool.client);
    if b != c {
        differences.push(format!("tool.client {b} vs {c}"));
    }
    if differences.is_empty() {
        return Ok(warnings);
    }
    let differences = differences.join(", ");
    if !allow_config_diff {
        return Err(CompareError::ConfigMismatch { differences });
    }
    warnings.push(format!("the configurations differ in: {differences}"));
    Ok(warnings)
}

/// A config value as the command line would spell it; `absent` when the report lacks it.
fn config_value(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "absent".to_string(),
        Some(serde_json::Value::Null) => "unset".to_string(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Different hosts make the comparison less meaningful without making it wrong.
fn host_warning(baseline: &Report, candidate: &Report) -> Option<String> {
    let (b, c) = (&baseline.host, &candidate.host);
    ((&b.hostname, b.cores, &b.cpu_model) != (&c.hostname, c.cores, &c.cpu_model)).then(|| {
        format!(
            "measured on different hosts: {} ({} cores) and {} ({} cores)",
            b.hostname, b.cores, c.hostname, c.cores
        )
    })
}

fn metric_info(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|metric| metric.name == name)
}

fn label(name: &'static str) -> &'static str {
    metric_info(name).map_or(name, |metric| metric.label)
}

fn change_text(row: &Row) -> String {
    row.change_percent
        .map_or_else(|| "n/a".to_string(), |change| format!("{change:+.1}%"))
}

//! What `compare` prints (the side-by-side table and the verdict line) and writes with
//! `--json OUT`.

use std::path::Path;

use serde::Serialize;

use super::judge::Verdict;
use super::{change_text, label, metric_info, CompareArgs, Comparison, Row};
use crate::report::format::{self, Align, Columns, Show};
use crate::report::model::Spread;
use crate::report::ReportError;

/// The side-by-side table, the warnings, and a one-line verdict last.
pub fn render(comparison: &Comparison, baseline: &Path, candidate: &Path) -> String {
    let mut text = format!(
        "compare {}: baseline {} ({} repetitions) vs candidate {} ({} repetitions), \
         max regression {}%\n",
        comparison.kind,
        baseline.display(),
        comparison.baseline_repetitions,
        candidate.display(),
        comparison.candidate_repetitions,
        comparison.max_regression_percent,
    );
    let mut columns = Columns::new(&[
        ("workload", Align::Left),
        ("metric", Align::Left),
        ("baseline", Align::Right),
        ("candidate", Align::Right),
        ("change", Align::Right),
        ("verdict", Align::Left),
    ]);
    for row in &comparison.rows {
        let show = metric_info(row.metric).map_or(format::significant as Show, |m| m.show);
        columns.push(vec![
            row.workload.clone(),
            label(row.metric).to_string(),
            spread_text(&row.baseline, show),
            spread_text(&row.candidate, show),
            change_text(row),
            verdict_text(row),
        ]);
    }
    text += &columns.render();
    for warning in &comparison.warnings {
        text += &format!("warning: {warning}\n");
    }
    let threshold = comparison.max_regression_percent;
    let gated = comparison.rows.iter().filter(|row| row.gated).count();
    if comparison.passed {
        text += &format!(
            "PASS: none of {gated} gated metrics regressed beyond {threshold}% and the noise\n"
        );
        return text;
    }
    let mut failures = Vec::new();
    if !comparison.regressions.is_empty() {
        failures.push(format!(
            "regressed beyond {threshold}% and the noise: {}",
            comparison.regressions.join(", ")
        ));
    }
    if !comparison.new_errors.is_empty() {
        failures.push(format!(
            "errors where the baseline had none: {}",
            comparison.new_errors.join(", ")
        ));
    }
    text += &format!("FAIL: {}\n", failures.join("; "));
    text
}

/// `median [min–max]`, the range only when there were several repetitions.
fn spread_text(spread: &Spread, show: Show) -> String {
    if spread.values.len() > 1 {
        format!(
            "{} [{}–{}]",
            show(spread.median),
            show(spread.min),
            show(spread.max)
        )
    } else {
        show(spread.median)
    }
}

fn verdict_text(row: &Row) -> String {
    let word = match (row.verdict, row.gated) {
        (Verdict::Regressed, true) => return "REGRESSED".to_string(),
        (Verdict::Regressed, false) => "worse",
        (Verdict::Noise, _) => "within noise",
        (Verdict::Ok, _) => "ok",
        (Verdict::Better, _) => "better",
    };
    if row.gated {
        word.to_string()
    } else {
        format!("{word} (not gated)")
    }
}

/// `--json OUT`: the comparison with the paths it read.
pub fn write_comparison(
    comparison: &Comparison,
    args: &CompareArgs,
    path: &Path,
) -> Result<(), ReportError> {
    #[derive(Serialize)]
    struct Document<'a> {
        baseline_path: &'a Path,
        candidate_path: &'a Path,
        #[serde(flatten)]
        comparison: &'a Comparison,
    }
    let document = Document {
        baseline_path: &args.baseline,
        candidate_path: &args.candidate,
        comparison,
    };
    let text = serde_json::to_string_pretty(&document).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source: source.into(),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

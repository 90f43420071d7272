//! The table printed at the end of a run. (Interface placeholder: filled in by the report work.)

use super::model::Report;

/// The final table of `report`, one row per workload, ready to print.
pub fn render(report: &Report) -> String {
    format!("{} repetition(s) of {}\n", report.runs.len(), report.kind)
}

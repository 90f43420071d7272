//! The table printed at the end of a run: one row per workload with its throughput and its
//! latency percentiles in human units.
//!
//! With `--repeat K` (K > 1) every cell is the median over the repetitions followed by
//! `±x%`, the distance of the farthest repetition from that median: the honest width of the
//! noise, which `compare` also judges by. Errors are the total over all repetitions, since
//! even one failed send matters more than its median.

use super::format::{self, Align, Columns, Show};
use super::model::{Report, Spread, WorkloadSummary, METRIC_MB_PER_SEC, METRIC_RECORDS_PER_SEC};
use super::summarize;

/// The columns after the workload name: header, metric, and how to show its value.
const METRIC_COLUMNS: [(&str, &str, Show); 8] = [
    ("records/s", METRIC_RECORDS_PER_SEC, format::rate),
    ("MB/s", METRIC_MB_PER_SEC, format::significant),
    ("p50", "latency_p50_us", format::latency_us),
    ("p90", "latency_p90_us", format::latency_us),
    ("p99", "latency_p99_us", format::latency_us),
    ("p99.9", "latency_p999_us", format::latency_us),
    ("p99.99", "latency_p9999_us", format::latency_us),
    ("max", "latency_max_us", format::latency_us),
];

/// Shown for a metric the workload did not measure (latency of a throughput-only workload).
const NOT_MEASURED: &str = "-";

/// The final table of `report`, one row per workload, ready to print.
pub fn render(report: &Report) -> String {
    let repetitions = report.runs.len();
    let mut text = format!(
        "{kind}: {repetitions} repetition{plural}, client {client} {client_version}, \
         host {hostname} ({cores} cores, kernel {kernel})\n",
        kind = report.kind,
        plural = if repetitions == 1 { "" } else { "s" },
        client = report.tool.client,
        client_version = report.tool.client_version,
        hostname = report.host.hostname,
        cores = report.host.cores,
        kernel = report.host.kernel,
    );
    // A report assembled without its summary (or by another tool) still gets a table.
    let computed;
    let summary: &[WorkloadSummary] = if report.summary.is_empty() {
        computed = summarize(&report.runs);
        &computed
    } else {
        &report.summary
    };
    if summary.is_empty() {
        text += "no workload results\n";
        return text;
    }

    let mut header = vec![("workload", Align::Left)];
    header.extend(
        METRIC_COLUMNS
            .iter()
            .map(|(name, _, _)| (*name, Align::Right)),
    );
    header.push(("errors", Align::Right));
    let mut columns = Columns::new(&header);
    for workload in summary {
        let mut row = vec![workload.name.clone()];
        for (_, metric, show) in METRIC_COLUMNS {
            row.push(match workload.metrics.get(metric) {
                Some(spread) => cell(spread, show),
                None => NOT_MEASURED.to_string(),
            });
        }
        row.push(errors(report, &workload.name).to_string());
        columns.push(row);
    }
    text += &columns.render();
    if repetitions > 1 {
        text += &format!(
            "cells: median of {repetitions} repetitions ± the farthest repetition from it; \
             errors: total over all repetitions\n"
        );
    }
    text
}

/// The median, and with several repetitions how far the farthest one lies from it.
fn cell(spread: &Spread, show: Show) -> String {
    match format::deviation_percent(spread) {
        Some(percent) => format!("{} ±{}%", show(spread.median), format::percent(percent)),
        None => show(spread.median),
    }
}

/// Failed sends or fetches of workload `name`, summed over every repetition.
fn errors(report: &Report, name: &str) -> u64 {
    report
        .runs
        .iter()
        .flat_map(|run| &run.workloads)
        .filter(|workload| workload.name == name)
        .map(|workload| workload.errors)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn one_repetition_shows_plain_values_one_row_per_workload() {
        let text = render(&fixtures::report("produce", 1));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("produce: 1 repetition, client pinlog"));
        assert!(lines[1].starts_with("workload"));
        assert!(lines[1].contains("p99.99") && lines[1].ends_with("errors"));
        let produce = lines.iter().find(|line| line.starts_with("produce "));
        let produce = produce.expect("a produce row");
        // 10 records per millisecond over 3 s.
        assert!(produce.contains("10.0k"), "{text}");
        assert!(produce.contains(" ms") || produce.contains(" µs"), "{text}");
        assert!(!produce.contains('±'));
        let end_to_end = lines.iter().find(|line| line.starts_with("end-to-end"));
        let end_to_end = end_to_end.expect("an end-to-end row");
        assert_eq!(end_to_end.matches(" - ").count(), 6, "{text}");
    }

    #[test]
    fn repetitions_show_median_and_spread_with_aligned_columns() {
        let text = render(&fixtures::report("produce", 3));
        assert!(text.contains("±"), "{text}");
        assert!(text.contains("median of 3 repetitions"));
        let table: Vec<&str> = text.lines().skip(1).take(4).collect();
        let widths: Vec<usize> = table.iter().map(|line| line.chars().count()).collect();
        assert!(widths.iter().all(|&width| width == widths[0]), "{text}");
    }

    #[test]
    fn an_empty_report_says_so() {
        let mut report = fixtures::report("consume", 1);
        report.runs.clear();
        report.summary.clear();
        assert!(render(&report).contains("no workload results"));
    }
}

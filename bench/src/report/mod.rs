//! Results: recording them during a run ([`recorder`]), the JSON document ([`model`]), the
//! final table ([`table`]), the SVG plot ([`plot`]) and the regression gate ([`compare`]).

pub mod compare;
#[cfg(test)]
mod fixtures;
mod format;
pub mod host;
pub mod model;
pub mod plot;
pub mod recorder;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use self::model::*;
pub use self::recorder::Recorder;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a pinlog-bench report: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} has report schema version {found}; this pinlog-bench reads {REPORT_SCHEMA_VERSION}"
    )]
    SchemaVersion { path: PathBuf, found: u32 },
    #[error("{0}")]
    Invalid(String),
    #[error("--plot {path}: name the file *.svg or *.png")]
    PlotFormat { path: PathBuf },
    #[error(transparent)]
    Compare(#[from] compare::CompareError),
}

/// Writes `report` to `path` as pretty-printed JSON.
pub fn write_json(report: &Report, path: &Path) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(report).expect("a report always serialises");
    std::fs::write(path, text + "\n").map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a report written by [`write_json`].
pub fn read_json(path: &Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|source| ReportError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    if report.schema_version != REPORT_SCHEMA_VERSION {
        return Err(ReportError::SchemaVersion {
            path: path.to_path_buf(),
            found: report.schema_version,
        });
    }
    Ok(report)
}

/// Median and spread of every metric of every workload over `runs`.
pub fn summarize(runs: &[RunResult]) -> Vec<WorkloadSummary> {
    let mut by_workload: BTreeMap<&str, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for run in runs {
        for workload in &run.workloads {
            if !order.contains(&workload.name.as_str()) {
                order.push(&workload.name);
            }
            let metrics = by_workload.entry(&workload.name).or_default();
            let mut push =
                |name: &str, value: f64| metrics.entry(name.to_string()).or_default().push(value);
            push(METRIC_RECORDS_PER_SEC, workload.records_per_sec);
            push(METRIC_MB_PER_SEC, workload.mb_per_sec);
            if let Some(latency) = &workload.latency {
                for (name, get) in LATENCY_METRICS {
                    push(name, get(latency));
                }
            }
        }
    }
    order
        .into_iter()
        .map(|name| WorkloadSummary {
            name: name.to_string(),
            metrics: by_workload
                .remove(name)
                .unwrap_or_default()
                .into_iter()
                .map(|(metric, values)| (metric, spread(values)))
                .collect(),
        })
        .collect()
}

/// Median (the mean of the middle two for an even count), min and max of `values`.
fn spread(values: Vec<f64>) -> Spread {
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[middle],
        _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
    };
    Spread {
        median,
        min: sorted.first().copied().unwrap_or(0.0),
        max: sorted.last().copied().unwrap_or(0.0),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_median_of_odd_and_even_counts() {
        assert_eq!(spread(vec![3.0, 1.0, 2.0]).median, 2.0);
        let even = spread(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert_eq!(even.values, vec![4.0, 1.0, 3.0, 2.0]);
    }
}

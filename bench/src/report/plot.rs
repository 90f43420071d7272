//! `--plot FILE.svg`. (Interface placeholder: filled in by the report work.)

use std::path::Path;

use super::model::Report;
use super::ReportError;

/// Draws the latency percentile distribution and the throughput over time of `report`.
pub fn write_svg(_report: &Report, path: &Path) -> Result<(), ReportError> {
    Err(ReportError::Invalid(format!(
        "plotting to {} is not implemented yet",
        path.display()
    )))
}

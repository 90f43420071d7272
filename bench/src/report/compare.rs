//! `pinlog-bench compare BASELINE.json CANDIDATE.json --max-regression 5%`.
//! (Interface placeholder: filled in by the report work.)

use std::path::PathBuf;

use super::ReportError;

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The report to compare against.
    pub baseline: PathBuf,
    /// The report under test.
    pub candidate: PathBuf,
    /// Largest tolerated regression, e.g. `5%`.
    #[arg(long, default_value = "5%")]
    pub max_regression: String,
}

/// Prints the side-by-side table; `Ok(true)` when nothing regressed beyond the threshold.
pub fn run(_args: &CompareArgs) -> Result<bool, ReportError> {
    Err(ReportError::Invalid(
        "compare is not implemented yet".to_string(),
    ))
}

//! The regression threshold and the noise rule, as pure functions of two [`Spread`]s.

use serde::Serialize;

use super::CompareError;
use crate::report::model::Spread;

/// Largest accepted `--max-regression`: a latency ten times worse is already far beyond any
/// sensible gate, so a larger number is more likely a typo than a wish.
pub const THRESHOLD_PERCENT_MAX: f64 = 1000.0;
/// Below this, a bare number (no `%`) is refused as ambiguous: `0.05` may mean 5%.
const BARE_THRESHOLD_PERCENT_MIN: f64 = 1.0;

/// The largest tolerated regression, as a fraction (5% is 0.05).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Threshold {
    pub fraction: f64,
}

impl Threshold {
    /// Parses `5%` or `5` (both five percent). A bare number below 1 is refused, since
    /// `0.05` is as likely meant as a fraction; `0.5%` is accepted.
    pub fn parse(text: &str) -> Result<Threshold, CompareError> {
        let trimmed = text.trim();
        let (number, has_percent_sign) = match trimmed.strip_suffix('%') {
            Some(number) => (number.trim_end(), true),
            None => (trimmed, false),
        };
        let refuse = |reason: &'static str| CompareError::Threshold {
            text: text.to_string(),
            reason,
        };
        let percent: f64 = number
            .parse()
            .map_err(|_| refuse("expected a percentage such as `5%` or `5`"))?;
        if !percent.is_finite() || percent < 0.0 {
            return Err(refuse(
                "the percentage must be a finite number of 0 or more",
            ));
        }
        if percent > THRESHOLD_PERCENT_MAX {
            return Err(refuse("the percentage must be at most 1000"));
        }
        if !has_percent_sign && percent > 0.0 && percent < BARE_THRESHOLD_PERCENT_MIN {
            return Err(refuse(
                "a number below 1 is ambiguous: write `5%` for five percent or `0.05%` if you \
                 mean a twentieth of a percent",
            ));
        }
        Ok(Threshold {
            fraction: percent / 100.0,
        })
    }

    pub fn percent(self) -> f64 {
        self.fraction * 100.0
    }
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The median is worse beyond the threshold and worse than the baseline's worst repetition.
    Regressed,
    /// The median is worse beyond the threshold, but no worse than the baseline's worst
    /// repetition: what identical code on a noisy machine looks like.
    Noise,
    /// Within the threshold.
    Ok,
    /// The median is better beyond the threshold.
    Better,
}

/// The noise rule. A metric regressed only when the candidate's median is worse than
/// 1. the baseline's median by more than the threshold, *and*
/// 2. the baseline's worst repetition (its min when higher is better, its max when lower is).
///
/// So the shift must exceed both the threshold and the noise the baseline itself showed.
/// Only medians of the candidate are judged, so one lucky or unlucky repetition cannot decide,
/// and more repetitions make the gate sharper, not weaker. With one repetition on each side
/// min = max = median, so only the threshold applies.
pub fn judge(
    better: Better,
    baseline: &Spread,
    candidate: &Spread,
    threshold: Threshold,
) -> Verdict {
    let t = threshold.fraction;
    let worse_beyond = |reference: f64, value: f64| match better {
        Better::Higher => value < reference * (1.0 - t),
        Better::Lower => value > reference * (1.0 + t),
    };
    let better_beyond = |reference: f64, value: f64| match better {
        Better::Higher => value > reference * (1.0 + t),
        Better::Lower => value < reference * (1.0 - t),
    };
    let baseline_worst = match better {
        Better::Higher => baseline.min,
        Better::Lower => baseline.max,
    };
    let worse_than_worst = match better {
        Better::Higher => candidate.median < baseline_worst,
        Better::Lower => candidate.median > baseline_worst,
    };
    if worse_beyond(baseline.median, candidate.median) {
        if worse_than_worst {
            Verdict::Regressed
        } else {
            Verdict::Noise
        }
    } else if better_beyond(baseline.median, candidate.median) {
        Verdict::Better
    } else {
        Verdict::Ok
    }
}

/// The change of the candidate's median from the baseline's, in percent of the baseline;
/// `None` when the baseline's median is zero.
pub fn change_percent(baseline: &Spread, candidate: &Spread) -> Option<f64> {
    (baseline.median != 0.0)
        .then(|| (candidate.median - baseline.median) / baseline.median.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Spread {
            median: sorted[sorted.len() / 2],
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            values: values.to_vec(),
        }
    }

    fn five_percent() -> Threshold {
        Threshold { fraction: 0.05 }
    }

    #[test]
    fn thresholds_are_percent_with_or_without_the_sign() {
        let percent = |text| Threshold::parse(text).ok().map(Threshold::percent);
        assert_eq!(percent("5%"), Some(5.0));
        assert_eq!(percent(" 5 "), Some(5.0));
        assert!(percent("0.5%").is_some_and(|p| (p - 0.5).abs() < 1e-9));
        assert_eq!(percent("0"), Some(0.0));
        for garbage in [
            "", "%", "five", "5%%", "-1%", "NaN", "inf", "1001%", "0.05", "5 %x",
        ] {
            assert!(
                Threshold::parse(garbage).is_err(),
                "{garbage:?} was accepted"
            );
        }
    }

    #[test]
    fn a_single_repetition_is_judged_by_the_threshold_alone() {
        let baseline = spread(&[100.0]);
        let judge_higher =
            |value| judge(Better::Higher, &baseline, &spread(&[value]), five_percent());
        assert_eq!(judge_higher(94.0), Verdict::Regressed);
        assert_eq!(judge_higher(96.0), Verdict::Ok);
        assert_eq!(judge_higher(106.0), Verdict::Better);
        let judge_lower =
            |value| judge(Better::Lower, &baseline, &spread(&[value]), five_percent());
        assert_eq!(judge_lower(106.0), Verdict::Regressed);
        assert_eq!(judge_lower(94.0), Verdict::Better);
    }

    #[test]
    fn overlapping_ranges_are_noise_separated_ones_a_regression() {
        let baseline = spread(&[92.0, 100.0, 108.0]);
        let jittered = spread(&[93.0, 94.0, 107.0]);
        assert_eq!(
            judge(Better::Higher, &baseline, &jittered, five_percent()),
            Verdict::Noise
        );
        let slower = spread(&[74.0, 80.0, 86.0]);
        assert_eq!(
            judge(Better::Higher, &baseline, &slower, five_percent()),
            Verdict::Regressed
        );
        let latency_baseline = spread(&[900.0, 1000.0, 1080.0]);
        let latency_jittered = spread(&[950.0, 1060.0, 1070.0]);
        assert_eq!(
            judge(
                Better::Lower,
                &latency_baseline,
                &latency_jittered,
                five_percent()
            ),
            Verdict::Noise
        );
        let latency_worse = spread(&[1250.0, 1300.0, 1400.0]);
        assert_eq!(
            judge(
                Better::Lower,
                &latency_baseline,
                &latency_worse,
                five_percent()
            ),
            Verdict::Regressed
        );
    }

    #[test]
    fn a_shifted_median_regresses_whatever_the_candidate_best_repetition() {
        let baseline = spread(&[92.0, 100.0, 108.0]);
        // -15%: the old rule let this pass because 90 overlaps the baseline's 92 after the 5%.
        let slower = spread(&[80.0, 85.0, 90.0]);
        assert_eq!(
            judge(Better::Higher, &baseline, &slower, five_percent()),
            Verdict::Regressed
        );
        // One lucky repetition does not rescue it either.
        let slower_with_outlier = spread(&[80.0, 85.0, 120.0]);
        assert_eq!(
            judge(
                Better::Higher,
                &baseline,
                &slower_with_outlier,
                five_percent()
            ),
            Verdict::Regressed
        );
        // Beyond the threshold but inside the baseline's own range: noise.
        let inside = spread(&[60.0, 93.0, 130.0]);
        assert_eq!(
            judge(Better::Higher, &baseline, &inside, five_percent()),
            Verdict::Noise
        );
        let latency_baseline = spread(&[900.0, 1000.0, 1080.0]);
        let latency_above_worst = spread(&[700.0, 1090.0, 1100.0]);
        assert_eq!(
            judge(
                Better::Lower,
                &latency_baseline,
                &latency_above_worst,
                five_percent()
            ),
            Verdict::Regressed
        );
    }

    #[test]
    fn change_is_relative_to_the_baseline_median() {
        let change = change_percent(&spread(&[200.0]), &spread(&[150.0]));
        assert_eq!(change, Some(-25.0));
        assert_eq!(change_percent(&spread(&[0.0]), &spread(&[1.0])), None);
    }
}

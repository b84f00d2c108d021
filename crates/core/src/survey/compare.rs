//! Whether an index changed from one year to the next beyond what the two
//! samples' noise explains: the difference of two independent estimates,
//! its standard error `√(se₁² + se₀²)`, and a two-sided test at 95 %.

use super::estimate::ElementEstimate;
use super::plan::z_of;

/// How an index moved since the year before.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    /// This year's estimate minus last year's.
    pub diff: f64,
    pub se: f64,
    /// The 95 % interval of the difference.
    pub ci_low: f64,
    pub ci_high: f64,
    /// The interval excludes 0.
    pub significant: bool,
}

impl Change {
    /// In words, for the pages and reports.
    pub fn words(&self) -> &'static str {
        match (self.significant, self.diff > 0.0) {
            (true, true) => "显著上升",
            (true, false) => "显著下降",
            (false, _) => "变化不显著",
        }
    }
}

/// The change from `before` to `now`; None when either lacks an estimate
/// (样本不足) or a standard error.
pub fn change(now: &ElementEstimate, before: &ElementEstimate) -> Option<Change> {
    let (a, b) = (now.estimate?, before.estimate?);
    let se = (now.se?.powi(2) + before.se?.powi(2)).sqrt();
    let diff = a - b;
    let z = z_of(0.95).unwrap_or(1.959963984540054);
    let (ci_low, ci_high) = (diff - z * se, diff + z * se);
    Some(Change {
        diff,
        se,
        ci_low,
        ci_high,
        significant: ci_low > 0.0 || ci_high < 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(estimate: Option<f64>, se: f64) -> ElementEstimate {
        ElementEstimate {
            element: "safety_index".into(),
            n: 100,
            estimate,
            se: estimate.map(|_| se),
            ci_low: None,
            ci_high: None,
            n_eff: None,
            deff: None,
            reason: None,
        }
    }

    #[test]
    fn a_change_is_significant_when_its_interval_excludes_zero() {
        // se of the difference = 5; 1.96 × 5 = 9.8.
        let c = change(&est(Some(90.0), 3.0), &est(Some(80.0), 4.0)).unwrap();
        assert!((c.se - 5.0).abs() < 1e-12 && (c.diff - 10.0).abs() < 1e-12);
        assert!(c.significant && c.words() == "显著上升", "{c:?}");
        let c = change(&est(Some(80.0), 3.0), &est(Some(89.0), 4.0)).unwrap();
        assert!(!c.significant && c.words() == "变化不显著", "{c:?}");
        let c = change(&est(Some(70.0), 1.0), &est(Some(80.0), 1.0)).unwrap();
        assert_eq!(c.words(), "显著下降");
        assert!(change(&est(None, 0.0), &est(Some(80.0), 1.0)).is_none());
    }
}

//! 占比突变: a part against its whole. Where a rule says one flow is part
//! of another (`disputes_resolved <= disputes`, `grid_events_timely <=
//! grid_events`), the part's share of its whole is far steadier than either
//! count: a month of many disputes has many resolved. A share that leaves
//! its recent level is a sign that one of the two figures is wrong (a
//! resolved count not entered, a case count typed twice), even where each
//! count alone is too noisy for its own model to notice. Each departure
//! ("episode": the months that stay away from the share before it) is one
//! finding, placed on whichever of the two left its own model of normal the
//! more, so the reviewer is sent to the figure most likely wrong.
//!
//! Here: the pairs, the share before a month and its spread, a month's
//! and an episode's verdict. The test over the months, the episodes'
//! placement and the pairs' tails are `episode.rs`.

use super::anomaly::Finding;
use super::baseline::{self, Expect, Model};
use super::rules::RuleSet;
use crate::framework::{Framework, TimeAgg};
use crate::num::fmt;
use crate::period::Period;
use rustc_hash::FxHashMap;

/// Months the share before a point is pooled over (the recent level, as
/// the model of normal's level window).
pub(super) const WINDOW: usize = 6;
/// …found within this many months before it.
const WINDOW_SPAN: i64 = 12;
/// Months back the share's month-to-month spread is measured over, and
/// how many of them must be present.
const SPREAD_SPAN: i64 = 30;
const SPREAD_MIN: usize = 12;
/// An episode's wholes must add up to this many: fewer say too little
/// about a share; a month's whole, to `MONTH_WHOLE`.
pub(super) const MIN_WHOLE: f64 = 8.0;
const MONTH_WHOLE: f64 = 3.0;
/// The part must differ from what the share predicts by at least this
/// fraction of the prediction, and over the episode by `MIN_DEV` units.
const MIN_DEV: f64 = 4.0;
const MIN_REL: f64 = 0.25;
/// A month opens an episode at this evidence (p ≤ 0.01) and a following
/// month continues it at `CONTINUE` (p ≤ 0.05); the episode as a whole
/// must reach `share_surprise`. The bar to open is low because the
/// share's spread is measured over the months before: a part that falls
/// for good widens the spread its own later months are judged by, so a
/// shift that does not open in its first months (2 of 7 handled where nine
/// in ten were) may never open.
pub(super) const OPEN: f64 = 2.0;
pub(super) const CONTINUE: f64 = 1.3;
/// A figure this far (p ≤ 10⁻³) from its own model, or the same month a
/// year earlier departing the same way, says clearly which way it moved.
pub(super) const CLEAR: f64 = 3.0;
/// A month this many binomial SDs off the others' share does not set the
/// share before it.
const OUTLIER_Z: f64 = 6.0;
/// An episode is split in two where each half's figure is this many
/// orders (log₁₀) further from its own model than the other figure, which
/// stays under `QUIET` (p > 0.1). A margin of 2 and no quiet bar cut single
/// causes in two (a run whose part happened to be low, measured: −2 found
/// on one held-out set).
pub(super) const SPLIT: f64 = 4.0;
pub(super) const QUIET: f64 = 1.0;

/// A region's monthly series of one element, as the check holds it.
#[derive(Clone, Copy)]
pub(super) struct Series<'a> {
    /// Absolute month (year × 12 + month − 1) of `dense[0]`.
    pub first: i64,
    pub dense: &'a [Option<f64>],
    pub model: Option<&'a Model>,
}

impl Series<'_> {
    pub(super) fn at(&self, idx: i64) -> Option<f64> {
        let i = usize::try_from(idx - self.first).ok()?;
        self.dense.get(i).copied().flatten()
    }

    pub(super) fn local(&self, idx: i64) -> Option<usize> {
        usize::try_from(idx - self.first)
            .ok()
            .filter(|&i| i < self.dense.len())
    }

    /// The values of the months `a..=b` and the model's expectation of
    /// each, its level from before `a` (as a run is judged); `None` when a
    /// month is missing or there is no model.
    pub(super) fn expectations(&self, a: i64, b: i64) -> Option<(Vec<f64>, Vec<Expect>)> {
        let (m, start) = (self.model?, self.local(a)?);
        (a..=b)
            .map(|idx| {
                let e = m.expect(self.dense, self.first, self.local(idx)?, start)?;
                Some((self.at(idx)?, e))
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().unzip())
    }
}

/// The parts and wholes of `months` added up.
fn sum(months: &[(f64, f64)]) -> (f64, f64) {
    months
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, n)| (a + x, b + n))
}

/// `months` without those more than `OUTLIER_Z` binomial SDs off the share
/// of the others (loose: the share's own spread is not known here), as long
/// as two thirds of them stay.
fn trimmed(months: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (x, n) = sum(months);
    let kept: Vec<(f64, f64)> = months
        .iter()
        .copied()
        .filter(|&(a, b)| {
            let p = (x - a + 0.5) / (n - b + 1.0);
            (a - b * p).abs() / (b * p * (1.0 - p)).sqrt().max(0.5) <= OUTLIER_Z
        })
        .collect();
    if kept.len() * 3 >= months.len() * 2 {
        kept
    } else {
        months.to_vec()
    }
}

/// Pearson's dispersion of parts against their wholes around their pooled
/// share: 1 for binomial sampling (at least two months).
pub(super) fn dispersion(months: &[(f64, f64)]) -> f64 {
    let (x, n) = sum(months);
    let p = (x + 0.5) / (n + 1.0);
    let chi: f64 = months
        .iter()
        .map(|(x, n)| (x - n * p).powi(2) / (n * p * (1.0 - p)))
        .sum();
    chi / (months.len().max(2) - 1) as f64
}

/// One departure of a part's share, placed on the element it points to.
pub(super) struct Found {
    pub element: usize,
    pub period: Period,
    /// The months of the episode, first and last (absolute months).
    pub span: (i64, i64),
    /// Still away from its share when the episode ended (a shift, not a
    /// spike or run that came back).
    pub shift: bool,
    pub finding: Finding,
}

/// part → whole pairs: the rules `a <= b` between two flows (elements
/// summed over time). Stocks and year-to-date figures (villages screened of
/// all villages) have shares that climb through the year by design.
pub(super) fn pairs(rules: &RuleSet, fw: &Framework) -> Vec<(usize, usize)> {
    let flow = |e: usize| fw.elements[e].time_agg == TimeAgg::Sum;
    let mut out: Vec<(usize, usize)> = rules.parts().filter(|&(a, b)| flow(a) && flow(b)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

pub(super) struct Pair<'a> {
    pub part: Series<'a>,
    pub whole: Series<'a>,
    /// The months of episodes already found, first and last: they set
    /// neither the share nor its spread for the months after (a whole typed
    /// at 133 where 20 came in spread the share so wide that the half-year
    /// of a part at 40 % after it, 98 % usual, went unseen).
    pub found: Vec<(i64, i64)>,
}

/// The month's verdict against a share.
pub(super) struct Judged {
    pub surprise: f64,
    /// Part minus what the share predicts.
    pub dev: f64,
}

impl<'a> Pair<'a> {
    pub(super) fn new(part: Series<'a>, whole: Series<'a>) -> Self {
        Pair {
            part,
            whole,
            found: Vec::new(),
        }
    }

    /// Both present, the whole positive and the part within it.
    pub(super) fn ok(&self, idx: i64) -> Option<(f64, f64)> {
        let (x, n) = (self.part.at(idx)?, self.whole.at(idx)?);
        (n > 0.0 && (0.0..=n).contains(&x)).then_some((x, n))
    }

    /// `ok`, outside the episodes found.
    fn usual(&self, idx: i64) -> Option<(f64, f64)> {
        if self.found.iter().any(|&(a, b)| (a..=b).contains(&idx)) {
            return None;
        }
        self.ok(idx)
    }

    /// The pooled share of the `WINDOW` months before `idx`, leaving out a
    /// month far off the others' share: one mistyped whole (133 complaints
    /// where 20 were received, 23 of them handled in time) would otherwise
    /// set the share the next half-year is judged by.
    pub(super) fn share_before(&self, idx: i64) -> Option<f64> {
        let months: Vec<(f64, f64)> = (idx - WINDOW_SPAN..idx)
            .rev()
            .filter_map(|j| self.usual(j))
            .take(WINDOW)
            .collect();
        if months.len() < WINDOW {
            return None;
        }
        let kept = trimmed(&months);
        // Kept off 0 and 1: a share always at 100 % still allows a miss.
        let (x, n) = sum(&kept);
        Some((x + 0.5) / (n + 1.0))
    }

    /// How much more the share moves month to month than binomial
    /// sampling would (Pearson's dispersion; at least 1). Every month
    /// counts (a spread measured without the months that depart most, tried,
    /// made clean shares' own rare departures look like errors) but those
    /// too small to be judged: one complaint not handled in time, where 95 %
    /// are, adds 19 to Pearson's sum, and a few such months hid four months
    /// of a part at a quarter of its share.
    pub(super) fn spread(&self, idx: i64) -> Option<f64> {
        let months: Vec<(f64, f64)> = (idx - SPREAD_SPAN..idx)
            .filter_map(|j| self.usual(j))
            .filter(|&(_, n)| n >= MONTH_WHOLE)
            .collect();
        if months.len() < SPREAD_MIN {
            return None;
        }
        Some(dispersion(&months).max(1.0))
    }

    /// A month's departure from `share`, when its whole is at least
    /// `MONTH_WHOLE` and the part is `MIN_REL` away from the prediction.
    pub(super) fn judge(&self, idx: i64, share: f64, phi: f64) -> Option<Judged> {
        let (x, n) = self.ok(idx)?;
        verdict(x, n, share, phi, MONTH_WHOLE, 1.0)
    }

    /// The months `a..=b` together: their parts against their wholes.
    pub(super) fn pooled(&self, a: i64, b: i64, share: f64, phi: f64) -> Option<Judged> {
        let (x, n) = self.sums(a, b)?;
        verdict(x, n, share, phi, MIN_WHOLE, MIN_DEV)
    }

    /// The parts and the wholes of the months `a..=b`, all present.
    pub(super) fn sums(&self, a: i64, b: i64) -> Option<(f64, f64)> {
        (a..=b).try_fold((0.0, 0.0), |(x, n), idx| {
            let (u, v) = self.ok(idx)?;
            Some((x + u, n + v))
        })
    }

    /// The same month a year earlier departed the same way: the season (a
    /// year-end rush of cases the offices close in January), not an error.
    pub(super) fn seasonal(&self, idx: i64, dev: f64, phi: f64) -> bool {
        let k = idx - 12;
        self.share_before(k)
            .and_then(|s| self.judge(k, s, phi))
            .is_some_and(|j| j.dev * dev > 0.0 && j.surprise >= CLEAR)
    }
}

fn verdict(x: f64, n: f64, share: f64, phi: f64, min_whole: f64, min_dev: f64) -> Option<Judged> {
    if n < min_whole {
        return None;
    }
    let expected = n * share;
    let dev = x - expected;
    if dev.abs() < min_dev || dev.abs() < MIN_REL * expected {
        return None;
    }
    // The binomial's own tail, not a normal's: 11 of 16 handled where 98 %
    // are is p ≈ 10⁻⁵, where a normal with the same variance says 10⁻¹⁷.
    let surprise = baseline::surprise_of(baseline::binomial_tail(x, n, share, phi));
    Some(Judged { surprise, dev })
}

/// How far `s` left its own model over the months `a..=b`, in the
/// direction `up` (0 when it moved the other way or has no model).
pub(super) fn own_evidence(s: &Series, a: i64, b: i64, up: bool) -> f64 {
    let (Some(m), Some((xs, es))) = (s.model, s.expectations(a, b)) else {
        return 0.0;
    };
    let (x, e): (f64, f64) = (xs.iter().sum(), es.iter().map(|e| e.mean).sum());
    if (x > e) != up {
        return 0.0;
    }
    m.surprise_sum(&xs, &es)
}

/// "；X明显高于其季节规律与近期水平，应先核查X": which of two figures to
/// check first, and why.
pub(super) fn check_first(name: &str, high: bool) -> String {
    let way = if high { "明显高" } else { "明显低" };
    format!("；{name}{way}于其季节规律与近期水平，应先核查{name}")
}

pub(super) fn pct(share: f64) -> String {
    format!("{}%", fmt((share * 1000.0).round() / 10.0))
}

/// A fitted series: (region, element, granularity), its points, where its
/// dense values start, the dense values, and its model of normal.
pub(super) type Fitted = (
    (usize, usize, u8),
    Vec<(i64, f64)>,
    i64,
    Vec<Option<f64>>,
    Option<Model>,
);

/// The regions with a monthly series, in order.
pub(super) fn regions(monthly: &Monthly) -> Vec<usize> {
    let mut out: Vec<usize> = monthly.keys().map(|k| k.0).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Every region's monthly series, by (region, element).
pub(super) type Monthly<'a> = FxHashMap<(usize, usize), Series<'a>>;

/// The monthly series of the fitted ones, read by the share test and the
/// family rule.
pub(super) fn monthly(fitted: &[Fitted]) -> Monthly<'_> {
    fitted
        .iter()
        .filter(|(k, ..)| k.2 == 2)
        .map(|((r, e, _), _, first, dense, model)| {
            let s = Series {
                first: *first,
                dense,
                model: model.as_ref(),
            };
            ((*r, *e), s)
        })
        .collect()
}

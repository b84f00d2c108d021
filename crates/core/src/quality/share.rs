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

use super::anomaly::Finding;
use super::baseline::{self, Expect, Model, Tail};
use super::rules::RuleSet;
use super::{FlagKind, Params};
use crate::framework::{Framework, TimeAgg};
use crate::num::fmt;
use crate::period::Period;
use rustc_hash::FxHashMap;

/// Months the share before a point is pooled over (the recent level, as
/// the model of normal's level window).
const WINDOW: usize = 6;
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
const OPEN: f64 = 2.0;
const CONTINUE: f64 = 1.3;
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
const SPLIT: f64 = 4.0;
const QUIET: f64 = 1.0;

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
struct Judged {
    surprise: f64,
    /// Part minus what the share predicts.
    dev: f64,
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
    fn judge(&self, idx: i64, share: f64, phi: f64) -> Option<Judged> {
        let (x, n) = self.ok(idx)?;
        verdict(x, n, share, phi, MONTH_WHOLE, 1.0)
    }

    /// The months `a..=b` together: their parts against their wholes.
    fn pooled(&self, a: i64, b: i64, share: f64, phi: f64) -> Option<Judged> {
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
    fn seasonal(&self, idx: i64, dev: f64, phi: f64) -> bool {
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

fn pct(share: f64) -> String {
    format!("{}%", fmt((share * 1000.0).round() / 10.0))
}

/// Every episode of `part`'s share of `whole` within the absolute months
/// `months` (the checked period's).
pub(super) fn find(
    fw: &Framework,
    (pe, we, learned): (usize, usize, bool),
    part: Series,
    whole: Series,
    months: std::ops::Range<i64>,
    p: &Params,
    tail: &Tail,
) -> Vec<Found> {
    let mut pair = Pair::new(part, whole);
    let mut out = Vec::new();
    let last = months.end - 1;
    let mut idx = months.start;
    while idx < months.end {
        let here = idx;
        idx += 1;
        let (Some(share), Some(phi)) = (pair.share_before(here), pair.spread(here)) else {
            continue;
        };
        let Some(j) = pair.judge(here, share, phi) else {
            continue;
        };
        if j.surprise < OPEN || pair.seasonal(here, j.dev, phi) {
            continue;
        }
        // The months after it that stay away from the same share.
        let same_way = |idx: i64, least: f64| {
            pair.judge(idx, share, phi)
                .is_some_and(|k| k.dev * j.dev > 0.0 && k.surprise >= least)
        };
        let mut end = here;
        while end < last && same_way(end + 1, CONTINUE) {
            end += 1;
        }
        let down = j.dev < 0.0;
        // Two causes one after the other end the first where the second
        // begins; the loop takes the second up from there.
        let split = split_at(&pair, here, end, down);
        if let Some(c) = split {
            end = c - 1;
        }
        let Some(mut all) = pair.pooled(here, end, share, phi) else {
            continue;
        };
        all.surprise = tail.adjust(all.surprise);
        if all.surprise < p.share_surprise {
            continue;
        }
        idx = end + 1;
        let len = end - here + 1;
        // Three months that then return are a run, flagged where it
        // completes (as 连续高于均值); a share still away from its level
        // when the episode ends is a shift, flagged from its first month.
        let returned = split.is_some() || (end < last && !same_way(end + 1, 0.0));
        pair.found.push((here, end));
        // A share that is different from January on and stays so is the new
        // year's level (a township that handles its events more slowly this
        // year), which the scores measure; the queue is for figures that
        // may be wrong.
        if here.rem_euclid(12) == 0 && len > 1 && !returned {
            continue;
        }
        let at = if len == p.run_len as i64 && returned {
            end
        } else {
            here
        };
        let strongest = all.surprise;
        // A share falls when the part fell or the whole rose.
        let by_whole = own_evidence(&pair.whole, here, end, down);
        let by_part = own_evidence(&pair.part, here, end, !down);
        let on_whole = by_whole > by_part;
        let (x, n) = pair.ok(at).unwrap_or((0.0, 0.0));
        let (pn, wn) = (&fw.elements[pe].name, &fw.elements[we].name);
        let mut detail = format!(
            "{pn}占{wn}的比例由此前 {WINDOW} 期的 {} {}至 {}（{}/{}），按此前比例应约 {}",
            pct(share),
            if down { "降" } else { "升" },
            pct(x / n.max(1.0)),
            fmt(x),
            fmt(n),
            fmt((n * share * 10.0).round() / 10.0)
        );
        if learned {
            detail.push_str(&format!(
                "（此前各年各地区{pn}均未超过{wn}且比例平稳，按其组成部分看待）"
            ));
        }
        if len > 1 {
            let (px, pn_) = (here..=end)
                .filter_map(|i| pair.ok(i))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            detail.push_str(&format!(
                "；自 {} 起连续 {len} 期偏离，合计 {}/{}（{}）",
                super::period_of(2, here).label(),
                fmt(px),
                fmt(pn_),
                pct(px / pn_.max(1.0))
            ));
        }
        let moved = if on_whole { (wn, !down) } else { (pn, down) };
        if by_whole.max(by_part) >= CLEAR {
            detail.push_str(&check_first(moved.0, !moved.1));
        }
        detail.push_str(&format!(
            "。按此前比例出现这样偏离的概率{}",
            super::judge::prob(strongest)
        ));
        let (element, value, expected) = if on_whole {
            (we, n, if share > 0.0 { x / share } else { n })
        } else {
            (pe, x, n * share)
        };
        out.push(Found {
            element,
            period: super::period_of(2, at),
            span: (here, end),
            shift: len > 1 && !returned,
            finding: Finding {
                kind: FlagKind::Share,
                score: ((x / n.max(1.0) - share) * 1000.0).round() / 10.0,
                numbers: vec![
                    ("value".into(), value),
                    ("part".into(), x),
                    ("whole".into(), n),
                    ("share".into(), x / n.max(1.0)),
                    ("share_before".into(), share),
                    ("expected".into(), expected),
                    ("months".into(), len as f64),
                    ("surprise".into(), strongest),
                ],
                detail,
            },
        });
    }
    out
}

/// Where an episode is two causes one after the other: over its first
/// months one figure far off its own model (`CLEAR`) and the other quiet
/// (`QUIET`), over the rest the other way round, each reading `SPLIT`
/// orders likelier than its opposite (a complaints count run up for three
/// months, then the count handled in time falling for the rest of the
/// year). The month the second begins, the strongest such split.
fn split_at(pair: &Pair, a: i64, b: i64, down: bool) -> Option<i64> {
    let one_then_other = |first: f64, quiet1: f64, second: f64, quiet2: f64| {
        first >= CLEAR
            && second >= CLEAR
            && quiet1 < QUIET
            && quiet2 < QUIET
            && first - quiet1 >= SPLIT
            && second - quiet2 >= SPLIT
    };
    let mut best: Option<(f64, i64)> = None;
    for c in a + 1..=b {
        let w1 = own_evidence(&pair.whole, a, c - 1, down);
        let p1 = own_evidence(&pair.part, a, c - 1, !down);
        let w2 = own_evidence(&pair.whole, c, b, down);
        let p2 = own_evidence(&pair.part, c, b, !down);
        let score = if one_then_other(w1, p1, p2, w2) {
            w1 + p2
        } else if one_then_other(p1, w1, w2, p2) {
            p1 + w2
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
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

/// Every part's share of its whole (`share`) over the checked months, by
/// region, for `pairs` (the rules' and `learned`, whose items say that the
/// earlier years made them a pair).
pub(super) fn all(
    fw: &Framework,
    pairs: &[(usize, usize)],
    learned: &[(usize, usize)],
    params: &Params,
    monthly: &Monthly,
    scope: Period,
) -> Vec<(usize, Found)> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let (start, end) = match scope {
        Period::Year(y) => (i64::from(y) * 12, i64::from(y) * 12 + 12),
        Period::Quarter(y, q) => {
            let a = i64::from(y) * 12 + 3 * (i64::from(q) - 1);
            (a, a + 3)
        }
        Period::Month(y, m) => {
            let a = i64::from(y) * 12 + i64::from(m) - 1;
            (a, a + 1)
        }
    };
    let regions = regions(monthly);
    let pair_of = |r: usize, (pe, we): (usize, usize)| {
        Some(Pair::new(*monthly.get(&(r, pe))?, *monthly.get(&(r, we))?))
    };
    // Per pair: its tail across regions, and whether the data made it one.
    let each: Vec<(Tail, bool)> = pairs
        .iter()
        .map(|&pw| {
            let t = tail(regions.iter().filter_map(|&r| pair_of(r, pw)), start..end);
            (t, learned.contains(&pw))
        })
        .collect();
    let mut out = Vec::new();
    for r in regions {
        for (&(pe, we), (tail, learned)) in pairs.iter().zip(&each) {
            let Some(pair) = pair_of(r, (pe, we)) else {
                continue;
            };
            let found = find(
                fw,
                (pe, we, *learned),
                pair.part,
                pair.whole,
                start..end,
                params,
                tail,
            );
            out.extend(found.into_iter().map(|f| (r, f)));
        }
    }
    out
}

/// How often a pair's months depart from their share across all regions,
/// each month judged alone: where the shares wobble more than a binomial
/// with the pair's own spread says (a handling rate that changes with the
/// staff on duty), the excess is taken off the pair's episodes, as an
/// element's heavier tails are off its counts' surprises.
fn tail<'a>(pairs: impl Iterator<Item = Pair<'a>>, months: std::ops::Range<i64>) -> Tail {
    let mut t = Tail::default();
    for pair in pairs {
        for idx in months.clone() {
            let (Some(share), Some(phi)) = (pair.share_before(idx), pair.spread(idx)) else {
                continue;
            };
            if pair.ok(idx).is_none() {
                continue;
            }
            t.add(pair.judge(idx, share, phi).map_or(0.0, |j| j.surprise));
        }
    }
    t
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> Params {
        Params::default()
    }

    /// Three years of a whole near 40 a month and a part at 90 % of it.
    fn steady() -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        let whole: Vec<Option<f64>> = (0..36).map(|t| Some(40.0 + (t % 5) as f64)).collect();
        let part = whole
            .iter()
            .enumerate()
            .map(|(t, n)| n.map(|n| (n * 0.9).round() - (t % 2) as f64))
            .collect();
        (part, whole)
    }

    fn fw() -> Framework {
        crate::default_framework()
    }

    /// Pairs whose share drops to half in one month of thirty, in every
    /// region, have heavier tails than a binomial with their spread: their
    /// episodes count for less. Steady pairs keep their evidence.
    #[test]
    fn a_pair_that_wobbles_everywhere_counts_for_less() {
        let (part, whole) = steady();
        let wobbly: Vec<Option<f64>> = part
            .iter()
            .enumerate()
            .map(|(t, x)| x.map(|x| if t % 30 == 4 { (x / 2.0).round() } else { x }))
            .collect();
        let s = |d| Series {
            first: 2022 * 12,
            dense: d,
            model: None,
        };
        let months = 2024 * 12..2025 * 12;
        let of = |part| {
            tail(
                (0..600).map(|_| Pair::new(s(part), s(&whole))),
                months.clone(),
            )
        };
        assert_eq!(of(&part).adjust(8.0), 8.0);
        assert!(of(&wobbly).adjust(8.0) < 7.0, "{}", of(&wobbly).adjust(8.0));
    }

    /// A whole run up from March to May with its part left as it was, then
    /// the part falling from June with the whole as usual: two causes, two
    /// items (the whole's run where it completes, the part's fall where it
    /// began), not one episode from March filed under one of them.
    #[test]
    fn a_whole_run_up_then_its_part_falling_are_two_items() {
        let usual: Vec<f64> = (0..36).map(|t| 40.0 + ((t * 7) % 5) as f64 - 2.0).collect();
        let whole: Vec<Option<f64>> = usual
            .iter()
            .enumerate()
            .map(|(t, &n)| Some(if (26..29).contains(&t) { n * 2.5 } else { n }))
            .collect();
        let part: Vec<Option<f64>> = usual
            .iter()
            .enumerate()
            .map(|(t, &n)| Some(((n * 0.9).round() * if t >= 29 { 0.3 } else { 1.0 }).round()))
            .collect();
        let first = 2022 * 12;
        let fit = |d: &[Option<f64>]| Model::fit(d, first, 12, 2024, None, true);
        let (mp, mw) = (fit(&part), fit(&whole));
        fn s<'a>(first: i64, d: &'a [Option<f64>], m: &'a Option<Model>) -> Series<'a> {
            Series {
                first,
                dense: d,
                model: m.as_ref(),
            }
        }
        let found = find(
            &fw(),
            (0, 1, false),
            s(first, &part, &mp),
            s(first, &whole, &mw),
            2024 * 12..2025 * 12,
            &p(),
            &Tail::default(),
        );
        let got: Vec<(usize, Period)> = found.iter().map(|f| (f.element, f.period)).collect();
        assert_eq!(
            got,
            vec![(1, Period::Month(2024, 5)), (0, Period::Month(2024, 6))]
        );
    }

    fn run(part: &[Option<f64>], whole: &[Option<f64>]) -> Vec<Found> {
        let fw = fw();
        let s = |d| Series {
            first: 2022 * 12,
            dense: d,
            model: None,
        };
        find(
            &fw,
            (0, 1, false),
            s(part),
            s(whole),
            2024 * 12..2025 * 12,
            &p(),
            &Tail::default(),
        )
    }

    #[test]
    fn a_steady_share_is_quiet() {
        let (part, whole) = steady();
        assert!(run(&part, &whole).is_empty());
    }

    #[test]
    fn a_part_that_falls_for_good_is_one_item_from_its_first_month() {
        let (mut part, whole) = steady();
        for x in &mut part[24 + 6..] {
            *x = x.map(|v| (v * 0.3).round());
        }
        let found = run(&part, &whole);
        assert_eq!(found.len(), 1, "one departure, one item");
        let f = &found[0];
        assert_eq!(f.period, Period::Month(2024, 7));
        assert_eq!(f.span, (2024 * 12 + 6, 2024 * 12 + 11));
        assert!(f.finding.detail.contains("降至"), "{}", f.finding.detail);
        assert!(
            f.finding.detail.contains("连续 6 期"),
            "{}",
            f.finding.detail
        );
    }

    #[test]
    fn a_new_level_from_january_is_the_year_not_an_error() {
        let (mut part, whole) = steady();
        for x in &mut part[24..] {
            *x = x.map(|v| (v * 0.6).round());
        }
        assert!(run(&part, &whole).is_empty());
        // The same fall from February on is flagged.
        let (mut part, whole) = steady();
        for x in &mut part[25..] {
            *x = x.map(|v| (v * 0.6).round());
        }
        assert_eq!(run(&part, &whole).len(), 1);
    }

    #[test]
    fn three_months_that_return_are_flagged_where_they_end() {
        let (part, mut whole) = steady();
        for x in &mut whole[24 + 3..24 + 6] {
            *x = x.map(|v| v * 2.5);
        }
        let found = run(&part, &whole);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].period, Period::Month(2024, 6));
    }

    #[test]
    fn one_mistyped_whole_does_not_set_the_share_after_it() {
        // February's whole typed as 60 with its part as usual, then the
        // part falls to 40 % from April: February is its own item, and the
        // fall is judged against the share of the months around it, not a
        // share that February pulled down.
        let (mut part, mut whole) = steady();
        whole[24 + 1] = Some(60.0);
        for x in &mut part[24 + 3..] {
            *x = x.map(|v| (v * 0.4).round());
        }
        let found = run(&part, &whole);
        assert!(
            found.iter().any(|f| f.period == Period::Month(2024, 4)),
            "{:?}",
            found.iter().map(|f| f.period).collect::<Vec<_>>()
        );
        let pair = Pair::new(
            Series {
                first: 2022 * 12,
                dense: &part,
                model: None,
            },
            Series {
                first: 2022 * 12,
                dense: &whole,
                model: None,
            },
        );
        let share = pair.share_before(2024 * 12 + 3).unwrap();
        assert!(share > 0.85, "{share}");
    }

    #[test]
    fn a_month_found_off_does_not_widen_the_spread_after_it() {
        // February's whole typed as 300 (36 handled), then the part at half
        // its share from April: February's own item, and the fall judged by
        // the spread of the months before February, not one it blew up.
        let (mut part, mut whole) = steady();
        whole[24 + 1] = Some(300.0);
        for x in &mut part[24 + 3..] {
            *x = x.map(|v| (v * 0.5).round());
        }
        let found = run(&part, &whole);
        let periods: Vec<Period> = found.iter().map(|f| f.period).collect();
        assert!(periods.contains(&Period::Month(2024, 2)), "{periods:?}");
        assert!(periods.contains(&Period::Month(2024, 4)), "{periods:?}");
    }

    #[test]
    fn months_too_small_to_judge_do_not_widen_the_spread() {
        // Eight a month, nearly all handled; three earlier months of one
        // event not handled; from September five of eight for four months.
        let whole: Vec<Option<f64>> = (0..36)
            .map(|t| Some(if [3, 10, 17].contains(&t) { 1.0 } else { 8.0 }))
            .collect();
        let part: Vec<Option<f64>> = (0..36)
            .map(|t| {
                Some(match t {
                    3 | 10 | 17 => 0.0,
                    t if t >= 24 + 8 => 5.0,
                    t if t % 7 == 0 => 7.0,
                    _ => 8.0,
                })
            })
            .collect();
        let found = run(&part, &whole);
        assert_eq!(
            found.iter().map(|f| f.period).collect::<Vec<_>>(),
            vec![Period::Month(2024, 9)]
        );
    }

    #[test]
    fn a_small_whole_or_a_small_change_is_not_judged() {
        let (mut part, whole) = steady();
        // 36 of 40 becoming 33: 3 units, under the 4 a share flag needs.
        part[24 + 4] = part[24 + 4].map(|v| v - 3.0);
        assert!(run(&part, &whole).is_empty());
        let small: Vec<Option<f64>> = (0..36).map(|_| Some(6.0)).collect();
        let mut sp: Vec<Option<f64>> = (0..36).map(|_| Some(6.0)).collect();
        sp[30] = Some(0.0);
        assert!(run(&sp, &small).is_empty(), "a whole of 6 says too little");
    }

    #[test]
    fn only_flows_pair_up() {
        let fw = fw();
        let rules = RuleSet::parse("r.toml", super::super::rules::DEFAULT_RULES_TOML, &fw)
            .expect("built-in rules");
        let pairs = pairs(&rules, &fw);
        let code = |e: usize| fw.elements[e].code.as_str();
        assert!(
            pairs
                .iter()
                .any(|&(a, b)| code(a) == "disputes_resolved" && code(b) == "disputes")
        );
        assert!(
            !pairs.iter().any(|&(a, _)| code(a) == "villages_screened"),
            "a year-to-date count of a stock climbs by design"
        );
    }

    proptest! {
        /// Any finite series (parts above their wholes, negatives, gaps,
        /// series of different starts): no panic, every number finite, and
        /// every episode within the checked months and on one of the pair.
        #[test]
        fn episodes_are_total(
            part in prop::collection::vec(prop::option::of(-50f64..400.0), 0..40),
            whole in prop::collection::vec(prop::option::of(-50f64..400.0), 0..40),
            shift in 0i64..6,
        ) {
            let fw = fw();
            let round = |v: &Vec<Option<f64>>| -> Vec<Option<f64>> { v.iter().map(|x| x.map(f64::round)).collect() };
            let (part, whole) = (round(&part), round(&whole));
            let months = 2024 * 12..2025 * 12;
            let found = find(
                &fw,
                (3, 4, false),
                Series { first: 2022 * 12, dense: &part, model: None },
                Series { first: 2022 * 12 + shift, dense: &whole, model: None },
                months.clone(),
                &p(),
                &Tail::default(),
            );
            for f in found {
                prop_assert!(months.contains(&f.span.0) && months.contains(&f.span.1) && f.span.0 <= f.span.1);
                prop_assert!(f.element == 3 || f.element == 4);
                prop_assert!(f.finding.score.is_finite());
                prop_assert!(f.finding.numbers.iter().all(|(_, x)| x.is_finite()), "{:?}", f.finding.numbers);
            }
        }
    }
}

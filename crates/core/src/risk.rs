//! Risk (forecast.md §3): what the forecasts of the monthly elements mean
//! for next year's points. The year is scored many times with the
//! forecast months drawn from their distributions, every other element
//! held at last year's values, exactly as scoring would score it; the share
//! of draws in which an indicator loses points (or vetoes) is its
//! probability, and the mean points lost its expected loss.
//!
//! Draws: normal around the point forecast with σ from the calibrated
//! interval, cut at 0 (counts and minutes are never negative). A series'
//! months share half their variance (ρ = 0.5): forecast errors of one
//! series run together over a year, and independent months would make a
//! year's sum look far surer than it is.

use crate::data::DataSet;
use crate::framework::Framework;
use crate::period::Period;
use crate::region::RegionTree;
use crate::score::{ScoreError, evaluate_all};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rustc_hash::FxHashSet;

/// Correlation of one series' forecast errors between months.
pub const RHO: f64 = 0.5;
/// Draws when none are asked for.
pub const DEFAULT_DRAWS: usize = 200;

/// One region's forecast of one element, for the months from
/// [`Setup::from_month`] to December.
#[derive(Clone, Debug)]
pub struct Series {
    pub region: usize,
    pub element: usize,
    pub point: Vec<f64>,
    /// Standard deviation of each month's forecast.
    pub sigma: Vec<f64>,
}

pub struct Setup<'a> {
    pub fw: &'a Framework,
    pub tree: &'a RegionTree,
    /// What is known: every year's values and benchmarks.
    pub data: &'a DataSet,
    /// The year assessed, and its first month forecast (1–12); the months
    /// before it are as reported.
    pub year: i32,
    pub from_month: u8,
    pub series: &'a [Series],
    pub draws: usize,
    pub seed: u64,
    /// Earlier years whose values the chart shows.
    pub history: &'a [i32],
}

/// One region's risk on one indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct Risk {
    pub region: usize,
    /// Index into `Framework::indicators()`.
    pub indicator: usize,
    pub max: f64,
    /// The indicator's value and points with every month at its point forecast.
    pub value: Option<f64>,
    pub points: f64,
    /// 10th and 90th percentile of the value over the draws.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Share of draws losing any points; triggering the veto.
    pub p_loss: f64,
    pub p_veto: f64,
    /// Mean points lost over the draws.
    pub expected_loss: f64,
    /// The value in each year of `Setup::history` (None: missing).
    pub history: Vec<Option<f64>>,
    /// Where the rule changes its verdict between the lowest and highest
    /// value drawn or seen (and a little beyond): (value, what starts there).
    pub thresholds: Vec<(f64, Threshold)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Full points on one side, points lost on the other.
    Full,
    /// The veto on one side.
    Veto,
    /// The points jump by a step (a tier's edge).
    Step,
}

impl Threshold {
    pub fn label(self) -> &'static str {
        match self {
            Threshold::Full => "满分线",
            Threshold::Veto => "否决线",
            Threshold::Step => "扣分档",
        }
    }
}

/// The assessed year's risks for every region and every indicator that
/// reads a forecast element, the highest expected loss first.
pub fn assess(s: &Setup) -> Result<Vec<Risk>, ScoreError> {
    let year = s.year;
    let months: Vec<Period> = (s.from_month.clamp(1, 12)..=12)
        .map(|m| Period::Month(year, m))
        .collect();
    let mut base = s.data.clone();
    carry_forward(s, year, &mut base);
    let placed = s.fw.indicators();
    let forecast_elements: FxHashSet<usize> = s.series.iter().map(|x| x.element).collect();
    let driven: Vec<usize> = placed
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.indicator
                .formula
                .elements()
                .iter()
                .any(|e| forecast_elements.contains(e))
        })
        .map(|(j, _)| j)
        .collect();
    if driven.is_empty() {
        return Ok(Vec::new());
    }

    put(&mut base, s.series, &months, |i, k| {
        s.series[i].point[k].max(0.0)
    });
    let period = Period::Year(year);
    let ev = evaluate_all(s.fw, s.tree, &base, period, None)?;
    let regions = ev.regions().to_vec();
    let at_point = ev.assessments();

    // Draws in two halves on two threads, each with its own copy of the data.
    let halves: Vec<(usize, usize)> = {
        let mid = s.draws / 2;
        vec![(0, mid), (mid, s.draws)]
    };
    let parts = crate::par::map_from(&halves, 2, |&(from, to)| -> Result<Tally, ScoreError> {
        let mut data = base.clone();
        let mut t = Tally::new(regions.len(), driven.len(), to - from);
        for d in from..to {
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ (d as u64).wrapping_mul(0x9E37_79B9));
            let z: Vec<(f64, Vec<f64>)> = s
                .series
                .iter()
                .map(|x| {
                    (
                        normal(&mut rng),
                        x.point.iter().map(|_| normal(&mut rng)).collect(),
                    )
                })
                .collect();
            let drawn: Vec<Vec<f64>> = s
                .series
                .iter()
                .zip(&z)
                .map(|(x, (common, own))| {
                    (0..x.point.len())
                        .map(|k| {
                            let e = RHO.sqrt() * common + (1.0 - RHO).sqrt() * own[k];
                            (x.point[k] + x.sigma[k] * e).max(0.0)
                        })
                        .collect()
                })
                .collect();
            put(&mut data, s.series, &months, |i, k| drawn[i][k]);
            let ev = evaluate_all(s.fw, s.tree, &data, period, None)?;
            let a = ev.assessments();
            for (q, &j) in driven.iter().enumerate() {
                let max = placed[j].max;
                for (k, row) in a.iter().enumerate() {
                    let (lost, veto) = match row[j] {
                        Some(x) => (max - x.share.points(max), x.veto),
                        None => (max, false),
                    };
                    t.add(k, q, lost, veto, ev.value(j, k));
                }
            }
        }
        Ok(t)
    });
    let mut tally = Tally::new(regions.len(), driven.len(), s.draws);
    for p in parts {
        tally.merge(p?);
    }

    let past: Vec<_> = s
        .history
        .iter()
        .map(|&y| evaluate_all(s.fw, s.tree, s.data, Period::Year(y), None).ok())
        .collect();
    let n = s.draws.max(1) as f64;
    let mut out = Vec::with_capacity(regions.len() * driven.len());
    for (q, &j) in driven.iter().enumerate() {
        let max = placed[j].max;
        for (k, &r) in regions.iter().enumerate() {
            let cell = &mut tally.cells[k * tally.per + q];
            cell.values.sort_by(f64::total_cmp);
            let pct = |p: f64| -> Option<f64> {
                let v = &cell.values;
                (!v.is_empty()).then(|| v[((v.len() - 1) as f64 * p).round() as usize])
            };
            let (low, high) = (pct(0.1), pct(0.9));
            let points = at_point[k][j].map(|x| x.share.points(max)).unwrap_or(0.0);
            let history: Vec<Option<f64>> = past
                .iter()
                .map(|e| {
                    e.as_ref().and_then(|e| {
                        let kk = e.regions().iter().position(|&x| x == r)?;
                        e.value(j, kk)
                    })
                })
                .collect();
            let value = ev.value(j, k);
            let thresholds = match (pct(0.0), pct(1.0)) {
                (Some(lo), Some(hi)) => {
                    let known = history.iter().flatten().copied();
                    let lo = known.clone().fold(lo, f64::min);
                    let hi = known.fold(hi, f64::max);
                    let pad = ((hi - lo) * 0.5).max(hi.abs() * 0.05).max(1e-6);
                    crossings(lo - pad, hi + pad, max, |v| {
                        let a = ev.assess_at(j, k, v);
                        (a.share.points(max), a.veto)
                    })
                }
                _ => Vec::new(),
            };
            out.push(Risk {
                region: r,
                indicator: j,
                max,
                value,
                points,
                low,
                high,
                p_loss: cell.lost_any as f64 / n,
                p_veto: cell.vetoed as f64 / n,
                expected_loss: cell.lost / n,
                history,
                thresholds,
            });
        }
    }
    out.sort_by(|a, b| {
        b.expected_loss
            .total_cmp(&a.expected_loss)
            .then(b.p_veto.total_cmp(&a.p_veto))
            .then(a.region.cmp(&b.region))
            .then(a.indicator.cmp(&b.indicator))
    });
    Ok(out)
}

/// The assessed year's values for what is not forecast: last year's,
/// where the year has none of its own; its benchmarks likewise.
fn carry_forward(s: &Setup, year: i32, data: &mut DataSet) {
    let forecast: FxHashSet<(usize, usize)> =
        s.series.iter().map(|x| (x.region, x.element)).collect();
    let periods = |y: i32| {
        std::iter::once(Period::Year(y))
            .chain(Period::quarters(y))
            .chain(Period::months(y))
    };
    for r in 0..s.tree.len() {
        for e in 0..s.fw.elements.len() {
            if forecast.contains(&(r, e)) {
                continue;
            }
            for (now, before) in periods(year).zip(periods(year - 1)) {
                if data.get(r, now, e).is_none()
                    && let Some(v) = s.data.get(r, before, e)
                {
                    let _ = data.insert(r, now, e, v);
                }
            }
        }
    }
    for b in 0..s.fw.benchmarks.len() {
        if data.benchmark(b, Period::Year(year)).is_none()
            && let Some(v) = s.data.benchmark(b, Period::Year(year - 1))
        {
            let _ = data.insert_benchmark(b, Period::Year(year), v);
        }
    }
}

/// Every series' months set to `value(series index, month index)`.
fn put(
    data: &mut DataSet,
    series: &[Series],
    months: &[Period],
    value: impl Fn(usize, usize) -> f64,
) {
    for (i, x) in series.iter().enumerate() {
        for (k, &p) in months.iter().enumerate().take(x.point.len()) {
            let v = value(i, k);
            data.remove(x.region, p, x.element);
            let _ = data.insert(x.region, p, x.element, v);
        }
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; u1 in (0, 1] so the log is finite.
    let u1 = 1.0 - (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Where the rule changes its verdict over [lo, hi] — full points begin,
/// the veto begins, or the points jump a step (tiers, deduct steps; a
/// linear rule's gradual change is no step): scanned, then narrowed by
/// bisection. `verdict` gives the points and the veto at a value.
fn crossings(
    lo: f64,
    hi: f64,
    max: f64,
    verdict: impl Fn(f64) -> (f64, bool),
) -> Vec<(f64, Threshold)> {
    const STEPS: usize = 400;
    let full = |p: f64| p >= max - 1e-9;
    let mut out = Vec::new();
    let at = |i: usize| lo + (hi - lo) * i as f64 / STEPS as f64;
    let mut prev = verdict(lo);
    for i in 1..=STEPS {
        let (a, b) = (at(i - 1), at(i));
        let now = verdict(b);
        let kind = if full(prev.0) != full(now.0) {
            Some(Threshold::Full)
        } else if prev.1 != now.1 {
            Some(Threshold::Veto)
        } else if (prev.0 - now.0).abs() >= 0.02 * max {
            Some(Threshold::Step)
        } else {
            None
        };
        if let Some(kind) = kind {
            let side = |v: (f64, bool)| match kind {
                Threshold::Full => (full(v.0), false),
                Threshold::Veto => (false, v.1),
                Threshold::Step => ((v.0 - prev.0).abs() < 1e-9, false),
            };
            let start = side(prev);
            let (mut x, mut y) = (a, b);
            for _ in 0..40 {
                let m = (x + y) / 2.0;
                if side(verdict(m)) == start {
                    x = m;
                } else {
                    y = m;
                }
            }
            out.push(((x + y) / 2.0, kind));
        }
        prev = now;
    }
    out
}

struct Cell {
    lost: f64,
    lost_any: usize,
    vetoed: usize,
    values: Vec<f64>,
}

struct Tally {
    /// Indicators per region: cells are region-major.
    per: usize,
    cells: Vec<Cell>,
}

impl Tally {
    fn new(regions: usize, indicators: usize, draws: usize) -> Tally {
        Tally {
            per: indicators,
            cells: (0..regions * indicators)
                .map(|_| Cell {
                    lost: 0.0,
                    lost_any: 0,
                    vetoed: 0,
                    values: Vec::with_capacity(draws),
                })
                .collect(),
        }
    }

    fn add(&mut self, k: usize, q: usize, lost: f64, veto: bool, value: Option<f64>) {
        let c = &mut self.cells[k * self.per + q];
        c.lost += lost;
        c.lost_any += usize::from(lost > 1e-9);
        c.vetoed += usize::from(veto);
        if let Some(v) = value {
            c.values.push(v);
        }
    }

    fn merge(&mut self, other: Tally) {
        for (a, b) in self.cells.iter_mut().zip(other.cells) {
            a.lost += b.lost;
            a.lost_any += b.lost_any;
            a.vetoed += b.vetoed;
            a.values.extend(b.values);
        }
    }
}

/// The longest series forecasts read: twenty years of months.
pub const MAX_MONTHS: usize = 240;

/// Each (region, element)'s resolved monthly values, the unbroken run of
/// months ending at `train_end` (oldest first, at most [`MAX_MONTHS`]):
/// what scoring would read, so counties are roll-ups of their townships.
pub fn monthly_series(
    fw: &Framework,
    tree: &RegionTree,
    data: &DataSet,
    regions: &[usize],
    elements: &[usize],
    train_end: Period,
) -> Vec<(usize, usize, Vec<f64>)> {
    let mut resolver = crate::resolve::Resolver::new(fw, tree, data);
    let mut out = Vec::with_capacity(regions.len() * elements.len());
    for &r in regions {
        for &e in elements {
            let mut y = Vec::new();
            let mut p = train_end;
            while y.len() < MAX_MONTHS {
                match resolver.value(r, p, e) {
                    Some(v) if v.is_finite() => y.push(v),
                    _ => break,
                }
                p = p.prev();
            }
            y.reverse();
            out.push((r, e, y));
        }
    }
    out
}

/// σ of a normal whose central `level` interval is [lo, hi].
pub fn sigma(lo: f64, hi: f64, level: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
    ((hi - lo) / (2.0 * z)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_find_the_tiers_full_points_and_the_veto() {
        // Tiers as D4.1.1: ≥95 full (2), ≥90 80 %, ≥85 60 %, else 0; veto under 50.
        let rule = |v: f64| {
            let p = if v >= 95.0 {
                2.0
            } else if v >= 90.0 {
                1.6
            } else if v >= 85.0 {
                1.2
            } else {
                0.0
            };
            (p, v < 50.0)
        };
        let got = crossings(40.0, 100.0, 2.0, rule);
        let kinds: Vec<(i64, Threshold)> = got
            .iter()
            .map(|(x, k)| ((x * 100.0).round() as i64, *k))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (5000, Threshold::Veto),
                (8500, Threshold::Step),
                (9000, Threshold::Step),
                (9500, Threshold::Full),
            ]
        );
        // A linear rule changes gradually: only where full points begin.
        let linear = |v: f64| ((v - 60.0).clamp(0.0, 30.0) / 30.0 * 2.0, false);
        let got = crossings(40.0, 100.0, 2.0, linear);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!((got[0].0 - 90.0).abs() < 1e-6 && got[0].1 == Threshold::Full);
    }

    #[test]
    fn sigma_recovers_the_interval() {
        let s = sigma(10.0, 30.0, 0.8);
        assert!((s - 10.0 / 1.281_551_565_5).abs() < 1e-6, "{s}");
        assert_eq!(sigma(5.0, 5.0, 0.8), 0.0);
    }
}

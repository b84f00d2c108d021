//! Anomaly methods over one series (a region's element, one granularity) and
//! across sibling regions (seed §3.2, §7.3). Each method either flags the
//! point, clears it, or says the history is too short to judge — a short
//! series is never flagged on noise.

use super::stats::{mean_sd, median, robust_scale};
use super::{FlagKind, Params};
use crate::num::fmt;

/// What a method concluded about one point.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Flag(Finding),
    Clear,
    /// Fewer earlier periods than the method needs.
    Short,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: FlagKind,
    pub score: f64,
    pub numbers: Vec<(String, f64)>,
    /// Chinese, without the region and element (the caller prefixes them).
    pub detail: String,
}

fn num(name: &str, v: f64) -> (String, f64) {
    (name.to_string(), v)
}

/// A deviation big enough to matter: a statistic alone would flag a
/// township whose 0.4 cases a month became 3.
pub fn material(dev: f64, baseline: f64, p: &Params) -> bool {
    dev.abs() >= p.min_abs && dev.abs() >= p.min_rel * baseline.abs()
}

/// The present values before index `t`.
pub fn history(series: &[Option<f64>], t: usize) -> Vec<f64> {
    series[..t.min(series.len())]
        .iter()
        .flatten()
        .copied()
        .collect()
}

/// z-score against the series' own history.
pub fn zscore(hist: &[f64], x: f64, p: &Params) -> Outcome {
    if hist.len() < p.min_history {
        return Outcome::Short;
    }
    let Some((mean, sd)) = mean_sd(hist) else {
        return Outcome::Short;
    };
    let dev = x - mean;
    if sd == 0.0 || !material(dev, mean, p) {
        return Outcome::Clear;
    }
    let z = dev / sd;
    if z.abs() < p.z {
        return Outcome::Clear;
    }
    Outcome::Flag(Finding {
        kind: FlagKind::Zscore,
        score: z,
        numbers: vec![
            num("value", x),
            num("mean", mean),
            num("sd", sd),
            num("history", hist.len() as f64),
        ],
        detail: format!(
            "{} 偏离历史均值 {}（标准差 {}，共 {} 期）{} 个标准差，超过阈值 {}",
            fmt(x),
            fmt(round2(mean)),
            fmt(round2(sd)),
            hist.len(),
            fmt(round2(z)),
            fmt(p.z)
        ),
    })
}

/// Modified z-score (median and MAD), robust to earlier outliers in the history.
pub fn mod_zscore(hist: &[f64], x: f64, p: &Params) -> Outcome {
    if hist.len() < p.min_history {
        return Outcome::Short;
    }
    let Some(med) = median(hist) else {
        return Outcome::Short;
    };
    let dev = x - med;
    let Some(scale) = robust_scale(hist, med) else {
        return Outcome::Clear;
    };
    if !material(dev, med, p) {
        return Outcome::Clear;
    }
    let mz = dev * scale;
    if mz.abs() < p.mod_z {
        return Outcome::Clear;
    }
    Outcome::Flag(Finding {
        kind: FlagKind::ModZscore,
        score: mz,
        numbers: vec![
            num("value", x),
            num("median", med),
            num("history", hist.len() as f64),
        ],
        detail: format!(
            "{} 偏离历史中位数 {}（共 {} 期），修正 z 值 {}，超过阈值 {}",
            fmt(x),
            fmt(round2(med)),
            hist.len(),
            fmt(round2(mz)),
            fmt(p.mod_z)
        ),
    })
}

/// Relative change from `a` to `b` in percent; a zero base counts as
/// `min_abs` so that a rise from nothing has a finite size.
fn pct_change(a: f64, b: f64, p: &Params) -> f64 {
    let base = a.abs().max(p.min_abs).max(f64::MIN_POSITIVE);
    (b - a) / base * 100.0
}

fn is_jump(a: f64, b: f64, p: &Params) -> bool {
    pct_change(a, b, p).abs() >= p.jump_pct && (b - a).abs() >= p.jump_min_abs
}

/// A sudden change from the previous period. `season` is the number of
/// periods in a year (12, 4, 1): a change that also happened in the same
/// period of an earlier year (a year-to-date count starting again in
/// January) is the series' rhythm, not a jump. A return to the level
/// before a one-period outlier is not a jump either.
pub fn jump(series: &[Option<f64>], t: usize, season: usize, p: &Params) -> Outcome {
    let Some(x) = series.get(t).copied().flatten() else {
        return Outcome::Clear;
    };
    if series[..t.min(series.len())].iter().flatten().count() < p.min_history {
        return Outcome::Short;
    }
    let at = |i: usize| series.get(i).copied().flatten();
    let Some(prev) = t.checked_sub(1).and_then(at) else {
        return Outcome::Clear;
    };
    if !is_jump(prev, x, p) {
        return Outcome::Clear;
    }
    // A change the series makes every few periods anyway (small counts
    // swing by half from one month to the next) is its normal movement.
    let diffs: Vec<f64> = (1..t).filter_map(|i| Some(at(i)? - at(i - 1)?)).collect();
    if diffs.len() >= p.min_history
        && let Some(md) = median(&diffs)
        && let Some(scale) = robust_scale(&diffs, md)
        && ((x - prev) - md).abs() * scale < p.jump_noise
    {
        return Outcome::Clear;
    }
    let up = x > prev;
    if let Some(before) = t.checked_sub(2).and_then(at)
        && is_jump(before, prev, p)
        && (prev > before) != up
        && !is_jump(before, x, p)
    {
        return Outcome::Clear;
    }
    if season > 1 {
        let mut k = t;
        while k > season {
            k -= season;
            if let (Some(b), Some(a)) = (at(k), at(k - 1))
                && is_jump(a, b, p)
                && (b > a) == up
            {
                return Outcome::Clear;
            }
        }
    }
    let pct = pct_change(prev, x, p);
    Outcome::Flag(Finding {
        kind: FlagKind::Jump,
        score: pct,
        numbers: vec![
            num("value", x),
            num("previous", prev),
            num("change_pct", pct),
        ],
        detail: format!(
            "由上期 {} 变为 {}，环比{} {}%，超过 {}%",
            fmt(prev),
            fmt(x),
            if up { "上升" } else { "下降" },
            fmt(round2(pct.abs())),
            fmt(p.jump_pct)
        ),
    })
}

/// The run rule (seed §7.3 "连续三个月高于均值"): the last `run_len`
/// periods all above the mean + `run_sd` SD of the history before the run,
/// flagged in the period the run reaches that length.
pub fn run_above_mean(series: &[Option<f64>], t: usize, season: usize, p: &Params) -> Outcome {
    let run = match run_fires(series, t, p) {
        Ok(r) => r,
        Err(o) => return o,
    };
    // The same run a year earlier (against its own history then) makes
    // this the series' rhythm: a seasonal peak, a year-to-date count
    // climbing as every year, a target raised each January.
    if season > 1 && t >= season && window_above(series, t - season, p) {
        return Outcome::Clear;
    }
    let Run {
        values,
        mean,
        sd,
        line,
    } = run;
    let n = values.len();
    let run_mean = values.iter().sum::<f64>() / n as f64;
    let score = if sd > 0.0 {
        (run_mean - mean) / sd
    } else {
        0.0
    };
    let shown: Vec<String> = values.iter().map(|v| fmt(*v)).collect();
    Outcome::Flag(Finding {
        kind: FlagKind::RunAboveMean,
        score,
        numbers: vec![
            num("value", values[n - 1]),
            num("mean", mean),
            num("sd", sd),
            num("line", line),
            num("run", n as f64),
        ],
        detail: format!(
            "连续 {n} 期（{}）高于历史均值 {} + {} 个标准差（{}）",
            shown.join("、"),
            fmt(round2(mean)),
            fmt(p.run_sd),
            fmt(round2(line))
        ),
    })
}

/// Whether the `run_len` periods ending at `end` were all above the line of
/// the history before them.
fn window_above(series: &[Option<f64>], end: usize, p: &Params) -> bool {
    let n = p.run_len.max(1);
    if end + 1 < n || end >= series.len() {
        return false;
    }
    let start = end + 1 - n;
    let hist = history(series, start);
    let Some((mean, sd)) = (hist.len() >= 2).then(|| mean_sd(&hist)).flatten() else {
        return false;
    };
    let line = mean + p.run_sd * sd;
    series[start..=end]
        .iter()
        .all(|v| v.is_some_and(|v| v > line))
}

struct Run {
    values: Vec<f64>,
    mean: f64,
    sd: f64,
    line: f64,
}

/// Whether a run of `run_len` above the line completes at `t`.
fn run_fires(series: &[Option<f64>], t: usize, p: &Params) -> Result<Run, Outcome> {
    let n = p.run_len.max(1);
    if t >= series.len() {
        return Err(Outcome::Clear);
    }
    if t + 1 < n {
        return Err(Outcome::Short);
    }
    let start = t + 1 - n;
    let Some(values) = series[start..=t]
        .iter()
        .copied()
        .collect::<Option<Vec<f64>>>()
    else {
        return Err(Outcome::Clear);
    };
    let hist = history(series, start);
    if hist.len() < p.min_history {
        return Err(Outcome::Short);
    }
    let Some((mean, sd)) = mean_sd(&hist) else {
        return Err(Outcome::Short);
    };
    let line = mean + p.run_sd * sd;
    let above = |v: f64| v > line && v - mean >= p.min_abs;
    if !values.iter().all(|&v| above(v)) {
        return Err(Outcome::Clear);
    }
    if start > 0 && series[start - 1].is_some_and(above) {
        return Err(Outcome::Clear);
    }
    Ok(Run {
        values,
        mean,
        sd,
        line,
    })
}

/// Peer outliers: modified z of each value among its siblings'. Returns
/// (index into `values`, finding) for each outlier; fewer than `min_peers`
/// values give nothing.
pub fn peers(values: &[f64], p: &Params) -> Vec<(usize, Finding)> {
    if values.len() < p.min_peers {
        return Vec::new();
    }
    let Some(med) = median(values) else {
        return Vec::new();
    };
    let Some(scale) = robust_scale(values, med) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, &x) in values.iter().enumerate() {
        let dev = x - med;
        let mz = dev * scale;
        if mz.abs() < p.peer_mod_z || dev.abs() < p.min_rel * med.abs() {
            continue;
        }
        out.push((
            i,
            Finding {
                kind: FlagKind::Peer,
                score: mz,
                numbers: vec![
                    num("value", x),
                    num("peer_median", med),
                    num("peers", values.len() as f64),
                ],
                detail: format!(
                    "{} 与同级 {} 个地区的中位数 {} 相比，修正 z 值 {}，超过阈值 {}",
                    fmt(round4(x)),
                    values.len(),
                    fmt(round4(med)),
                    fmt(round2(mz)),
                    fmt(p.peer_mod_z)
                ),
            },
        ));
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> Params {
        Params::default()
    }

    fn s(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().map(|&x| Some(x)).collect()
    }

    const FLAT: [f64; 12] = [
        50.0, 52.0, 48.0, 51.0, 49.0, 50.0, 53.0, 47.0, 50.0, 51.0, 49.0, 50.0,
    ];

    #[test]
    fn a_spike_is_flagged_by_both_z_methods() {
        let hist = FLAT.to_vec();
        assert!(matches!(zscore(&hist, 150.0, &p()), Outcome::Flag(f) if f.score > 3.0));
        assert!(matches!(mod_zscore(&hist, 150.0, &p()), Outcome::Flag(f) if f.score > 3.5));
        assert_eq!(zscore(&hist, 53.0, &p()), Outcome::Clear);
        assert_eq!(mod_zscore(&hist, 53.0, &p()), Outcome::Clear);
        assert_eq!(zscore(&hist[..5], 150.0, &p()), Outcome::Short);
        assert_eq!(mod_zscore(&hist[..5], 150.0, &p()), Outcome::Short);
    }

    #[test]
    fn small_counts_are_not_flagged_on_noise() {
        // 0–1 cases a month, then 2: many standard deviations, but 2 cases.
        let hist = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(zscore(&hist, 2.0, &p()), Outcome::Clear);
        assert_eq!(mod_zscore(&hist, 2.0, &p()), Outcome::Clear);
    }

    #[test]
    fn jumps_and_their_exemptions() {
        let mut v = FLAT.to_vec();
        v.push(100.0);
        let series = s(&v);
        assert!(matches!(jump(&series, 12, 12, &p()), Outcome::Flag(f) if f.score == 100.0));
        // Coming back down after a one-month spike is not a new jump.
        v.push(50.0);
        let series = s(&v);
        assert_eq!(jump(&series, 13, 12, &p()), Outcome::Clear);
        // A drop that also happened in the same month a year earlier.
        let ytd: Vec<f64> = (0..30).map(|i| 10.0 + 10.0 * (i % 12) as f64).collect();
        let series = s(&ytd);
        assert_eq!(jump(&series, 24, 12, &p()), Outcome::Clear);
        assert!(matches!(
            jump(&series, 12, 12, &p()),
            Outcome::Short | Outcome::Flag(_)
        ));
        // Too little history.
        assert_eq!(jump(&s(&[10.0, 10.0, 40.0]), 2, 12, &p()), Outcome::Short);
    }

    #[test]
    fn three_months_above_the_mean() {
        let mut v = FLAT.to_vec();
        v.extend([56.0, 57.0, 58.0]);
        let series = s(&v);
        assert_eq!(run_above_mean(&series, 13, 12, &p()), Outcome::Clear);
        assert!(matches!(
            run_above_mean(&series, 14, 12, &p()),
            Outcome::Flag(f) if f.kind == FlagKind::RunAboveMean
        ));
        // A fourth month continues the run; it was flagged once already.
        let mut v4 = v.clone();
        v4.push(57.0);
        assert_eq!(run_above_mean(&s(&v4), 15, 12, &p()), Outcome::Clear);
        // A gap breaks the run.
        let mut gap = s(&v);
        gap[13] = None;
        assert_eq!(run_above_mean(&gap, 14, 12, &p()), Outcome::Clear);
    }

    #[test]
    fn a_peer_far_from_its_siblings() {
        let vals = [80.0, 82.0, 79.0, 81.0, 83.0, 40.0];
        let out = peers(&vals, &p());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, 5);
        assert!(out[0].1.score < -3.5);
        assert!(peers(&vals[..3], &p()).is_empty());
    }

    proptest! {
        /// No method panics or returns a non-finite score on any finite series.
        #[test]
        fn methods_are_total(v in prop::collection::vec(prop::option::of(-1e9f64..1e9), 0..40), t in 0usize..45) {
            let p = p();
            let x = v.get(t).copied().flatten().unwrap_or(0.0);
            let hist = history(&v, t);
            for o in [zscore(&hist, x, &p), mod_zscore(&hist, x, &p), jump(&v, t, 12, &p), run_above_mean(&v, t.min(v.len().saturating_sub(1)), 12, &p)] {
                if let Outcome::Flag(f) = o {
                    prop_assert!(f.score.is_finite());
                    prop_assert!(f.numbers.iter().all(|(_, x)| x.is_finite()));
                }
            }
            let vals: Vec<f64> = v.iter().flatten().copied().collect();
            for (_, f) in peers(&vals, &p) {
                prop_assert!(f.score.is_finite());
            }
        }
    }
}

//! How honest the risk probabilities are: a year assessed from the months
//! before it (`crate::risk::assess`) against what that year then scored.
//! The probabilities are binned (reliability: of the indicators given about
//! 30 %, about 30 % should have lost points), and the Brier score is
//! compared with the one of always saying the share that lost overall.

use crate::data::DataSet;
use crate::framework::Framework;
use crate::period::Period;
use crate::region::RegionTree;
use crate::risk::Risk;
use crate::score::{ScoreError, evaluate_all};
use serde::Serialize;

/// Probabilities in ten bins of 10 %.
pub const BINS: usize = 10;

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Bin {
    pub from: f64,
    pub to: f64,
    /// Region × indicator pairs whose probability fell here.
    pub n: usize,
    /// Their mean predicted probability and the share that lost points.
    pub predicted: f64,
    pub observed: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    pub year: i32,
    /// Pairs assessed (those with an actual value).
    pub n: usize,
    /// Share that actually lost points.
    pub base_rate: f64,
    /// Mean squared error of the probabilities; of always saying `base_rate`.
    pub brier: f64,
    pub brier_base: f64,
    /// Points lost: expected over all pairs, and what they lost.
    pub expected_loss: f64,
    pub actual_loss: f64,
    pub bins: Vec<Bin>,
}

/// One assessed pair against the year's scores: (probability of losing
/// points, lost any, expected points lost, points lost).
pub type Pair = (f64, bool, f64, f64);

/// Each risk of `year` with what `data` then scored (pairs whose value is
/// missing say nothing of the forecast and are left out).
pub fn pairs(
    risks: &[Risk],
    fw: &Framework,
    tree: &RegionTree,
    data: &DataSet,
    year: i32,
) -> Result<Vec<Pair>, ScoreError> {
    let ev = evaluate_all(fw, tree, data, Period::Year(year), None)?;
    let actual = ev.assessments();
    let position: std::collections::HashMap<usize, usize> = ev
        .regions()
        .iter()
        .enumerate()
        .map(|(k, &r)| (r, k))
        .collect();
    let mut out = Vec::with_capacity(risks.len());
    for x in risks {
        let Some(&k) = position.get(&x.region) else {
            continue;
        };
        if ev.value(x.indicator, k).is_none() {
            continue;
        }
        let Some(a) = actual[k][x.indicator] else {
            continue;
        };
        let lost = x.max - a.share.points(x.max);
        out.push((x.p_loss, lost > 1e-9, x.expected_loss, lost));
    }
    Ok(out)
}

/// Compare `risks` (of `year`) with `year` as `data` scores it.
pub fn calibrate(
    risks: &[Risk],
    fw: &Framework,
    tree: &RegionTree,
    data: &DataSet,
    year: i32,
) -> Result<Calibration, ScoreError> {
    Ok(summarize(&pairs(risks, fw, tree, data, year)?, year))
}

/// Bins, Brier scores and losses of `pairs`.
pub fn summarize(pairs: &[Pair], year: i32) -> Calibration {
    let n = pairs.len();
    let nf = n.max(1) as f64;
    let base_rate = pairs.iter().filter(|p| p.1).count() as f64 / nf;
    let sq = |p: f64, o: bool| (p - if o { 1.0 } else { 0.0 }).powi(2);
    let bins = (0..BINS)
        .map(|b| {
            let (from, to) = (b as f64 / BINS as f64, (b + 1) as f64 / BINS as f64);
            let inside: Vec<&Pair> = pairs
                .iter()
                .filter(|p| p.0 >= from && (p.0 < to || (b + 1 == BINS && p.0 <= to)))
                .collect();
            let m = inside.len().max(1) as f64;
            Bin {
                from,
                to,
                n: inside.len(),
                predicted: inside.iter().map(|p| p.0).sum::<f64>() / m,
                observed: inside.iter().filter(|p| p.1).count() as f64 / m,
            }
        })
        .collect();
    Calibration {
        year,
        n,
        base_rate,
        brier: pairs.iter().map(|p| sq(p.0, p.1)).sum::<f64>() / nf,
        brier_base: pairs.iter().map(|p| sq(base_rate, p.1)).sum::<f64>() / nf,
        expected_loss: pairs.iter().map(|p| p.2).sum(),
        actual_loss: pairs.iter().map(|p| p.3).sum(),
        bins,
    }
}

/// A monotone map from the model's probability to the share that did lose
/// points in a past year (isotonic regression, pool adjacent violators):
/// the probabilities a run shows are the model's passed through the map
/// fitted on the year before, so that of the pairs shown 70 %, about 70 %
/// lost points then.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Isotonic {
    /// Upper ends of the model's probability blocks, ascending, and each
    /// block's observed share.
    pub upto: Vec<f64>,
    pub share: Vec<f64>,
}

impl Isotonic {
    /// Fit on (probability, lost) pairs; None without any.
    pub fn fit(pairs: &[Pair]) -> Option<Isotonic> {
        let mut xs: Vec<(f64, f64)> = pairs
            .iter()
            .map(|p| (p.0, if p.1 { 1.0 } else { 0.0 }))
            .collect();
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Blocks: (upper x, sum of y, count); merge while they decrease.
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y) in xs {
            match blocks.last_mut() {
                Some(last) if last.0 == x => {
                    last.1 += y;
                    last.2 += 1.0;
                }
                _ => blocks.push((x, y, 1.0)),
            }
            while blocks.len() > 1 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 <= b.1 / b.2 {
                    break;
                }
                blocks[n - 2] = (b.0, a.1 + b.1, a.2 + b.2);
                blocks.pop();
            }
        }
        Some(Isotonic {
            upto: blocks.iter().map(|b| b.0).collect(),
            share: blocks.iter().map(|b| b.1 / b.2).collect(),
        })
    }

    /// The observed share for a model probability `p`: the block it falls
    /// in (the last block beyond the fitted range).
    pub fn apply(&self, p: f64) -> f64 {
        let i = self.upto.partition_point(|u| *u < p);
        self.share[i.min(self.share.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_is_monotone_and_matches_block_rates() {
        // The model says 0.2 for ten pairs of which 6 lost, 0.5 for ten of
        // which 3 lost (a violation: pooled), 0.9 for ten of which 9 lost.
        let mut pairs = Vec::new();
        for (p, lost) in [(0.2, 6), (0.5, 3), (0.9, 9)] {
            for i in 0..10 {
                pairs.push((p, i < lost, 0.0, 0.0));
            }
        }
        let m = Isotonic::fit(&pairs).unwrap();
        assert_eq!(m.share.len(), 2);
        assert!((m.apply(0.2) - 0.45).abs() < 1e-12);
        assert!((m.apply(0.5) - 0.45).abs() < 1e-12);
        assert!((m.apply(0.9) - 0.9).abs() < 1e-12);
        assert!((m.apply(1.0) - 0.9).abs() < 1e-12);
        assert!((m.apply(0.0) - 0.45).abs() < 1e-12);
        let c = summarize(&pairs, 2024);
        assert_eq!(c.n, 30);
        assert!((c.base_rate - 0.6).abs() < 1e-12);
        assert_eq!(c.bins.iter().map(|b| b.n).sum::<usize>(), 30);
        assert!(Isotonic::fit(&[]).is_none());
    }
}

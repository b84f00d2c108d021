//! Uncertainty and sensitivity of rankings (seed §2.3, §3.1: how sure is
//! the ranking?). Monte Carlo over the weights — each weight scaled by a
//! uniform factor in [1 − spread, 1 + spread], then renormalised within its
//! parent — and a one-at-a-time sweep of each dimension weight. This is
//! what COINr calls uncertainty analysis.
//!
//! Indicator values do not depend on weights, so they are resolved once
//! (`score::evaluate_all`); each sample only re-weighs the rules' shares.

use crate::framework::{Framework, MissingPolicy};
use crate::num::round_half_away;
use crate::rules::Assessment;
use crate::score::Evaluation;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Options {
    pub samples: usize,
    /// 0.2 = each weight may move by up to ±20 %.
    pub spread: f64,
    pub seed: u64,
    /// Worker threads for the samples (results do not depend on it).
    pub threads: usize,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SensitivityError {
    #[error("样本数必须大于 0")]
    NoSamples,
    #[error("扰动幅度 spread 应在 0 到 1 之间（不含 1），实际为 {0}")]
    Spread(f64),
    #[error("没有可计分的地区")]
    NoRegions,
}

#[derive(Clone, Debug, Serialize)]
pub struct RegionRank {
    pub region: String,
    pub name: String,
    pub nominal: usize,
    pub median: f64,
    pub p05: f64,
    pub p95: f64,
    /// Share of samples in which the region kept its nominal rank.
    pub stable_share: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Spearman {
    pub median: f64,
    pub p05: f64,
    pub min: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sweep {
    pub dimension: String,
    pub name: String,
    /// Relative change of the dimension's weight (−0.2 = 20 % lighter).
    pub factor: f64,
    /// The dimension's weight after renormalisation.
    pub weight: f64,
    pub spearman: f64,
    /// Largest change of any region's rank.
    pub max_shift: usize,
    /// Regions whose rank changed.
    pub changed: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub samples: usize,
    pub spread: f64,
    pub seed: u64,
    pub results: Vec<RegionRank>,
    pub spearman: Spearman,
    pub oat: Vec<Sweep>,
}

/// The framework's weights, flattened: dimensions, then each dimension's
/// domains, then each domain's indicators.
#[derive(Clone, Debug)]
struct WeightTree {
    dims: Vec<f64>,
    domains: Vec<Vec<f64>>,
    indicators: Vec<Vec<Vec<f64>>>,
}

impl WeightTree {
    fn of(fw: &Framework) -> Self {
        WeightTree {
            dims: fw.dimensions.iter().map(|d| d.weight).collect(),
            domains: fw
                .dimensions
                .iter()
                .map(|d| d.domains.iter().map(|m| m.weight).collect())
                .collect(),
            indicators: fw
                .dimensions
                .iter()
                .map(|d| {
                    d.domains
                        .iter()
                        .map(|m| m.indicators.iter().map(|i| i.weight).collect())
                        .collect()
                })
                .collect(),
        }
    }

    /// Full points per indicator, in framework order.
    fn maxes(&self, total: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for (d, wd) in self.dims.iter().enumerate() {
            for (m, wm) in self.domains[d].iter().enumerate() {
                for wi in &self.indicators[d][m] {
                    out.push(total * wd * wm * wi);
                }
            }
        }
        out
    }

    fn perturbed(&self, rng: &mut ChaCha8Rng, spread: f64) -> Self {
        let mut f = |w: &f64| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            w * (1.0 + spread * (2.0 * u - 1.0))
        };
        let mut t = WeightTree {
            dims: self.dims.iter().map(&mut f).collect(),
            domains: self
                .domains
                .iter()
                .map(|v| v.iter().map(&mut f).collect())
                .collect(),
            indicators: self
                .indicators
                .iter()
                .map(|d| d.iter().map(|v| v.iter().map(&mut f).collect()).collect())
                .collect(),
        };
        t.renormalise();
        t
    }

    fn renormalise(&mut self) {
        fn norm(v: &mut [f64]) {
            let s: f64 = v.iter().sum();
            if s > 0.0 {
                v.iter_mut().for_each(|x| *x /= s);
            }
        }
        norm(&mut self.dims);
        self.domains.iter_mut().for_each(|v| norm(v));
        self.indicators.iter_mut().flatten().for_each(|v| norm(v));
    }
}

/// Totals of every scored region for given full points per indicator.
fn totals(shares: &[Vec<Option<Assessment>>], maxes: &[f64], fw: &Framework) -> Vec<f64> {
    let exclude = fw.missing == MissingPolicy::Exclude;
    shares
        .iter()
        .map(|row| {
            let (mut got, mut present) = (0.0, 0.0);
            for (a, &max) in row.iter().zip(maxes) {
                if let Some(a) = a {
                    got += a.share.points(max);
                    present += max;
                }
            }
            if !exclude {
                got
            } else if present > 0.0 {
                got / present * fw.total
            } else {
                0.0
            }
        })
        .collect()
}

/// Rank among peers: 1 + peers with a strictly higher rounded total.
fn ranks(totals: &[f64], groups: &[Vec<usize>], decimals: u32) -> Vec<usize> {
    let rounded: Vec<f64> = totals
        .iter()
        .map(|&t| round_half_away(t, decimals))
        .collect();
    (0..totals.len())
        .map(|k| {
            1 + groups[k]
                .iter()
                .filter(|&&o| rounded[o] > rounded[k])
                .count()
        })
        .collect()
}

/// Average ranks (ties share the mean of their places), for Spearman.
fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[b].total_cmp(&x[a]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &p in &idx[i..=j] {
            r[p] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's ρ as the Pearson correlation of average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (average_ranks(a), average_ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        // A constant ranking: identical ones agree perfectly.
        return if ra == rb { 1.0 } else { 0.0 };
    }
    sab / (saa * sbb).sqrt()
}

/// Percentile with linear interpolation between order statistics (numpy's default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn analyse(eval: &Evaluation, opts: &Options) -> Result<Report, SensitivityError> {
    if opts.samples == 0 {
        return Err(SensitivityError::NoSamples);
    }
    if !(0.0..1.0).contains(&opts.spread) {
        return Err(SensitivityError::Spread(opts.spread));
    }
    let fw = eval.framework();
    let regions = eval.regions();
    if regions.is_empty() {
        return Err(SensitivityError::NoRegions);
    }
    let shares = eval.assessments();
    let groups = eval.peer_groups();
    let base = WeightTree::of(fw);
    let nominal_totals = totals(&shares, &base.maxes(fw.total), fw);
    let nominal = ranks(&nominal_totals, &groups, fw.rank_decimals);

    // Draw every sample's weights up front, so the result does not depend
    // on how the work is split between threads.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let trees: Vec<WeightTree> = (0..opts.samples)
        .map(|_| base.perturbed(&mut rng, opts.spread))
        .collect();
    let threads = opts.threads.clamp(1, 64);
    let chunk = opts.samples.div_ceil(threads);
    let per_sample: Vec<(Vec<usize>, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = trees
            .chunks(chunk)
            .map(|part| {
                let (shares, groups, nominal_totals) = (&shares, &groups, &nominal_totals);
                s.spawn(move || {
                    part.iter()
                        .map(|t| {
                            let tot = totals(shares, &t.maxes(fw.total), fw);
                            let rho = spearman(nominal_totals, &tot);
                            (ranks(&tot, groups, fw.rank_decimals), rho)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });

    let mut results = Vec::with_capacity(regions.len());
    for (k, &r) in regions.iter().enumerate() {
        let mut rs: Vec<f64> = per_sample.iter().map(|(rk, _)| rk[k] as f64).collect();
        rs.sort_by(f64::total_cmp);
        let stable = per_sample
            .iter()
            .filter(|(rk, _)| rk[k] == nominal[k])
            .count();
        let region = eval.region(r);
        results.push(RegionRank {
            region: region.code.clone(),
            name: region.name.clone(),
            nominal: nominal[k],
            median: percentile(&rs, 0.5),
            p05: percentile(&rs, 0.05),
            p95: percentile(&rs, 0.95),
            stable_share: stable as f64 / opts.samples as f64,
        });
    }
    let mut rhos: Vec<f64> = per_sample.iter().map(|(_, rho)| *rho).collect();
    rhos.sort_by(f64::total_cmp);

    let mut oat = Vec::new();
    for (d, dim) in fw.dimensions.iter().enumerate() {
        for factor in [
            -opts.spread,
            -opts.spread / 2.0,
            opts.spread / 2.0,
            opts.spread,
        ] {
            let mut t = base.clone();
            t.dims[d] *= 1.0 + factor;
            t.renormalise();
            let tot = totals(&shares, &t.maxes(fw.total), fw);
            let rk = ranks(&tot, &groups, fw.rank_decimals);
            let shifts = rk.iter().zip(&nominal).map(|(a, b)| a.abs_diff(*b));
            oat.push(Sweep {
                dimension: dim.code.clone(),
                name: dim.name.clone(),
                factor,
                weight: t.dims[d],
                spearman: spearman(&nominal_totals, &tot),
                max_shift: shifts.clone().max().unwrap_or(0),
                changed: shifts.filter(|s| *s > 0).count(),
            });
        }
    }
    Ok(Report {
        samples: opts.samples,
        spread: opts.spread,
        seed: opts.seed,
        results,
        spearman: Spearman {
            median: percentile(&rhos, 0.5),
            p05: percentile(&rhos, 0.05),
            min: rhos[0],
        },
        oat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_and_percentiles() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), 1.0);
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0);
        // Ties get average ranks: (1, 2.5, 2.5) vs (1, 2, 3) → ρ = 0.866…
        let rho = spearman(&[3.0, 1.0, 1.0], &[3.0, 2.0, 1.0]);
        assert!((rho - 0.8660254037844387).abs() < 1e-12, "{rho}");
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.05), 1.2);
        assert_eq!(percentile(&v, 0.95), 4.8);
    }

    #[test]
    fn perturbed_weights_stay_normalised_and_within_spread() {
        let fw = crate::default_framework();
        let base = WeightTree::of(&fw);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..50 {
            let t = base.perturbed(&mut rng, 0.2);
            assert!((t.dims.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (a, b) in t.dims.iter().zip(&base.dims) {
                // ±20 % before renormalising keeps a weight within a factor 1.2/0.8.
                assert!(*a <= b * 1.5 + 1e-12 && *a >= b / 1.5 - 1e-12);
            }
            let maxes = t.maxes(100.0);
            assert!((maxes.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        }
    }
}

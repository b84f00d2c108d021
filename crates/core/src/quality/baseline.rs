//! A model of normal for one series, so that the seed's methods (§3.4) are
//! judged against what the series would ordinarily do this month rather
//! than against its raw history: a seasonal profile from the complete
//! earlier years, a level from the months just before, and a noise model —
//! counts as counts (negative binomial: a township with 0.4 cases a month
//! that reports 3 is not remarkable, one with 40 that reports 160 is), other
//! values as normal around the baseline with the spread the earlier years
//! showed. A candidate flag is kept only when the model finds the value (or
//! the run) improbable; its tail probability is the flag's evidence.

use statrs::function::beta::checked_beta_reg;
use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur};

/// Months (periods) before the judged one that set its level.
const LEVEL_WINDOW: usize = 6;
/// The level needs at least this many of them.
const LEVEL_MIN: usize = 3;
/// Pseudo-count pulling a count series' seasonal index towards 1: a month
/// that had 2 cases against 1 elsewhere is not a season.
const SEASON_SHRINK: f64 = 5.0;
/// The element's profile is worth this many counts of the series' own.
const PROFILE_WEIGHT: f64 = 400.0;
/// Overdispersion no series goes below: within-year drift the profile does
/// not capture.
const ALPHA_FLOOR: f64 = 0.01;
/// How far a count series' level may have moved from its earlier years'
/// (relative SD of the level's prior).
const LEVEL_PRIOR_CV: f64 = 0.3;
/// A stock steps and stays (a backlog resolved from October on, 4, 5, 6 of
/// a year that had none): its earlier years' level is worth at most this
/// many of its own recent months.
const STOCK_PRIOR_MONTHS: f64 = 2.0;
/// Relative spread no non-count series goes below.
const CV_FLOOR: f64 = 0.02;
/// −log10 of the smallest probability reported (tails beyond it are all
/// "impossible under the model").
const MAX_SURPRISE: f64 = 300.0;

/// The fitted model of one series (one granularity).
#[derive(Clone, Debug)]
pub struct Model {
    season: usize,
    /// Seasonal index per position in the year (mean about 1).
    index: Vec<f64>,
    /// Values are whole counts: judged as negative binomial.
    count: bool,
    /// Count overdispersion: variance μ + αμ².
    alpha: f64,
    /// Non-counts: the residual SD relative to the baseline, and absolute.
    rel_sd: f64,
    abs_sd: f64,
    /// Counts: the level of the complete earlier years (per period, season
    /// taken out), what the recent months' level is drawn towards as far
    /// as they are too few counts to say.
    long: f64,
    /// The most months of the series' own the earlier years' level is
    /// worth (unbounded for flows).
    prior_months: f64,
}

/// What the model expects at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expect {
    pub mean: f64,
    pub var: f64,
}

/// Position of dense index `t` in its year, for a series whose first point
/// is at absolute index `first` (year × season + position).
fn pos(first: i64, t: usize, season: usize) -> usize {
    (first + t as i64).rem_euclid(season as i64) as usize
}

/// The complete years before absolute year `before`: where the earlier
/// part ends in `dense`, and each year's start (in `dense`) and mean.
fn complete_years(
    dense: &[Option<f64>],
    first: i64,
    season: usize,
    before: i32,
) -> Option<(usize, Vec<(usize, f64)>)> {
    if season < 2 {
        return None;
    }
    let s = season as i64;
    let end = (before as i64 * s - first).clamp(0, dense.len() as i64) as usize;
    let mut years = Vec::new();
    let mut t = (s - first.rem_euclid(s)) as usize % season;
    while t + season <= end {
        let ys: Option<Vec<f64>> = dense[t..t + season].iter().copied().collect();
        if let Some(ys) = ys {
            let mean = ys.iter().sum::<f64>() / season as f64;
            if mean.is_finite() {
                years.push((t, mean));
            }
        }
        t += season;
    }
    (!years.is_empty()).then_some((end, years))
}

/// An element's seasonal profile summed over every region's complete
/// earlier years: most townships are too small to show their own season.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    num: Vec<f64>,
    den: f64,
}

impl Profile {
    pub fn add(&mut self, dense: &[Option<f64>], first: i64, season: usize, before: i32) {
        let Some((_, years)) = complete_years(dense, first, season, before) else {
            return;
        };
        if self.num.len() != season {
            if !self.num.is_empty() {
                return;
            }
            self.num = vec![0.0; season];
        }
        for &(t0, mean) in &years {
            for (k, slot) in self.num.iter_mut().enumerate() {
                *slot += dense[t0 + k].unwrap_or(0.0);
            }
            self.den += mean;
        }
    }

    /// The index per position in the year, if any year was seen.
    pub fn index(&self) -> Option<Vec<f64>> {
        (self.den.abs() > 0.0 && self.den.is_finite())
            .then(|| self.num.iter().map(|n| n / self.den).collect())
    }
}

impl Model {
    /// Fit on the complete years before absolute year `before` (a year
    /// with every period present), the seasonal index drawn towards the
    /// element's `profile` as far as the series is too small to show its
    /// own. `None` without one such year, or for a yearly series (no
    /// season, too few points). `whole`: every value of the element, in
    /// every region, is a whole number; only then can a series be counts
    /// (hours of rare outbreaks, 0 for years in one township, are not).
    pub fn fit(
        dense: &[Option<f64>],
        first: i64,
        season: usize,
        before: i32,
        profile: Option<&[f64]>,
        whole: bool,
    ) -> Option<Model> {
        let (end, years) = complete_years(dense, first, season, before)?;
        let count = whole
            && dense[..end]
                .iter()
                .flatten()
                .all(|v| *v >= 0.0 && v.fract() == 0.0 && *v < 1e12);
        // A measured quantity that is mostly zero (hours spent on rare
        // outbreaks) has no normal size to deviate from.
        let zeros = dense[..end].iter().flatten().filter(|v| **v == 0.0).count();
        let present = dense[..end].iter().flatten().count();
        if !count && zeros * 2 > present {
            return None;
        }
        let den: f64 = years.iter().map(|y| y.1).sum();
        // How much the series' own profile is worth against the element's:
        // its count over the years (noise 1/√count), or for other values
        // its years against four of the element's.
        let own = if count {
            den / (den + PROFILE_WEIGHT)
        } else {
            years.len() as f64 / (years.len() as f64 + 4.0)
        };
        let mut index = vec![1.0; season];
        for (k, slot) in index.iter_mut().enumerate() {
            let num: f64 = years
                .iter()
                .map(|&(t0, _)| dense[t0 + k].unwrap_or(0.0))
                .sum();
            let mine = if den.abs() > 0.0 { num / den } else { 1.0 };
            let theirs = profile.and_then(|p| p.get(k).copied()).unwrap_or(1.0);
            let i = match profile {
                Some(_) => own * mine + (1.0 - own) * theirs,
                None => (num + SEASON_SHRINK) / (den + SEASON_SHRINK),
            };
            if i.is_finite() && den.abs() > 0.0 {
                *slot = i;
            }
        }
        let mut m = Model {
            season,
            index,
            count,
            alpha: ALPHA_FLOOR,
            rel_sd: CV_FLOOR,
            abs_sd: 0.0,
            // Half a count over the years where they saw none: a series
            // of zeros has a small rate, not none.
            long: (den / years.len() as f64).max(0.5 / (years.len() * season) as f64),
            prior_months: f64::INFINITY,
        };
        // The spread of the earlier years around their own level × season,
        // inflated for the two parameters per point the fit spent.
        let mut excess = 0.0;
        let mut mu2 = 0.0;
        let mut rel = Vec::new();
        let mut abs = Vec::new();
        for &(t0, mean) in &years {
            for (k, v) in dense[t0..t0 + season].iter().enumerate() {
                // t0 starts a year: position k.
                let (Some(v), e) = (*v, mean * m.index[k]) else {
                    continue;
                };
                let r = v - e;
                excess += r * r - e.max(0.0);
                mu2 += e * e;
                abs.push(r.abs());
                if e.abs() > 0.0 {
                    rel.push((r / e).abs());
                }
            }
        }
        let n = abs.len() as f64;
        // The year means are fitted; the profile mostly borrowed.
        let spent = years.len() as f64 + own * (season as f64 - 1.0);
        let dof = (n / (n - spent).max(1.0)).min(3.0);
        if count {
            if mu2 > 0.0 {
                m.alpha = (excess / mu2 * dof).clamp(ALPHA_FLOOR, 4.0);
            }
        } else {
            m.rel_sd =
                (1.4826 * super::stats::median(&rel).unwrap_or(0.0) * dof.sqrt()).max(CV_FLOOR);
            // As the modified z does when the MAD is 0: the mean absolute
            // deviation scaled to an SD.
            let mad = 1.4826 * super::stats::median(&abs).unwrap_or(0.0);
            let mean_ad = 1.2533 * abs.iter().sum::<f64>() / n.max(1.0);
            m.abs_sd = mad.max(mean_ad) * dof.sqrt();
        }
        Some(m)
    }

    /// The series' overdispersion drawn halfway (by two years' points)
    /// towards its element's typical one.
    pub fn pool_alpha(&mut self, element: f64, n: usize) {
        if self.count && element.is_finite() {
            let w = n as f64 / (n as f64 + 24.0);
            self.alpha = (w * self.alpha + (1.0 - w) * element).max(ALPHA_FLOOR);
        }
    }

    /// A stock (a backlog, a year-to-date count): it keeps whatever level
    /// it stepped to, so its recent months, not its earlier years, say
    /// where it stands.
    pub fn as_stock(&mut self) {
        self.prior_months = STOCK_PRIOR_MONTHS;
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    pub fn is_count(&self) -> bool {
        self.count
    }

    /// The expected value at `t`, its level set by the (up to six) present
    /// points before `level_end`. `None` when fewer than three are present.
    pub fn expect(
        &self,
        dense: &[Option<f64>],
        first: i64,
        t: usize,
        level_end: usize,
    ) -> Option<Expect> {
        let mut d = Vec::with_capacity(LEVEL_WINDOW);
        let mut j = level_end.min(dense.len());
        while j > 0 && d.len() < LEVEL_WINDOW {
            j -= 1;
            let i = self.index[pos(first, j, self.season)];
            if let Some(v) = dense[j]
                && i > 0.05
            {
                d.push(v / i);
            }
        }
        if d.len() < LEVEL_MIN {
            return None;
        }
        // A trimmed mean: one outlier among the six does not move the level.
        d.sort_by(f64::total_cmp);
        let kept = if d.len() >= 5 {
            &d[1..d.len() - 1]
        } else {
            &d[..]
        };
        let n = kept.len() as f64;
        let recent = kept.iter().sum::<f64>() / n;
        let index = self.index[pos(first, t, self.season)];
        let (mean, var) = if self.count && self.long > 0.0 {
            // The level as a gamma posterior: the earlier years' level
            // (known to within LEVEL_PRIOR_CV) updated by the recent
            // points, each worth fewer counts as the series is
            // overdispersed. Six zeros in a township of half a case a
            // month leave its level near half a case, and how sure the
            // level is enters the spread.
            let a0 = 1.0 / (LEVEL_PRIOR_CV * LEVEL_PRIOR_CV);
            // As a gamma prior, a0 counts over a0 / long periods: of a
            // stock, at most `prior_months`.
            let b0 = (a0 / self.long).min(self.prior_months);
            let n_eff = n / (1.0 + self.alpha * self.long);
            let a = b0 * self.long + n_eff * recent.max(0.0);
            let b = b0 + n_eff;
            let mean = a / b * index;
            (mean, mean + mean * mean * (self.alpha + 1.0 / a))
        } else {
            let mean = recent * index;
            let sd = (self.rel_sd * mean.abs()).max(self.abs_sd);
            // The level is itself an estimate from a few points.
            (mean, sd * sd * (1.0 + 1.0 / n))
        };
        (mean.is_finite() && var.is_finite()).then_some(Expect { mean, var })
    }

    /// −log10 of the probability of a value at least as far from the
    /// expectation as `x`, on its side.
    pub fn surprise(&self, x: f64, e: Expect) -> f64 {
        let p = if self.count && x.fract() == 0.0 {
            count_tail(x, e)
        } else {
            normal_tail(x, e)
        };
        surprise_of(p)
    }

    /// The same for the sum of several points judged against the sum of
    /// their expectations, whose level is shared (so their level errors
    /// add up rather than cancel).
    pub fn surprise_sum(&self, xs: &[f64], es: &[Expect]) -> f64 {
        let x: f64 = xs.iter().sum();
        let mean: f64 = es.iter().map(|e| e.mean).sum();
        let point: f64 = es.iter().map(|e| e.var).sum();
        // Each point's variance carries a level share of 1/(n+1) of its own;
        // across points that share is correlated: add the cross terms.
        let lvl: f64 = es.iter().map(|e| (e.var / 5.0).sqrt()).sum::<f64>();
        let var = point + lvl * lvl - es.iter().map(|e| e.var / 5.0).sum::<f64>();
        let e = Expect {
            mean,
            var: var.max(point),
        };
        let p = if self.count && xs.iter().all(|x| x.fract() == 0.0) {
            count_tail(x, e)
        } else {
            normal_tail(x, e)
        };
        surprise_of(p)
    }
}

/// How an element's points actually spread beyond the model's tails across
/// every region in the checked period: durations and campaign counts have
/// heavier tails than the negative binomial. Counted at surprise 3 and 4
/// (nominally 2 in 1,000 and 2 in 10,000, both sides), the excess is taken
/// off each surprise of that element, growing with the surprise as the
/// excess does between the two.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tail {
    n: usize,
    over3: usize,
    over4: usize,
}

/// Fewer points than this and an element's tail is taken as the model's.
const TAIL_MIN: usize = 200;

impl Tail {
    pub fn add(&mut self, surprise: f64) {
        self.n += 1;
        self.over3 += usize::from(surprise >= 3.0);
        self.over4 += usize::from(surprise >= 4.0);
    }

    /// The surprise with the element's excess taken off.
    pub fn adjust(&self, s: f64) -> f64 {
        if self.n < TAIL_MIN {
            return s;
        }
        let n = self.n as f64;
        let excess =
            |over: usize, nominal: f64| ((over as f64 + 1.0) / n / nominal).max(1.0).log10();
        let l3 = excess(self.over3, 2e-3);
        let l4 = excess(self.over4, 2e-4);
        let slope = (l4 - l3).clamp(0.0, 0.5);
        let shift = if s <= 3.0 {
            l3 * s / 3.0
        } else {
            l3 + slope * (s - 3.0)
        };
        (s - shift).max(0.0)
    }
}

/// Evidence from a tail probability: −log10 p, at most `MAX_SURPRISE`.
pub(super) fn surprise_of(p: f64) -> f64 {
    (-p.max(1e-300).log10()).clamp(0.0, MAX_SURPRISE)
}

/// One-sided tail of a normal: P(X ≥ x) above the mean, P(X ≤ x) below.
pub(super) fn normal_tail(x: f64, e: Expect) -> f64 {
    if e.var <= 0.0 {
        return if x == e.mean { 1.0 } else { 0.0 };
    }
    let z = (x - e.mean).abs() / e.var.sqrt();
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

/// One-sided tail of `x` of `n` at `share`, overdispersed by `phi` (the
/// quasi-binomial's effective counts `x/phi` of `n/phi`): P(X ≤ x) below
/// the expected part, P(X ≥ x) above. A normal approximation is far too
/// light in the tail of a share near 0 or 1 (11 of 16 where 98 % are
/// handled: 10⁻¹⁷ by the normal, 10⁻⁵ by the binomial).
pub(super) fn binomial_tail(x: f64, n: f64, share: f64, phi: f64) -> f64 {
    let phi = phi.max(1.0);
    let (k, m) = (x / phi, n / phi);
    let q = share.clamp(1e-9, 1.0 - 1e-9);
    let p = if x >= n * share {
        // P(X ≥ k) = I_q(k, m − k + 1)
        if k <= 0.0 {
            Some(1.0)
        } else {
            checked_beta_reg(k, m - k + 1.0, q).ok()
        }
    } else if k >= m {
        Some(1.0)
    } else {
        // P(X ≤ k) = I_{1−q}(m − k, k + 1)
        checked_beta_reg(m - k, k + 1.0, 1.0 - q).ok()
    };
    p.filter(|p| p.is_finite()).unwrap_or(1.0).clamp(0.0, 1.0)
}

/// One-sided tail of a count: negative binomial with the expectation's
/// mean and variance (Poisson when it is not overdispersed).
fn count_tail(x: f64, e: Expect) -> f64 {
    let mu = e.mean.max(0.05);
    let over = e.var - mu;
    let up = x >= mu;
    let p = if over <= 1e-9 * mu * mu {
        // Poisson: P(X ≥ x) = P(x, μ) (lower regularised gamma), P(X ≤ x) = Q(x + 1, μ).
        if up {
            if x <= 0.0 {
                Ok(1.0)
            } else {
                checked_gamma_lr(x, mu)
            }
        } else {
            checked_gamma_ur(x + 1.0, mu)
        }
        .ok()
    } else {
        // NB(r, p): r = μ²/(σ² − μ), p = r/(r + μ); P(X ≤ k) = I_p(r, k + 1).
        let r = mu * mu / over;
        let q = r / (r + mu);
        if up {
            if x <= 0.0 {
                Some(1.0)
            } else {
                checked_beta_reg(x, r, 1.0 - q).ok()
            }
        } else {
            checked_beta_reg(r, x + 1.0, q).ok()
        }
    };
    p.filter(|p| p.is_finite()).unwrap_or(1.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two earlier years of a count with a summer peak, then a third.
    fn summer(level: f64) -> Vec<Option<f64>> {
        let shape = [0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 0.9, 0.8, 0.8];
        (0..36)
            .map(|i| Some((level * shape[i % 12]).round()))
            .collect()
    }

    #[test]
    fn the_season_is_expected_and_a_spike_is_not() {
        let mut v = summer(40.0);
        let m = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        assert!(m.is_count());
        // July of the third year: the peak, expected from the spring before it.
        let e = m.expect(&v, 2022 * 12, 30, 30).unwrap();
        assert!((e.mean - 52.0).abs() < 3.0, "{e:?}");
        assert!(m.surprise(52.0, e) < 1.0);
        v[30] = Some(160.0);
        assert!(m.surprise(160.0, e) > 10.0);
        // A drop to 0 is as improbable.
        assert!(m.surprise(0.0, e) > 10.0);
    }

    #[test]
    fn small_counts_are_judged_as_counts() {
        // About one case a month; 4 in a month is unremarkable.
        let v: Vec<Option<f64>> = (0..36).map(|i| Some([0.0, 1.0, 2.0, 1.0][i % 4])).collect();
        let m = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        let e = m.expect(&v, 2022 * 12, 30, 30).unwrap();
        assert!(m.surprise(4.0, e) < 2.5, "{}", m.surprise(4.0, e));
        assert!(m.surprise(30.0, e) > 8.0);
    }

    #[test]
    fn a_quiet_half_year_does_not_make_a_rate_of_nothing() {
        // Half a case a month over two years, then six months without one:
        // 3 in a month is unusual for such a township, not "p ≈ 10⁻⁵".
        let mut v: Vec<Option<f64>> = (0..24).map(|i| Some([0.0, 1.0][i % 2])).collect();
        v.extend((0..6).map(|_| Some(0.0)));
        let m = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        let e = m.expect(&v, 2022 * 12, 30, 30).unwrap();
        assert!(e.mean > 0.2 && e.mean < 0.6, "{e:?}");
        assert!(m.surprise(3.0, e) < 2.5, "{}", m.surprise(3.0, e));
        assert!(m.surprise(30.0, e) > 8.0);
        // Two years of none at all: a 3 is remarkable.
        let zeros: Vec<Option<f64>> = (0..30).map(|_| Some(0.0)).collect();
        let m = Model::fit(&zeros, 2022 * 12, 12, 2024, None, true).unwrap();
        let e = m.expect(&zeros, 2022 * 12, 30, 30).unwrap();
        assert!(m.surprise(3.0, e) > 3.0, "{}", m.surprise(3.0, e));
    }

    #[test]
    fn a_stock_keeps_the_level_it_stepped_to() {
        // A backlog of none for two years, then 4 to 6 from February on: by
        // July, 6 is where the stock stands, not a surprise. A flow with the
        // same figures is still drawn towards its earlier years.
        let mut v: Vec<Option<f64>> = (0..25).map(|_| Some(0.0)).collect();
        v.extend([4.0, 4.0, 5.0, 5.0, 5.0].map(Some));
        let flow = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        let mut stock = flow.clone();
        stock.as_stock();
        let (ef, es) = (
            flow.expect(&v, 2022 * 12, 30, 30).unwrap(),
            stock.expect(&v, 2022 * 12, 30, 30).unwrap(),
        );
        assert!(flow.surprise(6.0, ef) > 5.0, "{}", flow.surprise(6.0, ef));
        assert!(stock.surprise(6.0, es) < 2.0, "{es:?}");
        // Its first step is still news.
        let e = stock.expect(&v, 2022 * 12, 25, 25).unwrap();
        assert!(stock.surprise(4.0, e) > 5.0, "{}", stock.surprise(4.0, e));
    }

    #[test]
    fn a_large_series_keeps_its_recent_level() {
        // 100 a month for two years, 140 for the last six: the level is the
        // recent one, not drawn back towards the earlier years.
        let mut v: Vec<Option<f64>> = (0..24).map(|_| Some(100.0)).collect();
        v.extend((0..6).map(|_| Some(140.0)));
        let m = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        let e = m.expect(&v, 2022 * 12, 30, 30).unwrap();
        assert!((e.mean - 140.0).abs() < 3.0, "{e:?}");
    }

    #[test]
    fn three_moderate_months_add_up() {
        let v = summer(40.0);
        let m = Model::fit(&v, 2022 * 12, 12, 2024, None, true).unwrap();
        let es: Vec<Expect> = (27..30)
            .map(|t| m.expect(&v, 2022 * 12, t, 27).unwrap())
            .collect();
        let xs: Vec<f64> = es.iter().map(|e| e.mean + 2.5 * e.var.sqrt()).collect();
        let one = m.surprise(xs[0], es[0]);
        assert!(
            m.surprise_sum(&xs, &es) > 1.5 * one,
            "{} {one}",
            m.surprise_sum(&xs, &es)
        );
    }

    #[test]
    fn heavy_tails_lower_the_surprise() {
        let mut t = Tail::default();
        for i in 0..10_000 {
            // 5 % beyond 10^-3 where 0.2 % were expected; 1 % beyond 10^-4.
            t.add(match i % 100 {
                0 => 4.5,
                1..=4 => 3.5,
                _ => 1.0,
            });
        }
        assert!(t.adjust(3.0) < 2.0);
        assert!(t.adjust(10.0) < 7.5);
        assert!(t.adjust(10.0) > 5.0);
        // As the model says: unchanged.
        let mut calm = Tail::default();
        for i in 0..10_000 {
            calm.add(if i == 0 { 3.5 } else { 0.5 });
        }
        assert_eq!(calm.adjust(7.0), 7.0);
        assert_eq!(Tail::default().adjust(7.0), 7.0);
    }

    #[test]
    fn mostly_zero_measures_have_no_model() {
        let v: Vec<Option<f64>> = (0..36)
            .map(|i| Some(if i == 4 { 3.5 } else { 0.0 }))
            .collect();
        assert!(Model::fit(&v, 2022 * 12, 12, 2024, None, true).is_none());
    }

    #[test]
    fn a_series_of_a_measured_element_is_not_counts() {
        // Zero in every earlier month here, while other townships report
        // fractions: not a count of 0 a month, so 3.5 is not "impossible".
        let v: Vec<Option<f64>> = (0..36).map(|_| Some(0.0)).collect();
        assert!(Model::fit(&v, 2022 * 12, 12, 2024, None, true).is_some_and(|m| m.is_count()));
        assert!(Model::fit(&v, 2022 * 12, 12, 2024, None, false).is_none());
    }

    #[test]
    fn no_model_without_a_complete_year() {
        let v: Vec<Option<f64>> = (0..18).map(|_| Some(5.0)).collect();
        assert!(Model::fit(&v, 2023 * 12 + 1, 12, 2024, None, true).is_none());
        assert!(Model::fit(&v, 2023 * 12, 12, 2024, None, true).is_some());
        assert!(Model::fit(&v, 2022 * 12, 12, 2024, None, true).is_some());
        assert!(Model::fit(&v, 2022, 1, 2024, None, true).is_none());
    }

    proptest! {
        #[test]
        fn surprises_are_finite(v in prop::collection::vec(prop::option::of(0f64..1e6), 24..40), x in -10f64..1e7, t in 0usize..40) {
            let v: Vec<Option<f64>> = v.into_iter().map(|o| o.map(|x| x.round())).collect();
            if let Some(m) = Model::fit(&v, 2022 * 12, 12, 2024, None, true) {
                let t = t.min(v.len());
                if let Some(e) = m.expect(&v, 2022 * 12, t, t) {
                    let s = m.surprise(x.round(), e);
                    prop_assert!(s.is_finite() && s >= 0.0);
                    let s = m.surprise_sum(&[x, x], &[e, e]);
                    prop_assert!(s.is_finite() && s >= 0.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod binomial_tests {
    use super::binomial_tail;
    use proptest::prelude::*;

    /// Against scipy.stats.binom.cdf / sf.
    #[test]
    fn a_share_is_judged_by_the_binomial_tail() {
        let close = |a: f64, b: f64| ((a - b) / b).abs() < 1e-6;
        assert!(close(
            binomial_tail(11.0, 16.0, 0.98, 1.0),
            1.162_355_634_277_958e-5
        ));
        assert!(close(
            binomial_tail(2.0, 7.0, 0.872, 1.0),
            5.760_671_271_406_797e-4
        ));
        assert!(close(
            binomial_tail(24.0, 107.0, 0.872, 1.0),
            1.546_147_154_819_109_5e-52
        ));
        // Above the expected part: P(X ≥ 9 | 10, 0.5).
        assert!(close(binomial_tail(9.0, 10.0, 0.5, 1.0), 11.0 / 1024.0));
        // Overdispersed: the same departure says less.
        assert!(binomial_tail(2.0, 7.0, 0.872, 2.0) > binomial_tail(2.0, 7.0, 0.872, 1.0));
    }

    proptest! {
        #[test]
        fn the_tail_is_a_probability(x in 0.0f64..1e6, extra in 0.0f64..1e6, s in 0.0f64..=1.0, phi in 0.0f64..100.0) {
            let p = binomial_tail(x, x + extra, s, phi);
            prop_assert!((0.0..=1.0).contains(&p), "{p}");
        }
    }
}

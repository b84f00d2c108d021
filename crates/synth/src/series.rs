//! Building blocks of the monthly series: seasonal shapes, logistic rates,
//! Poisson flows, binomial shares, year-to-date coverage, summed durations.

use std::array;

use crate::rng::Stream;

/// Monthly shape of a flow, mean 1 over the year.
pub(crate) struct Seasons {
    pub flat: [f64; 12],
    pub summer: [f64; 12],
    pub winter: [f64; 12],
    pub new_year: [f64; 12],
    pub petitions: [f64; 12],
    pub accidents: [f64; 12],
    pub outbreaks: [f64; 12],
    pub hazards: [f64; 12],
    pub food: [f64; 12],
    pub medical: [f64; 12],
    pub grid: [f64; 12],
}

pub(crate) fn normalised(f: impl Fn(usize) -> f64) -> [f64; 12] {
    let v: [f64; 12] = array::from_fn(f);
    let mean = v.iter().sum::<f64>() / 12.0;
    v.map(|x| x / mean)
}

/// cos bump peaking in `peak` (1..=12) with relative amplitude `amp`.
pub(crate) fn bump(m: usize, peak: usize, amp: f64) -> f64 {
    1.0 + amp * (std::f64::consts::TAU * (m as f64 + 1.0 - peak as f64) / 12.0).cos()
}

impl Seasons {
    pub(crate) fn new() -> Self {
        Seasons {
            flat: [1.0; 12],
            // Crime and public order peak in summer.
            summer: normalised(|m| bump(m, 7, 0.15)),
            // Fires and ambulance calls peak in winter.
            winter: normalised(|m| bump(m, 1, 0.3)),
            // Disputes and mediations peak before the Spring Festival (wage arrears, family matters).
            new_year: normalised(|m| bump(m, 1, 0.15)),
            // Petitions: around the new year and the March sessions (两会).
            petitions: normalised(|m| {
                [
                    1.3, 1.15, 1.2, 1.0, 0.95, 0.9, 0.85, 0.85, 0.95, 0.95, 1.0, 1.2,
                ][m]
            }),
            // Work accidents: construction season, few during the holiday month.
            accidents: normalised(|m| bump(m, 7, 0.25) * if m == 1 { 0.6 } else { 1.0 }),
            outbreaks: normalised(|m| bump(m, 2, 0.45)),
            // 安全生产月 in June brings a wave of inspections.
            hazards: normalised(|m| bump(m, 6, 0.2) * if m == 5 { 1.3 } else { 1.0 }),
            // Food sampling intensifies before the Spring Festival and the autumn holidays.
            food: normalised(|m| if m == 0 || m == 8 { 1.25 } else { 1.0 }),
            // Ambulance calls: a mild winter peak.
            medical: normalised(|m| bump(m, 1, 0.1)),
            // Grid events: a mild summer peak.
            grid: normalised(|m| bump(m, 7, 0.1)),
        }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A rate centred on `p0` for an average region, steeper with `k`.
pub(crate) fn rate(p0: f64, k: f64, z: f64) -> f64 {
    logistic((p0 / (1.0 - p0)).ln() + k * z)
}

/// Poisson counts with a little month-to-month overdispersion.
pub(crate) fn flow(s: &mut Stream, per_year: f64, season: &[f64; 12], od: f64) -> [u64; 12] {
    array::from_fn(|m| {
        let noise = if od > 0.0 { s.lognormal(1.0, od) } else { 1.0 };
        s.poisson(per_year / 12.0 * season[m] * noise)
    })
}

/// A share of each month's denominator, the share wobbling a little by month.
pub(crate) fn thin(s: &mut Stream, den: &[u64; 12], p: f64, wobble: f64) -> [u64; 12] {
    let x = (p / (1.0 - p)).ln();
    array::from_fn(|m| {
        let pm = if wobble > 0.0 {
            logistic(x + s.gauss(0.0, wobble))
        } else {
            p
        };
        s.binomial(den[m], pm)
    })
}

/// A coverage count that rises through the year from `p_start × den` to
/// December's draw around `p_end × den` and never falls (`shape` < 1: front-loaded).
pub(crate) fn progress(
    s: &mut Stream,
    den: u64,
    p_end: f64,
    p_start: f64,
    shape: f64,
) -> [u64; 12] {
    let end = s.binomial(den, p_end);
    let start = ((den as f64 * p_start.max(0.0)).floor() as u64).min(end);
    let mut cum = [0.0; 12];
    let mut acc = 0.0;
    for (m, c) in cum.iter_mut().enumerate() {
        let inc = ((m + 1) as f64 / 12.0).powf(shape) - (m as f64 / 12.0).powf(shape);
        acc += inc * s.lognormal(1.0, 0.3);
        *c = acc;
    }
    array::from_fn(|m| {
        if m == 11 {
            end
        } else {
            start + ((end - start) as f64 * cum[m] / acc).floor() as u64
        }
    })
}

/// Sum of `n` durations with the given mean (lognormal spread `sigma` each).
pub(crate) fn durations(s: &mut Stream, n: u64, mean: f64, sigma: f64) -> f64 {
    if n <= 30 {
        let median = mean * (-sigma * sigma / 2.0).exp();
        (0..n).map(|_| s.lognormal(median, sigma)).sum()
    } else {
        let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
        s.gauss(n as f64 * mean, sd * (n as f64).sqrt()).max(0.0)
    }
}

//! Keyed random streams and the few distributions the model needs.
//!
//! Every stream is seeded from a hash of (seed, tag, ids…), so one element's
//! draws never depend on how many numbers another element consumed: changing a
//! model for one element leaves every other column byte-identical.
//! The distributions are written here, not taken from `rand`, so the output
//! does not change when `rand` changes its sampling algorithms.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Stream tags: one per kind of thing drawn, so keys never collide across kinds.
pub(crate) mod tag {
    pub const TREE: u64 = 1;
    pub const NAMES: u64 = 2;
    pub const CITY: u64 = 3;
    pub const COUNTY: u64 = 4;
    pub const TOWN: u64 = 5;
    pub const CITY_YEAR: u64 = 6;
    pub const COUNTY_YEAR: u64 = 7;
    pub const TOWN_YEAR: u64 = 8;
    pub const VALUE: u64 = 9;
    pub const WEAK: u64 = 10;
    pub const MAJOR: u64 = 11;
    pub const BENCHMARK: u64 = 12;
    pub const IDIO: u64 = 13;
    pub const REPEAT_SHARE: u64 = 14;
    pub const ANOMALY: u64 = 15;
    pub const MAP: u64 = 16;
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Order-sensitive hash of a key path.
pub(crate) fn key(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5049_4E47_414E_0001, |h, &p| splitmix(h ^ p))
}

/// Years may be negative in principle; keys only need a stable bit pattern.
pub(crate) fn year_key(y: i32) -> u64 {
    i64::from(y) as u64
}

pub(crate) struct Stream(ChaCha8Rng);

impl Stream {
    pub(crate) fn new(parts: &[u64]) -> Self {
        Stream(ChaCha8Rng::seed_from_u64(key(parts)))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0); the modulo bias is irrelevant at these sizes.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }

    /// Standard normal by Box–Muller (one value per call keeps streams simple).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub(crate) fn gauss(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.normal()
    }

    /// Lognormal with the given median and log-sd.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson: exact (Knuth) for small means, rounded normal above — the
    /// difference is invisible in monthly counts and keeps large means cheap.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0u64;
            let mut p = self.uniform();
            while p > limit {
                k += 1;
                p *= self.uniform();
            }
            k
        } else {
            self.gauss(lambda, lambda.sqrt()).round().max(0.0) as u64
        }
    }

    /// Binomial(n, p): Bernoulli sum when n is small, Poisson on the rarer
    /// outcome when that tail is thin, normal otherwise; always within 0..=n.
    pub(crate) fn binomial(&mut self, n: u64, p: f64) -> u64 {
        let p = p.clamp(0.0, 1.0);
        if n == 0 || p == 0.0 {
            return 0;
        }
        if p == 1.0 {
            return n;
        }
        if n <= 40 {
            return (0..n).filter(|_| self.uniform() < p).count() as u64;
        }
        let nf = n as f64;
        let q = 1.0 - p;
        let k = if nf * p.min(q) < 15.0 {
            if p <= q {
                self.poisson(nf * p)
            } else {
                n.saturating_sub(self.poisson(nf * q))
            }
        } else {
            self.gauss(nf * p, (nf * p * q).sqrt()).round().max(0.0) as u64
        };
        k.min(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed() {
        let a: Vec<u64> = (0..4).map(|_| Stream::new(&[1, 2]).0.next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(key(&[1, 2]), key(&[2, 1]));
        assert_ne!(key(&[1, 2]), key(&[1, 3]));
    }

    #[test]
    fn distributions_have_sane_moments() {
        let mut s = Stream::new(&[42]);
        let n = 20_000;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let u: Vec<f64> = (0..n).map(|_| s.uniform()).collect();
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        assert!((mean(&u) - 0.5).abs() < 0.01);
        let z: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        assert!(mean(&z).abs() < 0.03);
        let var = mean(&z.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!((var - 1.0).abs() < 0.05);
        for lambda in [0.3, 4.0, 25.0, 200.0] {
            let k: Vec<f64> = (0..n).map(|_| s.poisson(lambda) as f64).collect();
            assert!((mean(&k) - lambda).abs() < 0.05 * lambda + 0.02, "{lambda}");
        }
        for (m, p) in [(10u64, 0.3), (500, 0.98), (500, 0.02), (5000, 0.9)] {
            let k: Vec<f64> = (0..n).map(|_| s.binomial(m, p) as f64).collect();
            assert!(k.iter().all(|&x| x <= m as f64));
            assert!((mean(&k) - m as f64 * p).abs() < 0.02 * m as f64 * p + 0.05);
        }
    }
}

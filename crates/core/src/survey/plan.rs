//! Sample size and the allocation of a sample over the frame (survey.md
//! §2), in exact integer arithmetic: shares are fractions, compared
//! without rounding, so every implementation agrees on each unit.

use std::cmp::Ordering;

/// The two-sided normal quantile of `confidence` (1.959963984540054 at
/// 0.95).
pub fn z_of(confidence: f64) -> Option<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    use statrs::distribution::{ContinuousCDF, Normal};
    let n = Normal::new(0.0, 1.0).ok()?;
    Some(n.inverse_cdf(1.0 - (1.0 - confidence) / 2.0))
}

/// `ceil(n0 / (1 + (n0 − 1) / N) × deff / rate)` with `n0 = z² · 0.25 /
/// margin²`; no population = infinite.
pub fn size(
    margin: f64,
    confidence: f64,
    population: Option<f64>,
    deff: f64,
    rate: f64,
) -> Result<u64, String> {
    if !(margin > 0.0 && margin < 1.0) {
        return Err(format!(
            "误差范围（margin）应在 0 与 1 之间，而不是 {margin}"
        ));
    }
    let z = z_of(confidence)
        .ok_or_else(|| format!("置信水平（confidence）应在 0 与 1 之间，而不是 {confidence}"))?;
    if !(deff.is_finite() && deff > 0.0) {
        return Err(format!("设计效应（deff）应大于 0，而不是 {deff}"));
    }
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(format!(
            "应答率（response-rate）应在 0 与 1 之间，而不是 {rate}"
        ));
    }
    let n0 = z * z * 0.25 / (margin * margin);
    let n = match population {
        Some(p) if !(p.is_finite() && p >= 1.0) => {
            return Err(format!("总体规模（population）应不小于 1，而不是 {p}"));
        }
        Some(p) => n0 / (1.0 + (n0 - 1.0) / p),
        None => n0,
    };
    let v = (n * deff / rate).ceil();
    if !(v.is_finite() && v < 1e15) {
        return Err("样本量过大".into());
    }
    Ok(v as u64)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    Proportional,
    Equal,
}

/// A response rate as an exact decimal fraction (`0.893` = 893/1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub num: u128,
    pub den: u128,
}

impl Rate {
    pub fn parse(s: &str) -> Result<Rate, String> {
        let t = s.trim();
        let bad = || format!("应答率（response-rate）应为 0 到 1 之间的小数，而不是“{s}”");
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() && frac.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 18
        {
            return Err(bad());
        }
        let den = 10u128.pow(frac.len() as u32);
        let num = format!("{int}{frac}")
            .trim_start_matches('0')
            .parse::<u128>()
            .unwrap_or(0);
        if num == 0 || num > den {
            return Err(bad());
        }
        Ok(Rate { num, den })
    }

    /// `ceil(target / rate)`, exactly.
    pub fn invitations(self, target: u64) -> u64 {
        let t = target as u128 * self.den;
        t.div_ceil(self.num) as u64
    }
}

/// One frame region's allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub target: u64,
    pub invitations: u64,
}

/// Allocate `size` over regions of these populations (codes order ties):
/// each first gets `min(min, population)`, the rest is shared by the
/// largest-remainder method, proportionally or equally, no region above
/// its population.
pub fn allocate(
    regions: &[(&str, u64)],
    size: u64,
    allocation: Allocation,
    min: u64,
    rate: Rate,
) -> Result<Vec<Planned>, String> {
    let base: Vec<u64> = regions.iter().map(|(_, p)| min.min(*p)).collect();
    let floor: u64 = base.iter().sum();
    if size < floor {
        return Err(format!(
            "样本量 {size} 小于各地区最少样本之和 {floor}（每个地区至少 min(--min, 人口)）"
        ));
    }
    let total_pop: u128 = regions.iter().map(|(_, p)| *p as u128).sum();
    if (size as u128) > total_pop {
        return Err(format!("样本量 {size} 超过抽样框总人口 {total_pop}"));
    }
    let mut target = base.clone();
    let mut rest = (size - floor) as u128;
    let cap = |i: usize| (regions[i].1 - base[i]) as u128;
    let mut active: Vec<usize> = (0..regions.len()).filter(|&i| cap(i) > 0).collect();
    // share_i = rest × weight_i / Σ weight, as (numerator, denominator).
    let weight = |i: usize| match allocation {
        Allocation::Proportional => regions[i].1 as u128,
        Allocation::Equal => 1,
    };
    loop {
        let den: u128 = active.iter().map(|&i| weight(i)).sum();
        if den == 0 || rest == 0 {
            break;
        }
        let over: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&i| rest * weight(i) > cap(i) * den)
            .collect();
        if over.is_empty() {
            let mut parts: Vec<(usize, u128, u128)> = active
                .iter()
                .map(|&i| {
                    let num = rest * weight(i);
                    (i, num / den, num % den)
                })
                .collect();
            let given: u128 = parts.iter().map(|p| p.1).sum();
            let mut left = rest - given;
            parts.sort_by(|a, b| match b.2.cmp(&a.2) {
                Ordering::Equal => regions[a.0].0.cmp(regions[b.0].0),
                o => o,
            });
            for p in &mut parts {
                if left == 0 {
                    break;
                }
                if p.2 > 0 {
                    p.1 += 1;
                    left -= 1;
                }
            }
            for (i, whole, _) in parts {
                target[i] += whole as u64;
            }
            break;
        }
        for i in over {
            target[i] += cap(i) as u64;
            rest -= cap(i);
            active.retain(|&j| j != i);
        }
    }
    Ok(target
        .into_iter()
        .map(|t| Planned {
            target: t,
            invitations: rate.invitations(t),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(
            z_of(0.95).map(|z| (z - 1.959963984540054).abs() < 1e-13),
            Some(true)
        );
        // n0 = 1.96² × 0.25 / 0.03² = 1067.07…
        assert_eq!(size(0.03, 0.95, None, 1.0, 1.0), Ok(1068));
        assert_eq!(size(0.03, 0.95, Some(1000.0), 1.0, 1.0), Ok(517));
        assert_eq!(size(0.03, 0.95, None, 1.5, 0.893), Ok(1793));
        assert!(size(0.0, 0.95, None, 1.0, 1.0).is_err());
        assert!(size(0.03, 1.0, None, 1.0, 1.0).is_err());
    }

    fn plan(regions: &[(&str, u64)], n: u64, a: Allocation, min: u64) -> Vec<u64> {
        allocate(regions, n, a, min, Rate::parse("1").unwrap())
            .unwrap()
            .into_iter()
            .map(|p| p.target)
            .collect()
    }

    #[test]
    fn largest_remainder_with_caps() {
        let r = [("a", 1000), ("b", 2000), ("c", 3000)];
        assert_eq!(
            plan(&r, 600, Allocation::Proportional, 0),
            vec![100, 200, 300]
        );
        // 100 over three: 33.3 each; the one left goes to the first code.
        assert_eq!(plan(&r, 100, Allocation::Equal, 0), vec![34, 33, 33]);
        // min first: 30 each, then 10 shared in proportion (1.67, 3.33, 5).
        assert_eq!(
            plan(&r, 100, Allocation::Proportional, 30),
            vec![32, 33, 35]
        );
        // A small region is capped at its population; the rest re-shared.
        let r = [("a", 5), ("b", 1000), ("c", 1000)];
        assert_eq!(plan(&r, 300, Allocation::Equal, 0), vec![5, 148, 147]);
        let t = plan(&r, 2005, Allocation::Proportional, 0);
        assert_eq!(t, vec![5, 1000, 1000]);
        assert!(allocate(&r, 10, Allocation::Equal, 30, Rate::parse("1").unwrap()).is_err());
    }

    #[test]
    fn invitations_are_exact() {
        let r = Rate::parse("0.893").unwrap();
        assert_eq!(
            r.invitations(893),
            1000,
            "not 1001 from 893 / 0.893 in floats"
        );
        assert_eq!(r.invitations(100), 112);
        assert!(
            Rate::parse("0").is_err() && Rate::parse("1.5").is_err() && Rate::parse("x").is_err()
        );
        assert_eq!(Rate::parse(".5").unwrap().invitations(3), 6);
    }
}

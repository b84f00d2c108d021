//! A family's figures that agree with each other. Where a rule says one
//! flow is part of another, a whole that left its level and took its parts
//! along (more disputes, and as always nine in ten of them resolved) is a
//! volume that changed, which the scores and the risk warnings judge; a
//! mistyped whole leaves its parts behind, and its share test (share.rs)
//! finds it. The statistical flags a family explains leave the queue.

use super::baseline::Expect;
use super::rules::RuleSet;
use super::share::{MIN_WHOLE, Monthly, Pair, Series, pairs};
use super::{Flag, FlagKind};
use crate::framework::Framework;
use crate::period::Period;

/// log₁₀ of how much likelier `x` is under `a` than under `b` (normal).
fn log10_ratio(x: f64, a: Expect, b: Expect) -> f64 {
    if a.var <= 0.0 || b.var <= 0.0 {
        return 0.0;
    }
    let ll = |e: Expect| -(x - e.mean).powi(2) / (2.0 * e.var) - 0.5 * e.var.ln();
    (ll(a) - ll(b)) / std::f64::consts::LN_10
}

/// A flag this strong stays in the queue whatever its family says.
const EXPLAINED_MAX: f64 = 8.0;
/// A whole this many times its expectation (or this fraction of it) is
/// not explained by its parts whatever they did.
const EXPLAINED_RATIO: f64 = 1.6;
/// …in a series expected at this many a month or more.
const RATIO_FROM: f64 = 20.0;
/// The share held: the part within this many SD of what the whole predicts…
const HELD: f64 = 2.0;
/// …and, for a whole, the part this many times (log₁₀) likelier where the
/// whole took it than where it would have stayed had only the whole been
/// wrong.
const MOVED: f64 = 3.0;

/// Take out the statistical flags their own family explains, and say how
/// many. A whole whose parts moved with it, so far that they could not
/// have stayed put (more disputes, and as always nine in ten of them
/// resolved), changed its volume: the figures agree with each other, which
/// a mistyped whole's do not, and a volume is for the scores and the risk
/// warnings to judge, not a figure to check. So with a part whose whole
/// took it along. The strongest flags (`EXPLAINED_MAX`) stay.
pub(super) fn explained(
    fw: &Framework,
    rules: &RuleSet,
    monthly: &Monthly,
    flags: &mut Vec<Flag>,
) -> usize {
    let pairs = pairs(rules, fw);
    if pairs.is_empty() {
        return 0;
    }
    // The months of each flag the family may explain.
    let judged: Vec<Option<(i64, i64)>> = flags
        .iter()
        .map(|f| {
            let weak = super::number(&f.numbers, "surprise").unwrap_or(0.0) < EXPLAINED_MAX;
            (f.kind.statistical() && f.kind != FlagKind::Share && weak)
                .then(|| f.months())
                .flatten()
        })
        .collect();
    let pair = |r: usize, pe: usize, we: usize| {
        Some(Pair {
            part: *monthly.get(&(r, pe))?,
            whole: *monthly.get(&(r, we))?,
        })
    };
    // Wholes first: a part whose whole keeps its flag is folded into it as
    // a line (fold.rs), not explained away.
    let mut out = vec![false; flags.len()];
    for (i, f) in flags.iter().enumerate() {
        let Some((a, b)) = judged[i] else { continue };
        out[i] = pairs.iter().any(|&(pe, we)| {
            we == f.element && pair(f.region, pe, we).is_some_and(|p| parts_moved_along(&p, a, b))
        });
    }
    let flagged: std::collections::HashSet<(usize, usize, Period)> = flags
        .iter()
        .zip(&out)
        .filter(|(f, gone)| !**gone && f.kind.statistical())
        .map(|(f, _)| (f.region, f.element, f.period))
        .collect();
    for (i, f) in flags.iter().enumerate() {
        let Some((a, b)) = judged[i] else { continue };
        out[i] = out[i]
            || pairs.iter().any(|&(pe, we)| {
                pe == f.element
                    && !flagged.contains(&(f.region, we, f.period))
                    && pair(f.region, pe, we).is_some_and(|p| whole_took_it_along(&p, a, b))
            });
    }
    let mut gone = out.iter();
    flags.retain(|_| !gone.next().copied().unwrap_or(false));
    out.iter().filter(|g| **g).count()
}

/// The part over `a..=b` against the share before and its spread, and
/// the wholes it is a share of: (part, whole, share, spread).
fn window(p: &Pair, a: i64, b: i64) -> Option<(f64, f64, f64, f64)> {
    let (share, phi) = (p.share_before(a)?, p.spread(a)?);
    let (x, n) = p.sums(a, b)?;
    (n >= MIN_WHOLE).then_some((x, n, share, phi))
}

/// `s`'s own expectation summed over `a..=b`, its level from before `a`.
fn expected(s: &Series, a: i64, b: i64) -> Option<Expect> {
    let (_, es) = s.expectations(a, b)?;
    Some(Expect {
        mean: es.iter().map(|e| e.mean).sum(),
        var: es.iter().map(|e| e.var).sum(),
    })
}

/// The whole left its level over `a..=b` and the part went with it.
fn parts_moved_along(p: &Pair, a: i64, b: i64) -> bool {
    let Some((x, n, s, phi)) = window(p, a, b) else {
        return false;
    };
    let Some(e) = expected(&p.whole, a, b).filter(|e| e.mean > 0.0) else {
        return false;
    };
    // A family doubled together is what a month entered twice looks
    // like: in a series large enough for a ratio to mean something,
    // only a move a busy or a quiet month makes is explained.
    let months = (b - a + 1) as f64;
    if e.mean >= RATIO_FROM * months
        && !(1.0 / EXPLAINED_RATIO..=EXPLAINED_RATIO).contains(&(n / e.mean))
    {
        return false;
    }
    let binom = |n: f64| phi * n * s * (1.0 - s);
    let took = Expect {
        mean: s * n,
        var: binom(n),
    };
    // Had only the whole been wrong, the part would be near its share of
    // the whole's expectation.
    let stayed = Expect {
        mean: s * e.mean,
        var: binom(e.mean) + s * s * e.var,
    };
    let held = (x - took.mean).abs() <= HELD * took.var.sqrt();
    held && log10_ratio(x, took, stayed) >= MOVED
}

/// The part left its level over `a..=b` because its whole did: it is
/// what the share predicts of the whole, and the whole's move accounts
/// for most of the part's.
fn whole_took_it_along(p: &Pair, a: i64, b: i64) -> bool {
    let Some((x, n, s, phi)) = window(p, a, b) else {
        return false;
    };
    let Some(e) = expected(&p.part, a, b) else {
        return false;
    };
    let held = (x - s * n).abs() <= HELD * (phi * n * s * (1.0 - s)).sqrt();
    let own = x - e.mean;
    let carried = s * n - e.mean;
    held && own * carried > 0.0 && carried.abs() >= 0.5 * own.abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::baseline::Model;
    use proptest::prelude::*;

    proptest! {
        /// Any pair of series, with models fitted on them where they allow
        /// one (gaps, negatives, a part above its whole, huge counts): no
        /// panic over any window of the checked year.
        #[test]
        fn judging_a_family_is_total(
            part in prop::collection::vec(prop::option::of(0f64..1e7), 24..40),
            whole in prop::collection::vec(prop::option::of(0f64..1e7), 24..40),
            a in 0i64..12,
            n in 1i64..4,
        ) {
            let round = |v: &Vec<Option<f64>>| -> Vec<Option<f64>> { v.iter().map(|x| x.map(f64::round)).collect() };
            let (part, whole) = (round(&part), round(&whole));
            let first = 2022 * 12;
            let fit = |d: &[Option<f64>]| Model::fit(d, first, 12, 2024, None, true);
            let (mp, mw) = (fit(&part), fit(&whole));
            let pair = Pair {
                part: Series { first, dense: &part, model: mp.as_ref() },
                whole: Series { first, dense: &whole, model: mw.as_ref() },
            };
            let b = 2024 * 12 + a;
            let _ = parts_moved_along(&pair, b - n + 1, b);
            let _ = whole_took_it_along(&pair, b - n + 1, b);
            let flat = Expect { mean: 1.0, var: 0.0 };
            let r = log10_ratio(1.0, flat, flat);
            prop_assert!(r == 0.0, "a degenerate spread says nothing: {}", r);
        }
    }
}

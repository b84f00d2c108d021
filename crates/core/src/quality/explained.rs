//! A family's figures that agree with each other. Where a rule says one
//! flow is part of another, a whole that left its level and took its parts
//! along (more disputes, and as always nine in ten of them resolved) is a
//! volume that changed, which the scores and the risk warnings judge; a
//! mistyped whole leaves its parts behind, and its share test (episode.rs)
//! finds it. The statistical flags a family explains leave the queue.

use super::baseline::Expect;
use super::share::{MIN_WHOLE, Monthly, Pair, Series};
use super::{Flag, FlagKind, Params};
use crate::framework::Framework;
use crate::period::Period;

/// ln of the normal density at `x`.
fn normal_ln(x: f64, e: Expect) -> f64 {
    -(x - e.mean).powi(2) / (2.0 * e.var) - 0.5 * e.var.ln() - 0.5 * std::f64::consts::TAU.ln()
}

/// ln of the quasi-binomial probability of `x` of `n` at `share` with
/// spread `phi` (`x/phi` of `n/phi`, per unit of `x`).
fn binomial_ln(x: f64, n: f64, share: f64, phi: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let phi = phi.max(1.0);
    let (k, m) = (x / phi, n / phi);
    let q = share.clamp(1e-9, 1.0 - 1e-9);
    ln_gamma(m + 1.0) - ln_gamma(k + 1.0) - ln_gamma(m - k + 1.0)
        + k * q.ln()
        + (m - k) * (1.0 - q).ln()
        - phi.ln()
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
/// wrong; its parts' odds added up must say so too. Ten to one: on both
/// generators' clean years the flags of wholes whose parts lean that way
/// at all are nearly all false (125 of 126 on ours), and 1000 to one left
/// most of them in the queue.
const MOVED: f64 = 1.0;
/// A whole whose part is this many times (log₁₀) likelier where it would
/// have stayed had only the whole been wrong has its evidence raised by
/// those odds: the family says which figure to check.
const STAYED: f64 = 1.0;
const ODDS_MAX: f64 = 300.0;

/// Take out the statistical flags their own family explains, and say how
/// many. A whole whose parts moved with it, so far that they could not
/// have stayed put (more disputes, and as always nine in ten of them
/// resolved), changed its volume: the figures agree with each other, which
/// a mistyped whole's do not, and a volume is for the scores and the risk
/// warnings to judge, not a figure to check. So with a part whose whole
/// took it along. The strongest flags (`EXPLAINED_MAX`) stay.
pub(super) fn explained(
    fw: &Framework,
    params: &Params,
    pairs: &[(usize, usize)],
    monthly: &Monthly,
    flags: &mut Vec<Flag>,
) -> usize {
    // Counted are the flags the queue would have held: the model proposes
    // far under the threshold, so that the family's odds may be added.
    let counts = |f: &Flag| !super::judge::weak(f, params);
    if pairs.is_empty() {
        return 0;
    }
    // The months of each statistical flag, and whether the family may
    // explain it.
    let months: Vec<Option<(i64, i64)>> = flags
        .iter()
        .map(|f| {
            (f.kind.statistical() && f.kind != FlagKind::Share)
                .then(|| f.months())
                .flatten()
        })
        .collect();
    let weak = |f: &Flag| super::number(&f.numbers, "surprise").unwrap_or(0.0) < EXPLAINED_MAX;
    let judged: Vec<Option<(i64, i64)>> = flags
        .iter()
        .zip(&months)
        .map(|(f, m)| m.filter(|_| weak(f)))
        .collect();
    let pair = |r: usize, pe: usize, we: usize| {
        Some(Pair::new(*monthly.get(&(r, pe))?, *monthly.get(&(r, we))?))
    };
    // Wholes first: a part whose whole keeps its flag is folded into it as
    // a line (fold.rs), not explained away. Where its parts stand says
    // both whether they followed it and, if not, how strongly they say
    // that it alone is wrong.
    let mut out = vec![false; flags.len()];
    let mut stayed: Vec<Option<(usize, Stayed)>> = Vec::with_capacity(flags.len());
    for (i, f) in flags.iter().enumerate() {
        let Some((a, b)) = months[i] else {
            stayed.push(None);
            continue;
        };
        let places: Vec<(usize, Places)> = pairs
            .iter()
            .filter(|&&(_, we)| we == f.element)
            .filter_map(|&(pe, we)| Some((pe, places(&pair(f.region, pe, we)?, a, b)?)))
            .collect();
        let span = (b - a + 1) as f64;
        // Each part is drawn from the same whole, so their odds add up: a
        // small part that rose with a whole by chance does not explain it
        // where a larger one says it alone is wrong (a petitions count run
        // up for three months, its repeat petitions up by one and its
        // petitions due where they were).
        let family: f64 = places.iter().map(|(_, pl)| pl.stayed_over_took()).sum();
        out[i] = judged[i].is_some()
            && family <= -MOVED
            && places.iter().any(|(_, pl)| pl.moved_along(span));
        stayed.push(
            places
                .iter()
                .map(|(pe, pl)| (*pe, pl.stayed()))
                .max_by(|x, y| x.1.odds.total_cmp(&y.1.odds)),
        );
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
    for ((f, gone), best) in flags.iter_mut().zip(&out).zip(stayed) {
        if let Some((pe, st)) = best.filter(|b| !gone && b.1.odds >= STAYED) {
            confirm(f, &fw.elements[pe].name, &st);
        }
    }
    let n = flags
        .iter()
        .zip(&out)
        .filter(|(f, g)| **g && counts(f))
        .count();
    let mut gone = out.iter();
    flags.retain(|_| !gone.next().copied().unwrap_or(false));
    n
}

/// What a part says of its whole's flag: where it stands, where it would
/// stand had only the whole been wrong and where had the whole really
/// moved, and the log₁₀ odds of the first against the second.
struct Stayed {
    part: f64,
    stayed: f64,
    took: f64,
    odds: f64,
}

/// Where a part over `a..=b` would stand had the whole as reported taken
/// it along (`took`), and where had only the whole been wrong (`stayed`:
/// near its share of the whole's own expectation).
struct Places {
    part: f64,
    whole: f64,
    expected: Expect,
    took: Expect,
    stayed: Expect,
    /// The share before and its spread, for the part's own likelihood
    /// where the whole took it along.
    share: f64,
    phi: f64,
}

fn places(p: &Pair, a: i64, b: i64) -> Option<Places> {
    let (x, n, s, phi) = window(p, a, b)?;
    let e = expected(&p.whole, a, b).filter(|e| e.mean > 0.0)?;
    let binom = |n: f64| phi * n * s * (1.0 - s);
    Some(Places {
        part: x,
        whole: n,
        expected: e,
        took: Expect {
            mean: s * n,
            var: binom(n),
        },
        stayed: Expect {
            mean: s * e.mean,
            var: binom(e.mean) + s * s * e.var,
        },
        share: s,
        phi,
    })
}

impl Places {
    /// The part stayed near its share of the whole's own expectation
    /// instead of following the whole as reported: by how much.
    fn stayed(&self) -> Stayed {
        Stayed {
            part: self.part,
            stayed: self.stayed.mean,
            took: self.took.mean,
            // As the probabilities the messages print, odds stop at 10^300.
            odds: self.stayed_over_took().min(ODDS_MAX),
        }
    }

    /// The whole left its level over `months` months and the part went
    /// with it.
    fn moved_along(&self, months: f64) -> bool {
        // A family doubled together is what a month entered twice looks
        // like: in a series large enough for a ratio to mean something,
        // only a move a busy or a quiet month makes is explained.
        let e = self.expected.mean;
        if e >= RATIO_FROM * months
            && !(1.0 / EXPLAINED_RATIO..=EXPLAINED_RATIO).contains(&(self.whole / e))
        {
            return false;
        }
        let held = (self.part - self.took.mean).abs() <= HELD * self.took.var.sqrt();
        held && -self.stayed_over_took() >= MOVED
    }

    /// log₁₀ of how much likelier the part is where it would have stayed
    /// than where the whole took it along. Where it was taken along it is a
    /// binomial share of the whole as reported, not a normal: 64 of 72
    /// handled where 97.8 % are is 10⁻³·⁸ as a binomial and 10⁻⁶·² by a
    /// normal with the same variance, whose odds kept clean wholes in the
    /// queue as mistyped (12 of the 19 statistical items of the clean demo
    /// year).
    fn stayed_over_took(&self) -> f64 {
        if self.stayed.var <= 0.0 || self.took.var <= 0.0 {
            return 0.0;
        }
        let stayed = normal_ln(self.part, self.stayed);
        let took = binomial_ln(self.part, self.whole, self.share, self.phi);
        (stayed - took) / std::f64::consts::LN_10
    }
}

/// A whole its part did not follow: the family's odds join the model's
/// evidence (the queue is ranked by it) and the message says why.
fn confirm(f: &mut Flag, part: &str, st: &Stayed) {
    let fmt = |x: f64| crate::num::fmt_num(x, 1);
    f.message.push_str(&format!(
        "；其构成数据 {part} 未随之变化：{}，按此前比例与预计的总量应约 {}，若总量确有此变化应约 {}，\
         更像是本项填报有误（可能性{}）",
        fmt(st.part),
        fmt(st.stayed),
        fmt(st.took),
        odds_text(st.odds),
    ));
    if let Some(n) = f.numbers.iter_mut().find(|n| n.0 == "surprise") {
        n.1 += st.odds;
    }
    f.numbers.push(("family_odds".into(), st.odds));
}

/// How much likelier a mistyped whole is, as a reader takes it: 约为…的
/// 32 倍, 约为…的 2.4×10^5 倍, 超过…的 10^300 倍.
pub(super) fn odds_text(odds: f64) -> String {
    let than = "总量确有变化的";
    if odds >= ODDS_MAX {
        format!("超过{than} 10^{} 倍", ODDS_MAX as i64)
    } else if odds < 4.0 {
        format!("约为{than} {} 倍", crate::num::fmt_num(10f64.powf(odds), 0))
    } else {
        let e = odds.floor();
        let m = crate::num::fmt_num(10f64.powf(odds - e), 1);
        format!("约为{than} {m}×10^{} 倍", e as i64)
    }
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
            let pair = Pair::new(
                Series { first, dense: &part, model: mp.as_ref() },
                Series { first, dense: &whole, model: mw.as_ref() },
            );
            let b = 2024 * 12 + a;
            let _ = whole_took_it_along(&pair, b - n + 1, b);
            if let Some(pl) = places(&pair, b - n + 1, b) {
                let _ = pl.moved_along(n as f64);
                let st = pl.stayed();
                prop_assert!(st.odds <= ODDS_MAX && !odds_text(st.odds).is_empty());
            }
        }
    }

    /// Three months of a whole of 72 where 62 were expected, 64 of them
    /// handled where 97.8 % are: the part went partly along. Against a
    /// binomial share that is odds of about 10^2.5 for a mistyped whole; a
    /// normal with the same variance said 10^5 and queued the whole.
    #[test]
    fn a_part_that_went_partly_along_is_judged_as_a_binomial() {
        let s = 0.978;
        let pl = Places {
            part: 64.0,
            whole: 72.0,
            expected: Expect {
                mean: 63.4,
                var: 94.0,
            },
            took: Expect {
                mean: s * 72.0,
                var: 72.0 * s * (1.0 - s),
            },
            stayed: Expect {
                mean: s * 63.4,
                var: 63.4 * s * (1.0 - s) + s * s * 94.0,
            },
            share: s,
            phi: 1.0,
        };
        let odds = pl.stayed_over_took();
        assert!((2.0..3.0).contains(&odds), "{odds}");
    }

    #[test]
    fn a_degenerate_spread_says_nothing() {
        let flat = Expect {
            mean: 1.0,
            var: 0.0,
        };
        let pl = Places {
            part: 1.0,
            whole: 1.0,
            expected: flat,
            took: flat,
            stayed: flat,
            share: 1.0,
            phi: 1.0,
        };
        assert_eq!(pl.stayed_over_took(), 0.0);
    }
}

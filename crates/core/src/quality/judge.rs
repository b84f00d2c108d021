//! One point's statistical verdict. The seed's methods (z, modified z,
//! jump, run) propose; the series' model of normal (`baseline`) disposes;
//! what survives is one flag per key that names every method that fired and
//! the model's evidence, so one cause is one line of the queue.

use super::anomaly::Finding;
use super::baseline::{Expect, Model, Tail};
use super::{FlagKind, Params};
use crate::num::fmt;

pub enum Verdict {
    Flag(Finding),
    Clear,
    /// The series has no model of normal (no complete earlier year, or too
    /// few points to set a level): these methods' candidates go unjudged.
    Short(Vec<FlagKind>),
}

/// Where the point sits in its series.
pub struct At<'a> {
    pub dense: &'a [Option<f64>],
    /// Absolute index of `dense[0]` (year × periods per year + position).
    pub first: i64,
    pub t: usize,
    /// The element's tails across regions (see `Tail`).
    pub tail: &'a Tail,
}

/// The model proposes a point whose own evidence is at least this (p ≤ 0.1)
/// and every run the run method found: a whole whose parts stayed where
/// they were may add the odds that only it is wrong (`explained.rs`), and
/// the flags still under the queue's threshold then leave (`weak`). The
/// floor is absolute, not below the threshold: a run of a whole at p ≈ 0.13
/// whose part stayed put at odds of 10⁶⁸ is a mistyped whole, whatever
/// threshold the office chose.
const PROPOSE_POINT: f64 = 1.0;
const PROPOSE_RUN: f64 = 0.0;

/// A statistical flag whose evidence, the family's odds included, is
/// under its threshold. 占比突变 has its own (`share_surprise`).
pub(super) fn weak(f: &super::Flag, p: &Params) -> bool {
    if f.kind == FlagKind::Share || !f.kind.statistical() {
        return false;
    }
    super::number(&f.numbers, "surprise").is_some_and(|s| s < least(f.kind, p))
}

/// The model's own evidence a candidate of `kind` needs to be proposed.
fn proposes(kind: FlagKind) -> f64 {
    if kind == FlagKind::RunAboveMean {
        PROPOSE_RUN
    } else {
        PROPOSE_POINT
    }
}

/// The evidence a flag of `kind` needs to stay: a run's, judged on its
/// sum, is lower than a point's.
fn least(kind: FlagKind, p: &Params) -> f64 {
    if kind == FlagKind::RunAboveMean {
        p.run_surprise
    } else {
        p.surprise
    }
}

/// The order a key's methods are named in, the most telling first.
fn rank(k: FlagKind) -> u8 {
    match k {
        FlagKind::Jump => 0,
        FlagKind::RunAboveMean => 1,
        FlagKind::ModZscore => 2,
        _ => 3,
    }
}

/// "3.2×10^-9", or a plain number for probabilities that are not small.
pub(super) fn prob(surprise: f64) -> String {
    if surprise >= 300.0 {
        return "小于 10^-300".into();
    }
    let p = 10f64.powf(-surprise);
    if p >= 1e-3 {
        return format!("约 {}", fmt((p * 10_000.0).round() / 10_000.0));
    }
    let exp = p.log10().floor();
    let mant = p / 10f64.powf(exp);
    format!("约 {}×10^{}", fmt((mant * 10.0).round() / 10.0), exp as i64)
}

fn band(e: Expect) -> String {
    let sd = e.var.max(0.0).sqrt();
    let r = |x: f64| (x * 100.0).round() / 100.0;
    format!("{}（±{}）", fmt(r(e.mean)), fmt(r(2.0 * sd)))
}

pub fn judge(found: Vec<Finding>, model: Option<&Model>, at: At, p: &Params) -> Verdict {
    if found.is_empty() {
        return Verdict::Clear;
    }
    let kinds = || found.iter().map(|f| f.kind).collect();
    let Some(model) = model else {
        return Verdict::Short(kinds());
    };
    let Some(x) = at.dense.get(at.t).copied().flatten() else {
        return Verdict::Clear;
    };
    let Some(e) = model.expect(at.dense, at.first, at.t, at.t) else {
        return Verdict::Short(kinds());
    };
    let point = at.tail.adjust(model.surprise(x, e));
    // A run is judged as a whole, against the level before it began: its
    // later months would otherwise raise their own baseline.
    let n = p.run_len.max(1);
    let run = found
        .iter()
        .any(|f| f.kind == FlagKind::RunAboveMean)
        .then(|| {
            let start = (at.t + 1).checked_sub(n)?;
            let xs: Option<Vec<f64>> = at.dense[start..=at.t].iter().copied().collect();
            let es: Option<Vec<Expect>> = (start..=at.t)
                .map(|j| model.expect(at.dense, at.first, j, start))
                .collect();
            let (xs, es) = (xs?, es?);
            Some((at.tail.adjust(model.surprise_sum(&xs, &es)), xs, es))
        })
        .flatten();
    let mut kept: Vec<(Finding, f64)> = found
        .into_iter()
        .filter_map(|f| {
            let s = if f.kind == FlagKind::RunAboveMean {
                run.as_ref()?.0
            } else {
                point
            };
            (s >= proposes(f.kind)).then_some((f, s))
        })
        .collect();
    if kept.is_empty() {
        return Verdict::Clear;
    }
    // The head is the method furthest over its own threshold (a run's is
    // lower than a point's), so that `weak` judges the flag by it.
    let over = |(f, s): &(Finding, f64)| s - least(f.kind, p);
    kept.sort_by(|a, b| {
        over(b)
            .total_cmp(&over(a))
            .then(rank(a.0.kind).cmp(&rank(b.0.kind)))
    });
    let (mut head, strongest) = kept.remove(0);
    let mut detail = head.detail.clone();
    for (f, _) in &kept {
        detail.push_str("；另 ");
        detail.push_str(&f.detail);
    }
    match (&run, head.kind) {
        (Some((s, xs, es)), FlagKind::RunAboveMean) => {
            let sum = Expect {
                mean: es.iter().map(|e| e.mean).sum(),
                var: es.iter().map(|e| e.var).sum(),
            };
            detail.push_str(&format!(
                "。按季节规律与此前水平，这 {} 期合计预计 {}，实际 {}，出现概率{}",
                xs.len(),
                band(sum),
                fmt(xs.iter().sum::<f64>()),
                prob(*s)
            ));
        }
        _ => detail.push_str(&format!(
            "。按季节规律与近期水平预计 {}，出现这样偏离的概率{}",
            band(e),
            prob(strongest)
        )),
    }
    head.detail = detail;
    head.numbers.push(("expected".into(), e.mean));
    head.numbers
        .push(("expected_sd".into(), e.var.max(0.0).sqrt()));
    head.numbers.push(("surprise".into(), strongest));
    Verdict::Flag(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_read_well() {
        assert_eq!(prob(std::f64::consts::LOG10_2), "约 0.5");
        assert_eq!(prob(8.5), "约 3.2×10^-9");
        assert_eq!(prob(300.0), "小于 10^-300");
    }
}

//! One cause, one item. Where a rule says one element is part of another
//! (`solved <= filed`, `timely <= received`), a statistical flag on the
//! part in the month the whole is flagged too, moving the same way and by
//! about as much, is the whole's change passed on: more disputes, so more
//! disputes resolved. It is folded into the whole's flag as a further line
//! rather than queued as a second item. A part that moved much more or less
//! than its whole (a share that changed) keeps its own flag.

use super::rules::{Operator, RuleSet};
use super::{Flag, FlagKind};
use crate::formula::Expr;
use crate::framework::Framework;
use crate::num::fmt;
use rustc_hash::FxHashMap;

/// A part's change counts as its whole's when their ratios to what the
/// model expected are within this factor of each other.
const ALIKE: f64 = 1.5;

fn statistical(k: FlagKind) -> bool {
    matches!(
        k,
        FlagKind::Zscore | FlagKind::ModZscore | FlagKind::Jump | FlagKind::RunAboveMean
    )
}

/// part → whole, from the rules `a <= b` between two single elements.
fn wholes(rules: &RuleSet) -> FxHashMap<usize, usize> {
    rules
        .rules
        .iter()
        .filter(|r| r.operator == Operator::Le)
        .filter_map(|r| match (&r.left, &r.right) {
            (Expr::Elem(a), Expr::Elem(b)) if a != b => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

fn number(f: &Flag, name: &str) -> Option<f64> {
    f.numbers.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

/// The value against the model's expectation (1 = as expected).
fn moved(f: &Flag) -> Option<f64> {
    let (x, e) = (number(f, "value")?, number(f, "expected")?);
    (e > 0.0 && x.is_finite()).then(|| x / e)
}

/// The part's flag is its whole's change passed on.
fn passed_on(part: &Flag, whole: &Flag) -> bool {
    let (Some(p), Some(w)) = (moved(part), moved(whole)) else {
        return false;
    };
    (p - 1.0) * (w - 1.0) > 0.0 && w > 0.0 && (p / w) <= ALIKE && (w / p) <= ALIKE
}

/// Fold every part's flag that its whole's flag explains into the whole's
/// (following parts of parts to the outermost whole that is flagged).
pub(super) fn fold(flags: &mut Vec<Flag>, rules: &RuleSet, fw: &Framework) {
    let wholes = wholes(rules);
    if wholes.is_empty() {
        return;
    }
    let at: FxHashMap<_, usize> = flags
        .iter()
        .enumerate()
        .filter(|(_, f)| statistical(f.kind))
        .map(|(i, f)| ((f.region, f.element, f.period), i))
        .collect();
    // Each flag's direct holder, if its whole explains it.
    let holder: Vec<Option<usize>> = flags
        .iter()
        .map(|f| {
            if !statistical(f.kind) {
                return None;
            }
            let w = *wholes.get(&f.element)?;
            let &j = at.get(&(f.region, w, f.period))?;
            passed_on(f, &flags[j]).then_some(j)
        })
        .collect();
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); flags.len()];
    let mut gone = vec![false; flags.len()];
    for (i, h) in holder.iter().enumerate() {
        let Some(mut root) = *h else { continue };
        // Rules could name a cycle; a chain is never longer than the flags.
        for _ in 0..flags.len() {
            match holder[root] {
                Some(next) if next != i => root = next,
                _ => break,
            }
        }
        let f = &flags[i];
        let el = &fw.elements[f.element];
        let (x, e) = (
            number(f, "value").unwrap_or(f64::NAN),
            number(f, "expected").unwrap_or(f64::NAN),
        );
        lines[root].push(format!(
            "另 {}（{}）同期随之{}：{}，预计 {}，同一原因，一并核查",
            el.name,
            el.code,
            if x > e { "上升" } else { "下降" },
            fmt(x),
            fmt((e * 100.0).round() / 100.0)
        ));
        gone[i] = true;
    }
    for (f, more) in flags.iter_mut().zip(&lines) {
        if !more.is_empty() {
            f.message.push('；');
            f.message.push_str(&more.join("；"));
        }
    }
    let mut k = 0;
    flags.retain(|_| {
        k += 1;
        !gone[k - 1]
    });
}

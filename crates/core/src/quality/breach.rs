//! A broken "part ≤ whole" rule names two figures, and one of them is
//! wrong: 43 public-order cases solved of 13 received is a solved count
//! typed too high or a received count typed too low. The rule cannot tell
//! which; each figure's model of normal can. The flag is filed under the
//! one that left its own model the more (as a share's departure is, in
//! `share.rs`), so the reviewer opens the right series first.

use super::rules::{Operator, RuleSet};
use super::share::{self, Monthly};
use super::{Ctx, FlagKind, series_key};
use crate::formula::Expr;
use crate::framework::Framework;

/// Place every broken part–whole rule of `cx` on the figure that moved.
pub(super) fn place(cx: &mut Ctx, fw: &Framework, rules: &RuleSet, monthly: &Monthly) {
    let pairs = share::pairs(rules, fw);
    for i in 0..cx.flags.len() {
        let f = &cx.flags[i];
        if f.kind != FlagKind::Rule {
            continue;
        }
        let Some(rule) = f
            .rule
            .as_deref()
            .and_then(|c| rules.rules.iter().find(|r| r.code == c))
        else {
            continue;
        };
        let (Expr::Elem(pe), Expr::Elem(we)) = (&rule.left, &rule.right) else {
            continue;
        };
        if rule.operator != Operator::Le {
            continue;
        }
        let (pe, we) = (*pe, *we);
        let (2, idx) = series_key(f.period) else {
            continue;
        };
        if !pairs.contains(&(pe, we)) {
            continue;
        }
        let (Some(part), Some(whole)) =
            (monthly.get(&(f.region, pe)), monthly.get(&(f.region, we)))
        else {
            continue;
        };
        // A part above its whole: the part rose or the whole fell.
        let by_part = share::own_evidence(part, idx, idx, true);
        let by_whole = share::own_evidence(whole, idx, idx, false);
        let (moved, up) = if by_whole > by_part {
            (we, false)
        } else {
            (pe, true)
        };
        if by_part.max(by_whole) < share::CLEAR {
            continue;
        }
        let name = &fw.elements[moved].name;
        let line = format!(
            "；{name}{}于其季节规律与近期水平，应先核查{name}",
            if up { "明显高" } else { "明显低" }
        );
        let (r, period, from) = (f.region, f.period, f.element);
        let old = cx.head(r, from, period);
        let new = cx.head(r, moved, period);
        let f = &mut cx.flags[i];
        if let Some(rest) = f.message.strip_prefix(&old) {
            f.message = format!("{new}{rest}");
        }
        f.message.push_str(&line);
        f.element = moved;
    }
}

//! A broken "part ≤ whole" rule names two figures, and one of them is
//! wrong: 43 public-order cases solved of 13 received is a solved count
//! typed too high or a received count typed too low. The rule cannot tell
//! which; each figure's model of normal can. The flag is filed under the
//! one that left its own model the more (as a share's departure is, in
//! `share.rs`), so the reviewer opens the right series first.

use super::rules::{Operator, Rule};
use super::series_key;
use super::share::{self, Monthly};
use crate::formula::Expr;
use crate::framework::Framework;
use crate::period::Period;

/// The part–whole pairs and every region's monthly series, as the share
/// test holds them.
pub(super) struct Figures<'a> {
    pub fw: &'a Framework,
    pub pairs: &'a [(usize, usize)],
    pub monthly: &'a Monthly<'a>,
}

impl Figures<'_> {
    /// The element a broken `rule` at (`r`, `period`) is filed under, and
    /// the line that says why, when it is a part–whole rule between two
    /// flows and one of them clearly left its own model.
    pub(super) fn moved(&self, rule: &Rule, r: usize, period: Period) -> Option<(usize, String)> {
        let (Expr::Elem(pe), Expr::Elem(we)) = (&rule.left, &rule.right) else {
            return None;
        };
        let (pe, we) = (*pe, *we);
        if rule.operator != Operator::Le || !self.pairs.contains(&(pe, we)) {
            return None;
        }
        let (2, idx) = series_key(period) else {
            return None;
        };
        let (part, whole) = (self.monthly.get(&(r, pe))?, self.monthly.get(&(r, we))?);
        // A part above its whole: the part rose or the whole fell.
        let by_part = share::own_evidence(part, idx, idx, true);
        let by_whole = share::own_evidence(whole, idx, idx, false);
        if by_part.max(by_whole) < share::CLEAR {
            return None;
        }
        let (moved, high) = if by_whole > by_part {
            (we, false)
        } else {
            (pe, true)
        };
        Some((
            moved,
            share::check_first(&self.fw.elements[moved].name, high),
        ))
    }
}

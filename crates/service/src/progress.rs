//! 报送进度: which department has reported for which base regions and
//! periods, and who is missing or late — the seed's "周调度、月通报" view.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{Authorized, cap};
use pingan_core::period::{Date, Period};
use pingan_core::quality::days_late;
use pingan_core::region::RegionTree;
use std::collections::{BTreeSet, HashMap};

/// One department × period cell of the board.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub expected: usize,
    pub submitted: usize,
    pub late: Vec<(usize, String)>,
    pub missing: Vec<usize>,
    /// Submitted sets still moving through the three levels.
    pub in_review: Vec<usize>,
    /// Sets sent back (returned, or unlocked for a correction).
    pub returned: Vec<usize>,
}

impl Cell {
    /// Reported and counting: approved by the review or imported by the office.
    pub fn approved(&self) -> usize {
        self.submitted
            .saturating_sub(self.in_review.len() + self.returned.len())
    }
}

pub struct Board {
    pub departments: Vec<String>,
    pub periods: Vec<Period>,
    /// Only the periods a department owes (by its elements' 报送频次): a
    /// department that reports yearly has no month cells, one that reports
    /// monthly no year cell.
    pub cells: HashMap<(String, Period), Cell>,
    /// Each department's reporting frequencies, for the board's notes.
    pub frequencies: HashMap<String, BTreeSet<pingan_core::framework::Frequency>>,
    pub tree: std::sync::Arc<RegionTree>,
}

/// Which department reported for which base regions and periods of
/// `year`, who is missing or late, and where the review stands.
pub async fn board(ctx: &Ctx, c: &Authorized<'_, cap::Progress>, year: i32) -> Result<Board> {
    let tree = ctx.tree().await?;
    let fw = ctx
        .store
        .framework_for_year(year)
        .await?
        .unwrap_or_else(pingan_core::default_framework);
    let deadline_days = pingan_core::quality::rules::RuleSet::default_for(&fw).deadline_days;
    let mut departments: Vec<String> = fw
        .elements
        .iter()
        .map(|e| e.department.clone())
        .filter(|d| !d.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    departments.retain(|d| c.element_allowed(d));
    let mut frequencies: HashMap<String, BTreeSet<pingan_core::framework::Frequency>> =
        HashMap::new();
    for e in &fw.elements {
        frequencies
            .entry(e.department.clone())
            .or_default()
            .insert(e.frequency);
    }
    let mut periods: Vec<Period> = Period::months(year).collect();
    periods.push(Period::Year(year));
    let base: Vec<usize> = (0..tree.len())
        .filter(|&i| tree.children(i).is_empty() && c.sees(&tree, i))
        .collect();
    // (department, period) → region → first submission
    let mut got: HashMap<(String, Period), HashMap<usize, String>> = HashMap::new();
    for s in ctx.submissions(year).await?.iter() {
        let (Some(r), Ok(p)) = (tree.find(&s.region), s.period.parse::<Period>()) else {
            continue;
        };
        if !tree.children(r).is_empty() || !c.sees(&tree, r) {
            continue;
        }
        got.entry((s.department.clone(), p))
            .or_default()
            .insert(r, s.first_at.clone());
    }
    // (department, period) → the base regions whose set is in review / back.
    let mut review: HashMap<(String, Period), (Vec<usize>, Vec<usize>)> = HashMap::new();
    let sets = ctx
        .store
        .data_sets(&pingan_store::SetFilter {
            year: Some(year),
            ..Default::default()
        })
        .await?;
    for s in sets {
        let (Some(r), Ok(p)) = (tree.find(&s.key.region), s.key.period.parse::<Period>()) else {
            continue;
        };
        if !tree.children(r).is_empty() || !c.sees(&tree, r) {
            continue;
        }
        let e = review.entry((s.key.department, p)).or_default();
        if s.state.in_review() {
            e.0.push(r);
        } else if s.state != pingan_core::review::State::Approved {
            e.1.push(r);
        }
    }
    let mut cells = HashMap::new();
    for d in &departments {
        let owes = |p: Period| {
            frequencies
                .get(d)
                .is_some_and(|f| f.iter().any(|f| f.owes(p)))
        };
        for &p in periods.iter().filter(|p| owes(**p)) {
            let expected: Vec<usize> = base
                .iter()
                .copied()
                .filter(|&i| tree.get(i).valid_in(p))
                .collect();
            let sub = got.remove(&(d.clone(), p)).unwrap_or_default();
            let first = sub.values().filter_map(|a| Date::of_timestamp(a)).min();
            let mut late: Vec<(usize, String)> = sub
                .iter()
                .filter(|(_, at)| {
                    first
                        .zip(Date::of_timestamp(at))
                        .is_some_and(|(f, at)| days_late(p, deadline_days, at, f).is_some())
                })
                .map(|(r, at)| (*r, at.clone()))
                .collect();
            late.sort();
            let missing: Vec<usize> = expected
                .iter()
                .copied()
                .filter(|i| !sub.contains_key(i))
                .collect();
            let (mut in_review, mut returned) = review.remove(&(d.clone(), p)).unwrap_or_default();
            in_review.retain(|i| sub.contains_key(i));
            returned.retain(|i| sub.contains_key(i));
            cells.insert(
                (d.clone(), p),
                Cell {
                    expected: expected.len(),
                    submitted: expected.iter().filter(|i| sub.contains_key(i)).count(),
                    late,
                    missing,
                    in_review,
                    returned,
                },
            );
        }
    }
    Ok(Board {
        departments,
        periods,
        cells,
        frequencies,
        tree,
    })
}

//! The validation rules of `pingan check` applied to values on their way
//! in, whatever the channel: range rules on each value, logic rules on the
//! values of one region and period sent together. A rule of high importance
//! refuses the import (`hard`); the others warn and the values are kept.
//!
//! A logic rule is judged only where the submission itself holds every
//! element it reads: a department often sends one side of a rule now and
//! the other later, and `pingan check` judges the stored whole.

use super::rules::{Applies, Importance, Operator, RuleSet};
use crate::formula::Eval;
use crate::framework::Framework;
use crate::num::fmt;
use crate::period::Period;
use crate::region::RegionTree;
use rustc_hash::FxHashMap;

/// One value of a submission.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub region: usize,
    pub period: Period,
    pub element: usize,
    pub value: f64,
}

/// A rule a submitted value breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Breach {
    /// Index into the rows given.
    pub row: usize,
    /// Refuses the import (the rule's importance is high).
    pub hard: bool,
    /// Chinese, naming the region, the element and the rule in words.
    pub message: String,
}

fn place(fw: &Framework, tree: &RegionTree, r: &Row) -> String {
    format!(
        "{} {} {}",
        tree.get(r.region).name,
        r.period.label(),
        fw.elements[r.element].name
    )
}

/// Every rule the rows break, in row order.
pub fn check_rows(fw: &Framework, tree: &RegionTree, rules: &RuleSet, rows: &[Row]) -> Vec<Breach> {
    let mut out = Vec::new();
    let mut ranges_of: Vec<Vec<usize>> = vec![Vec::new(); fw.elements.len()];
    for (i, r) in rules.ranges.iter().enumerate() {
        for &e in &r.elements {
            if e < ranges_of.len() {
                ranges_of[e].push(i);
            }
        }
    }
    for (i, row) in rows.iter().enumerate() {
        for &k in ranges_of.get(row.element).into_iter().flatten() {
            let r = &rules.ranges[k];
            let low = r.min.is_some_and(|m| row.value < m);
            let high = r.max.is_some_and(|m| row.value > m);
            if !(low || high) {
                continue;
            }
            let why = match (low, r.min, r.max) {
                (true, Some(0.0), _) => "不能为负数".to_string(),
                (true, Some(a), _) => format!("不能小于 {}", fmt(a)),
                (_, _, Some(b)) => format!("不能大于 {}", fmt(b)),
                _ => "超出取值范围".to_string(),
            };
            out.push(Breach {
                row: i,
                hard: r.importance == Importance::High,
                message: format!(
                    "{}：数值 {} {why}（{}）",
                    place(fw, tree, row),
                    fmt(row.value),
                    r.name
                ),
            });
        }
    }
    // The values of each region and period, and the row each came from.
    let mut groups: FxHashMap<(usize, Period), FxHashMap<usize, (f64, usize)>> =
        FxHashMap::default();
    for (i, row) in rows.iter().enumerate() {
        groups
            .entry((row.region, row.period))
            .or_default()
            .insert(row.element, (row.value, i));
    }
    let mut keys: Vec<(usize, Period)> = groups.keys().copied().collect();
    keys.sort_unstable();
    for rule in &rules.rules {
        if rule.applies != Applies::Reported || rule.operator == Operator::CompulsoryPair {
            continue;
        }
        let mut els = rule.left.elements();
        els.extend(rule.right.elements());
        for key in &keys {
            let g = &groups[key];
            if !els.iter().all(|e| g.contains_key(e)) {
                continue;
            }
            let mut get = |e: usize, _: Period| g.get(&e).map(|v| v.0);
            let (Eval::Value(l), Eval::Value(r)) = (
                rule.left.eval(key.1, &mut get),
                rule.right.eval(key.1, &mut get),
            ) else {
                continue;
            };
            if rule.operator.holds(l, r) {
                continue;
            }
            let principal = rule.principal().unwrap_or(els[0]);
            let at = g
                .get(&principal)
                .map_or(g.values().next().map_or(0, |v| v.1), |v| v.1);
            out.push(Breach {
                row: at,
                hard: rule.importance == Importance::High,
                message: format!(
                    "{} {}：{}不成立——{} = {}，{} = {}",
                    tree.get(key.0).name,
                    key.1.label(),
                    rule.name,
                    fw.in_words(&rule.left_src),
                    fmt(l),
                    fw.in_words(&rule.right_src),
                    fmt(r)
                ),
            });
        }
    }
    out.sort_by_key(|b| b.row);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::default_framework;

    fn tree() -> RegionTree {
        use crate::region::{Level, RegionRow};
        let row = |c: &str, name: &str, p: Option<&str>, level| RegionRow {
            code: c.into(),
            name: name.into(),
            parent: p.map(Into::into),
            level,
            valid_from: None,
            valid_to: None,
        };
        RegionTree::new(vec![
            row("K", "兴山县", None, Level::County),
            row("T", "兴山镇", Some("K"), Level::Township),
        ])
        .unwrap()
    }

    #[test]
    fn ranges_and_logic_rules_name_region_element_and_rule() {
        let fw = default_framework();
        let rules = RuleSet::default_for(&fw);
        let t = tree();
        let e = |c: &str| fw.element_index(c).unwrap();
        let p = Period::Month(2024, 12);
        let rows = [
            Row {
                region: 1,
                period: p,
                element: e("public_order_solved"),
                value: -3.0,
            },
            Row {
                region: 1,
                period: p,
                element: e("fraud_solved"),
                value: 20.0,
            },
            Row {
                region: 1,
                period: p,
                element: e("fraud_cases"),
                value: 10.0,
            },
        ];
        let b = check_rows(&fw, &t, &rules, &rows);
        assert!(b.iter().all(|b| b.hard), "{b:?}");
        assert_eq!(b[0].row, 0);
        assert!(
            b[0].message
                .starts_with("兴山镇 2024年12月 治安案件查处数：数值 -3 不能为负数"),
            "{}",
            b[0].message
        );
        let logic = b.iter().find(|b| b.row == 1).unwrap();
        assert!(
            logic.message.contains("网络诈骗案件破案数 = 20") && !logic.message.contains("fraud_"),
            "{}",
            logic.message
        );
        // The other side not sent: nothing to judge yet.
        assert!(check_rows(&fw, &t, &rules, &rows[1..2]).is_empty());
        // Consistent values pass.
        let fine = [
            Row {
                region: 1,
                period: p,
                element: e("fraud_solved"),
                value: 5.0,
            },
            Row {
                region: 1,
                period: p,
                element: e("fraud_cases"),
                value: 10.0,
            },
        ];
        assert!(check_rows(&fw, &t, &rules, &fine).is_empty());
    }
}

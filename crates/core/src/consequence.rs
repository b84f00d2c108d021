//! Consequences of the results (seed §4.2, §5.4, §8.3; issue 21): points
//! taken from a region's total for rectification not done (通报批评并扣减
//! 考核得分), shown in that year's breakdown with their reason, and the 先进
//! rule — a city or county in the province's bottom three of its level two
//! years running may not be named a 平安建设先进地区.

use crate::framework::Framework;
use crate::num::round_half_away;
use crate::score::{ScoreReport, rank_in};
use serde::{Deserialize, Serialize};

/// The largest deduction one record may take (the seed names no number;
/// a whole dimension's worth is already a severe 通报批评).
pub const MAX_DEDUCTION: f64 = 20.0;

/// The points a 通报批评 form offers first for a region whose rectification
/// is overdue (the office changes it case by case, within `MAX_DEDUCTION`).
pub const DEFAULT_DEDUCTION: f64 = 1.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deducted {
    pub points: f64,
    pub reason: String,
}

/// Take each region's deductions from its total (never below 0), then
/// grade and rank the report again as scoring does: peers are the regions
/// of one parent and level, level peers those of one level.
pub fn deduct(report: &mut ScoreReport, fw: &Framework, list: &[(String, Deducted)]) {
    if list.is_empty() {
        return;
    }
    for r in report.results.iter_mut() {
        let mine: Vec<Deducted> = list
            .iter()
            .filter(|(code, _)| *code == r.region)
            .map(|(_, d)| d.clone())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let lost: f64 = mine.iter().map(|d| d.points).sum();
        r.total = (r.total - lost).max(0.0);
        if !r.veto {
            r.grade = fw.grades[fw.grade_for(r.total)].name.clone();
        }
        r.deductions = mine;
    }
    let rounded: Vec<f64> = report
        .results
        .iter()
        .map(|r| round_half_away(r.total, fw.rank_decimals))
        .collect();
    let res = &report.results;
    let groups: Vec<(Vec<usize>, Vec<usize>)> = res
        .iter()
        .map(|r| {
            let peers = (0..res.len())
                .filter(|&o| res[o].parent == r.parent && res[o].level == r.level)
                .collect();
            let level = (0..res.len())
                .filter(|&o| res[o].level == r.level)
                .collect();
            (peers, level)
        })
        .collect();
    for (k, r) in report.results.iter_mut().enumerate() {
        (r.rank, r.peers, r.bottom) = rank_in(&groups[k].0, &rounded, k);
        (r.level_rank, r.level_peers, r.level_bottom) = rank_in(&groups[k].1, &rounded, k);
    }
}

/// Whether a region may be named 先进: not if it was in the bottom three
/// (of its level in the province) this year and the year before. None when
/// this year has no result.
pub fn advanced_eligible(this_bottom: Option<bool>, last_bottom: Option<bool>) -> Option<bool> {
    let this = this_bottom?;
    Some(!(this && last_bottom == Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::RegionResult;

    fn result(code: &str, total: f64) -> RegionResult {
        RegionResult {
            region: code.into(),
            name: code.into(),
            level: "county".into(),
            parent: Some("P".into()),
            total,
            max: 100.0,
            grade: String::new(),
            veto: false,
            rank: 0,
            peers: 0,
            bottom: false,
            level_rank: 0,
            level_peers: 0,
            level_bottom: false,
            dimensions: Vec::new(),
            domains: Vec::new(),
            indicators: Vec::new(),
            deductions: Vec::new(),
        }
    }

    #[test]
    fn a_deduction_lowers_the_total_grade_and_rank() {
        let fw = crate::framework::default_framework();
        let mut report = ScoreReport {
            framework: fw.code.clone(),
            period: crate::Period::Year(2024),
            results: [
                ("A", 91.0),
                ("B", 90.0),
                ("C", 80.0),
                ("D", 70.0),
                ("E", 60.0),
            ]
            .into_iter()
            .map(|(c, t)| result(c, t))
            .collect(),
        };
        let d = Deducted {
            points: 2.5,
            reason: "2023年整改不力，通报批评".into(),
        };
        deduct(&mut report, &fw, &[("A".into(), d.clone())]);
        let a = &report.results[0];
        assert_eq!(a.total, 88.5);
        assert_eq!(a.rank, 2);
        assert_eq!(a.deductions, vec![d]);
        assert_eq!(a.grade, fw.grades[fw.grade_for(88.5)].name);
        assert_eq!(report.results[1].rank, 1);
        assert_eq!(
            (report.results[4].rank, report.results[4].bottom),
            (5, true)
        );
        assert!(report.results[1].deductions.is_empty());
    }

    #[test]
    fn two_years_in_the_bottom_three_bar_the_title() {
        assert_eq!(advanced_eligible(Some(true), Some(true)), Some(false));
        assert_eq!(advanced_eligible(Some(true), Some(false)), Some(true));
        assert_eq!(advanced_eligible(Some(true), None), Some(true));
        assert_eq!(advanced_eligible(Some(false), Some(true)), Some(true));
        assert_eq!(advanced_eligible(None, Some(true)), None);
    }
}

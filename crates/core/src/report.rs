//! What the 《平安建设测评报告》 of one region says (issue 20, seed §4.1,
//! §5.4: 得分情况、优势短板、问题原因和整改建议), made from its stored result,
//! its peers' and its earlier years'. Every renderer (the print view, the
//! Word document, the workbook) prints this one content, so they agree.

use crate::framework::Framework;
use crate::quality::stats::median;
use crate::score::{IndicatorResult, PartScore, RegionResult};
use serde::Serialize;
use std::collections::HashMap;

pub mod doc;
pub mod edits;
pub mod findings;
pub mod notice;
mod sections;
pub mod summary;

pub use sections::Head;

/// Indicators named as strongest and as weakest.
pub const SHOWN: usize = 5;

/// The `k`-th (from 0) section or item number as a report writes it: 一, 二, …
/// (a report has fewer than eleven; '' beyond).
pub fn numeral(k: usize) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
        .get(k)
        .copied()
        .unwrap_or("")
}

/// One indicator as the report cites it.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub value: Option<f64>,
    pub points: f64,
    pub max: f64,
    /// Points lost (max − points).
    pub lost: f64,
    /// The median over the region's peer group (itself included) of the
    /// value and of the points; None where no peer has one.
    pub peers_value: Option<f64>,
    pub peers_points: Option<f64>,
    /// The engine's reasons for each point taken (Chinese).
    pub reasons: Vec<String>,
    /// 整改建议 from the framework ('' where it has none).
    pub suggestion: String,
    pub missing: bool,
    pub veto: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub region: String,
    pub name: String,
    pub level: String,
    pub year: i32,
    pub total: f64,
    pub max: f64,
    pub grade: String,
    pub veto: bool,
    /// Rank among the region's peers (same parent), and among every region
    /// of its level in the province.
    pub rank: Option<(usize, usize)>,
    pub province_rank: Option<(usize, usize)>,
    /// In the bottom three of its peers (约谈, seed §4.2).
    pub bottom: bool,
    pub dimensions: Vec<PartScore>,
    /// Each dimension's median share (%) over the peer group.
    pub peers_dimensions: Vec<Option<f64>>,
    /// (year, total) of the years with a result, oldest first.
    pub trend: Vec<(i32, f64)>,
    pub strongest: Vec<Line>,
    pub weakest: Vec<Line>,
    /// Every indicator that lost points, most lost first.
    pub deductions: Vec<Line>,
    pub vetoes: Vec<Line>,
    /// Indicators without data (未报送).
    pub missing: Vec<Line>,
    /// Every indicator that applies, in the framework's order (附表).
    pub indicators: Vec<Line>,
    /// What the checks found (set by whoever reads the store).
    pub findings: Option<findings::Findings>,
}

/// Share of full points, for indicators that can score.
pub fn share(i: &IndicatorResult) -> Option<f64> {
    (!i.not_applicable && i.max > 0.0).then(|| i.points / i.max)
}

/// The indicators that can score, highest share of full points first
/// (larger full points first among equals).
pub fn by_share(r: &RegionResult) -> Vec<&IndicatorResult> {
    let mut v: Vec<&IndicatorResult> = r.indicators.iter().filter(|i| share(i).is_some()).collect();
    v.sort_by(|a, b| {
        share(b)
            .partial_cmp(&share(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.max.total_cmp(&a.max))
    });
    v
}

/// The report of `me` for `year`; `peers` is its peer group's results
/// (itself among them or not), `history` its totals by year.
pub fn build(
    fw: &Framework,
    year: i32,
    me: &RegionResult,
    peers: &[RegionResult],
    history: &[(i32, f64)],
) -> Report {
    let suggestions: HashMap<&str, &str> = fw
        .indicators()
        .into_iter()
        .map(|p| (p.indicator.code.as_str(), p.indicator.suggestion.as_str()))
        .collect();
    let mut group: Vec<&RegionResult> = peers.iter().filter(|p| p.region != me.region).collect();
    group.push(me);
    let line = |i: &IndicatorResult| {
        let theirs: Vec<&IndicatorResult> = group
            .iter()
            .filter_map(|p| p.indicators.iter().find(|x| x.code == i.code))
            .filter(|x| !x.not_applicable)
            .collect();
        let values: Vec<f64> = theirs.iter().filter_map(|x| x.value).collect();
        let points: Vec<f64> = theirs.iter().map(|x| x.points).collect();
        Line {
            code: i.code.clone(),
            name: i.name.clone(),
            unit: i.unit.clone(),
            value: i.value,
            points: i.points,
            max: i.max,
            lost: (i.max - i.points).max(0.0),
            peers_value: median(&values),
            peers_points: median(&points),
            reasons: i.reasons.clone(),
            suggestion: suggestions
                .get(i.code.as_str())
                .copied()
                .unwrap_or("")
                .to_string(),
            missing: i.missing,
            veto: i.veto,
        }
    };
    let ranked = by_share(me);
    let mut deductions: Vec<&IndicatorResult> = me
        .indicators
        .iter()
        .filter(|i| !i.not_applicable && i.max - i.points > 1e-9)
        .collect();
    deductions.sort_by(|a, b| (b.max - b.points).total_cmp(&(a.max - a.points)));
    let mut trend: Vec<(i32, f64)> = history.to_vec();
    trend.sort_by_key(|t| t.0);
    Report {
        region: me.region.clone(),
        name: me.name.clone(),
        level: me.level.clone(),
        year,
        total: me.total,
        max: me.max,
        grade: me.grade.clone(),
        veto: me.veto,
        rank: (me.peers > 0).then_some((me.rank, me.peers)),
        province_rank: (me.level_peers > 0).then_some((me.level_rank, me.level_peers)),
        bottom: me.bottom,
        dimensions: me.dimensions.clone(),
        peers_dimensions: me
            .dimensions
            .iter()
            .map(|d| {
                let shares: Vec<f64> = group
                    .iter()
                    .filter_map(|p| p.dimensions.iter().find(|x| x.code == d.code))
                    .map(|x| x.percent)
                    .collect();
                median(&shares)
            })
            .collect(),
        trend,
        strongest: ranked.iter().take(SHOWN).map(|i| line(i)).collect(),
        weakest: ranked.iter().rev().take(SHOWN).map(|i| line(i)).collect(),
        deductions: deductions.iter().map(|i| line(i)).collect(),
        vetoes: me.indicators.iter().filter(|i| i.veto).map(line).collect(),
        missing: me
            .indicators
            .iter()
            .filter(|i| i.missing)
            .map(line)
            .collect(),
        indicators: me
            .indicators
            .iter()
            .filter(|i| !i.not_applicable)
            .map(line)
            .collect(),
        findings: None,
    }
}

/// Level codes to the words a report uses (县（区） …).
fn level_label(code: &str) -> &'static str {
    use crate::region::Level;
    [Level::Province, Level::City, Level::County, Level::Township]
        .into_iter()
        .find(|l| l.code() == code)
        .map_or("地区", Level::label)
}

impl Report {
    /// 总体情况 in the words a 测评报告 uses: total, grade, ranks, the best
    /// and worst dimension, a veto, the bottom three. Totals have two
    /// decimals as published; shares at most one.
    pub fn overall(&self) -> String {
        use crate::num::fmt_num;
        let mut s = format!(
            "{}年，{}平安建设测评总分 {:.2} 分（满分 {} 分），等级为“{}”",
            self.year,
            self.name,
            self.total,
            fmt_num(self.max, 2),
            self.grade
        );
        if let Some((rank, n)) = self.rank {
            s.push_str(&format!("，在同级 {n} 个地区中排名第 {rank} 位"));
        }
        if let Some((rank, n)) = self.province_rank {
            s.push_str(&format!(
                "，在全省 {n} 个{}中排名第 {rank} 位",
                level_label(&self.level)
            ));
        }
        s.push('。');
        if let Some((best, worst)) = self.dimension_extremes() {
            s.push_str(&format!(
                "五个维度中，“{}”得分率最高（{}%），“{}”得分率最低（{}%）。",
                best.name,
                fmt_num(best.percent, 1),
                worst.name,
                fmt_num(worst.percent, 1)
            ));
        }
        if self.veto {
            s.push_str("因触发一票否决，等级确定为不合格。");
        }
        if self.bottom {
            s.push_str("位列同级后三位，按方案须由上级约谈主要负责人。");
        }
        s
    }

    /// The 整改建议 the report makes: the framework's suggestion for each
    /// indicator that lost points (most lost first), at most `n`.
    pub fn suggestions(&self, n: usize) -> Vec<&Line> {
        self.deductions
            .iter()
            .filter(|l| !l.suggestion.is_empty())
            .take(n)
            .collect()
    }

    /// The dimension with the highest and the lowest share of its points.
    pub fn dimension_extremes(&self) -> Option<(&PartScore, &PartScore)> {
        let best = self
            .dimensions
            .iter()
            .max_by(|a, b| a.percent.total_cmp(&b.percent))?;
        let worst = self
            .dimensions
            .iter()
            .min_by(|a, b| a.percent.total_cmp(&b.percent))?;
        Some((best, worst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::default_framework;

    fn indicator(code: &str, points: f64, max: f64, value: Option<f64>) -> IndicatorResult {
        IndicatorResult {
            code: code.into(),
            value,
            points,
            max,
            missing: value.is_none(),
            not_applicable: false,
            reasons: if points < max {
                vec![format!("{code} 扣 {} 分", max - points)]
            } else {
                Vec::new()
            },
            name: format!("指标{code}"),
            unit: "%".into(),
            provisional: false,
            veto: false,
        }
    }

    fn region(code: &str, inds: Vec<IndicatorResult>) -> RegionResult {
        RegionResult {
            region: code.into(),
            name: format!("地区{code}"),
            level: "county".into(),
            parent: Some("P".into()),
            total: inds.iter().map(|i| i.points).sum(),
            max: inds.iter().map(|i| i.max).sum(),
            grade: "良好".into(),
            veto: false,
            rank: 2,
            peers: 3,
            bottom: false,
            level_rank: 7,
            level_peers: 100,
            level_bottom: false,
            dimensions: Vec::new(),
            domains: Vec::new(),
            indicators: inds,
            deductions: Vec::new(),
        }
    }

    #[test]
    fn deductions_most_lost_first_with_peer_medians_and_suggestions() {
        let fw = default_framework();
        let me = region(
            "A",
            vec![
                indicator("D4.1.1", 1.0, 3.0, Some(80.0)),
                indicator("D1.1.2", 2.5, 3.0, Some(88.0)),
                indicator("D1.2.1", 2.0, 2.0, Some(99.0)),
            ],
        );
        let peers = vec![
            region(
                "B",
                vec![
                    indicator("D4.1.1", 3.0, 3.0, Some(95.0)),
                    indicator("D1.1.2", 3.0, 3.0, Some(92.0)),
                    indicator("D1.2.1", 2.0, 2.0, Some(97.0)),
                ],
            ),
            region(
                "C",
                vec![
                    indicator("D4.1.1", 2.0, 3.0, Some(90.0)),
                    indicator("D1.1.2", 3.0, 3.0, Some(91.0)),
                    indicator("D1.2.1", 1.0, 2.0, None),
                ],
            ),
            me.clone(),
        ];
        let r = build(&fw, 2024, &me, &peers, &[(2024, 5.5), (2022, 6.0)]);
        assert_eq!(r.rank, Some((2, 3)));
        assert_eq!(r.province_rank, Some((7, 100)));
        assert_eq!(r.trend, vec![(2022, 6.0), (2024, 5.5)]);
        let codes: Vec<&str> = r.deductions.iter().map(|l| l.code.as_str()).collect();
        assert_eq!(codes, ["D4.1.1", "D1.1.2"]);
        let grid = &r.deductions[0];
        assert_eq!(grid.lost, 2.0);
        // Peers A, B, C (A once, though it is in `peers` too).
        assert_eq!(grid.peers_value, Some(90.0));
        assert_eq!(grid.peers_points, Some(2.0));
        assert!(grid.suggestion.contains("加强网格员队伍建设"));
        assert_eq!(r.suggestions(1).len(), 1);
        assert_eq!(r.strongest[0].code, "D1.2.1");
        assert_eq!(r.weakest[0].code, "D4.1.1");
        // A missing value among peers is left out of the value's median.
        assert_eq!(r.deductions[1].peers_value, Some(91.0));
    }
}

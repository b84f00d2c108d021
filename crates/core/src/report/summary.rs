//! The province's summary for the 结果通报会 (seed §5.4): how many regions
//! were evaluated, the grades, every city's and county's result in rank
//! order, the dimensions' average shares, the common problems (the
//! indicators that lost the most points across counties) with their
//! suggestions, and the regions in the bottom three of their peers (约谈).

use super::doc::{Block, Cell, Chart, ChartKind, Doc, Row, Series, Table};
use super::sections::{Head, Sections, para};
use crate::framework::Framework;
use crate::num::fmt_num;
use crate::score::RegionResult;
use std::collections::BTreeMap;

/// Common problems named.
const COMMON: usize = 5;

fn ranking(id: &str, list: &[&RegionResult]) -> Block {
    let dims: Vec<String> = list
        .first()
        .map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    let mut head = vec![
        "名次".to_string(),
        "地区".into(),
        "总分".into(),
        "等级".into(),
    ];
    head.extend(dims);
    Block::Table(Table {
        id: id.into(),
        head,
        rows: list
            .iter()
            .map(|r| {
                let mut cells = vec![
                    Cell::num(r.level_rank.to_string(), Some(r.level_rank as f64)),
                    Cell::text(r.name.clone()),
                    Cell::points(r.total),
                    Cell::text(r.grade.clone()),
                ];
                cells.extend(r.dimensions.iter().map(|d| Cell::points(d.points)));
                Row {
                    key: r.region.clone(),
                    cells,
                }
            })
            .collect(),
    })
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// The summary of `year` over `results` (every region's official result;
/// cities and counties are reported), for the province `name`.
pub fn summary_doc(
    fw: &Framework,
    year: i32,
    name: &str,
    results: &[RegionResult],
    head: &Head,
) -> Doc {
    let by_rank = |level: &str| {
        let mut v: Vec<&RegionResult> = results.iter().filter(|r| r.level == level).collect();
        v.sort_by_key(|r| r.level_rank);
        v
    };
    let cities = by_rank("city");
    let counties = by_rank("county");
    let title = format!("{name}{year}年平安建设测评结果通报");
    let mut s = Sections::new();
    let mut b = vec![Block::Title(title.clone()), s.next("overall", "总体情况")];
    let mut grades: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &counties {
        *grades.entry(r.grade.as_str()).or_default() += 1;
    }
    let mut text = format!(
        "{year}年，全省共测评 {} 个市（州）、{} 个县（市、区）。",
        cities.len(),
        counties.len()
    );
    if let (Some(avg), Some(best), Some(worst)) = (
        mean(counties.iter().map(|r| r.total)),
        counties.first(),
        counties.last(),
    ) {
        text.push_str(&format!(
            "县级平均得分 {avg:.2} 分，最高为{}（{:.2} 分），最低为{}（{:.2} 分）。",
            best.name, best.total, worst.name, worst.total
        ));
        let order = ["优秀", "良好", "合格", "不合格"];
        let mut parts: Vec<String> = order
            .iter()
            .filter_map(|g| grades.get(g).map(|n| format!("“{g}”{n} 个")))
            .collect();
        parts.extend(
            grades
                .iter()
                .filter(|(g, _)| !order.contains(g))
                .map(|(g, n)| format!("“{g}”{n} 个")),
        );
        text.push_str(&format!("等级分布：{}。", parts.join("，")));
    }
    let vetoed = counties.iter().filter(|r| r.veto).count();
    if vetoed > 0 {
        text.push_str(&format!("{vetoed} 个县（市、区）触发一票否决。"));
    }
    b.push(Block::Para {
        id: "summary-overall".into(),
        text,
    });
    if let Some(first) = counties.first().or(cities.first()) {
        let level = if counties.is_empty() {
            &cities
        } else {
            &counties
        };
        b.push(Block::Chart(Chart {
            id: "dimensions".into(),
            caption: "图1　各维度平均得分率（%）".into(),
            kind: ChartKind::Bar,
            categories: first.dimensions.iter().map(|d| d.name.clone()).collect(),
            series: vec![Series {
                name: "平均得分率".into(),
                values: first
                    .dimensions
                    .iter()
                    .map(|d| {
                        mean(level.iter().filter_map(|r| {
                            r.dimensions
                                .iter()
                                .find(|x| x.code == d.code)
                                .map(|x| x.percent)
                        }))
                        .unwrap_or(0.0)
                    })
                    .collect(),
            }],
        }));
    }
    if !cities.is_empty() {
        b.push(s.next("cities", "各市（州）测评结果"));
        b.push(ranking("summary-cities", &cities));
    }
    if !counties.is_empty() {
        b.push(s.next("counties", "各县（市、区）测评结果"));
        b.push(ranking("summary-counties", &counties));
    }
    b.push(s.next("common", "共性问题"));
    let mut lost: BTreeMap<&str, (f64, usize, &str)> = BTreeMap::new();
    for r in &counties {
        for i in r.indicators.iter().filter(|i| !i.not_applicable) {
            let l = (i.max - i.points).max(0.0);
            if l > 1e-9 {
                let e = lost
                    .entry(i.code.as_str())
                    .or_insert((0.0, 0, i.name.as_str()));
                e.0 += l;
                e.1 += 1;
            }
        }
    }
    let mut common: Vec<(&str, (f64, usize, &str))> = lost.into_iter().collect();
    common.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    if common.is_empty() {
        b.push(para("各县（市、区）各项指标均得满分。"));
    }
    let suggestion = |code: &str| {
        fw.indicators()
            .into_iter()
            .find(|p| p.indicator.code == code)
            .map(|p| p.indicator.suggestion.clone())
            .unwrap_or_default()
    };
    for (k, (code, (sum, n, iname))) in common.iter().take(COMMON).enumerate() {
        let mut text = format!(
            "{n} 个县（市、区）在该项失分，合计失分 {}，平均每个失分 {}。",
            fmt_num(*sum, 2),
            fmt_num(sum / *n as f64, 2)
        );
        let sg = suggestion(code);
        if !sg.is_empty() {
            text.push_str(&format!("建议：{sg}"));
        }
        b.push(Block::RunIn {
            lead: format!("（{}）{iname}。", super::numeral(k)),
            text,
        });
    }
    let bottom: Vec<&RegionResult> = cities
        .iter()
        .chain(&counties)
        .copied()
        .filter(|r| r.bottom)
        .collect();
    b.push(s.next("talks", "约谈与整改"));
    if bottom.is_empty() {
        b.push(para("本年度无位列同级后三位的地区。"));
    } else {
        let names: Vec<String> = bottom
            .iter()
            .map(|r| format!("{}（{:.2} 分）", r.name, r.total))
            .collect();
        b.push(para(format!(
            "以下 {} 个地区位列同级后三位，按方案由省委政法委主要领导约谈其主要负责人：{}。",
            bottom.len(),
            names.join("、")
        )));
    }
    b.push(para(
        "各地区须在收到测评报告和问题整改通知书之日起30日内制定整改方案，明确整改目标、责任分工、整改时限和保障措施，报省平安建设领导小组办公室备案；整改期满后，省测评组对整改情况进行复查。",
    ));
    b.push(head.note("通报"));
    let root = results
        .iter()
        .find(|r| r.level == "province")
        .map_or(String::new(), |r| r.region.clone());
    Doc {
        title,
        blocks: b,
        properties: head.properties(&root, year),
    }
}

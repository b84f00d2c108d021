//! The 测评报告's sections as blocks: 总体情况, 各维度得分 (with the radar
//! chart), 历年得分趋势 (with the line chart), 优势与短板, 扣分情况,
//! 一票否决与未报送 and 整改建议, and the note naming the ledger head.

use super::doc::{Block, Cell, Chart, ChartKind, Doc, Row, Series, Table};
use super::{Line, Report, numeral};
use crate::num::fmt_num;

/// The ledger's head a document was made at, and when (北京时间).
#[derive(Clone, Debug)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub made_at: String,
}

impl Head {
    pub fn note(&self, what: &str) -> Block {
        Block::Ledger {
            seq: self.seq,
            hash: self.hash.clone(),
            text: format!(
                "注：本{what}依据审计日志第 {} 条（哈希 {}）时已审定的测评结果生成，在同一日志状态下重新生成，内容相同。生成时间：{}。",
                self.seq, self.hash, self.made_at
            ),
        }
    }

    pub fn properties(&self, region: &str, year: i32) -> Vec<(String, String)> {
        vec![
            ("pingan-ledger-seq".into(), self.seq.to_string()),
            ("pingan-ledger-hash".into(), self.hash.clone()),
            ("pingan-region".into(), region.into()),
            ("pingan-year".into(), year.to_string()),
        ]
    }
}

/// Numbers the 一级标题 一、二、… as they come.
pub(crate) struct Sections(usize);

impl Sections {
    pub(crate) fn new() -> Sections {
        Sections(0)
    }
    pub(crate) fn next(&mut self, key: &str, text: &str) -> Block {
        self.0 += 1;
        Block::Heading {
            key: key.into(),
            text: format!("{}、{text}", numeral(self.0 - 1)),
        }
    }
}

pub(crate) fn para(text: impl Into<String>) -> Block {
    Block::Para {
        id: String::new(),
        text: text.into(),
    }
}

/// An indicator's row: its name, value and the peers' median, then `more`.
fn line_row(l: &Line, more: Vec<Cell>) -> Row {
    let mut cells = vec![
        Cell::text(format!("{} {}", l.code, l.name)),
        Cell::value(l.value, &l.unit),
        Cell::value(l.peers_value, &l.unit),
    ];
    cells.extend(more);
    Row {
        key: l.code.clone(),
        cells,
    }
}

fn lines_table(list: &[Line]) -> Block {
    Block::Table(Table {
        id: String::new(),
        head: vec![
            "指标".into(),
            "数值".into(),
            "同级中位数".into(),
            "得分 / 满分".into(),
        ],
        rows: list
            .iter()
            .map(|l| {
                line_row(
                    l,
                    vec![Cell::right(format!(
                        "{} / {}",
                        fmt_num(l.points, 2),
                        fmt_num(l.max, 2)
                    ))],
                )
            })
            .collect(),
    })
}

impl Report {
    pub fn title(&self) -> String {
        format!("{}{}年平安建设测评报告", self.name, self.year)
    }

    /// The radar of the five dimensions' shares beside the peers' median.
    pub fn radar(&self) -> Chart {
        Chart {
            id: "radar".into(),
            caption: format!("图1　{}各维度得分率与同级中位数（%）", self.name),
            kind: ChartKind::Radar { max: 100.0 },
            categories: self.dimensions.iter().map(|d| d.name.clone()).collect(),
            series: vec![
                Series {
                    name: self.name.clone(),
                    values: self.dimensions.iter().map(|d| d.percent).collect(),
                },
                Series {
                    name: "同级中位数".into(),
                    values: self
                        .peers_dimensions
                        .iter()
                        .map(|p| p.unwrap_or(0.0))
                        .collect(),
                },
            ],
        }
    }

    /// Totals by year.
    pub fn trend_chart(&self) -> Chart {
        Chart {
            id: "trend".into(),
            caption: format!("图2　{}历年测评总分", self.name),
            kind: ChartKind::Line,
            categories: self.trend.iter().map(|(y, _)| format!("{y}年")).collect(),
            series: vec![Series {
                name: "总分".into(),
                values: self.trend.iter().map(|(_, t)| *t).collect(),
            }],
        }
    }

    /// The whole report as blocks, with at most `suggestions` suggestions.
    pub fn doc(&self, head: &Head, suggestions: usize) -> Doc {
        let mut s = Sections::new();
        let mut b = vec![
            Block::Title(self.title()),
            s.next("overall", "总体情况"),
            Block::Para {
                id: "report-overall".into(),
                text: self.overall(),
            },
            s.next("dimensions", "各维度得分"),
            Block::Table(Table {
                id: "report-dimensions".into(),
                head: ["维度", "得分", "满分", "得分率", "同级中位数"]
                    .map(String::from)
                    .to_vec(),
                rows: self
                    .dimensions
                    .iter()
                    .zip(&self.peers_dimensions)
                    .map(|(d, p)| Row {
                        key: d.code.clone(),
                        cells: vec![
                            Cell::text(d.name.clone()),
                            Cell::points(d.points),
                            Cell::num(fmt_num(d.max, 2), Some(d.max)),
                            Cell::percent(Some(d.percent)),
                            Cell::percent(*p),
                        ],
                    })
                    .collect(),
            }),
        ];
        // A radar needs three axes at least.
        if self.dimensions.len() >= 3 {
            b.push(Block::Chart(self.radar()));
        }
        if self.trend.len() > 1 {
            let years: Vec<String> = self
                .trend
                .iter()
                .map(|(y, t)| format!("{y}年 {t:.2} 分"))
                .collect();
            b.push(s.next("trend", "历年得分趋势"));
            b.push(para(format!("{}。", years.join("，"))));
            b.push(Block::Chart(self.trend_chart()));
        }
        b.push(s.next("strengths", "优势与短板"));
        b.push(Block::Subheading("（一）得分率最高的指标".into()));
        b.push(lines_table(&self.strongest));
        b.push(Block::Subheading("（二）得分率最低的指标".into()));
        b.push(lines_table(&self.weakest));
        b.push(s.next("deductions", "扣分情况"));
        if self.deductions.is_empty() {
            b.push(para("各项指标均得满分。"));
        } else {
            let lost: f64 = self.deductions.iter().map(|l| l.lost).sum();
            b.push(para(format!(
                "共有 {} 项指标失分，合计失分 {} 分，按失分从多到少列出：",
                self.deductions.len(),
                fmt_num(lost, 2)
            )));
            b.push(Block::Table(Table {
                id: "report-deductions".into(),
                head: ["指标", "数值", "同级中位数", "失分", "扣分原因"]
                    .map(String::from)
                    .to_vec(),
                rows: self
                    .deductions
                    .iter()
                    .map(|l| {
                        line_row(
                            l,
                            vec![
                                Cell::num(fmt_num(l.lost, 2), Some(l.lost)),
                                Cell::text(l.reasons.join("；")),
                            ],
                        )
                    })
                    .collect(),
            }));
        }
        if !self.vetoes.is_empty() || !self.missing.is_empty() {
            b.push(s.next("vetoes", "一票否决与未报送"));
            for l in &self.vetoes {
                b.push(para(format!(
                    "一票否决：{}（{}）。",
                    l.name,
                    l.reasons.join("；")
                )));
            }
            if !self.missing.is_empty() {
                let names: Vec<&str> = self.missing.iter().map(|l| l.name.as_str()).collect();
                b.push(para(format!(
                    "未报送数据的指标 {} 项（未报送不得分）：{}。",
                    names.len(),
                    names.join("、")
                )));
            }
        }
        if let Some(f) = &self.findings {
            b.extend(f.blocks(&mut s));
        }
        b.push(s.next("suggestions", "整改建议"));
        let chosen = self.suggestions(suggestions);
        if chosen.is_empty() {
            b.push(para("无失分指标，保持现有工作水平。"));
        }
        for (k, l) in chosen.iter().enumerate() {
            b.push(Block::RunIn {
                lead: format!("（{}）{}。", numeral(k), l.name),
                text: l.suggestion.clone(),
            });
        }
        b.push(Block::Heading {
            key: "appendix".into(),
            text: "附表　各项指标得分明细".into(),
        });
        b.push(Block::Table(Table {
            id: "report-indicators".into(),
            head: ["指标", "数值", "同级中位数", "得分", "满分", "失分"]
                .map(String::from)
                .to_vec(),
            rows: self
                .indicators
                .iter()
                .map(|l| {
                    line_row(
                        l,
                        vec![
                            Cell::points(l.points),
                            Cell::num(fmt_num(l.max, 2), Some(l.max)),
                            Cell::num(fmt_num(l.lost, 2), Some(l.lost)),
                        ],
                    )
                })
                .collect(),
        }));
        b.push(head.note("报告"));
        Doc {
            title: self.title(),
            blocks: b,
            properties: head.properties(&self.region, self.year),
        }
    }
}

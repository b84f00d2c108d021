//! A document as the blocks every renderer prints (issue 20): the Word
//! file, the A4 page and the workbook walk the same list, so what one says
//! the others say. The blocks are the parts of a 公文 (GB/T 9704-2012):
//! masthead, title, addressee, headings, paragraphs, tables, charts,
//! signature, colophon.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Doc {
    /// The title, also the file's name.
    pub title: String,
    pub blocks: Vec<Block>,
    /// Recorded in the file's properties (the ledger head, region, year).
    pub properties: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Block {
    /// 发文机关标志 (red) and 发文字号, above the red separator line.
    Masthead {
        organ: String,
        number: String,
    },
    Title(String),
    /// 主送机关: flush left, ending in a colon.
    Addressee(String),
    /// 一级标题 (黑体), opening the section `key`.
    Heading {
        key: String,
        text: String,
    },
    /// 二级标题 (楷体).
    Subheading(String),
    /// A body paragraph; `id` names it for the page ('' for none).
    Para {
        id: String,
        text: String,
    },
    /// A paragraph opening with a 二级 heading in the same line.
    RunIn {
        lead: String,
        text: String,
    },
    Table(Table),
    Chart(Chart),
    /// 发文机关署名 and 成文日期, at the right.
    Signature {
        organ: String,
        date: String,
    },
    /// 版记: 抄送 and 印发机关、印发日期 between lines.
    Colophon {
        copy_to: String,
        printer: String,
        date: String,
    },
    /// Where the document was made from, in smaller type.
    Ledger {
        seq: i64,
        hash: String,
        text: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Names it for the page ('' for none).
    pub id: String,
    pub head: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The indicator or region the row is about ('' for none).
    pub key: String,
    pub cells: Vec<Cell>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub text: String,
    /// Right-aligned (a number or numbers).
    pub right: bool,
    /// The number a workbook stores, where the cell is one.
    pub value: Option<f64>,
    /// `value` is a percentage (67.8 for 67.8%).
    pub percent: bool,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            right: false,
            value: None,
            percent: false,
        }
    }
    /// Numbers as text, right-aligned ("2 / 3").
    pub fn right(t: impl Into<String>) -> Cell {
        Cell {
            right: true,
            ..Cell::text(t)
        }
    }
    /// A number printed as `t`.
    pub fn num(t: impl Into<String>, v: Option<f64>) -> Cell {
        Cell {
            value: v,
            ..Cell::right(t)
        }
    }
    /// Points with two decimals, as published.
    pub fn points(v: f64) -> Cell {
        Cell::num(format!("{v:.2}"), Some(v))
    }
    /// A percentage with one decimal at most.
    pub fn percent(v: Option<f64>) -> Cell {
        Cell {
            percent: true,
            ..Cell::num(
                v.map_or("—".into(), |v| format!("{}%", crate::num::fmt_num(v, 1))),
                v,
            )
        }
    }
    /// An indicator's value with its unit.
    pub fn value(v: Option<f64>, unit: &str) -> Cell {
        Cell {
            percent: unit == "%",
            ..Cell::num(value_text(v, unit), v)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ChartKind {
    /// Axes from 0 to `max`, one per category.
    Radar {
        max: f64,
    },
    /// Categories along x.
    Line,
    Bar,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    pub id: String,
    /// What it shows, in words (the caption, and the text of the picture).
    pub caption: String,
    pub kind: ChartKind,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

impl Doc {
    /// The section keys in order.
    pub fn sections(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading { key, .. } => Some(key.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn charts(&self) -> impl Iterator<Item = &Chart> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Chart(c) => Some(c),
            _ => None,
        })
    }

    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The text a reader sees, one block a line: for tests and searches.
    pub fn plain(&self) -> String {
        let mut s = String::new();
        for b in &self.blocks {
            match b {
                Block::Masthead { organ, number } => s += &format!("{organ}\n{number}"),
                Block::Title(t) | Block::Addressee(t) | Block::Subheading(t) => s += t,
                Block::Heading { text, .. } | Block::Para { text, .. } => s += text,
                Block::RunIn { lead, text } => s += &format!("{lead}{text}"),
                Block::Table(t) => {
                    s += &t.head.join("\t");
                    for r in &t.rows {
                        s.push('\n');
                        let cells: Vec<&str> = r.cells.iter().map(|c| c.text.as_str()).collect();
                        s += &cells.join("\t");
                    }
                }
                Block::Chart(c) => s += &c.caption,
                Block::Signature { organ, date } => s += &format!("{organ}\n{date}"),
                Block::Colophon {
                    copy_to,
                    printer,
                    date,
                } => s += &format!("抄送：{copy_to}\n{printer}　{date}印发"),
                Block::Ledger { text, .. } => s += text,
            }
            s.push('\n');
        }
        s
    }
}

/// `v` with its unit as a report prints it: two decimals at most, '—'
/// where there is none.
pub fn value_text(v: Option<f64>, unit: &str) -> String {
    use crate::num::fmt_num;
    match v {
        None => "—".into(),
        Some(v) if unit == "%" => format!("{}%", fmt_num(v, 2)),
        Some(v) if unit.is_empty() => fmt_num(v, 2),
        Some(v) => format!("{} {unit}", fmt_num(v, 2)),
    }
}

/// A date as 成文日期 is written since GB/T 9704-2012: Arabic numerals,
/// no leading zeros (2024年12月5日). `iso` is YYYY-MM-DD…; None if not.
pub fn written_date(iso: &str) -> Option<String> {
    let y: i32 = iso.get(0..4)?.parse().ok()?;
    let m: u32 = iso.get(5..7)?.parse().ok()?;
    let d: u32 = iso.get(8..10)?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y}年{m}月{d}日"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_values_as_written() {
        assert_eq!(
            written_date("2024-12-05T10:00:00Z").as_deref(),
            Some("2024年12月5日")
        );
        assert_eq!(written_date("2024-13-05"), None);
        assert_eq!(written_date("垃圾"), None);
        assert_eq!(value_text(Some(93.456), "%"), "93.46%");
        assert_eq!(value_text(Some(2.0), "人"), "2 人");
        assert_eq!(value_text(None, "%"), "—");
    }
}

//! The 测评报告 as DOCX on GB/T 9704-2012's page: A4; 天头 37 mm, 订口
//! 28 mm, bottom 35 mm, right 26 mm (版心 156 × 225 mm); a document grid of
//! 22 lines (28.95 pt pitch), 28 characters of 3号 a line; title 2号 (22 pt) 小标宋,
//! body 3号 (16 pt) 仿宋, 一级标题 黑体, 二级 楷体; page numbers 4号 (14 pt)
//! 宋体 "— 1 —", odd pages right and even pages left, one character in.
//! Font names are the ones offices have; Word and LibreOffice substitute
//! what a machine lacks (docs/reports.md lists the fallbacks).

use crate::ReportError;
use docx_rs::{
    AlignmentType, DocGrid, DocGridType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin,
    PageNum, Paragraph, Run, RunFonts, SpecialIndentType, Table, TableCell, TableRow,
};
use pingan_core::num::fmt_num;
use pingan_core::report::{Line, Report, numeral};

/// Millimetres in twips (1/1440 inch), rounded.
fn mm(x: f64) -> i32 {
    (x / 25.4 * 1440.0).round() as i32
}

/// 28.95 pt, the grid's line pitch, in twips.
const LINE: i32 = 579;
/// Sizes in half points: 2号, 3号, 4号, and 小四 for tables.
const TITLE_SIZE: usize = 44;
const BODY_SIZE: usize = 32;
const PAGE_NUMBER_SIZE: usize = 28;
const TABLE_SIZE: usize = 24;

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const H1_FONT: &str = "黑体";
const H2_FONT: &str = "楷体_GB2312";
const NUMBER_FONT: &str = "宋体";
/// Latin letters and digits in the body.
const LATIN_FONT: &str = "Times New Roman";

/// Where the report was made from: the ledger's head.
pub struct Ledger<'a> {
    pub seq: i64,
    pub hash: &'a str,
    /// When, as the office reads it (北京时间).
    pub made_at: &'a str,
}

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
}

fn exact(line: i32) -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(line)
}

fn title(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(exact(LINE * 2).after(LINE as u32))
        .add_run(
            Run::new()
                .add_text(text)
                .fonts(fonts(TITLE_FONT))
                .size(TITLE_SIZE),
        )
}

/// Two characters (2 × 16 pt) in on the first line. (docx-rs writes
/// `firstLineChars` only into an indent it already has, and LibreOffice
/// reads only twips.)
fn indented(p: Paragraph) -> Paragraph {
    p.indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
}

fn heading(text: &str, font: &str) -> Paragraph {
    indented(Paragraph::new())
        .line_spacing(exact(LINE))
        .add_run(Run::new().add_text(text).fonts(fonts(font)).size(BODY_SIZE))
}

fn body(text: &str) -> Paragraph {
    indented(Paragraph::new())
        .align(AlignmentType::Both)
        .line_spacing(exact(LINE))
        .add_run(Run::new().add_text(text))
}

fn cell(text: &str, right: bool) -> TableCell {
    let p = Paragraph::new()
        .align(if right {
            AlignmentType::Right
        } else {
            AlignmentType::Left
        })
        .snap_to_grid(false)
        .add_run(Run::new().add_text(text).size(TABLE_SIZE));
    TableCell::new().add_paragraph(p)
}

fn table(head: &[&str], rows: Vec<Vec<(String, bool)>>) -> Table {
    let mut all = vec![TableRow::new(
        head.iter()
            .map(|h| {
                TableCell::new().add_paragraph(
                    Paragraph::new().align(AlignmentType::Center).add_run(
                        Run::new()
                            .add_text(*h)
                            .fonts(fonts(H1_FONT))
                            .size(TABLE_SIZE),
                    ),
                )
            })
            .collect(),
    )];
    for r in rows {
        all.push(TableRow::new(
            r.iter().map(|(t, right)| cell(t, *right)).collect(),
        ));
    }
    Table::new(all)
}

fn value(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "—".into(),
        Some(v) if unit == "%" => format!("{}%", fmt_num(v, 2)),
        Some(v) if unit.is_empty() => fmt_num(v, 2),
        Some(v) => format!("{} {unit}", fmt_num(v, 2)),
    }
}

fn lines_table(list: &[Line]) -> Table {
    table(
        &["指标", "数值", "同级中位数", "得分 / 满分"],
        list.iter()
            .map(|l| {
                vec![
                    (format!("{} {}", l.code, l.name), false),
                    (value(l.value, &l.unit), true),
                    (value(l.peers_value, &l.unit), true),
                    (
                        format!("{} / {}", fmt_num(l.points, 2), fmt_num(l.max, 2)),
                        true,
                    ),
                ]
            })
            .collect(),
    )
}

/// "— 1 —" one character in from the right (odd pages) or left (even).
fn page_number(odd: bool) -> Footer {
    let run = |t: &str| {
        Run::new()
            .add_text(t)
            .fonts(fonts(NUMBER_FONT))
            .size(PAGE_NUMBER_SIZE)
    };
    let p = if odd {
        Paragraph::new()
            .align(AlignmentType::Right)
            .add_run(run("— "))
            .add_page_num(PageNum::new())
            .add_run(run(" —\u{3000}"))
    } else {
        Paragraph::new()
            .align(AlignmentType::Left)
            .add_run(run("\u{3000}— "))
            .add_page_num(PageNum::new())
            .add_run(run(" —"))
    };
    Footer::new().add_paragraph(p.size(PAGE_NUMBER_SIZE))
}

/// The 测评报告 of `r` as a DOCX file, recording `ledger` in its custom
/// properties and its closing note.
pub fn report_docx(
    r: &Report,
    ledger: &Ledger<'_>,
    suggestions: usize,
) -> Result<Vec<u8>, ReportError> {
    let mut margin = PageMargin::new();
    margin.top = mm(37.0);
    margin.bottom = mm(35.0);
    margin.left = mm(28.0);
    margin.right = mm(26.0);
    // The number's top 7 mm below the 版心, 14 pt high: its foot about
    // 23 mm above the page's edge.
    margin.footer = mm(23.0);
    margin.header = mm(15.0);
    let mut doc = Docx::new()
        .page_size(mm(210.0) as u32, mm(297.0) as u32)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT))
        .default_size(BODY_SIZE)
        .footer(page_number(true))
        .even_footer(page_number(false))
        .custom_property("pingan-ledger-seq", ledger.seq.to_string())
        .custom_property("pingan-ledger-hash", ledger.hash)
        .custom_property("pingan-region", r.region.as_str())
        .custom_property("pingan-year", r.year.to_string());
    // A grid of lines only: 16 pt characters on the 156 mm line make the
    // 28 a line. A character grid too (linesAndChars with charSpace) is what
    // Word writes, but LibreOffice then spread every character over two
    // cells, so the text read "总 体 情 况".
    doc.document = doc.document.doc_grid(
        DocGrid::new()
            .grid_type(DocGridType::Lines)
            .line_pitch(LINE as usize),
    );
    let mut n = 0;
    let mut section = |text: &str| {
        n += 1;
        heading(&format!("{}、{text}", numeral(n - 1)), H1_FONT)
    };
    doc = doc
        .add_paragraph(title(&format!("{}{}年平安建设测评报告", r.name, r.year)))
        .add_paragraph(section("总体情况"))
        .add_paragraph(body(&r.overall()))
        .add_paragraph(section("各维度得分"))
        .add_table(table(
            &["维度", "得分", "满分", "得分率", "同级中位数"],
            r.dimensions
                .iter()
                .zip(&r.peers_dimensions)
                .map(|(d, p)| {
                    vec![
                        (d.name.clone(), false),
                        (format!("{:.2}", d.points), true),
                        (fmt_num(d.max, 2), true),
                        (format!("{}%", fmt_num(d.percent, 1)), true),
                        (
                            p.map_or("—".into(), |p| format!("{}%", fmt_num(p, 1))),
                            true,
                        ),
                    ]
                })
                .collect(),
        ));
    if r.trend.len() > 1 {
        let years: Vec<String> = r
            .trend
            .iter()
            .map(|(y, t)| format!("{y}年 {t:.2} 分"))
            .collect();
        doc = doc
            .add_paragraph(section("历年得分趋势"))
            .add_paragraph(body(&format!("{}。", years.join("，"))));
    }
    doc = doc
        .add_paragraph(section("优势与短板"))
        .add_paragraph(heading("（一）得分率最高的指标", H2_FONT))
        .add_table(lines_table(&r.strongest))
        .add_paragraph(heading("（二）得分率最低的指标", H2_FONT))
        .add_table(lines_table(&r.weakest))
        .add_paragraph(section("扣分情况"));
    if r.deductions.is_empty() {
        doc = doc.add_paragraph(body("各项指标均得满分。"));
    } else {
        let lost: f64 = r.deductions.iter().map(|l| l.lost).sum();
        doc = doc
            .add_paragraph(body(&format!(
                "共有 {} 项指标失分，合计失分 {} 分，按失分从多到少列出：",
                r.deductions.len(),
                fmt_num(lost, 2)
            )))
            .add_table(table(
                &["指标", "数值", "同级中位数", "失分", "扣分原因"],
                r.deductions
                    .iter()
                    .map(|l| {
                        vec![
                            (format!("{} {}", l.code, l.name), false),
                            (value(l.value, &l.unit), true),
                            (value(l.peers_value, &l.unit), true),
                            (fmt_num(l.lost, 2), true),
                            (l.reasons.join("；"), false),
                        ]
                    })
                    .collect(),
            ));
    }
    if !r.vetoes.is_empty() || !r.missing.is_empty() {
        doc = doc.add_paragraph(section("一票否决与未报送"));
        for l in &r.vetoes {
            doc = doc.add_paragraph(body(&format!(
                "一票否决：{}（{}）。",
                l.name,
                l.reasons.join("；")
            )));
        }
        if !r.missing.is_empty() {
            let names: Vec<&str> = r.missing.iter().map(|l| l.name.as_str()).collect();
            doc = doc.add_paragraph(body(&format!(
                "未报送数据的指标 {} 项（未报送不得分）：{}。",
                names.len(),
                names.join("、")
            )));
        }
    }
    doc = doc.add_paragraph(section("整改建议"));
    let chosen = r.suggestions(suggestions);
    if chosen.is_empty() {
        doc = doc.add_paragraph(body("无失分指标，保持现有工作水平。"));
    }
    for (k, l) in chosen.iter().enumerate() {
        doc = doc.add_paragraph(
            indented(Paragraph::new())
                .align(AlignmentType::Both)
                .line_spacing(exact(LINE))
                .add_run(
                    Run::new()
                        .add_text(format!("（{}）{}。", numeral(k), l.name))
                        .fonts(fonts(H2_FONT)),
                )
                .add_run(Run::new().add_text(l.suggestion.as_str())),
        );
    }
    doc = doc.add_paragraph(
        Paragraph::new()
            .line_spacing(LineSpacing::new().before(LINE as u32))
            .add_run(
                Run::new()
                    .add_text(format!(
                        "注：本报告依据审计日志第 {} 条（哈希 {}）时已审定的测评结果生成，在同一日志状态下重新生成，内容相同。生成时间：{}。",
                        ledger.seq, ledger.hash, ledger.made_at
                    ))
                    .size(TABLE_SIZE),
            ),
    );
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests;

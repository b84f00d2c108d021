//! The 测评报告 as DOCX on GB/T 9704-2012's page: A4; 天头 37 mm, 订口
//! 28 mm, bottom 35 mm, right 26 mm (版心 156 × 225 mm); a document grid of
//! 22 lines (28.95 pt pitch), 28 characters of 3号 a line; title 2号 (22 pt) 小标宋,
//! body 3号 (16 pt) 仿宋, 一级标题 黑体, 二级 楷体; page numbers 4号 (14 pt)
//! 宋体 "— 1 —", odd pages right and even pages left, one character in.
//! Font names are the ones offices have; Word and LibreOffice substitute
//! what a machine lacks (docs/reports.md lists the fallbacks).

use crate::ReportError;
use docx_rs::{
    AlignmentType, BorderType, DocGrid, DocGridType, Docx, Footer, LineSpacing, LineSpacingType,
    PageMargin, PageNum, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders,
    Pic, Run, RunFonts, SpecialIndentType, Tab, TabValueType, Table, TableCell, TableLayoutType,
    TableRow, WidthType,
};
use pingan_core::report::doc::{self, Block, Cell, Doc};

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
const RED: &str = "FF0000";

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const H1_FONT: &str = "黑体";
const H2_FONT: &str = "楷体_GB2312";
const NUMBER_FONT: &str = "宋体";
/// Latin letters and digits in the body.
const LATIN_FONT: &str = "Times New Roman";

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

/// The 版心's width in twips (156 mm).
const TEXT_WIDTH: usize = 8844;

fn cell(c: &Cell, width: usize) -> TableCell {
    let p = Paragraph::new()
        .align(if c.right {
            AlignmentType::Right
        } else {
            AlignmentType::Left
        })
        .snap_to_grid(false)
        .add_run(Run::new().add_text(c.text.as_str()).size(TABLE_SIZE));
    TableCell::new()
        .width(width, WidthType::Dxa)
        .add_paragraph(p)
}

/// Column widths over the 版心 in proportion to what each column holds: a
/// column of numbers as wide as its longest, one of words wider, a long
/// text (reasons) the widest.
fn widths(t: &doc::Table) -> Vec<usize> {
    // Half-widths: a Chinese character takes two, a digit or letter one.
    let width = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    let n = t.head.len().max(1);
    let weight: Vec<f64> = (0..n)
        .map(|k| {
            let longest = t
                .rows
                .iter()
                .filter_map(|r| r.cells.get(k))
                .map(|c| width(&c.text))
                .chain(t.head.get(k).map(|h| width(h)))
                .max()
                .unwrap_or(8);
            (longest as f64 + 3.0).clamp(10.0, 32.0)
        })
        .collect();
    let sum: f64 = weight.iter().sum();
    weight
        .iter()
        .map(|w| (w / sum * TEXT_WIDTH as f64) as usize)
        .collect()
}

fn table(t: &doc::Table) -> Table {
    let widths = widths(t);
    let head = TableRow::new(
        t.head
            .iter()
            .zip(&widths)
            .map(|(h, w)| {
                TableCell::new().width(*w, WidthType::Dxa).add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .snap_to_grid(false)
                        .add_run(
                            Run::new()
                                .add_text(h.as_str())
                                .fonts(fonts(H1_FONT))
                                .size(TABLE_SIZE),
                        ),
                )
            })
            .collect(),
    );
    let mut all = vec![head];
    for r in &t.rows {
        all.push(
            TableRow::new(
                r.cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| cell(c, *w))
                    .collect(),
            )
            .cant_split(),
        );
    }
    Table::new(all)
        .set_grid(widths)
        .width(TEXT_WIDTH, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
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

/// 发文机关标志 in red 小标宋, 发文字号 under it, and the red line.
fn masthead(organ: &str, number: &str) -> Vec<Paragraph> {
    let size = crate::masthead_pt(organ) * 2;
    let mark = Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(exact(LINE * 3))
        .add_run(
            Run::new()
                .add_text(organ)
                .fonts(fonts(TITLE_FONT))
                .size(size)
                .color(RED),
        );
    let mut number = Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(exact(LINE).before(LINE as u32).after(LINE as u32))
        .add_run(Run::new().add_text(number));
    // The red separator line under the number: a 2.25 pt border (sz 18, in
    // eighths of a point).
    number.property = number.property.set_borders(
        ParagraphBorders::with_empty().set(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Single)
                .size(18)
                .space(4)
                .color(RED),
        ),
    );
    vec![mark, number]
}

fn right(text: &str, chars_in: i32) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Right)
        .indent(None, None, Some(chars_in * 320), None)
        .line_spacing(exact(LINE))
        .add_run(Run::new().add_text(text))
}

/// 版记: 抄送 and 印发 between a thick first line, a thin line and a thick
/// last line, 4号 (14 pt) type, one character in.
fn colophon(copy_to: &str, printer: &str, date: &str) -> Vec<Paragraph> {
    let line = |p: Paragraph, lines: &[(ParagraphBorderPosition, usize)]| {
        let mut p = p;
        let mut b = ParagraphBorders::with_empty();
        for (pos, size) in lines {
            b = b.set(
                ParagraphBorder::new(pos.clone())
                    .val(BorderType::Single)
                    .size(*size)
                    .space(1),
            );
        }
        p.property = p.property.set_borders(b);
        p
    };
    let row = |text: String| {
        Paragraph::new()
            .indent(Some(280), None, Some(280), None)
            .line_spacing(exact(LINE))
            .add_run(Run::new().add_text(text).size(PAGE_NUMBER_SIZE))
    };
    let copy = line(
        row(format!("抄送：{copy_to}"))
            .line_spacing(exact(LINE).before((LINE * 2) as u32))
            .keep_next(true),
        &[
            (ParagraphBorderPosition::Top, 8),
            (ParagraphBorderPosition::Bottom, 4),
        ],
    );
    let print = line(
        Paragraph::new()
            .indent(Some(280), None, Some(280), None)
            .line_spacing(exact(LINE))
            .add_tab(Tab::new().val(TabValueType::Right).pos(8560))
            .add_run(Run::new().add_text(printer).size(PAGE_NUMBER_SIZE))
            .add_run(
                Run::new()
                    .add_tab()
                    .add_text(format!("{date}印发"))
                    .size(PAGE_NUMBER_SIZE),
            ),
        &[(ParagraphBorderPosition::Bottom, 8)],
    );
    vec![copy, print]
}

fn caption(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(exact(LINE))
        .add_run(
            Run::new()
                .add_text(text)
                .fonts(fonts(H2_FONT))
                .size(TABLE_SIZE),
        )
}

/// A chart as a picture 140 mm wide, centred; its caption under it.
fn picture(png: Vec<u8>) -> Paragraph {
    // 1 mm is 36,000 EMU; the PNG is drawn at 3:2.
    let (w, h) = (140 * 36_000, 140 * 36_000 * 2 / 3);
    let px = (crate::charts::WIDTH * 2.0) as u32;
    let pic = Pic::new_with_dimensions(png, px, px * 2 / 3).size(w, h);
    Paragraph::new()
        .align(AlignmentType::Center)
        .snap_to_grid(false)
        .keep_next(true)
        .add_run(Run::new().add_image(pic))
}

/// `doc` as a DOCX file on GB/T 9704's page, its properties recorded.
pub fn docx(doc: &Doc) -> Result<Vec<u8>, ReportError> {
    let mut margin = PageMargin::new();
    margin.top = mm(37.0);
    margin.bottom = mm(35.0);
    margin.left = mm(28.0);
    margin.right = mm(26.0);
    // The number's top 7 mm below the 版心, 14 pt high: its foot about
    // 23 mm above the page's edge.
    margin.footer = mm(23.0);
    margin.header = mm(15.0);
    let mut d = Docx::new()
        .page_size(mm(210.0) as u32, mm(297.0) as u32)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT))
        .default_size(BODY_SIZE)
        .footer(page_number(true))
        .even_footer(page_number(false));
    for (k, v) in &doc.properties {
        d = d.custom_property(k.as_str(), v.as_str());
    }
    // A grid of lines only: 16 pt characters on the 156 mm line make the
    // 28 a line. A character grid too (linesAndChars with charSpace) is what
    // Word writes, but LibreOffice then spread every character over two
    // cells, so the text read "总 体 情 况".
    d.document = d.document.doc_grid(
        DocGrid::new()
            .grid_type(DocGridType::Lines)
            .line_pitch(LINE as usize),
    );
    let font = if doc.charts().next().is_some() {
        crate::charts::font()
    } else {
        None
    };
    for (k, b) in doc.blocks.iter().enumerate() {
        // A sentence that introduces a chart stays on the chart's page.
        let before_chart = matches!(doc.blocks.get(k + 1), Some(Block::Chart(_)));
        d = match b {
            Block::Masthead { organ, number } => masthead(organ, number)
                .into_iter()
                .fold(d, |d, p| d.add_paragraph(p)),
            Block::Title(t) => d.add_paragraph(title(t)),
            Block::Addressee(t) => d.add_paragraph(
                Paragraph::new()
                    .line_spacing(exact(LINE))
                    .add_run(Run::new().add_text(t)),
            ),
            Block::Heading { text, .. } => d.add_paragraph(heading(text, H1_FONT).keep_next(true)),
            Block::Subheading(t) => d.add_paragraph(heading(t, H2_FONT).keep_next(true)),
            Block::Para { text, .. } => d.add_paragraph(body(text).keep_next(before_chart)),
            Block::RunIn { lead, text } => d.add_paragraph(
                indented(Paragraph::new())
                    .align(AlignmentType::Both)
                    .line_spacing(exact(LINE))
                    .add_run(Run::new().add_text(lead.as_str()).fonts(fonts(H2_FONT)))
                    .add_run(Run::new().add_text(text.as_str())),
            ),
            Block::Table(t) => d.add_table(table(t)),
            Block::Chart(c) => match font {
                Some(f) => match crate::charts::png(c, f) {
                    Ok(png) => d
                        .add_paragraph(picture(png))
                        .add_paragraph(caption(&c.caption)),
                    Err(e) => {
                        tracing::warn!(chart = %c.id, error = %e, "图表未能生成");
                        d.add_paragraph(caption(&format!("{}（图表未能生成：{e}）", c.caption)))
                    }
                },
                None => d.add_paragraph(caption(&format!(
                    "{}（本机未找到中文字体，图表未画出）",
                    c.caption
                ))),
            },
            Block::Signature { organ, date } => d
                .add_paragraph(
                    Paragraph::new()
                        .line_spacing(exact(LINE).before((LINE * 2) as u32))
                        .add_run(Run::new().add_text("")),
                )
                .add_paragraph(right(organ, 4))
                .add_paragraph(right(date, 4)),
            Block::Colophon {
                copy_to,
                printer,
                date,
            } => colophon(copy_to, printer, date)
                .into_iter()
                .fold(d, |d, p| d.add_paragraph(p)),
            Block::Ledger { text, .. } => d.add_paragraph(
                Paragraph::new()
                    .line_spacing(LineSpacing::new().before(LINE as u32))
                    .add_run(Run::new().add_text(text.as_str()).size(TABLE_SIZE)),
            ),
        };
    }
    let mut out = std::io::Cursor::new(Vec::new());
    d.build()
        .pack(&mut out)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests;

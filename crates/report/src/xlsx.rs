//! A document as an Excel workbook: a cover sheet (title, scope, ledger
//! head, time) and each of its tables on a sheet of its own, named after
//! its heading, with Chinese headers, number formats and frozen headers.

use crate::ReportError;
use pingan_core::report::doc::{Block, Doc, Table};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

fn err(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// A sheet's name from a heading: no 一、 numbering, none of []:*?/\,
/// at most 31 characters, unique in the book.
fn sheet_name(heading: &str, taken: &mut Vec<String>) -> String {
    let text = heading.split_once('、').map_or(heading, |(n, rest)| {
        if n.chars().count() <= 2 {
            rest
        } else {
            heading
        }
    });
    let text = text.trim_start_matches(|c: char| "（）一二三四五六七八九十".contains(c));
    let clean: String = text
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    let base = if clean.trim().is_empty() {
        "表".to_string()
    } else {
        clean.trim().to_string()
    };
    let mut name = base.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

fn write_table(ws: &mut Worksheet, t: &Table) -> Result<(), ReportError> {
    let head = Format::new().set_bold().set_align(FormatAlign::Center);
    let points = Format::new().set_num_format("0.00");
    let percent = Format::new().set_num_format("0.0%");
    let mut widths: Vec<usize> = t.head.iter().map(|h| h.chars().count() * 2 + 2).collect();
    for (c, h) in t.head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &head)
            .map_err(err)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.cells.iter().enumerate() {
            let col = c as u16;
            match cell.value {
                Some(v) if cell.percent => ws.write_number_with_format(r, col, v / 100.0, &percent),
                Some(v) => ws.write_number_with_format(r, col, v, &points),
                None => ws.write_string(r, col, &cell.text),
            }
            .map_err(err)?;
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max((cell.text.chars().count() * 2 + 2).min(60));
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w as f64).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    Ok(())
}

/// The workbook of `doc`; `made_at` is when, for the cover.
pub fn workbook(doc: &Doc, made_at: &str) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(16);
    let label = Format::new().set_bold();
    let cover = book.add_worksheet();
    cover.set_name("封面").map_err(err)?;
    cover
        .write_string_with_format(0, 0, &doc.title, &title)
        .map_err(err)?;
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(r) = doc.property("pingan-region") {
        rows.push(("地区代码".into(), r.into()));
    }
    if let Some(y) = doc.property("pingan-year") {
        rows.push(("测评年度".into(), y.into()));
    }
    rows.push(("范围".into(), "已审定的测评结果（由已审核数据计分）".into()));
    if let Some(s) = doc.property("pingan-ledger-seq") {
        rows.push(("审计日志序号".into(), s.into()));
    }
    if let Some(h) = doc.property("pingan-ledger-hash") {
        rows.push(("审计日志哈希".into(), h.into()));
    }
    rows.push(("生成时间".into(), made_at.into()));
    for (k, (a, b)) in rows.iter().enumerate() {
        cover
            .write_string_with_format(k as u32 + 2, 0, a, &label)
            .map_err(err)?;
        cover.write_string(k as u32 + 2, 1, b).map_err(err)?;
    }
    let mut r = rows.len() as u32 + 3;
    for b in &doc.blocks {
        if let Block::Para { text, .. } | Block::RunIn { text, .. } = b {
            if r == rows.len() as u32 + 3 {
                cover
                    .write_string_with_format(r, 0, "摘要", &label)
                    .map_err(err)?;
            }
            cover.write_string(r, 1, text).map_err(err)?;
            r += 1;
            if r > rows.len() as u32 + 5 {
                break;
            }
        }
    }
    cover.set_column_width(0, 14).map_err(err)?;
    cover.set_column_width(1, 100).map_err(err)?;
    let mut taken = vec!["封面".to_string()];
    let mut heading = String::new();
    for b in &doc.blocks {
        match b {
            Block::Heading { text, .. } | Block::Subheading(text) => heading = text.clone(),
            Block::Table(t) => {
                let ws = book.add_worksheet();
                ws.set_name(sheet_name(&heading, &mut taken)).map_err(err)?;
                write_table(ws, t)?;
            }
            _ => {}
        }
    }
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let mut taken = vec!["封面".to_string()];
        assert_eq!(sheet_name("二、各维度得分", &mut taken), "各维度得分");
        assert_eq!(
            sheet_name("（一）得分率最高的指标", &mut taken),
            "得分率最高的指标"
        );
        assert_eq!(sheet_name("二、各维度得分", &mut taken), "各维度得分2");
        assert_eq!(sheet_name("a/b:c", &mut taken), "abc");
        assert_eq!(sheet_name("", &mut taken), "表");
        let long = "很".repeat(40);
        assert_eq!(sheet_name(&long, &mut taken).chars().count(), 28);
    }
}

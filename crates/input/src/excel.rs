//! The department's Excel template (seed §3.2 报送模板): one sheet per
//! period, one row per region, one column per element the department
//! reports, and a hidden sheet `_codes` that ties columns to element codes.
//! Reading a filled template checks every cell and names each bad one as
//! `Sheet "2024-06" C14: 不是数字`.

use calamine::{Data, Reader, SheetVisible, Xlsx};
use pingan_core::Framework;
use pingan_core::period::Period;
use pingan_core::region::RegionTree;
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Workbook, XlsxError};
use std::io::Cursor;

/// The hidden sheet's name and the marker in its A1.
const CODES: &str = "_codes";
const MARKER: &str = "pingan-template";
const VERSION: &str = "1";

/// What a template is for.
pub struct TemplateSpec<'a> {
    pub department: &'a str,
    /// One sheet each, in this order.
    pub periods: &'a [Period],
    /// Region indices of the rows, in this order.
    pub regions: &'a [usize],
    /// Values to fill in (what is already stored, for a correction).
    pub prefill: Option<&'a dyn Fn(usize, Period, usize) -> Option<f64>>,
}

/// The elements a department reports, in framework order.
pub fn department_elements(fw: &Framework, department: &str) -> Vec<usize> {
    (0..fw.elements.len())
        .filter(|&i| fw.elements[i].department == department)
        .collect()
}

/// The rows of a template: the base regions (those without children)
/// under `root`, valid in every period.
pub fn base_regions(tree: &RegionTree, root: Option<usize>, periods: &[Period]) -> Vec<usize> {
    (0..tree.len())
        .filter(|&i| tree.children(i).is_empty())
        .filter(|&i| root.is_none_or(|r| tree.is_within(i, r)))
        .filter(|&i| periods.iter().all(|p| tree.get(i).valid_in(*p)))
        .collect()
}

/// Excel's column letters for a 0-based column.
pub fn column_name(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn header(fw: &Framework, e: usize) -> String {
    let el = &fw.elements[e];
    if el.unit.is_empty() {
        el.name.clone()
    } else {
        format!("{}（{}）", el.name, el.unit)
    }
}

/// Build the template workbook as `.xlsx` bytes.
pub fn write_template(
    fw: &Framework,
    tree: &RegionTree,
    spec: &TemplateSpec,
) -> Result<Vec<u8>, String> {
    template_workbook(fw, tree, spec)?
        .save_to_buffer()
        .map_err(|e| format!("无法生成 Excel 模板：{e}"))
}

fn template_workbook(
    fw: &Framework,
    tree: &RegionTree,
    spec: &TemplateSpec,
) -> Result<Workbook, String> {
    let xe = |e: XlsxError| format!("无法生成 Excel 模板：{e}");
    let elements = department_elements(fw, spec.department);
    if elements.is_empty() {
        return Err(format!(
            "指标体系中没有部门“{}”报送的数据项",
            spec.department
        ));
    }
    if spec.periods.is_empty() || spec.regions.is_empty() {
        return Err("模板至少要有一个期间和一个地区".into());
    }
    let mut wb = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8F0FE")
        .set_text_wrap();
    let code = Format::new().set_num_format("@");
    let rows = spec.regions.len() as u32;
    let last_col = 1 + elements.len() as u16;
    for p in spec.periods {
        let ws = wb.add_worksheet();
        ws.set_name(p.to_string()).map_err(xe)?;
        ws.write_string_with_format(0, 0, "地区代码", &head)
            .map_err(xe)?;
        ws.write_string_with_format(0, 1, "地区名称", &head)
            .map_err(xe)?;
        ws.set_column_width(0, 12).map_err(xe)?;
        ws.set_column_width(1, 16).map_err(xe)?;
        for (j, &e) in elements.iter().enumerate() {
            let col = 2 + j as u16;
            ws.write_string_with_format(0, col, header(fw, e), &head)
                .map_err(xe)?;
            ws.set_column_width(col, 14).map_err(xe)?;
        }
        ws.set_row_height(0, 48).map_err(xe)?;
        for (i, &r) in spec.regions.iter().enumerate() {
            let reg = tree.get(r);
            let row = 1 + i as u32;
            ws.write_string_with_format(row, 0, &reg.code, &code)
                .map_err(xe)?;
            ws.write_string(row, 1, &reg.name).map_err(xe)?;
            if let Some(get) = spec.prefill {
                for (j, &e) in elements.iter().enumerate() {
                    if let Some(v) = get(r, *p, e) {
                        ws.write_number(row, 2 + j as u16, v).map_err(xe)?;
                    }
                }
            }
        }
        let dv = DataValidation::new()
            .allow_decimal_number(DataValidationRule::Between(-1e15, 1e15))
            .set_error_title("只能填写数字")
            .map_err(xe)?
            .set_error_message("请填写数字（不带单位、千位分隔符或百分号）；未报送的留空。")
            .map_err(xe)?;
        ws.add_data_validation(1, 2, rows, last_col, &dv)
            .map_err(xe)?;
        ws.set_freeze_panes(1, 2).map_err(xe)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name(CODES).map_err(xe)?;
    ws.write_string(0, 0, MARKER).map_err(xe)?;
    ws.write_string(0, 1, VERSION).map_err(xe)?;
    ws.write_string(1, 0, "department").map_err(xe)?;
    ws.write_string(1, 1, spec.department).map_err(xe)?;
    ws.write_string(2, 0, "framework").map_err(xe)?;
    ws.write_string(2, 1, &fw.code).map_err(xe)?;
    for (j, &e) in elements.iter().enumerate() {
        ws.write_string(3 + j as u32, 0, column_name(2 + j as u32))
            .map_err(xe)?;
        ws.write_string(3 + j as u32, 1, &fw.elements[e].code)
            .map_err(xe)?;
    }
    ws.set_hidden(true);
    Ok(wb)
}

/// One value read from a filled template.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateValue {
    pub region: usize,
    pub period: Period,
    pub element: usize,
    pub value: f64,
    /// Where it was: the sheet (index into `Filled::sheets`), the row and
    /// the column, 0-based.
    pub sheet: u32,
    pub row: u32,
    pub col: u32,
}

/// What a filled template holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    pub department: String,
    /// The period sheets, in workbook order.
    pub sheets: Vec<String>,
    pub values: Vec<TemplateValue>,
    /// Cells left empty (not reported).
    pub blank: usize,
}

fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row + 1)
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// Read a filled template: every problem is collected (at most 200), and
/// none of the values counts unless there is none.
pub fn read_template(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    tree: &RegionTree,
) -> Result<Filled, Vec<String>> {
    let (filled, errs) = read_template_partly(file, bytes, fw, tree)?;
    if errs.is_empty() {
        Ok(filled)
    } else {
        Err(errs)
    }
}

/// `read_template`, with the cells that could be read even where others
/// could not (and what was wrong with those): so that an import can judge
/// the readable values too and name every problem in one answer. Err only
/// when the workbook is not a template at all.
pub fn read_template_partly(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    tree: &RegionTree,
) -> Result<(Filled, Vec<String>), Vec<String>> {
    crate::sheet::guarded(file, || read_partly(file, bytes, fw, tree))
}

/// A template's sheets are bounded (regions × elements, with room).
const MAX_ROWS: u32 = 100_000;
const MAX_COLS: u32 = 2_000;

fn read_partly(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    tree: &RegionTree,
) -> Result<(Filled, Vec<String>), Vec<String>> {
    let mut errs: Vec<String> = Vec::new();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        vec![format!(
            "{file}: 不是 Excel（.xlsx）文件，或文件已损坏：{e}"
        )]
    })?;
    let hidden_codes = wb
        .sheets_metadata()
        .iter()
        .any(|s| s.name == CODES && s.visible != SheetVisible::Visible);
    let codes = match crate::sheet::read(&mut wb, CODES, MAX_ROWS, MAX_COLS) {
        Ok(b) if hidden_codes => b.range,
        _ => {
            return Err(vec![format!(
                "{file}: 不是本系统生成的报送模板（缺少隐藏的 {CODES} 工作表）：请下载模板后填写"
            )]);
        }
    };
    if codes.get_value((0, 0)).map(text).as_deref() != Some(MARKER) {
        return Err(vec![format!(
            "{file}: {CODES} 工作表已被改动，请重新下载模板"
        )]);
    }
    let department = codes.get_value((1, 1)).map(text).unwrap_or_default();
    // Column letter → element, from the hidden sheet.
    let mut columns: Vec<(String, usize)> = Vec::new();
    let mut row = 3;
    while let Some(letter) = codes
        .get_value((row, 0))
        .map(text)
        .filter(|s| !s.is_empty())
    {
        let code = codes.get_value((row, 1)).map(text).unwrap_or_default();
        match fw.element_index(&code) {
            Some(e) => columns.push((letter, e)),
            None => errs.push(format!(
                "{file}: 模板中的数据项“{code}”不在当前指标体系中，请重新下载模板"
            )),
        }
        row += 1;
    }
    if columns.is_empty() {
        errs.push(format!(
            "{file}: {CODES} 工作表中没有数据项，请重新下载模板"
        ));
    }
    let names: Vec<String> = wb
        .sheet_names()
        .into_iter()
        .filter(|n| n != CODES)
        .collect();
    let mut values = Vec::new();
    let mut blank = 0usize;
    let mut seen_periods = Vec::new();
    let mut sheets = Vec::new();
    for name in names {
        let sheet = format!("Sheet \"{name}\"");
        let period = match name.parse::<Period>() {
            Ok(p) => p,
            Err(_) => {
                errs.push(format!(
                    "{file}: {sheet}: 工作表名应为期间（如 2024-06、2024Q2、2024），请勿改名或新增工作表"
                ));
                continue;
            }
        };
        if seen_periods.contains(&period) {
            errs.push(format!("{file}: {sheet}: 期间重复"));
            continue;
        }
        seen_periods.push(period);
        let sheet_index = sheets.len() as u32;
        sheets.push(name.clone());
        for d in wb.merge_cells_by_sheet_name(&name).unwrap_or_default() {
            errs.push(format!(
                "{file}: {sheet} {}:{}: 不能合并单元格",
                cell_name(d.start.0, d.start.1),
                cell_name(d.end.0, d.end.1)
            ));
        }
        let bounded = match crate::sheet::read(&mut wb, &name, MAX_ROWS, MAX_COLS) {
            Ok(b) => b,
            Err(e) => {
                errs.push(format!("{file}: {sheet}: {e}"));
                continue;
            }
        };
        for (r, c, formula) in &bounded.formulas {
            errs.push(format!(
                "{file}: {sheet} {}: 不能使用公式（={formula}），请复制后“粘贴为数值”",
                cell_name(*r, *c)
            ));
        }
        let range = bounded.range;
        let at = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        // The header must be the template's, column by column.
        for (expect, c) in [("地区代码", 0u32), ("地区名称", 1)] {
            if text(&at(0, c)) != expect {
                errs.push(format!(
                    "{file}: {sheet} {}: 列标题应为“{expect}”，请勿移动或删除列",
                    cell_name(0, c)
                ));
            }
        }
        for (j, (letter, e)) in columns.iter().enumerate() {
            let c = 2 + j as u32;
            let want = header(fw, *e);
            if column_name(c) != *letter || text(&at(0, c)) != want {
                errs.push(format!(
                    "{file}: {sheet} {}: 列标题应为“{want}”，请勿移动、插入或删除列",
                    cell_name(0, c)
                ));
            }
        }
        let extra = 2 + columns.len() as u32;
        let (_, width) = range.end().unwrap_or((0, 0));
        for c in extra..=width {
            for r in 0..=range.end().map_or(0, |e| e.0) {
                if !matches!(at(r, c), Data::Empty) {
                    errs.push(format!(
                        "{file}: {sheet} {}: 模板之外的列，请删除",
                        cell_name(r, c)
                    ));
                    break;
                }
            }
        }
        let last = range.end().map_or(0, |e| e.0);
        let mut rows_seen: Vec<usize> = Vec::new();
        for r in 1..=last {
            let code = text(&at(r, 0));
            let row_empty = (0..=width).all(|c| matches!(at(r, c), Data::Empty));
            if row_empty {
                continue;
            }
            let region = match tree.find(&code) {
                Some(i) => i,
                None => {
                    errs.push(format!(
                        "{file}: {sheet} {}: 未知的地区代码“{code}”",
                        cell_name(r, 0)
                    ));
                    continue;
                }
            };
            if rows_seen.contains(&region) {
                errs.push(format!(
                    "{file}: {sheet} {}: 地区“{code}”重复出现",
                    cell_name(r, 0)
                ));
                continue;
            }
            rows_seen.push(region);
            for (j, (_, e)) in columns.iter().enumerate() {
                let c = 2 + j as u32;
                let value = match at(r, c) {
                    Data::Empty => {
                        blank += 1;
                        continue;
                    }
                    Data::Int(i) => i as f64,
                    Data::Float(f) if f.is_finite() => f,
                    Data::String(s) if s.trim().is_empty() => {
                        blank += 1;
                        continue;
                    }
                    Data::String(s) => match s.trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => v,
                        _ => {
                            errs.push(format!(
                                "{file}: {sheet} {}: 不是数字（“{}”）",
                                cell_name(r, c),
                                s.trim()
                            ));
                            continue;
                        }
                    },
                    other => {
                        errs.push(format!(
                            "{file}: {sheet} {}: 不是数字（“{other}”）",
                            cell_name(r, c)
                        ));
                        continue;
                    }
                };
                values.push(TemplateValue {
                    region,
                    period,
                    element: *e,
                    value: value + 0.0,
                    sheet: sheet_index,
                    row: r,
                    col: c,
                });
            }
            if errs.len() >= 200 {
                break;
            }
        }
    }
    errs.truncate(200);
    Ok((
        Filled {
            department,
            sheets,
            values,
            blank,
        },
        errs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingan_core::default_framework;
    use pingan_core::region::{Level, RegionRow};

    fn tree() -> RegionTree {
        let row = |c: &str, p: Option<&str>, l| RegionRow {
            code: c.into(),
            name: format!("地区{c}"),
            parent: p.map(Into::into),
            level: l,
            valid_from: None,
            valid_to: None,
        };
        RegionTree::new(vec![
            row("K", None, Level::County),
            row("T1", Some("K"), Level::Township),
            row("T2", Some("K"), Level::Township),
        ])
        .unwrap()
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn an_empty_template_reads_back_as_all_blank() {
        let fw = default_framework();
        let t = tree();
        let periods = ["2024-05".parse().unwrap(), "2024-06".parse().unwrap()];
        let regions = [1, 2];
        let bytes = write_template(
            &fw,
            &t,
            &TemplateSpec {
                department: "公安",
                periods: &periods,
                regions: &regions,
                prefill: None,
            },
        )
        .unwrap();
        let filled = read_template("t.xlsx", &bytes, &fw, &t).unwrap();
        assert_eq!(filled.department, "公安");
        assert!(filled.values.is_empty());
        let n = department_elements(&fw, "公安").len();
        assert_eq!(filled.blank, 2 * 2 * n);
        assert!(
            write_template(
                &fw,
                &t,
                &TemplateSpec {
                    department: "没有这个部门",
                    periods: &periods,
                    regions: &regions,
                    prefill: None,
                },
            )
            .is_err()
        );
    }

    /// A template for 公安 over T1, T2 and two months, filled with
    /// 10 × (row + 1) + column, then changed by `tamper`.
    fn filled(tamper: impl Fn(&mut Workbook)) -> Result<Filled, Vec<String>> {
        filled_partly(tamper).and_then(|(f, errs)| if errs.is_empty() { Ok(f) } else { Err(errs) })
    }

    fn filled_partly(tamper: impl Fn(&mut Workbook)) -> Result<(Filled, Vec<String>), Vec<String>> {
        let fw = default_framework();
        let t = tree();
        let periods = ["2024-05".parse().unwrap(), "2024-06".parse().unwrap()];
        let regions = [1, 2];
        let fill = |r: usize, _p: Period, e: usize| Some((10 * r + e) as f64);
        let mut wb = template_workbook(
            &fw,
            &t,
            &TemplateSpec {
                department: "公安",
                periods: &periods,
                regions: &regions,
                prefill: Some(&fill),
            },
        )
        .unwrap();
        tamper(&mut wb);
        let bytes = wb.save_to_buffer().unwrap();
        read_template_partly("f.xlsx", &bytes, &fw, &t)
    }

    #[test]
    fn a_filled_template_reads_back() {
        let fw = default_framework();
        let f = filled(|_| {}).unwrap();
        let n = department_elements(&fw, "公安").len();
        assert_eq!(f.values.len(), 2 * 2 * n);
        assert_eq!(f.blank, 0);
        for v in &f.values {
            assert_eq!(v.value, (10 * v.region + v.element) as f64);
        }
        // A blank cell is "not reported", and a number typed as text counts.
        let f = filled(|wb| {
            let ws = wb.worksheet_from_name("2024-06").unwrap();
            ws.write_blank(1, 2, &Format::new()).unwrap();
            ws.write_string(2, 3, " 42 ").unwrap();
        })
        .unwrap();
        assert_eq!(f.blank, 1);
        assert!(f.values.iter().any(|v| v.value == 42.0));
    }

    /// The readable cells come back beside the unreadable ones, so an
    /// import can judge them too and answer everything at once.
    #[test]
    fn a_bad_cell_leaves_the_others_readable() {
        let fw = default_framework();
        let n = department_elements(&fw, "公安").len();
        let (f, errs) = filled_partly(|wb| {
            let ws = wb.worksheet_from_name("2024-06").unwrap();
            ws.write_string(1, 4, "十二").unwrap();
        })
        .unwrap();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("E2: 不是数字"), "{errs:?}");
        assert_eq!(f.values.len(), 2 * 2 * n - 1);
    }

    #[test]
    fn every_bad_cell_is_named() {
        let e = filled(|wb| {
            let ws = wb.worksheet_from_name("2024-06").unwrap();
            ws.write_string(1, 4, "十二").unwrap();
            ws.write_formula(1, 3, "=1+1").unwrap();
            ws.merge_range(1, 5, 1, 6, "", &Format::new()).unwrap();
            ws.write_string(0, 7, "随便").unwrap();
            ws.write_string(2, 0, "X9").unwrap();
        })
        .unwrap_err();
        let all = e.join("\n");
        for want in [
            "Sheet \"2024-06\" E2: 不是数字（“十二”）",
            "Sheet \"2024-06\" D2: 不能使用公式",
            "Sheet \"2024-06\" F2:G2: 不能合并单元格",
            "Sheet \"2024-06\" H1: 列标题应为",
            "Sheet \"2024-06\" A3: 未知的地区代码“X9”",
        ] {
            assert!(all.contains(want), "{want}\n{all}");
        }
        assert!(all.lines().all(|l| l.starts_with("f.xlsx: ")), "{all}");
        // A renamed sheet and an extra column.
        let e = filled(|wb| {
            wb.worksheet_from_name("2024-05")
                .unwrap()
                .set_name("五月")
                .unwrap();
            let ws = wb.worksheet_from_name("2024-06").unwrap();
            ws.write_number(1, 40, 1.0).unwrap();
        })
        .unwrap_err();
        let all = e.join("\n");
        assert!(all.contains("Sheet \"五月\": 工作表名应为期间"), "{all}");
        assert!(all.contains("AO2: 模板之外的列"), "{all}");
    }

    #[test]
    fn not_a_template() {
        let fw = default_framework();
        let e = read_template("x.xlsx", b"not a zip", &fw, &tree()).unwrap_err();
        assert!(e[0].starts_with("x.xlsx: 不是 Excel"), "{e:?}");
        let mut wb = Workbook::new();
        wb.add_worksheet().write_string(0, 0, "hi").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let e = read_template("y.xlsx", &bytes, &fw, &tree()).unwrap_err();
        assert!(e[0].contains("不是本系统生成的报送模板"), "{e:?}");
    }

    proptest::proptest! {
        /// Arbitrary bytes never panic the reader.
        #[test]
        fn reading_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let fw = default_framework();
            let _ = read_template("z.xlsx", &bytes, &fw, &tree());
        }
    }
}

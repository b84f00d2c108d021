//! The survey files of survey.md: the XLSForm questionnaire (`.xlsx`,
//! errors as `survey!C7`), `frame.csv`, `margins.csv` and `responses.csv`
//! (UTF-8 with or without BOM, or GB18030; errors as `file:line`).

mod frame;
mod responses;
mod rows;
#[cfg(test)]
mod tests;

pub use frame::{read_frame, read_margins};
pub use pingan_core::survey::run::{Margin, Response};
pub use responses::{Head, Item, Responses, check_items, read_responses};

use calamine::{Data, Reader, Xlsx};
use pingan_core::survey::form::{Form, Sheet};
use std::io::Cursor;

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// The questionnaire from an `.xlsx` in the XLSForm layout.
pub fn read_form(
    file: &str,
    bytes: &[u8],
    known_element: &dyn Fn(&str) -> bool,
) -> Result<Form, Vec<String>> {
    let [survey, choices, settings] = read_form_sheets(file, bytes)?;
    form_of(
        file,
        [survey.as_ref(), choices.as_ref(), settings.as_ref()],
        known_element,
    )
}

/// The form of sheets already read, errors prefixed with the file's name.
pub fn form_of(
    file: &str,
    [survey, choices, settings]: [Option<&Sheet>; 3],
    known_element: &dyn Fn(&str) -> bool,
) -> Result<Form, Vec<String>> {
    Form::from_sheets(survey, choices, settings, known_element)
        .map_err(|errs| errs.into_iter().map(|e| format!("{file}: {e}")).collect())
}

/// The `survey`, `choices` and `settings` sheets of an `.xlsx` as text.
pub fn read_form_sheets(file: &str, bytes: &[u8]) -> Result<[Option<Sheet>; 3], Vec<String>> {
    crate::sheet::guarded(file, || form_sheets(file, bytes))
}

fn form_sheets(file: &str, bytes: &[u8]) -> Result<[Option<Sheet>; 3], Vec<String>> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        vec![format!(
            "{file}: 不是 Excel（.xlsx）文件，或文件已损坏：{e}"
        )]
    })?;
    let names = wb.sheet_names().to_vec();
    let mut sheet = |want: &str| -> Result<Option<Sheet>, Vec<String>> {
        let Some(name) = names.iter().find(|n| n.trim().eq_ignore_ascii_case(want)) else {
            return Ok(None);
        };
        let range = crate::sheet::read(&mut wb, name, 100_000, 200)
            .map_err(|e| vec![format!("{file}: 工作表 {want}：{e}")])?
            .range;
        // Rows from Excel row 1, whatever the used range's start.
        let (r0, c0) = range.start().unwrap_or((0, 0));
        if r0 as usize + range.height() > 100_000 || c0 as usize + range.width() > 200 {
            return Err(vec![format!(
                "{file}: 工作表 {want} 过大（最多 100000 行、200 列）"
            )]);
        }
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); r0 as usize];
        for row in range.rows() {
            let mut cells = vec![String::new(); c0 as usize];
            cells.extend(row.iter().map(cell_text));
            rows.push(cells);
        }
        Ok(Some(Sheet {
            name: want.to_string(),
            rows,
        }))
    };
    Ok([sheet("survey")?, sheet("choices")?, sheet("settings")?])
}

/// A questionnaire's sheets as an `.xlsx` ODK, KoboToolbox and `read_form`
/// all read: every cell as text, the header bold and frozen.
pub fn write_form(sheets: &[Sheet]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name).map_err(|e| e.to_string())?;
        for (r, row) in s.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let (r, c) = (r as u32, c as u16);
                if r == 0 {
                    ws.write_string_with_format(r, c, v, &bold)
                } else {
                    ws.write_string(r, c, v)
                }
                .map_err(|e| e.to_string())?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        let width = |c: usize| -> f64 {
            let longest = s
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|v| {
                    v.chars()
                        .map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 })
                        .sum::<f64>()
                })
                .fold(8.0, f64::max);
            longest.min(60.0) + 2.0
        };
        let cols = s.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        for c in 0..cols {
            ws.set_column_width(c as u16, width(c))
                .map_err(|e| e.to_string())?;
        }
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

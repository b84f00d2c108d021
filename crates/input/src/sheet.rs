//! Reading a worksheet without trusting the file: calamine's dense range
//! spans every row and column between the first used cell and the last, so
//! one cell at A1 and one at XFD1048576 would ask for 17 billion cells; and
//! a malformed cell reference can overflow calamine's arithmetic (a panic
//! in a build with overflow checks). Cells are streamed and bounded before
//! any range is made, and a panic inside the reader is a damaged file.

use calamine::{Cell, Data, Range, Xlsx};
use std::io::{Read, Seek};

/// The dense range a sheet may span (rows × columns between its first and
/// last used cell): about 130 MB of cells. Far larger than any template or
/// questionnaire, far smaller than one far cell could ask for.
const MAX_AREA: u64 = 4_000_000;

/// A sheet's values and the formulas in it ((row, column, text), 0-based).
pub(crate) struct Bounded {
    pub range: Range<Data>,
    pub formulas: Vec<(u32, u32, String)>,
}

/// Read `name`, refusing a cell beyond `max_rows` × `max_cols`.
pub(crate) fn read<RS: Read + Seek>(
    wb: &mut Xlsx<RS>,
    name: &str,
    max_rows: u32,
    max_cols: u32,
) -> Result<Bounded, String> {
    let mut reader = wb
        .worksheet_cells_reader(name)
        .map_err(|e| format!("无法读取：{e}"))?;
    let mut cells = Vec::new();
    let mut formulas = Vec::new();
    while let Some(cell) = reader
        .next_cell_with_formula()
        .map_err(|e| format!("无法读取：{e}"))?
    {
        let (r, c) = cell.pos;
        if r >= max_rows || c >= max_cols {
            return Err(format!(
                "工作表过大：第 {} 行第 {} 列有内容（最多 {max_rows} 行、{max_cols} 列），请删除多余的单元格",
                u64::from(r) + 1,
                u64::from(c) + 1
            ));
        }
        if let Some(f) = cell.formula.filter(|f| !f.is_empty()) {
            formulas.push((r, c, f));
        }
        let v = Data::from(cell.value);
        if v != Data::Empty {
            cells.push(Cell::new((r, c), v));
        }
    }
    let span = |f: fn(&(u32, u32)) -> u32| {
        let (lo, hi) = cells
            .iter()
            .map(|c| f(&c.get_position()))
            .fold((u32::MAX, 0), |(a, b), x| (a.min(x), b.max(x)));
        u64::from(hi.saturating_sub(lo)) + 1
    };
    if !cells.is_empty() && span(|p| p.0) * span(|p| p.1) > MAX_AREA {
        return Err(format!(
            "工作表过大：有内容的单元格跨 {} 行、{} 列（最多约 {MAX_AREA} 个单元格），请删除多余的单元格",
            span(|p| p.0),
            span(|p| p.1)
        ));
    }
    Ok(Bounded {
        range: Range::from_sparse(cells),
        formulas,
    })
}

/// Run a reader over a workbook, a panic inside it (a third-party parser
/// meeting a file it did not expect) becoming the damaged-file message.
pub(crate) fn guarded<T>(
    file: &str,
    f: impl FnOnce() -> Result<T, Vec<String>>,
) -> Result<T, Vec<String>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(vec![format!(
            "{file}: 不是 Excel（.xlsx）文件，或文件已损坏：无法解析其内容"
        )])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Reader;
    use std::io::Cursor;

    fn book(far: (u32, u16)) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("survey").unwrap();
        ws.write_string(0, 0, "type").unwrap();
        ws.write_formula(1, 1, "=1+1").unwrap();
        ws.write_string(far.0, far.1, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn a_far_cell_is_refused_before_any_range_is_made() {
        let bytes = book((1_048_575, 16_383));
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let e = read(&mut wb, "survey", 100_000, 200).err().unwrap();
        assert!(
            e.contains("工作表过大") && e.contains("第 1048576 行"),
            "{e}"
        );
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(book((9, 3)))).unwrap();
        // Within the bounds, but a range of 100,000 × 200 cells.
        let mut far: Xlsx<_> = Xlsx::new(Cursor::new(book((99_999, 199)))).unwrap();
        let e = read(&mut far, "survey", 100_000, 200).err().unwrap();
        assert!(e.contains("跨 100000 行、200 列"), "{e}");
        let s = read(&mut wb, "survey", 100_000, 200).unwrap();
        assert_eq!(
            s.range.get_value((0, 0)),
            Some(&Data::String("type".into()))
        );
        assert_eq!(s.range.get_value((9, 3)), Some(&Data::String("x".into())));
        assert_eq!(s.formulas, vec![(1, 1, "1+1".to_string())]);
        assert!(wb.sheet_names().len() == 1);
    }

    #[test]
    fn a_panic_inside_is_a_damaged_file() {
        let r: Result<(), Vec<String>> = guarded("a.xlsx", || panic!("overflow"));
        assert!(r.unwrap_err()[0].contains("已损坏"));
    }
}

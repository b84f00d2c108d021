//! Header handling shared by the three files: columns are found by name,
//! required ones must be there, unknown ones are refused.

use crate::error::Collector;

pub(crate) struct Columns {
    idx: Vec<Option<usize>>,
}

impl Columns {
    /// `names`: (column, required). Returns None after recording errors.
    pub fn read(
        header: &csv::ByteRecord,
        names: &[(&str, bool)],
        errs: &mut Collector,
    ) -> Option<Columns> {
        let mut idx = vec![None; names.len()];
        let mut ok = true;
        for (i, raw) in header.iter().enumerate() {
            let h = String::from_utf8_lossy(raw);
            let h = h.trim().trim_start_matches('\u{feff}');
            match names.iter().position(|(n, _)| *n == h) {
                Some(j) if idx[j].is_some() => {
                    errs.push(Some(1), format!("列“{h}”重复"));
                    ok = false;
                }
                Some(j) => idx[j] = Some(i),
                None => {
                    let allowed: Vec<&str> = names.iter().map(|n| n.0).collect();
                    errs.push(
                        Some(1),
                        format!("未知的列“{h}”：表头应为 {}", allowed.join(",")),
                    );
                    ok = false;
                }
            }
        }
        for (j, (n, required)) in names.iter().enumerate() {
            if *required && idx[j].is_none() {
                errs.push(Some(1), format!("缺少必需的列“{n}”"));
                ok = false;
            }
        }
        ok.then_some(Columns { idx })
    }

    /// The trimmed field of column `j`, "" when the column is absent.
    pub fn get<'r>(&self, rec: &'r csv::ByteRecord, j: usize) -> &'r [u8] {
        match self.idx[j] {
            Some(i) => trim(rec.get(i).unwrap_or(b"")),
            None => b"",
        }
    }
}

pub(crate) fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

pub(crate) fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes())
}

/// The csv crate's error in Chinese, with its line when it has one.
pub(crate) fn csv_error(e: &csv::Error) -> (Option<usize>, String) {
    let line = e.position().map(|p| p.line() as usize);
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("本行有 {len} 列，表头有 {expected_len} 列（检查逗号和引号）")
        }
        csv::ErrorKind::Utf8 { .. } => "含有无法识别的字符".to_string(),
        _ => format!("无法读取此行：{e}"),
    };
    (line, msg)
}

/// `3.3E+11`: Excel turned a 行政区划代码 into a number and lost its digits.
pub(crate) fn looks_scientific(code: &str) -> bool {
    let Some((mant, exp)) = code.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mant.is_empty()
        && mant.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mant.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn scientific_message(code: &str) -> String {
    format!(
        "地区代码“{code}”是科学计数法：Excel 把代码当成了数字，后面的位数已经丢失。请在 Excel 中把该列设置为“文本”格式，重新填写代码后再保存"
    )
}

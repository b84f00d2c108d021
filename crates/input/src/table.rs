//! Header handling shared by the three files: columns are found by name,
//! required ones must be there, unknown ones are refused.

use crate::error::Collector;

#[derive(Clone)]
pub(crate) struct Columns {
    idx: Vec<Option<usize>>,
}

impl Columns {
    /// `names`: (column, required). Returns None after recording errors.
    pub fn read(header: &[&[u8]], names: &[(&str, bool)], errs: &mut Collector) -> Option<Columns> {
        if let Some(m) = header.first().and_then(|h| not_text(h)) {
            errs.push(Some(1), m.to_string());
            return None;
        }
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
    pub fn get<'r>(&self, rec: &[&'r [u8]], j: usize) -> &'r [u8] {
        match self.idx[j] {
            Some(i) => trim(rec.get(i).copied().unwrap_or(b"")),
            None => b"",
        }
    }
}

/// A workbook or other binary file given where a CSV file belongs: said
/// so, rather than its first bytes printed as a column name.
pub(crate) fn not_text(first: &[u8]) -> Option<&'static str> {
    if first.starts_with(b"PK\x03\x04") || first.starts_with(b"\xd0\xcf\x11\xe0") {
        Some(
            "这是 Excel 工作簿（或其他压缩文件），不是 CSV 文本：请在 Excel 中“另存为”CSV UTF-8（逗号分隔）后再使用",
        )
    } else if first.iter().any(|&c| c < 0x09 || (0x0e..0x20).contains(&c)) {
        Some("这不是文本文件（含控制字符）：应为 CSV 文本，首行为表头")
    } else {
        None
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

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes())
}

/// More columns than any of our files has: such a row is refused anyway.
const MAX_FIELDS: usize = 16;

/// Split quote-free CSV `bytes` (whose first line is `first_line`) into
/// records. `expected` is the column count, or None to take it from the
/// first record (the header).
pub(crate) fn split_records<'b>(
    bytes: &'b [u8],
    first_line: usize,
    mut expected: Option<usize>,
    errs: &mut Collector,
    mut row: impl FnMut(&mut Collector, usize, &[&'b [u8]]) -> bool,
) {
    let mut fields: [&'b [u8]; MAX_FIELDS] = [b""; MAX_FIELDS];
    let mut start = 0;
    let mut line = first_line - 1;
    while start < bytes.len() {
        line += 1;
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let mut rec = &bytes[start..end];
        start = end + 1;
        if let Some(r) = rec.strip_suffix(b"\r") {
            rec = r;
        }
        if rec.is_empty() {
            continue;
        }
        let mut n = 0;
        for f in rec.split(|&b| b == b',') {
            if n < MAX_FIELDS {
                fields[n] = f;
            }
            n += 1;
        }
        let want = *expected.get_or_insert(n);
        if n != want || n > MAX_FIELDS {
            errs.push(
                Some(line),
                format!("本行有 {n} 列，表头有 {want} 列（检查逗号和引号）"),
            );
        } else if !row(errs, line, &fields[..n]) {
            return;
        }
        if errs.full() {
            return;
        }
    }
}

/// Calls `row(errs, line, fields)` for every record, the header (line 1)
/// included, until it returns false or `errs` is full. Files without a
/// quote character (all generated and most exported files) are split
/// directly, which is several times faster than a general CSV reader on
/// millions of rows; anything else goes through the `csv` crate.
pub(crate) fn each_record(
    text: &str,
    errs: &mut Collector,
    mut row: impl FnMut(&mut Collector, usize, &[&[u8]]) -> bool,
) {
    let bytes = text.as_bytes();
    if memchr::memchr(b'"', bytes).is_none() {
        split_records(bytes, 1, None, errs, row);
        return;
    }
    let mut rdr = reader(text);
    let mut rec = csv::ByteRecord::new();
    let mut lines = LineCounter::default();
    loop {
        let line = rdr.position().line() as usize;
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return,
            Ok(true) => {
                // The csv crate's line skips blank lines; count the line
                // ends before the record's first byte instead.
                let line = rec
                    .position()
                    .map_or(line, |p| lines.at(bytes, p.byte() as usize));
                let fields: Vec<&[u8]> = rec.iter().collect();
                if !row(errs, line, &fields) {
                    return;
                }
            }
            Err(e) => {
                let (l, msg) = csv_error(&e);
                errs.push(l.or(Some(line)), msg);
            }
        }
        if errs.full() {
            return;
        }
    }
}

/// The line (from 1) of byte offsets met in increasing order.
#[derive(Default)]
pub(crate) struct LineCounter {
    byte: usize,
    line: usize,
}

impl LineCounter {
    /// The line of the record the csv crate says starts at `byte` (its
    /// start includes the blank lines skipped before it).
    pub(crate) fn at(&mut self, bytes: &[u8], byte: usize) -> usize {
        let mut byte = byte.min(bytes.len());
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        if byte >= self.byte {
            self.line += memchr::memchr_iter(b'\n', &bytes[self.byte..byte]).count();
        } else {
            self.line = memchr::memchr_iter(b'\n', &bytes[..byte]).count();
        }
        self.byte = byte;
        self.line + 1
    }
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
#[cfg(test)]
mod line_tests {
    #[test]
    fn quoted_records_after_blank_lines_keep_their_lines() {
        let text = "h,i\n\"a,b\",c\n\nd,e\r\n\r\n\nf,g\n";
        let mut errs = crate::error::Collector::new("x");
        let mut lines = Vec::new();
        super::each_record(text, &mut errs, |_, line, _| {
            lines.push(line);
            true
        });
        assert_eq!(lines, [1, 2, 4, 7]);
    }
}

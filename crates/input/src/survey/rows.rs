//! The CSV record loop the survey files share.

use crate::error::Collector;

pub(super) fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

pub(super) enum Next {
    /// A record was read; its first line.
    Row(usize),
    /// A record the reader could not read was named; go on.
    Skip,
    /// The end, or too many errors.
    Stop,
}

/// The next record into `rec`.
pub(super) fn next_record(
    rdr: &mut csv::Reader<&[u8]>,
    rec: &mut csv::StringRecord,
    errs: &mut Collector,
) -> Next {
    let line = rdr.position().line() as usize;
    match rdr.read_record(rec) {
        Ok(false) => Next::Stop,
        Ok(true) => Next::Row(line),
        Err(e) => {
            let (l, m) = crate::table::csv_error(&e);
            errs.push(l.or(Some(line)), m);
            if errs.full() { Next::Stop } else { Next::Skip }
        }
    }
}

/// Calls `row(errs, line, fields)` for each data row of a small CSV with
/// exactly these columns (any order); fields trimmed.
pub(super) fn for_each_row(
    text: &str,
    errs: &mut Collector,
    names: &[&str],
    mut row: impl FnMut(&mut Collector, usize, &[String]),
) {
    let mut rdr = reader(text);
    let mut idx: Option<Vec<usize>> = None;
    let mut rec = csv::StringRecord::new();
    loop {
        let line = match next_record(&mut rdr, &mut rec, errs) {
            Next::Row(line) => line,
            Next::Skip => continue,
            Next::Stop => break,
        };
        let fields: Vec<String> = rec
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        match &idx {
            None => {
                let mut found = Vec::new();
                for n in names {
                    match fields.iter().position(|f| f == n) {
                        Some(i) => found.push(i),
                        None => errs.push(
                            Some(line),
                            format!("缺少必需的列“{n}”：表头应为 {}", names.join(",")),
                        ),
                    }
                }
                if let Some(extra) = fields.iter().find(|f| !names.contains(&f.as_str())) {
                    errs.push(
                        Some(line),
                        format!("未知的列“{extra}”：表头应为 {}", names.join(",")),
                    );
                }
                if !errs.errors.is_empty() {
                    return;
                }
                idx = Some(found);
            }
            Some(ix) => {
                if fields.iter().all(|f| f.is_empty()) {
                    continue;
                }
                if fields.len() != ix.len() {
                    errs.push(
                        Some(line),
                        format!(
                            "本行有 {} 列，表头有 {} 列（检查逗号和引号）",
                            fields.len(),
                            ix.len()
                        ),
                    );
                } else {
                    let f: Vec<String> = ix.iter().map(|&i| fields[i].clone()).collect();
                    row(errs, line, &f);
                }
                if errs.full() {
                    return;
                }
            }
        }
    }
    if idx.is_none() && errs.errors.is_empty() {
        errs.push(Some(1), format!("文件为空：表头应为 {}", names.join(",")));
    }
}

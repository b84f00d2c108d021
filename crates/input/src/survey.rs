//! The survey files of survey.md: the XLSForm questionnaire (`.xlsx`,
//! errors as `survey!C7`), `frame.csv`, `margins.csv` and `responses.csv`
//! (UTF-8 with or without BOM, or GB18030; errors as `file:line`).

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use calamine::{Data, Reader, Xlsx};
use pingan_core::RegionTree;
use pingan_core::survey::form::{Form, Kind, Sheet};
use pingan_core::survey::response::{AnswerSet, Channel, parse_time};
pub use pingan_core::survey::run::{Margin, Response};
use std::borrow::Cow;
use std::collections::HashMap;
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
        let range = wb
            .worksheet_range(name)
            .map_err(|e| vec![format!("{file}: 工作表 {want} 无法读取：{e}")])?;
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

/// `frame.csv`: `region,population`, one row per base region in the
/// sample. Returns (region index, population) in file order.
pub fn read_frame(
    file: &str,
    bytes: &[u8],
    tree: &RegionTree,
) -> Result<Vec<(usize, u64)>, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut out: Vec<(usize, u64)> = Vec::new();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for_each_row(
        &text,
        &mut errs,
        &["region", "population"],
        |errs, line, f| {
            let code = f[0].as_str();
            let r = match crate::values::find_region(tree, code) {
                Ok(r) => r,
                Err(m) => return errs.push(Some(line), m),
            };
            if !tree.children(r).is_empty() {
                errs.push(
                    Some(line),
                    format!("地区“{code}”不是基层地区（抽样框只列乡镇街道）"),
                );
                return;
            }
            let pop = match f[1].parse::<u64>() {
                Ok(p) if p > 0 => p,
                _ => {
                    errs.push(Some(line), format!("人口“{}”应为正整数", f[1]));
                    return;
                }
            };
            if let Some(first) = seen.insert(r, line) {
                errs.push(Some(line), format!("地区“{code}”重复（第 {first} 行已有）"));
                return;
            }
            out.push((r, pop));
        },
    );
    if out.is_empty() && errs.errors.is_empty() {
        errs.push(None, "抽样框中没有任何地区");
    }
    errs.finish(out)
}

/// `margins.csv`: `region,variable,category,population`; the variable a
/// select_one question of the form, the category one of its choices.
pub fn read_margins(
    file: &str,
    bytes: &[u8],
    tree: &RegionTree,
    form: &Form,
) -> Result<Vec<Margin>, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut out = Vec::new();
    let mut seen: HashMap<(usize, String, String), usize> = HashMap::new();
    for_each_row(
        &text,
        &mut errs,
        &["region", "variable", "category", "population"],
        |errs, line, f| {
            let code = f[0].as_str();
            let r = match crate::values::find_region(tree, code) {
                Ok(r) => r,
                Err(m) => return errs.push(Some(line), m),
            };
            if tree.children(r).is_empty() {
                errs.push(
                    Some(line),
                    format!("地区“{code}”是基层地区：边际按县（区）给出"),
                );
                return;
            }
            let var = f[1].as_str();
            let list = match form.question(var).map(|q| &form.questions[q].kind) {
                Some(Kind::SelectOne(l)) => *l,
                _ => {
                    errs.push(Some(line), format!("变量“{var}”不是问卷中的单选题"));
                    return;
                }
            };
            let cat = f[2].as_str();
            if form.lists[list].get(cat).is_none() {
                errs.push(Some(line), format!("类别“{cat}”不是题目 {var} 的选项"));
                return;
            }
            let pop = match f[3].parse::<f64>() {
                Ok(p) if p.is_finite() && p > 0.0 => p,
                _ => {
                    errs.push(Some(line), format!("人口“{}”应为正数", f[3]));
                    return;
                }
            };
            if let Some(first) = seen.insert((r, var.to_string(), cat.to_string()), line) {
                errs.push(
                    Some(line),
                    format!("{code} {var} {cat} 重复（第 {first} 行已有）"),
                );
                return;
            }
            out.push(Margin {
                county: r,
                variable: var.to_string(),
                category: cat.to_string(),
                population: pop,
            });
        },
    );
    errs.finish(out)
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

enum Next {
    /// A record was read; its first line.
    Row(usize),
    /// A record the reader could not read was named; go on.
    Skip,
    /// The end, or too many errors.
    Stop,
}

/// The next record into `rec`.
fn next_record(
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
fn for_each_row(
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

/// Distinct responses and how many identical repeats were dropped.
#[derive(Clone, Debug, Default)]
pub struct Responses {
    pub rows: Vec<Response>,
    pub duplicates: usize,
}

const FIXED: [&str; 6] = [
    "instance_id",
    "form_version",
    "region",
    "channel",
    "started",
    "submitted",
];

/// `responses.csv` against the form, the tree and the frame (regions in
/// the sample). An `instance_id` repeated with identical content is a
/// duplicate, counted once; with different content, an error.
pub fn read_responses(
    file: &str,
    bytes: &[u8],
    form: &Form,
    tree: &RegionTree,
    in_frame: &dyn Fn(usize) -> bool,
) -> Result<Responses, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut rdr = reader(&text);
    let mut out = Responses::default();
    // Column → question index (None for the fixed six).
    let mut header: Option<(Vec<usize>, Vec<Option<usize>>)> = None;
    // Sized from the line count: rehashing half a million ids cost 7 %.
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let mut ids: rustc_hash::FxHashMap<String, usize> =
        rustc_hash::FxHashMap::with_capacity_and_hasher(lines, Default::default());
    out.rows.reserve(lines);
    let mut rec = csv::StringRecord::new();
    let mut last_region: Option<(String, usize)> = None;
    loop {
        let line = match next_record(&mut rdr, &mut rec, &mut errs) {
            Next::Row(line) => line,
            Next::Skip => continue,
            Next::Stop => break,
        };
        let Some((fixed, questions)) = &header else {
            let names: Vec<String> = rec
                .iter()
                .map(|f| f.trim().trim_start_matches('\u{feff}').to_string())
                .collect();
            let mut fixed = Vec::new();
            for n in FIXED {
                match names.iter().position(|f| f == n) {
                    Some(i) => fixed.push(i),
                    None => errs.push(Some(line), format!("缺少必需的列“{n}”")),
                }
            }
            let mut questions = vec![None; names.len()];
            let mut seen = std::collections::HashSet::new();
            for (i, n) in names.iter().enumerate() {
                if !seen.insert(n.clone()) {
                    errs.push(Some(line), format!("列“{n}”重复"));
                }
                if FIXED.contains(&n.as_str()) {
                    continue;
                }
                match form.question(n) {
                    Some(q) if form.questions[q].kind.answered() => questions[i] = Some(q),
                    _ => errs.push(Some(line), format!("未知的列“{n}”：问卷中没有这道题")),
                }
            }
            if !errs.errors.is_empty() {
                return Err(InputErrors(errs.errors));
            }
            header = Some((fixed, questions));
            continue;
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() != questions.len() {
            errs.push(
                Some(line),
                format!(
                    "本行有 {} 列，表头有 {} 列（检查逗号和引号）",
                    rec.len(),
                    questions.len()
                ),
            );
            if errs.full() {
                break;
            }
            continue;
        }
        let f = |i: usize| rec.get(fixed[i]).unwrap_or("").trim();
        let id = f(0).to_string();
        if id.is_empty() {
            errs.push(Some(line), "缺少 instance_id");
            continue;
        }
        let mut bad = false;
        let mut fail = |errs: &mut Collector, m: String| {
            errs.push(Some(line), m);
            bad = true;
        };
        if f(1) != form.version {
            fail(
                &mut errs,
                format!("问卷版本“{}”与问卷（版本 {}）不符", f(1), form.version),
            );
        }
        let code = f(2);
        let region = match &last_region {
            Some((c, r)) if c == code => Some(*r),
            _ => match crate::values::find_region(tree, code) {
                Ok(r) if in_frame(r) => {
                    last_region = Some((code.to_string(), r));
                    Some(r)
                }
                Ok(_) => {
                    fail(&mut errs, format!("地区“{code}”不在抽样框中"));
                    None
                }
                Err(m) => {
                    fail(&mut errs, m);
                    None
                }
            },
        };
        let channel = Channel::parse(f(3));
        if channel.is_none() {
            fail(
                &mut errs,
                format!(
                    "未知的渠道“{}”：应为 online、interview、paper 或 hotline",
                    f(3)
                ),
            );
        }
        let (started, submitted) = (parse_time(f(4)), parse_time(f(5)));
        for (name, raw, t) in [("started", f(4), started), ("submitted", f(5), submitted)] {
            if t.is_none() {
                fail(
                    &mut errs,
                    format!("{name}“{raw}”不是时间：应为 RFC 3339 或 YYYY-MM-DD HH:MM:SS"),
                );
            }
        }
        // Borrowed from the record where they can be; one buffer at the end.
        let mut answers: Vec<Cow<str>> = vec![Cow::Borrowed(""); form.questions.len()];
        for (i, q) in questions.iter().enumerate() {
            let Some(q) = *q else { continue };
            let raw = rec.get(i).unwrap_or("").trim();
            let a: Cow<str> = if matches!(form.questions[q].kind, Kind::SelectMultiple(_)) {
                Cow::Owned(raw.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                Cow::Borrowed(raw)
            };
            if let Err(m) = form.check_answer(q, &a) {
                fail(&mut errs, m);
            }
            answers[q] = a;
        }
        let answers = AnswerSet::new(&answers);
        if bad {
            if errs.full() {
                break;
            }
            continue;
        }
        let (Some(region), Some(channel), Some(s), Some(t)) = (region, channel, started, submitted)
        else {
            continue;
        };
        let row = Response {
            line,
            instance_id: id.clone(),
            region,
            channel,
            started: f(4).to_string(),
            submitted: f(5).to_string(),
            seconds: t - s,
            answers,
        };
        match ids.get(&id) {
            Some(&k) => {
                let first = &out.rows[k];
                let same = first.region == row.region
                    && first.channel == row.channel
                    && first.started == row.started
                    && first.submitted == row.submitted
                    && first.answers == row.answers;
                if same {
                    out.duplicates += 1;
                } else {
                    errs.push(
                        Some(line),
                        format!("instance_id“{id}”与第 {} 行重复但内容不同", first.line),
                    );
                }
            }
            None => {
                ids.insert(id, out.rows.len());
                out.rows.push(row);
            }
        }
        if errs.full() {
            break;
        }
    }
    if header.is_none() && errs.errors.is_empty() {
        errs.push(Some(1), "文件为空：缺少表头");
    }
    errs.finish(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fw() -> pingan_core::Framework {
        pingan_core::default_framework()
    }

    #[test]
    fn the_default_questionnaire_round_trips_through_xlsx() {
        let fw = fw();
        let known = |e: &str| fw.element_index(e).is_some();
        let bytes = write_form(&pingan_core::survey::default::sheets()).unwrap();
        let f = read_form("f.xlsx", &bytes, &known).unwrap();
        let d = pingan_core::survey::default::form(&known).unwrap();
        assert_eq!(f.elements(), d.elements());
        assert_eq!(f.questions.len(), d.questions.len());
        assert_eq!(f.lists.len(), d.lists.len());
        let e = read_form("f.xlsx", b"not a workbook", &known).unwrap_err();
        assert!(e[0].starts_with("f.xlsx: 不是 Excel"), "{e:?}");
    }

    fn tree() -> RegionTree {
        crate::read_regions(
            "r.csv",
            "code,name,parent,level\n99,省,,province\n9901,县,99,county\n990101,镇,9901,township\n"
                .as_bytes(),
        )
        .unwrap()
    }

    fn form() -> Form {
        let fw = fw();
        pingan_core::survey::default::form(&|e| fw.element_index(e).is_some()).unwrap()
    }

    #[test]
    fn responses_read_with_their_errors_named() {
        let (t, f) = (tree(), form());
        let head =
            "instance_id,form_version,region,channel,started,submitted,sex,age_group,q_safety\n";
        let ok = "a,1,990101,online,2024-10-01 10:00:00,2024-10-01T02:05:00Z,m,16_29,1\n";
        let r = read_responses(
            "r.csv",
            format!("{head}{ok}{ok}").as_bytes(),
            &f,
            &t,
            &|_| true,
        )
        .unwrap();
        assert_eq!((r.rows.len(), r.duplicates), (1, 1));
        assert_eq!(r.rows[0].seconds, 300.0);
        let bad = format!(
            "{head}a,1,990101,online,2024-10-01 10:00:00,2024-10-01 10:05:00,m,16_29,1\n\
             a,1,990101,online,2024-10-01 10:00:00,2024-10-01 10:05:00,f,16_29,1\n\
             b,2,990101,web,2024-10-01,x,m,old,7\n\
             c,1,9901,online,2024-10-01 10:00:00,2024-10-01 10:05:00,m,16_29,1\n"
        );
        let e = read_responses("r.csv", bad.as_bytes(), &f, &t, &|r| r == 2)
            .unwrap_err()
            .to_string();
        for want in [
            "r.csv:3: instance_id“a”与第 2 行重复但内容不同",
            "r.csv:4: 问卷版本“2”",
            "r.csv:4: 未知的渠道“web”",
            "r.csv:4: started“2024-10-01”不是时间",
            "r.csv:4: 题目 age_group 的选项“old”不在选项列表",
            "r.csv:4: 题目 q_safety 的选项“7”",
            "r.csv:5: 地区“9901”不在抽样框中",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        let e = read_responses("r.csv", b"instance_id,nope\n", &f, &t, &|_| true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("缺少必需的列“form_version”") && e.contains("未知的列“nope”"),
            "{e}"
        );
    }

    #[test]
    fn frames_and_margins_name_their_lines() {
        let (t, f) = (tree(), form());
        assert_eq!(
            read_frame("f.csv", b"region,population\n990101,5000\n", &t).unwrap(),
            vec![(2, 5000)]
        );
        let e = read_frame("f.csv", b"region,population\n9901,5\n990101,0\nzz,1\n", &t)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.csv:2: 地区“9901”不是基层地区")
                && e.contains("f.csv:3: 人口“0”")
                && e.contains("f.csv:4: 未知的地区代码"),
            "{e}"
        );
        let m = read_margins(
            "m.csv",
            b"region,variable,category,population\n9901,sex,m,10\n",
            &t,
            &f,
        )
        .unwrap();
        assert_eq!(m[0].population, 10.0);
        let e = read_margins("m.csv", b"region,variable,category,population\n9901,sex,x,10\n9901,q_nope,m,1\n990101,sex,m,1\n", &t, &f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.csv:2: 类别“x”")
                && e.contains("m.csv:3: 变量“q_nope”")
                && e.contains("m.csv:4: 地区“990101”是基层地区"),
            "{e}"
        );
    }

    proptest::proptest! {
        /// Arbitrary bytes never panic any survey reader.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let (t, f) = (tree(), form());
            let _ = read_form("f.xlsx", &bytes, &|_| true);
            let _ = read_frame("f.csv", &bytes, &t);
            let _ = read_margins("m.csv", &bytes, &t, &f);
            let _ = read_responses("r.csv", &bytes, &f, &t, &|_| true);
        }

        /// Response-like text: errors, never a panic.
        #[test]
        fn response_like_text_never_panics(s in "(instance_id,form_version,region,channel,started,submitted,sex,q_safety\n)?([0-9a-z:T+ ,\"\n-]|990101|online|2024-10-01 10:00:00|uuid){0,200}") {
            let (t, f) = (tree(), form());
            let _ = read_responses("r.csv", s.as_bytes(), &f, &t, &|_| true);
        }
    }
}

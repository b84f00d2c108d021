//! `values.csv` (`region,period,element,value[,source,note]`) and
//! `benchmarks.csv` (`benchmark,period,value`).

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use crate::table::{Columns, each_record, looks_scientific, scientific_message, split_records};
use pingan_core::Framework;
use pingan_core::data::DataSet;
use pingan_core::period::Period;
use pingan_core::region::RegionTree;
use rustc_hash::FxHashMap;

/// One parsed row, borrowed from the file.
#[derive(Clone, Copy, Debug)]
pub struct ValueRow<'a> {
    pub line: usize,
    pub region: usize,
    pub period: Period,
    pub element: usize,
    pub value: f64,
    pub source: &'a str,
    pub note: &'a str,
}

const VALUE_COLUMNS: [(&str, bool); 6] = [
    ("region", true),
    ("period", true),
    ("element", true),
    ("value", true),
    ("source", false),
    ("note", false),
];

fn text(b: &[u8]) -> &str {
    // The whole file was decoded to UTF-8 and fields split on ASCII bytes.
    std::str::from_utf8(b).unwrap_or("")
}

/// A region by code, or why the code names none.
pub(crate) fn find_region(tree: &RegionTree, code: &str) -> Result<usize, String> {
    match tree.find(code) {
        Some(i) => Ok(i),
        None if looks_scientific(code) => Err(scientific_message(code)),
        None if code.is_empty() => Err("地区代码（region）为空".into()),
        None => Err(format!("未知的地区代码“{code}”（regions.csv 中没有）")),
    }
}

fn unknown_element(code: &str) -> String {
    format!("未知的数据项代码“{code}”（指标体系中没有）")
}

/// One value given as text fields (an API item, a form cell), checked as
/// a row of values.csv is, with the same messages: the region, period,
/// element and number, or every problem found.
pub fn value_fields(
    region: &str,
    period: &str,
    element: &str,
    value: &str,
    fw: &Framework,
    tree: &RegionTree,
) -> Result<(usize, Period, usize, f64), Vec<String>> {
    let mut problems = Vec::new();
    let region = find_region(tree, region.trim())
        .map_err(|m| problems.push(m))
        .ok();
    let period = period
        .trim()
        .parse::<Period>()
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    let element = fw
        .element_index(element.trim())
        .ok_or_else(|| problems.push(unknown_element(element.trim())))
        .ok();
    let value = parse_value(value.trim()).map_err(|m| problems.push(m)).ok();
    match (region, period, element, value) {
        (Some(r), Some(p), Some(e), Some(v)) => Ok((r, p, e, v)),
        _ => Err(problems),
    }
}

/// A number as values.csv accepts it (finite; −0 stored as 0), or why not.
pub fn parse_value(raw: &str) -> Result<f64, String> {
    if raw.is_empty() {
        return Err("数值为空".into());
    }
    match raw.parse::<f64>() {
        // + 0.0 turns −0 into 0: both databases must store the same number.
        Ok(v) if v.is_finite() => Ok(v + 0.0),
        Ok(_) => Err(format!("数值“{raw}”不是有限数")),
        Err(_) if raw.contains(',') || raw.contains('，') => {
            Err(format!("数值“{raw}”不是数字（请去掉千位分隔符）"))
        }
        Err(_) if raw.ends_with('%') => {
            Err(format!("数值“{raw}”不是数字（请去掉百分号，只填数字）"))
        }
        Err(_) => Err(format!("数值“{raw}”不是数字")),
    }
}

/// `2024-06` read without hashing it: most rows of a values file are months.
fn month_fast(p: &[u8]) -> Option<Period> {
    let [y0, y1, y2, y3, b'-', m0, m1] = *p else {
        return None;
    };
    let d = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    let year = d(y0)? * 1000 + d(y1)? * 100 + d(y2)? * 10 + d(y3)?;
    let month = d(m0)? * 10 + d(m1)?;
    // Other years go the general way, which knows the bounds.
    ((1..=12).contains(&month) && (1900..=2199).contains(&year))
        .then_some(Period::Month(year as i32, month as u8))
}

/// A whole number of up to 15 digits (exact in f64), read without the
/// general float parser: most values are counts.
fn integer_fast(v: &[u8]) -> Option<f64> {
    if v.is_empty() || v.len() > 15 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n as f64)
}

/// Turns one record into a row; remembers what repeats from row to row
/// (the region, the element, the dozen distinct periods).
struct RowParser<'a> {
    cols: Columns,
    elements: &'a FxHashMap<&'a str, usize>,
    tree: &'a RegionTree,
    periods: FxHashMap<Vec<u8>, Period>,
    last_region: (Vec<u8>, usize),
    last_element: (Vec<u8>, usize),
}

impl<'a> RowParser<'a> {
    fn new(cols: Columns, elements: &'a FxHashMap<&'a str, usize>, tree: &'a RegionTree) -> Self {
        RowParser {
            cols,
            elements,
            tree,
            periods: FxHashMap::default(),
            last_region: (Vec::new(), usize::MAX),
            last_element: (Vec::new(), usize::MAX),
        }
    }

    fn parse<'t>(
        &mut self,
        errs: &mut Collector,
        line: usize,
        rec: &[&'t [u8]],
    ) -> Option<ValueRow<'t>> {
        let cols = &self.cols;
        let (r, p, e, v) = (
            cols.get(rec, 0),
            cols.get(rec, 1),
            cols.get(rec, 2),
            cols.get(rec, 3),
        );
        // An empty code never matches the cache (it starts empty).
        let region = if !r.is_empty() && r == self.last_region.0.as_slice() {
            Some(self.last_region.1)
        } else {
            match find_region(self.tree, text(r)) {
                Ok(i) => {
                    self.last_region = (r.to_vec(), i);
                    Some(i)
                }
                Err(m) => {
                    errs.push(Some(line), m);
                    None
                }
            }
        };
        let period = match month_fast(p).or_else(|| self.periods.get(p).copied()) {
            Some(per) => Some(per),
            None => match text(p).parse::<Period>() {
                Ok(per) => {
                    self.periods.insert(p.to_vec(), per);
                    Some(per)
                }
                Err(err) => {
                    errs.push(Some(line), err.to_string());
                    None
                }
            },
        };
        let cached =
            (!e.is_empty() && e == self.last_element.0.as_slice()).then_some(self.last_element.1);
        let element = match cached.or_else(|| self.elements.get(text(e)).copied()) {
            Some(i) => {
                if cached.is_none() {
                    self.last_element = (e.to_vec(), i);
                }
                Some(i)
            }
            None => {
                errs.push(Some(line), unknown_element(text(e)));
                None
            }
        };
        let value = match integer_fast(v).map_or_else(|| parse_value(text(v)), Ok) {
            Ok(x) => Some(x),
            Err(msg) => {
                errs.push(Some(line), msg);
                None
            }
        };
        Some(ValueRow {
            line,
            region: region?,
            period: period?,
            element: element?,
            value: value?,
            source: text(self.cols.get(rec, 4)),
            note: text(self.cols.get(rec, 5)),
        })
    }
}

/// Below this a second thread costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Call `f` for every valid row, in file order. Errors of the file itself
/// and the messages `f` returns are collected with their line.
pub fn for_each_value(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    tree: &RegionTree,
    mut f: impl FnMut(ValueRow) -> Result<(), String>,
) -> Result<usize, InputErrors> {
    let text_all = decode(bytes);
    let body = text_all.as_bytes();
    let mut errs = Collector::new(file);
    let elements = element_codes(fw);
    let mut rows = 0usize;
    let mut apply = |errs: &mut Collector, row: ValueRow| {
        if let Err(msg) = f(row) {
            errs.push(Some(row.line), msg);
        }
        rows += 1;
    };

    // Large quote-free files (the usual case) are parsed in two halves at
    // once; rows still reach `f` in file order.
    if let Some(Halves {
        header,
        first,
        second,
    }) = halves(body)
    {
        let second_line = 2 + memchr::memchr_iter(b'\n', first).count();
        let Some(cols) = Columns::read(&header, &VALUE_COLUMNS, &mut errs) else {
            return errs.finish(0);
        };
        let n = header.len();
        let (later_rows, later_errs) = std::thread::scope(|s| {
            let later = s.spawn(|| {
                let mut errs = Collector::new(file);
                let mut parser = RowParser::new(cols.clone(), &elements, tree);
                let mut out = Vec::new();
                split_records(
                    second,
                    second_line,
                    Some(n),
                    &mut errs,
                    |errs, line, rec| {
                        out.extend(parser.parse(errs, line, rec));
                        true
                    },
                );
                (out, errs.errors)
            });
            let mut parser = RowParser::new(cols.clone(), &elements, tree);
            split_records(first, 2, Some(n), &mut errs, |errs, line, rec| {
                if let Some(row) = parser.parse(errs, line, rec) {
                    apply(errs, row);
                }
                true
            });
            later.join().unwrap_or_default()
        });
        for e in later_errs {
            errs.push(e.line, e.message);
        }
        for row in later_rows {
            apply(&mut errs, row);
        }
        return errs.finish(rows);
    }

    let mut parser: Option<RowParser> = None;
    each_record(&text_all, &mut errs, |errs, line, rec| {
        let Some(p) = &mut parser else {
            parser = Columns::read(rec, &VALUE_COLUMNS, errs)
                .map(|c| RowParser::new(c, &elements, tree));
            return parser.is_some();
        };
        if let Some(row) = p.parse(errs, line, rec) {
            apply(errs, row);
        }
        true
    });
    if parser.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：应有表头 region,period,element,value");
    }
    errs.finish(rows)
}

/// Element codes to their positions.
fn element_codes(fw: &Framework) -> FxHashMap<&str, usize> {
    fw.elements
        .iter()
        .enumerate()
        .map(|(i, e)| (e.code.as_str(), i))
        .collect()
}

/// A large quote-free file cut for two cores: its header's fields and its
/// rows in two halves at a line boundary. None for a small file, one with
/// quotes (a quoted field may hold a line break) or one without a row.
struct Halves<'a> {
    header: Vec<&'a [u8]>,
    first: &'a [u8],
    second: &'a [u8],
}

fn halves(body: &[u8]) -> Option<Halves<'_>> {
    if body.len() < PARALLEL_MIN_BYTES || memchr::memchr(b'"', body).is_some() {
        return None;
    }
    let header_end = memchr::memchr(b'\n', body)?;
    let header = body[..header_end]
        .strip_suffix(b"\r")
        .unwrap_or(&body[..header_end])
        .split(|&b| b == b',')
        .collect();
    let rest = &body[header_end + 1..];
    let mid = rest.len() / 2;
    let cut = memchr::memchr(b'\n', &rest[mid..]).map_or(rest.len(), |i| mid + i + 1);
    let (first, second) = rest.split_at(cut);
    Some(Halves {
        header,
        first,
        second,
    })
}

/// The fast path of `read_values` for a large quote-free file: each half
/// read into a data set of its own on its own core, then joined (series
/// moved, not copied; nothing buffered between the threads). Any problem —
/// a bad row, a key twice — returns `None` and is left to the sequential
/// path, which names every line.
fn read_values_halves(bytes: &[u8], fw: &Framework, tree: &RegionTree) -> Option<DataSet> {
    let text_all = decode(bytes);
    let Halves {
        header,
        first,
        second,
    } = halves(text_all.as_bytes())?;
    let elements = element_codes(fw);
    let cols = Columns::read(&header, &VALUE_COLUMNS, &mut Collector::new(""))?;
    let n = header.len();
    let half = |part: &[u8]| -> Option<DataSet> {
        let mut errs = Collector::new("");
        let mut parser = RowParser::new(cols.clone(), &elements, tree);
        let mut data = DataSet::new(tree.len(), fw.elements.len());
        let mut clean = true;
        split_records(part, 2, Some(n), &mut errs, |errs, line, rec| {
            clean = parser.parse(errs, line, rec).is_some_and(|row| {
                data.insert(row.region, row.period, row.element, row.value)
                    .is_ok()
            });
            clean
        });
        (clean && errs.errors.is_empty()).then_some(data)
    };
    let (mut a, b) = std::thread::scope(|s| {
        let later = s.spawn(|| half(second));
        let a = half(first);
        (a, later.join().ok().flatten())
    });
    a.as_mut()?.absorb(b?).ok()?;
    a
}

/// Read values for scoring: one value per (region, period, element).
pub fn read_values(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    tree: &RegionTree,
) -> Result<DataSet, InputErrors> {
    if let Some(data) = read_values_halves(bytes, fw, tree) {
        return Ok(data);
    }
    // ~40 bytes a row is typical; reserving avoids rehashing millions of keys.
    let mut data = DataSet::new(tree.len(), fw.elements.len());
    let mut dup_lines = Vec::new();
    let result = for_each_value(file, bytes, fw, tree, |row| {
        if data
            .insert(row.region, row.period, row.element, row.value)
            .is_err()
        {
            dup_lines.push((row.line, row.region, row.period, row.element));
        }
        Ok(())
    });
    result?;
    if dup_lines.is_empty() {
        return Ok(data);
    }
    // Rare path: find where each duplicated key first appeared.
    let mut first: FxHashMap<(usize, Period, usize), usize> = FxHashMap::default();
    let wanted: FxHashMap<(usize, Period, usize), ()> = dup_lines
        .iter()
        .map(|&(_, r, p, e)| ((r, p, e), ()))
        .collect();
    let _ = for_each_value(file, bytes, fw, tree, |row| {
        let key = (row.region, row.period, row.element);
        if wanted.contains_key(&key) {
            first.entry(key).or_insert(row.line);
        }
        Ok(())
    });
    let mut errs = Collector::new(file);
    for (line, r, p, e) in dup_lines {
        errs.push(
            Some(line),
            format!(
                "重复的数据：地区 {}、期间 {p}、数据项 {} 已在第 {} 行出现（计分时每个地区、期间、数据项只能有一个值）",
                tree.get(r).code,
                fw.elements[e].code,
                first.get(&(r, p, e)).copied().unwrap_or(0)
            ),
        );
    }
    errs.finish(data)
}

const BENCHMARK_COLUMNS: [(&str, bool); 3] =
    [("benchmark", true), ("period", true), ("value", true)];

/// One row of `benchmarks.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchmarkRow {
    pub line: usize,
    pub benchmark: usize,
    pub period: Period,
    pub value: f64,
}

/// Every row of `benchmarks.csv`, checked: known codes, periods, numbers,
/// no (benchmark, period) twice.
pub fn read_benchmark_rows(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
) -> Result<Vec<BenchmarkRow>, InputErrors> {
    let text_all = decode(bytes);
    let mut errs = Collector::new(file);
    let mut seen: FxHashMap<(usize, Period), usize> = FxHashMap::default();
    let mut cols: Option<Columns> = None;
    let mut out = Vec::new();
    each_record(&text_all, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = Columns::read(rec, &BENCHMARK_COLUMNS, errs);
            return cols.is_some();
        };
        let (b, p, v) = (
            text(cols.get(rec, 0)),
            text(cols.get(rec, 1)),
            text(cols.get(rec, 2)),
        );
        let bench = fw.benchmark_index(b);
        if bench.is_none() {
            errs.push(
                Some(line),
                format!("未知的基准值代码“{b}”（指标体系中没有）"),
            );
        }
        let period = p
            .parse::<Period>()
            .map_err(|e| errs.push(Some(line), e.to_string()))
            .ok();
        let value = parse_value(v).map_err(|m| errs.push(Some(line), m)).ok();
        if let (Some(benchmark), Some(period), Some(value)) = (bench, period, value) {
            if let Some(first) = seen.insert((benchmark, period), line) {
                errs.push(
                    Some(line),
                    format!("重复的基准值：{b} {period} 已在第 {first} 行出现"),
                );
            } else {
                out.push(BenchmarkRow {
                    line,
                    benchmark,
                    period,
                    value,
                });
            }
        }
        true
    });
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：应有表头 benchmark,period,value");
    }
    errs.finish(out)
}

/// Read `benchmarks.csv` into `data`.
pub fn read_benchmarks(
    file: &str,
    bytes: &[u8],
    fw: &Framework,
    data: &mut DataSet,
) -> Result<(), InputErrors> {
    for r in read_benchmark_rows(file, bytes, fw)? {
        let _ = data.insert_benchmark(r.benchmark, r.period, r.value);
    }
    Ok(())
}

/// The line of `benchmarks.csv` that gives `code` for `period`, so that a
/// value found wrong later (0 under a relative rule) can be pointed at.
pub fn benchmark_line(bytes: &[u8], code: &str, period: Period) -> Option<usize> {
    let text_all = decode(bytes);
    let mut errs = Collector::new("");
    let mut cols: Option<Columns> = None;
    let mut found = None;
    each_record(&text_all, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = Columns::read(rec, &BENCHMARK_COLUMNS, errs);
            return cols.is_some();
        };
        if text(cols.get(rec, 0)) == code && text(cols.get(rec, 1)).parse::<Period>() == Ok(period)
        {
            found = Some(line);
            return false;
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_regions;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static FW: LazyLock<Framework> = LazyLock::new(pingan_core::default_framework);

    fn tree() -> RegionTree {
        read_regions(
            "regions.csv",
            b"code,name,parent,level\n99,P,,province\n9901,C,99,city\n",
        )
        .unwrap()
    }

    fn err(src: &str) -> String {
        let fw = &*FW;
        read_values("values.csv", src.as_bytes(), fw, &tree())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_values_and_provenance() {
        let fw = &*FW;
        let src = "region,period,element,value,source,note\n9901,2024-03,population,100,统计,\n99,2024,safety_index,4.1,,\n";
        let d = read_values("values.csv", src.as_bytes(), fw, &tree()).unwrap();
        let pop = fw.element_index("population").unwrap();
        assert_eq!(d.get(1, Period::Month(2024, 3), pop), Some(100.0));
        let mut sources = Vec::new();
        for_each_value("values.csv", src.as_bytes(), fw, &tree(), |r| {
            sources.push((r.line, r.source.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(sources, vec![(2, "统计".to_string()), (3, String::new())]);
    }

    #[test]
    fn every_bad_row_is_named() {
        let h = "region,period,element,value\n";
        assert_eq!(
            err(&format!("{h}9902,2024,population,1\n")),
            "values.csv:2: 未知的地区代码“9902”（regions.csv 中没有）"
        );
        assert_eq!(
            err(&format!("{h}99,2024,popu,1\n")),
            "values.csv:2: 未知的数据项代码“popu”（指标体系中没有）"
        );
        assert!(
            err(&format!("{h}99,2024年,population,1\n"))
                .starts_with("values.csv:2: 期间“2024年”无法识别")
        );
        assert_eq!(
            err(&format!("{h}99,2024,population,abc\n")),
            "values.csv:2: 数值“abc”不是数字"
        );
        assert_eq!(
            err(&format!("{h}99,2024,population,NaN\n")),
            "values.csv:2: 数值“NaN”不是有限数"
        );
        assert_eq!(
            err(&format!("{h}99,2024,population,inf\n")),
            "values.csv:2: 数值“inf”不是有限数"
        );
        assert_eq!(
            err(&format!("{h}99,2024,population,\n")),
            "values.csv:2: 数值为空"
        );
        assert!(err(&format!("{h}99,2024,population\n")).starts_with("values.csv:2: 本行有 3 列"));
        assert!(err(&format!("{h}9.9E+1,2024,population,1\n")).contains("科学计数法"));
        // Empty codes on the first rows are errors, not cache hits.
        assert_eq!(
            err(&format!("{h}99,2024,,1\n")),
            "values.csv:2: 未知的数据项代码“”（指标体系中没有）"
        );
        assert_eq!(
            err(&format!("{h},2024,population,1\n")),
            "values.csv:2: 地区代码（region）为空"
        );
        assert_eq!(
            err(&format!("{h}99,2024,population,1\n99,2024,population,2\n")),
            "values.csv:3: 重复的数据：地区 99、期间 2024、数据项 population 已在第 2 行出现（计分时每个地区、期间、数据项只能有一个值）"
        );
        assert!(err("region,period,value\n").contains("缺少必需的列“element”"));
        // A workbook given as the CSV: said so, its bytes not printed.
        let e = err("PK\u{3}\u{4}\u{14}\0\u{8}\0[Content_Types].xml,\u{1}\n");
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.starts_with("values.csv:1: 这是 Excel 工作簿") && !e.contains("Content_Types"),
            "{e}"
        );
        assert!(err("\u{1}\u{2}binary\n").contains("这不是文本文件"));
        // Two errors on two lines are both reported.
        let two = err(&format!("{h}x,2024,population,1\n99,2024,population,y\n"));
        assert_eq!(two.lines().count(), 2, "{two}");
    }

    #[test]
    fn gb18030_file() {
        let fw = &*FW;
        let (regions, _, _) =
            encoding_rs::GB18030.encode("code,name,parent,level\n99,平安省,,province\n");
        let t = read_regions("regions.csv", &regions).unwrap();
        assert_eq!(t.get(0).name, "平安省");
        let (vals, _, _) = encoding_rs::GB18030
            .encode("region,period,element,value,source,note\n99,2024,population,1,统计局,备注\n");
        let d = read_values("values.csv", &vals, fw, &t).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn benchmarks() {
        let fw = &*FW;
        let mut d = DataSet::new(1, 1);
        read_benchmarks(
            "benchmarks.csv",
            b"benchmark,period,value\nnational_criminal_rate,2024,350\n",
            fw,
            &mut d,
        )
        .unwrap();
        assert_eq!(d.benchmark(0, Period::Year(2024)), Some(350.0));
        let e = read_benchmarks(
            "b.csv",
            b"benchmark,period,value\nnope,2024,1\n",
            fw,
            &mut d,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "b.csv:2: 未知的基准值代码“nope”（指标体系中没有）"
        );
    }

    /// A file large enough for the two-thread path.
    fn big_file() -> (String, usize) {
        let mut s = String::from("region,period,element,value\n");
        let mut n = 0;
        for y in 1000..3000 {
            for m in 1..=12 {
                for e in [
                    "population",
                    "criminal_cases",
                    "major_cases",
                    "fraud_cases",
                    "fraud_solved",
                    "petitions",
                ] {
                    s.push_str(&format!("99,{y}-{m:02},{e},{n}\n"));
                    n += 1;
                }
            }
        }
        assert!(s.len() > PARALLEL_MIN_BYTES);
        (s, n)
    }

    #[test]
    fn fast_paths_agree_with_the_general_ones() {
        for p in ["2024-06", "1900-01", "2024-12", "2199-09"] {
            assert_eq!(month_fast(p.as_bytes()), p.parse().ok(), "{p}");
        }
        for p in [
            "2024-13", "2024-00", "2024-6", "2024Q1", "2024", "20x4-01", "0000-01", "9999-01",
        ] {
            assert_eq!(month_fast(p.as_bytes()), None, "{p}");
        }
        for v in ["0", "7", "000123", "999999999999999"] {
            assert_eq!(integer_fast(v.as_bytes()), parse_value(v).ok(), "{v}");
        }
        for v in ["", "-1", "1.5", "1e3", "+1", "1,000", "1234567890123456"] {
            assert_eq!(integer_fast(v.as_bytes()), None, "{v}");
        }
    }

    #[test]
    fn parallel_path_keeps_order_lines_and_errors() {
        let fw = &*FW;
        let (src, n) = big_file();
        let d = read_values("v.csv", src.as_bytes(), fw, &tree()).unwrap();
        assert_eq!(d.len(), n);
        let pop = fw.element_index("population").unwrap();
        assert_eq!(d.get(0, Period::Month(2999, 12), pop), Some((n - 6) as f64));
        // The same file through the general CSV reader (a quote forces it).
        let quoted = src.replacen("region,", "\"region\",", 1);
        let mut lines_seq = Vec::new();
        for_each_value("v.csv", quoted.as_bytes(), fw, &tree(), |r| {
            lines_seq.push((r.line, r.value));
            Ok(())
        })
        .unwrap();
        let mut lines_par = Vec::new();
        for_each_value("v.csv", src.as_bytes(), fw, &tree(), |r| {
            lines_par.push((r.line, r.value));
            Ok(())
        })
        .unwrap();
        assert_eq!(lines_seq, lines_par);
        // Read in two halves and joined, the data set is the sequential one.
        assert!(read_values_halves(src.as_bytes(), fw, &tree()).is_some());
        let seq = read_values("v.csv", quoted.as_bytes(), fw, &tree()).unwrap();
        assert_eq!(seq.len(), d.len());
        for (y, m) in [(1000, 1), (1999, 6), (2000, 7), (2999, 12)] {
            for e in 0..fw.elements.len() {
                let p = Period::Month(y, m);
                assert_eq!(seq.get(0, p, e), d.get(0, p, e));
            }
        }
        // A key in both halves: the sequential path names both lines.
        let twice = format!("{src}99,1000-01,population,7\n");
        let e = read_values("v.csv", twice.as_bytes(), fw, &tree()).unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert!(e.to_string().contains("已在第 2 行出现"), "{e}");
        // Errors in both halves, reported in file order with true lines.
        let mut lines: Vec<&str> = src.lines().collect();
        let late = lines.len() - 10;
        lines[5] = "99,2024,population,x";
        lines[late] = "99,2024,nope,1";
        let broken = lines.join("\n");
        let e = read_values("v.csv", broken.as_bytes(), fw, &tree()).unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
        assert_eq!(e.0[0].line, Some(6));
        assert_eq!(e.0[1].line, Some(late + 1));
    }

    #[test]
    fn empty_lines_and_crlf() {
        let fw = &*FW;
        let d = read_values(
            "v.csv",
            b"region,period,element,value\r\n\r\n99,2024,population,5\r\n",
            fw,
            &tree(),
        )
        .unwrap();
        assert_eq!(d.len(), 1);
        let quoted = read_values(
            "v.csv",
            b"region,period,element,value\n\"99\",2024,population,\"5\"\n",
            fw,
            &tree(),
        )
        .unwrap();
        assert_eq!(quoted.len(), 1);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let fw = &*FW;
            let _ = read_regions("r.csv", &bytes);
            let _ = read_values("v.csv", &bytes, fw, &tree());
            let mut d = DataSet::new(1, 1);
            let _ = read_benchmarks("b.csv", &bytes, fw, &mut d);
        }

        #[test]
        fn csv_like_text_never_panics(s in "(region,period,element,value\n)?([0-9a-z_.,E+\\-\"\n ]|平|安){0,200}") {
            let fw = &*FW;
            let _ = read_regions("r.csv", s.as_bytes());
            let _ = read_values("v.csv", s.as_bytes(), fw, &tree());
        }
    }
}

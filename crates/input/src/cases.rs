//! `cases.csv`: the mediation register (调解案件台账) that callback sampling
//! draws from — `case_id,region,date,type,outcome,agreement,fulfilled[,note]`,
//! or the same columns under their Chinese names, as a department exports
//! them. Every row is checked, and every bad one is named `file:line`.

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use crate::table::{each_record, looks_scientific, scientific_message};
use pingan_core::period::{Date, YearEnd};
use pingan_core::region::RegionTree;
use pingan_core::text::Field;
use rustc_hash::FxHashMap;

/// How a mediation ended, as the register records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Failure,
    Ongoing,
    Terminated,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Ongoing,
        Outcome::Terminated,
    ];

    /// The stored text (the register's own words).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "调解成功",
            Outcome::Failure => "调解不成功",
            Outcome::Ongoing => "调解中",
            Outcome::Terminated => "终止调解",
        }
    }

    /// The label or a common way of writing it.
    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s.trim() {
            "调解成功" | "成功" | "已化解" | "success" => Outcome::Success,
            "调解不成功" | "不成功" | "失败" | "调解失败" | "未化解" | "failure" => {
                Outcome::Failure
            }
            "调解中" | "进行中" | "正在调解" | "ongoing" => Outcome::Ongoing,
            "终止调解" | "终止" | "terminated" => Outcome::Terminated,
            _ => return None,
        })
    }
}

/// One case from the register.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    pub line: usize,
    pub case_id: String,
    /// Index into the region tree.
    pub region: usize,
    pub date: Date,
    /// 纠纷类型 (婚姻家庭, 邻里纠纷, …), free text.
    pub kind: String,
    pub outcome: Outcome,
    /// 是否达成调解协议.
    pub agreement: bool,
    /// 协议是否履行.
    pub fulfilled: bool,
    pub note: String,
}

/// Column j: its English name, the Chinese names accepted for it, required.
const COLUMNS: [(&str, &[&str], bool); 8] = [
    ("case_id", &["案件编号", "案号"], true),
    ("region", &["地区代码", "地区"], true),
    ("date", &["受理日期", "日期"], true),
    ("type", &["纠纷类型", "类型"], true),
    ("outcome", &["调解结果", "结果"], true),
    ("agreement", &["是否达成协议", "达成协议", "协议"], true),
    ("fulfilled", &["是否履行", "履行"], true),
    ("note", &["备注"], false),
];

/// Longest case id and type kept; anything longer is not a register entry.
const MAX_TEXT: usize = 100;
const ID: Field = Field {
    label: "案件编号",
    max_chars: MAX_TEXT,
    multiline: false,
};
const KIND: Field = Field {
    label: "纠纷类型",
    max_chars: MAX_TEXT,
    multiline: false,
};

fn header(rec: &[&[u8]], errs: &mut Collector) -> Option<[Option<usize>; 8]> {
    if let Some(m) = rec.first().and_then(|h| crate::table::not_text(h)) {
        errs.push(Some(1), m.to_string());
        return None;
    }
    let mut idx = [None; 8];
    let mut ok = true;
    for (i, raw) in rec.iter().enumerate() {
        let h = String::from_utf8_lossy(raw);
        let h = h.trim().trim_start_matches('\u{feff}');
        match COLUMNS
            .iter()
            .position(|(en, zh, _)| *en == h || zh.contains(&h))
        {
            Some(j) if idx[j].is_some() => {
                errs.push(Some(1), format!("列“{h}”重复"));
                ok = false;
            }
            Some(j) => idx[j] = Some(i),
            None => {
                let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
                errs.push(
                    Some(1),
                    format!("未知的列“{h}”：表头应为 {}", names.join(",")),
                );
                ok = false;
            }
        }
    }
    for (j, (en, zh, required)) in COLUMNS.iter().enumerate() {
        if *required && idx[j].is_none() {
            errs.push(Some(1), format!("缺少必需的列“{en}”（{}）", zh[0]));
            ok = false;
        }
    }
    ok.then_some(idx)
}

/// 是/否 and the usual ways a spreadsheet writes them.
fn yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "是" | "有" | "已履行" | "1" | "Y" | "y" | "yes" | "true" | "TRUE" => Some(true),
        "否" | "无" | "未履行" | "0" | "N" | "n" | "no" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `2024-03-05`, or `2024/3/5` and `2024.3.5` as Excel writes dates.
pub fn parse_case_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || !(1..=2).contains(&parts[1].len())
        || !(1..=2).contains(&parts[2].len())
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let norm = format!("{}-{:0>2}-{:0>2}", parts[0], parts[1], parts[2]);
    Date::parse(&norm, YearEnd::Start).ok()
}

/// One case from its eight fields (`case_id, region, date, type, outcome,
/// agreement, fulfilled, note`, trimmed text), with every problem found.
/// Repeated case ids are the caller's to find (it knows where the first
/// one was). The row's `line` is 0.
pub fn case_row(f: &[String; 8], tree: &RegionTree) -> Result<CaseRow, Vec<String>> {
    let mut errs: Vec<String> = Vec::new();
    let mut text = |field: Field, raw: &str| {
        pingan_core::text::clean(field, raw).unwrap_or_else(|m| {
            errs.push(m);
            raw.to_string()
        })
    };
    let case_id = text(ID, &f[0]);
    let kind = text(KIND, &f[3]);
    let note = text(pingan_core::text::NOTE.named("备注"), &f[7]);
    if case_id.is_empty() {
        errs.push("案件编号（case_id）为空".into());
    }
    let code = &f[1];
    let region = if looks_scientific(code) {
        errs.push(scientific_message(code));
        None
    } else if code.is_empty() {
        errs.push("地区代码（region）为空".into());
        None
    } else {
        let r = tree.find(code);
        if r.is_none() {
            errs.push(format!("未知的地区代码“{code}”"));
        }
        r
    };
    let raw_date = &f[2];
    let date = parse_case_date(raw_date);
    if date.is_none() {
        errs.push(format!(
            "受理日期“{raw_date}”无法识别：应为存在的日期，如 2024-03-05"
        ));
    }
    if kind.is_empty() {
        errs.push("纠纷类型（type）为空".into());
    }
    let raw_outcome = &f[4];
    let outcome = Outcome::parse(raw_outcome);
    if outcome.is_none() {
        let all: Vec<&str> = Outcome::ALL.iter().map(|o| o.label()).collect();
        errs.push(format!(
            "调解结果“{raw_outcome}”无法识别：应为 {}",
            all.join("、")
        ));
    }
    let mut flag = |raw: &str, what: &str| {
        let v = yes_no(raw);
        if v.is_none() {
            errs.push(format!("{what}“{raw}”应为“是”或“否”"));
        }
        v
    };
    let agreement = flag(&f[5], "是否达成协议");
    let fulfilled = flag(&f[6], "是否履行");
    if let (Some(o), Some(true)) = (outcome, agreement)
        && o != Outcome::Success
    {
        errs.push(format!("调解结果为“{}”，却填写了达成协议", o.label()));
    }
    if agreement == Some(false) && fulfilled == Some(true) {
        errs.push("未达成协议，却填写了协议已履行".into());
    }
    match (region, date, outcome, agreement, fulfilled) {
        (Some(region), Some(date), Some(outcome), Some(agreement), Some(fulfilled))
            if errs.is_empty() =>
        {
            Ok(CaseRow {
                line: 0,
                case_id,
                region,
                date,
                kind,
                outcome,
                agreement,
                fulfilled,
                note,
            })
        }
        _ => Err(errs),
    }
}

/// Every case of `bytes`, checked whole: unknown regions, bad dates, an
/// outcome or 是/否 that cannot be read, a repeated case id, and rows that
/// contradict themselves (an agreement without success, fulfilment without
/// an agreement).
pub fn read_cases(
    file: &str,
    bytes: &[u8],
    tree: &RegionTree,
) -> Result<Vec<CaseRow>, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut cols: Option<[Option<usize>; 8]> = None;
    let mut rows = Vec::new();
    let mut first: FxHashMap<String, usize> = FxHashMap::default();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = header(rec, errs);
            return cols.is_some();
        };
        let field = |j: usize| -> String {
            cols[j]
                .and_then(|i| rec.get(i))
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default()
        };
        let fields: [String; 8] = std::array::from_fn(field);
        if let Some(l) = (!fields[0].is_empty() && fields[0].chars().count() <= MAX_TEXT)
            .then(|| first.get(&fields[0]))
            .flatten()
        {
            errs.push(
                Some(line),
                format!("案件编号“{}”与第 {l} 行重复", fields[0]),
            );
            for m in case_row(&fields, tree).err().unwrap_or_default() {
                errs.push(Some(line), m);
            }
            return true;
        }
        match case_row(&fields, tree) {
            Ok(mut row) => {
                first.insert(row.case_id.clone(), line);
                row.line = line;
                rows.push(row);
            }
            Err(problems) => {
                if !fields[0].is_empty() && fields[0].chars().count() <= MAX_TEXT {
                    first.insert(fields[0].clone(), line);
                }
                for m in problems {
                    errs.push(Some(line), m);
                }
            }
        }
        true
    });
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(
            None,
            "文件为空：应有表头 case_id,region,date,type,outcome,agreement,fulfilled",
        );
    }
    if errs.errors.is_empty() && rows.is_empty() {
        errs.push(None, "文件中没有任何案件");
    }
    errs.finish(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_regions;
    use proptest::prelude::*;

    fn tree() -> RegionTree {
        read_regions(
            "regions.csv",
            b"code,name,parent,level\n99,P,,province\n9901,C,99,city\n990101,X,9901,county\n",
        )
        .unwrap()
    }

    fn err(src: &str) -> String {
        read_cases("cases.csv", src.as_bytes(), &tree())
            .unwrap_err()
            .to_string()
    }

    const HEAD: &str = "case_id,region,date,type,outcome,agreement,fulfilled\n";

    /// A workbook given as the ledger: said so, its bytes not printed.
    #[test]
    fn a_workbook_is_said_to_be_one() {
        let e = err("PK\u{3}\u{4}\u{14}\0[Content_Types].xml,x\n");
        assert!(e.starts_with("cases.csv:1: 这是 Excel 工作簿"), "{e}");
        assert!(!e.contains("Content_Types"), "{e}");
    }

    #[test]
    fn reads_english_and_chinese_headers() {
        let rows = read_cases(
            "c.csv",
            format!("{HEAD}T-1,990101,2024-03-05,邻里纠纷,调解成功,是,是\nT-2,9901,2024/3/6,婚姻家庭,不成功,否,否\n")
                .as_bytes(),
            &tree(),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].outcome, Outcome::Failure);
        assert_eq!(rows[1].date.to_string(), "2024-03-06");
        assert_eq!(rows[1].line, 3);
        let zh = "案件编号,地区代码,受理日期,纠纷类型,调解结果,是否达成协议,是否履行,备注\n\
                  (2024)调字第1号,990101,2024-01-02,物业纠纷,调解成功,是,否,分期履行\n";
        let (gb, _, _) = encoding_rs::GB18030.encode(zh);
        let rows = read_cases("c.csv", &gb, &tree()).unwrap();
        assert_eq!(rows[0].case_id, "(2024)调字第1号");
        assert_eq!(rows[0].note, "分期履行");
        assert!(rows[0].agreement && !rows[0].fulfilled);
    }

    #[test]
    fn every_bad_row_is_named() {
        let e = err(&format!(
            "{HEAD}A,990101,2024-13-01,邻里纠纷,调解成功,是,是\n\
             A,77,2024-01-01,邻里纠纷,调解成功,是,是\n\
             B,990101,2024-01-01,,好,也许,是\n\
             C,990101,2024-01-01,邻里纠纷,调解不成功,是,否\n\
             D,990101,2024-01-01,邻里纠纷,调解成功,否,是\n\
             E,3.3E+11,2024-01-01,邻里纠纷,调解成功,是,是\n"
        ));
        for want in [
            "cases.csv:2: 受理日期“2024-13-01”无法识别",
            "cases.csv:3: 案件编号“A”与第 2 行重复",
            "cases.csv:3: 未知的地区代码“77”",
            "cases.csv:4: 纠纷类型（type）为空",
            "cases.csv:4: 调解结果“好”无法识别",
            "cases.csv:4: 是否达成协议“也许”应为“是”或“否”",
            "cases.csv:5: 调解结果为“调解不成功”，却填写了达成协议",
            "cases.csv:6: 未达成协议，却填写了协议已履行",
            "cases.csv:7: 地区代码“3.3E+11”是科学计数法",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        assert!(err("case_id,region\n").contains("缺少必需的列“date”"));
        assert!(err("").contains("文件为空"));
        assert!(err(HEAD).contains("没有任何案件"));
        assert!(err(&format!("{HEAD}A,990101\n")).contains("cases.csv:2: 本行有 2 列"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_cases("c.csv", &bytes, &tree());
        }

        #[test]
        fn case_like_text_never_panics(s in "(case_id,region,date,type,outcome,agreement,fulfilled\n)?([0-9A-Z/.,\\-\"\n ]|是|否|调解成功|990101){0,200}") {
            let _ = read_cases("c.csv", s.as_bytes(), &tree());
        }
    }
}

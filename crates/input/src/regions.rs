//! `regions.csv`: `code,name,parent,level[,valid_from,valid_to]`.

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use crate::table::{Columns, each_record, looks_scientific, scientific_message};
use pingan_core::period::{Date, YearEnd};
use pingan_core::region::{Level, RegionRow, RegionTree};

const COLUMNS: [(&str, bool); 6] = [
    ("code", true),
    ("name", true),
    ("parent", true),
    ("level", true),
    ("valid_from", false),
    ("valid_to", false),
];

pub fn read_regions(file: &str, bytes: &[u8]) -> Result<RegionTree, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut cols: Option<Columns> = None;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = Columns::read(rec, &COLUMNS, errs);
            return cols.is_some();
        };
        let field = |j: usize| String::from_utf8_lossy(cols.get(rec, j)).into_owned();
        let (code, name, parent, level) = (field(0), field(1), field(2), field(3));
        let mut bad = false;
        for c in [&code, &parent] {
            if looks_scientific(c) {
                errs.push(Some(line), scientific_message(c));
                bad = true;
            }
        }
        if code.is_empty() {
            errs.push(Some(line), "地区代码（code）为空");
            bad = true;
        }
        let level = match level.parse::<Level>() {
            Ok(l) => Some(l),
            Err(msg) => {
                errs.push(Some(line), msg);
                None
            }
        };
        let mut date = |j: usize, end: YearEnd| -> Option<Date> {
            let s = field(j);
            if s.is_empty() {
                return None;
            }
            match Date::parse(&s, end) {
                Ok(d) => Some(d),
                Err(e) => {
                    errs.push(Some(line), e.to_string());
                    bad = true;
                    None
                }
            }
        };
        let valid_from = date(4, YearEnd::Start);
        let valid_to = date(5, YearEnd::End);
        if let (Some(level), false) = (level, bad) {
            rows.push(RegionRow {
                code,
                name,
                parent: (!parent.is_empty()).then_some(parent),
                level,
                valid_from,
                valid_to,
            });
            lines.push(line);
        }
        true
    });
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：应有表头 code,name,parent,level");
    }
    if !errs.errors.is_empty() {
        return errs.finish(RegionTree::default());
    }
    if rows.is_empty() {
        errs.push(None, "文件中没有任何地区");
        return errs.finish(RegionTree::default());
    }
    match RegionTree::new(rows) {
        Ok(t) => Ok(t),
        Err(e) => {
            errs.push(Some(lines[e.row]), e.message);
            errs.finish(RegionTree::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(src: &str) -> String {
        read_regions("regions.csv", src.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_a_tree_with_validity() {
        let t = read_regions(
            "regions.csv",
            "code,name,parent,level,valid_from,valid_to\n330000,浙,,province,,\n330100,杭,330000,city,,2023\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(1).valid_to.unwrap().to_string(), "2023-12-31");
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            msg("code,name,parent,level\n33,a,,province\n3301,b,9999,city\n"),
            "regions.csv:3: 上级地区代码 9999 不存在"
        );
        assert!(
            msg("code,name,parent,level\n3.3E+11,a,,province\n")
                .starts_with("regions.csv:2: 地区代码“3.3E+11”是科学计数法")
        );
        assert!(
            msg("code,name,parent,level\n33,a,,state\n").starts_with("regions.csv:2: 层级“state”")
        );
        assert!(msg("code,name,parent\n").contains("缺少必需的列“level”"));
        assert!(
            msg("code,name,parent,level\n33,a,,province,extra\n")
                .starts_with("regions.csv:2: 本行有 5 列")
        );
        assert!(msg("code,name,parent,level\nA,a,B,city\nB,b,A,city\n").contains("循环"));
        assert!(
            msg("code,name,parent,level,valid_from\n33,a,,province,2024-02-30\n")
                .contains("2024-02-30")
        );
        assert!(msg("").contains("文件为空"));
    }
}

//! Expert-panel files (seed §2.3): AHP judgement matrices, Delphi score
//! sheets, authority coefficients and decision matrices for objective
//! weights — all with `file:line` errors.

use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use crate::table::{Columns, each_record, trim};
use pingan_core::weights::ahp::{self, AhpError, ExpertMatrix};
use pingan_core::weights::delphi::{Authority, Score};
use pingan_core::weights::objective::Matrix;

fn field(b: &[u8]) -> String {
    String::from_utf8_lossy(trim(b)).into_owned()
}

/// A judgement on Saaty's scale: `3`, `0.5` or a fraction `1/3`.
fn judgement(raw: &str) -> Result<f64, String> {
    let v = match raw.split_once('/') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse::<f64>(), b.trim().parse::<f64>());
            match (a, b) {
                (Ok(a), Ok(b)) if b != 0.0 => a / b,
                _ => return Err(format!("判断值“{raw}”不是数字或分数（如 3、0.5、1/3）")),
            }
        }
        None => raw
            .parse::<f64>()
            .map_err(|_| format!("判断值“{raw}”不是数字或分数（如 3、0.5、1/3）"))?,
    };
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("判断值“{raw}”无效：必须为正数"));
    }
    // Saaty's scale runs from 1/9 to 9 (a small tolerance for 0.111).
    if !(1.0 / 9.0 - 1e-3..=9.0).contains(&v) {
        return Err(format!("判断值“{raw}”超出 1–9 标度（应在 1/9 到 9 之间）"));
    }
    Ok(v)
}

/// A judgement matrix: a header of item names after an empty first cell,
/// then one row per item in the same order.
pub fn read_judgement_matrix(file: &str, bytes: &[u8]) -> Result<ExpertMatrix, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut items: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(items) = &items else {
            let names: Vec<String> = rec.iter().skip(1).map(|b| field(b)).collect();
            if names.is_empty() || names.iter().any(|n| n.is_empty()) {
                errs.push(Some(line), "表头应为：第一格空，其后每格一个项目名称");
                return false;
            }
            if let Some(d) = names
                .iter()
                .enumerate()
                .find(|(i, n)| names[..*i].contains(n))
            {
                errs.push(Some(line), format!("项目名称“{}”重复", d.1));
                return false;
            }
            items = Some(names);
            return true;
        };
        let i = rows.len();
        let name = field(rec[0]);
        match items.get(i) {
            None => errs.push(
                Some(line),
                format!("行数多于项目数 {}：判断矩阵应为方阵", items.len()),
            ),
            Some(want) if *want != name => errs.push(
                Some(line),
                format!(
                    "第 {} 行的项目“{name}”与表头第 {} 列“{want}”不一致（行与列应按同一顺序）",
                    i + 1,
                    i + 1
                ),
            ),
            Some(_) => {}
        }
        let mut row = Vec::with_capacity(items.len());
        for (j, cell) in rec.iter().skip(1).enumerate() {
            match judgement(&field(cell)) {
                Ok(v) => row.push(v),
                Err(msg) => {
                    errs.push(Some(line), format!("第 {} 列：{msg}", j + 2));
                    row.push(f64::NAN);
                }
            }
        }
        rows.push(row);
        lines.push(line);
        true
    });
    let Some(items) = items else {
        if errs.errors.is_empty() {
            errs.push(None, "文件为空：应有项目名称的表头");
        }
        return Err(errs.finish(()).unwrap_err());
    };
    if errs.errors.is_empty() && rows.len() != items.len() {
        errs.push(
            None,
            format!(
                "判断矩阵应为方阵：表头有 {} 项，实际 {} 行",
                items.len(),
                rows.len()
            ),
        );
    }
    if errs.errors.is_empty()
        && let Err(e) = ahp::validate(&rows)
    {
        let line = match &e {
            AhpError::NotPositive { i, .. } | AhpError::Diagonal { i, .. } => {
                lines.get(*i).copied()
            }
            AhpError::NotReciprocal { j, .. } => lines.get(*j).copied(),
            _ => None,
        };
        errs.push(line, e.to_string());
    }
    errs.finish(ExpertMatrix {
        label: file.to_string(),
        items,
        matrix: rows,
    })
}

const SCORE_COLUMNS: [(&str, bool); 4] = [
    ("round", true),
    ("expert", true),
    ("item", true),
    ("score", true),
];

/// Delphi scores: `round,expert,item,score`.
pub fn read_delphi_scores(file: &str, bytes: &[u8]) -> Result<Vec<Score>, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut cols: Option<Columns> = None;
    let mut out = Vec::new();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = Columns::read(rec, &SCORE_COLUMNS, errs);
            return cols.is_some();
        };
        let f = |j| String::from_utf8_lossy(cols.get(rec, j)).into_owned();
        let (round, expert, item, score) = (f(0), f(1), f(2), f(3));
        let round = match round.parse::<u32>() {
            Ok(r) if r >= 1 => Some(r),
            _ => {
                errs.push(Some(line), format!("轮次“{round}”应为正整数（1、2…）"));
                None
            }
        };
        if expert.is_empty() {
            errs.push(Some(line), "专家（expert）为空");
        }
        if item.is_empty() {
            errs.push(Some(line), "项目（item）为空");
        }
        let score = match score.parse::<f64>() {
            Ok(s) if s.is_finite() => Some(s),
            _ => {
                errs.push(Some(line), format!("评分“{score}”不是数字"));
                None
            }
        };
        if let (Some(round), Some(score), false, false) =
            (round, score, expert.is_empty(), item.is_empty())
        {
            out.push(Score {
                line,
                round,
                expert,
                item,
                score,
            });
        }
        true
    });
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：应有表头 round,expert,item,score");
    }
    errs.finish(out)
}

const AUTHORITY_COLUMNS: [(&str, bool); 3] = [("expert", true), ("ca", true), ("cs", true)];

/// Authority coefficients: `expert,ca,cs` (判断依据 Ca, 熟悉程度 Cs).
pub fn read_authority(file: &str, bytes: &[u8]) -> Result<Vec<Authority>, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut cols: Option<Columns> = None;
    let mut out = Vec::new();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(cols) = &cols else {
            cols = Columns::read(rec, &AUTHORITY_COLUMNS, errs);
            return cols.is_some();
        };
        let f = |j| String::from_utf8_lossy(cols.get(rec, j)).into_owned();
        let expert = f(0);
        let num = |errs: &mut Collector, name: &str, s: String| match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                errs.push(Some(line), format!("{name}“{s}”不是数字"));
                None
            }
        };
        let ca = num(errs, "判断依据系数 ca", f(1));
        let cs = num(errs, "熟悉程度系数 cs", f(2));
        if expert.is_empty() {
            errs.push(Some(line), "专家（expert）为空");
        } else if let (Some(ca), Some(cs)) = (ca, cs) {
            out.push(Authority {
                line,
                expert,
                ca,
                cs,
            });
        }
        true
    });
    if cols.is_none() && errs.errors.is_empty() {
        errs.push(None, "文件为空：应有表头 expert,ca,cs");
    }
    errs.finish(out)
}

/// A decision matrix for entropy/CRITIC: `alternative,<criterion>…`.
pub fn read_decision_matrix(file: &str, bytes: &[u8]) -> Result<Matrix, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut criteria: Option<Vec<String>> = None;
    let mut alternatives = Vec::new();
    let mut values = Vec::new();
    each_record(&text, &mut errs, |errs, line, rec| {
        let Some(_) = &criteria else {
            if field(rec[0]) != "alternative" || rec.len() < 2 {
                errs.push(Some(line), "表头应为 alternative,指标1,指标2,…");
                return false;
            }
            let names: Vec<String> = rec.iter().skip(1).map(|b| field(b)).collect();
            if let Some(d) = names
                .iter()
                .enumerate()
                .find(|(i, n)| names[..*i].contains(n))
            {
                errs.push(Some(line), format!("指标名称“{}”重复", d.1));
                return false;
            }
            criteria = Some(names);
            return true;
        };
        let name = field(rec[0]);
        if name.is_empty() {
            errs.push(Some(line), "方案名称（alternative）为空");
        }
        let mut row = Vec::new();
        for (j, cell) in rec.iter().skip(1).enumerate() {
            let s = field(cell);
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => row.push(v),
                _ => {
                    errs.push(Some(line), format!("第 {} 列的值“{s}”不是数字", j + 2));
                    row.push(f64::NAN);
                }
            }
        }
        alternatives.push(name);
        values.push(row);
        true
    });
    let Some(criteria) = criteria else {
        if errs.errors.is_empty() {
            errs.push(None, "文件为空：应有表头 alternative,指标1,指标2,…");
        }
        return Err(errs.finish(()).unwrap_err());
    };
    errs.finish(Matrix {
        criteria,
        alternatives,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_saaty_matrix_with_fractions() {
        let m = read_judgement_matrix(
            "m.csv",
            ",a,b,c\na,1,3,5\nb,1/3,1,3\nc,1/5,1/3,1\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(m.items, ["a", "b", "c"]);
        assert_eq!(m.matrix[2][0], 0.2);
    }

    #[test]
    fn matrix_errors_name_lines() {
        let e = |src: &str| {
            read_judgement_matrix("m.csv", src.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(",a,b\na,1,3\nb,0.3,1\n"),
            "m.csv:3: 判断矩阵不互反：第 2 行第 1 列为 0.3，应为第 1 行第 2 列 3 的倒数 0.3333333333333333"
        );
        assert!(
            e(",a,b\na,1,0\nb,1,1\n").starts_with("m.csv:2: 第 3 列：判断值“0”无效"),
            "{}",
            e(",a,b\na,1,0\nb,1,1\n")
        );
        assert!(e(",a,b\na,1,-2\nb,1,1\n").contains("必须为正数"));
        assert!(e(",a,b\na,1,2\n").contains("方阵"));
        assert!(e(",a,b\na,1,2,3\nb,1,1\n").starts_with("m.csv:2: 本行有 4 列"));
        assert!(e(",a,b\nb,1,2\na,1/2,1\n").contains("不一致"));
        assert!(e(",a,b\na,1,x\nb,1,1\n").contains("不是数字或分数"));
        assert!(e(",a,a\na,1,1\na,1,1\n").contains("重复"));
        assert!(e(",a,b\na,1,20\nb,1/20,1\n").contains("1–9 标度"));
    }

    #[test]
    fn delphi_and_authority_rows() {
        let s =
            read_delphi_scores("s.csv", b"round,expert,item,score\n1,E1,a,5\n1,E2,a,4\n").unwrap();
        assert_eq!((s[1].line, s[1].round, s[1].score), (3, 1, 4.0));
        let e = read_delphi_scores("s.csv", b"round,expert,item,score\nx,E1,a,5\n1,E2,a,five\n")
            .unwrap_err();
        assert_eq!(e.0.len(), 2);
        assert_eq!(e.0[0].line, Some(2));
        let a = read_authority("a.csv", b"expert,ca,cs\nE1,0.8,0.7\n").unwrap();
        assert_eq!(a[0].ca, 0.8);
        assert!(read_authority("a.csv", b"expert,ca\nE1,0.8\n").is_err());
    }

    #[test]
    fn decision_matrix() {
        let m = read_decision_matrix("d.csv", b"alternative,x,y\nA,1,2\nB,3,4\n").unwrap();
        assert_eq!(m.criteria, ["x", "y"]);
        assert_eq!(m.values[1], [3.0, 4.0]);
        let e = read_decision_matrix("d.csv", b"alternative,x,y\nA,1,z\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d.csv:2: 第 3 列的值“z”不是数字"), "{e}");
        assert!(read_decision_matrix("d.csv", b"name,x\n").is_err());
    }
}

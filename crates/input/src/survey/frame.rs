//! `frame.csv` and `margins.csv`.

use super::rows::for_each_row;
use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use pingan_core::RegionTree;
use pingan_core::survey::form::{Form, Kind};
use pingan_core::survey::run::Margin;
use std::collections::HashMap;

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

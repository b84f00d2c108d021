//! Turns the parsed document into a `Framework`, collecting every error and
//! warning on the way (the lint is this pass).

mod element;
mod tree;

use super::doc::{Doc, GradeDoc, HeaderDoc};
use super::issues::{Issue, LintReport, Warning, line_of};
use super::*;
use crate::num::fmt;
use rustc_hash::FxHashMap;
use std::ops::Range;
use tree::Names;

const WEIGHT_TOLERANCE: f64 = 1e-9;

pub(super) struct Compiler<'s> {
    src: &'s str,
    errors: Vec<Issue>,
    /// Every code claimed so far (elements, benchmarks, the tree's), with
    /// the line that first claimed it.
    codes: FxHashMap<String, usize>,
}

impl<'s> Compiler<'s> {
    pub fn new(src: &'s str) -> Self {
        Compiler {
            src,
            errors: Vec::new(),
            codes: FxHashMap::default(),
        }
    }

    fn err(&mut self, kind: &'static str, path: &str, span: &Range<usize>, message: String) {
        self.errors.push(Issue {
            kind,
            path: path.to_string(),
            message,
            line: Some(line_of(self.src, span.start)),
        });
    }

    /// One of a node's named settings (`whose`: "数据项 D1", "指标 D1.1.1"):
    /// the first option when it is not given, and when it is not one of
    /// them (with an error naming them).
    fn choice<T: Copy>(
        &mut self,
        whose: &str,
        code: &str,
        span: &Range<usize>,
        field: &str,
        given: Option<&str>,
        options: &[(&str, T)],
    ) -> T {
        let first = options[0].1;
        let Some(given) = given else { return first };
        if let Some(&(_, v)) = options.iter().find(|o| o.0 == given) {
            return v;
        }
        let names: Vec<&str> = options.iter().map(|o| o.0).collect();
        self.err(
            "value",
            &format!("{code}.{field}"),
            span,
            format!("{whose} 的 {field}“{given}”无效：可用 {}", names.join("、")),
        );
        first
    }

    /// Codes are one namespace: an element, a benchmark and a tree node may
    /// not share one.
    fn claim(&mut self, code: &str, span: &Range<usize>) {
        let line = line_of(self.src, span.start);
        if let Some(first) = self.codes.insert(code.to_string(), line) {
            self.err(
                "duplicate_code",
                code,
                span,
                format!("代码 {code} 重复（第 {first} 行已使用）"),
            );
        }
    }

    /// Siblings' weights must be non-negative and sum to 1.
    fn check_weights(
        &mut self,
        parent: &str,
        label: &str,
        span: &Range<usize>,
        w: &[(String, f64)],
    ) {
        for (code, weight) in w {
            if !weight.is_finite() || *weight < 0.0 {
                self.err(
                    "weight_value",
                    code,
                    span,
                    format!("{code} 的权重 {weight} 无效：应为非负数"),
                );
            }
        }
        if w.is_empty() {
            self.err("empty", parent, span, format!("{label}没有任何下级"));
            return;
        }
        let sum: f64 = w.iter().map(|x| x.1).sum();
        if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
            let parts: Vec<String> = w.iter().map(|(c, x)| format!("{c}={}", fmt(*x))).collect();
            self.err(
                "weights_sum",
                parent,
                span,
                format!(
                    "{label}的下级权重之和为 {}，应为 1（{}）",
                    fmt_sum(sum),
                    parts.join("，")
                ),
            );
        }
    }

    pub fn run(mut self, doc: Doc) -> LintReport {
        let header_span = doc.framework.span();
        let header = self.header(doc.framework.into_inner(), &header_span);
        let element_index = element::index(&doc.element);
        let elements = self.elements(&doc.element, &element_index);
        let benchmarks = self.benchmarks(&doc.benchmark);
        let mut names = Names::new(&element_index, elements.len(), &benchmarks);
        let dimensions = self.dimensions(doc.dimension, &header_span, &mut names);
        let Names {
            mut used_elements,
            used_benchmarks,
            ..
        } = names;
        // weight_by elements are read when rolling up.
        for el in &elements {
            if let Some(w) = el.weight_by {
                used_elements[w] = true;
            }
        }

        let framework = Framework {
            elements,
            benchmarks,
            dimensions,
            ..header
        };
        let share = framework.public_opinion_share();
        let warnings = warnings(&framework, share, &used_elements, &used_benchmarks);
        let ok = self.errors.is_empty();
        LintReport {
            errors: self.errors,
            warnings,
            public_opinion_share: Some(share),
            framework: ok.then_some(framework),
        }
    }

    /// The framework as its `[framework]` table sets it, without elements,
    /// benchmarks or tree yet.
    fn header(&mut self, h: HeaderDoc, span: &Range<usize>) -> Framework {
        let total = h.total.unwrap_or(100.0);
        if !(total.is_finite() && total > 0.0) {
            self.err("value", "framework.total", span, "total 必须为正数".into());
        }
        let missing = self.missing(h.missing.as_deref(), span);
        let rank_decimals = h.rank_decimals.unwrap_or(6);
        if !(0..=9).contains(&rank_decimals) {
            self.err(
                "value",
                "framework.rank_decimals",
                span,
                "rank_decimals 应在 0 到 9 之间".into(),
            );
        }
        let grades = self.grades(h.grades, span);
        let veto_grade = self.veto_grade(&grades, h.veto_grade.as_deref(), span);
        Framework {
            code: h.code,
            name: h.name,
            year: h.year,
            total,
            missing,
            min_public_opinion_share: h.min_public_opinion_share.unwrap_or(0.40),
            grades,
            veto_grade,
            rank_decimals: rank_decimals.clamp(0, 9) as u32,
            elements: Vec::new(),
            benchmarks: Vec::new(),
            dimensions: Vec::new(),
        }
    }

    fn missing(&mut self, missing: Option<&str>, span: &Range<usize>) -> MissingPolicy {
        match missing {
            None | Some("zero") => MissingPolicy::Zero,
            Some("exclude") => MissingPolicy::Exclude,
            Some(other) => {
                self.err(
                    "value",
                    "framework.missing",
                    span,
                    format!("missing 的值“{other}”无效：可用 zero、exclude"),
                );
                MissingPolicy::Zero
            }
        }
    }

    /// The grades as written, or the default ones; highest first.
    fn grades(&mut self, doc: Option<Vec<GradeDoc>>, span: &Range<usize>) -> Vec<Grade> {
        let grades: Vec<Grade> = match doc {
            Some(g) => g
                .into_iter()
                .map(|g| Grade {
                    name: g.name,
                    min: g.min,
                })
                .collect(),
            None => [
                ("优秀", 90.0),
                ("良好", 80.0),
                ("合格", 60.0),
                ("不合格", 0.0),
            ]
            .into_iter()
            .map(|(n, m)| Grade {
                name: n.into(),
                min: m,
            })
            .collect(),
        };
        if grades.is_empty() {
            self.err("grades", "framework.grades", span, "grades 不能为空".into());
        } else {
            if grades.last().is_some_and(|g| g.min != 0.0) {
                self.err(
                    "grades",
                    "framework.grades",
                    span,
                    "最低等级的 min 必须为 0".into(),
                );
            }
            if grades.windows(2).any(|w| w[1].min >= w[0].min) {
                self.err(
                    "grades",
                    "framework.grades",
                    span,
                    "等级应按 min 从高到低排列且不重复".into(),
                );
            }
        }
        grades
    }

    /// The index of the grade a vetoed region gets: the lowest unless named.
    fn veto_grade(&mut self, grades: &[Grade], name: Option<&str>, span: &Range<usize>) -> usize {
        let Some(name) = name else {
            return grades.len().saturating_sub(1);
        };
        match grades.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                self.err(
                    "grades",
                    "framework.veto_grade",
                    span,
                    format!("veto_grade“{name}”不是已定义的等级"),
                );
                0
            }
        }
    }
}

/// What an evaluation office must see about a framework that may still be
/// used: too little public opinion, provisional rules, and elements and
/// benchmarks nothing reads.
fn warnings(
    framework: &Framework,
    share: f64,
    used_elements: &[bool],
    used_benchmarks: &[bool],
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if share < framework.min_public_opinion_share - WEIGHT_TOLERANCE {
        warnings.push(Warning {
            kind: "public_opinion_share",
            message: format!(
                "群众意见（public_opinion）指标占比 {share:.6}，低于要求的 {}（种子文档 §1.2：群众意见占比不低于40%）",
                fmt(framework.min_public_opinion_share)
            ),
            items: Vec::new(),
        });
    }
    let provisional: Vec<String> = framework
        .indicators()
        .iter()
        .filter(|p| p.indicator.provisional)
        .map(|p| p.indicator.code.clone())
        .collect();
    if !provisional.is_empty() {
        warnings.push(Warning {
            kind: "provisional_rules",
            message: format!(
                "{} 项指标的计分规则为暂定（待定，需测评办确定）：{}",
                provisional.len(),
                provisional.join("、")
            ),
            items: provisional,
        });
    }
    let unused = unused_codes(framework.elements.iter().map(|e| &e.code), used_elements);
    if !unused.is_empty() {
        warnings.push(Warning {
            kind: "unused_elements",
            message: format!(
                "{} 个数据项未被任何公式使用：{}",
                unused.len(),
                unused.join("、")
            ),
            items: unused,
        });
    }
    let unused_b = unused_codes(
        framework.benchmarks.iter().map(|b| &b.code),
        used_benchmarks,
    );
    if !unused_b.is_empty() {
        warnings.push(Warning {
            kind: "unused_benchmarks",
            message: format!(
                "{} 个基准值未被任何规则使用：{}",
                unused_b.len(),
                unused_b.join("、")
            ),
            items: unused_b,
        });
    }
    warnings
}

/// The codes whose `used` flag is not set.
fn unused_codes<'a>(codes: impl Iterator<Item = &'a String>, used: &[bool]) -> Vec<String> {
    codes
        .zip(used)
        .filter(|(_, u)| !**u)
        .map(|(c, _)| c.clone())
        .collect()
}

/// A weight sum shown with enough digits to see why it is not 1.
fn fmt_sum(x: f64) -> String {
    crate::num::fmt_num(x, 12)
}

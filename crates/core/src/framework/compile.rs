//! Turns the parsed document into a `Framework`, collecting every error and
//! warning on the way (the lint is this pass).

use super::doc::{Doc, IndicatorDoc};
use super::issues::{Issue, LintReport, Warning, line_of};
use super::*;
use crate::formula::{self, FormulaError};
use crate::num::fmt;
use rustc_hash::FxHashMap;
use std::ops::Range;
use toml::Spanned;

const WEIGHT_TOLERANCE: f64 = 1e-9;

pub(super) struct Compiler<'s> {
    src: &'s str,
    errors: Vec<Issue>,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(s, "min" | "max" | "abs" | "prev")
}

impl<'s> Compiler<'s> {
    pub fn new(src: &'s str) -> Self {
        Compiler {
            src,
            errors: Vec::new(),
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
        let h = doc.framework.into_inner();
        let mut codes: FxHashMap<String, usize> = FxHashMap::default();
        let mut claim = |me: &mut Self, code: &str, span: &Range<usize>| {
            let line = line_of(me.src, span.start);
            if let Some(first) = codes.insert(code.to_string(), line) {
                me.err(
                    "duplicate_code",
                    code,
                    span,
                    format!("代码 {code} 重复（第 {first} 行已使用）"),
                );
            }
        };

        // Header.
        let total = h.total.unwrap_or(100.0);
        if !(total.is_finite() && total > 0.0) {
            self.err(
                "value",
                "framework.total",
                &header_span,
                "total 必须为正数".into(),
            );
        }
        let missing = match h.missing.as_deref() {
            None | Some("zero") => MissingPolicy::Zero,
            Some("exclude") => MissingPolicy::Exclude,
            Some(other) => {
                self.err(
                    "value",
                    "framework.missing",
                    &header_span,
                    format!("missing 的值“{other}”无效：可用 zero、exclude"),
                );
                MissingPolicy::Zero
            }
        };
        let rank_decimals = h.rank_decimals.unwrap_or(6);
        if !(0..=9).contains(&rank_decimals) {
            self.err(
                "value",
                "framework.rank_decimals",
                &header_span,
                "rank_decimals 应在 0 到 9 之间".into(),
            );
        }
        let grades: Vec<Grade> = match h.grades {
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
            self.err(
                "grades",
                "framework.grades",
                &header_span,
                "grades 不能为空".into(),
            );
        } else {
            if grades.last().is_some_and(|g| g.min != 0.0) {
                self.err(
                    "grades",
                    "framework.grades",
                    &header_span,
                    "最低等级的 min 必须为 0".into(),
                );
            }
            if grades.windows(2).any(|w| w[1].min >= w[0].min) {
                self.err(
                    "grades",
                    "framework.grades",
                    &header_span,
                    "等级应按 min 从高到低排列且不重复".into(),
                );
            }
        }
        let veto_grade = match &h.veto_grade {
            None => grades.len().saturating_sub(1),
            Some(name) => match grades.iter().position(|g| &g.name == name) {
                Some(i) => i,
                None => {
                    self.err(
                        "grades",
                        "framework.veto_grade",
                        &header_span,
                        format!("veto_grade“{name}”不是已定义的等级"),
                    );
                    0
                }
            },
        };

        // Elements and benchmarks.
        let element_index: FxHashMap<String, usize> = doc
            .element
            .iter()
            .enumerate()
            .map(|(i, e)| (e.get_ref().code.clone(), i))
            .collect();
        let mut elements = Vec::new();
        for e in &doc.element {
            let span = e.span();
            let e = e.get_ref();
            claim(&mut self, &e.code, &span);
            if !is_identifier(&e.code) {
                self.err(
                    "invalid_code",
                    &e.code,
                    &span,
                    format!("数据项代码“{}”无效：只能用英文字母、数字和下划线，且不以数字开头，不能是函数名", e.code),
                );
            }
            let region_agg = match e.region_agg.as_deref() {
                None | Some("sum") => RegionAgg::Sum,
                Some("mean") => RegionAgg::Mean,
                Some("weighted_mean") => RegionAgg::WeightedMean,
                Some("none") => RegionAgg::None,
                Some(other) => {
                    self.err(
                        "value",
                        &format!("{}.region_agg", e.code),
                        &span,
                        format!("数据项 {} 的 region_agg“{other}”无效：可用 sum、mean、weighted_mean、none", e.code),
                    );
                    RegionAgg::Sum
                }
            };
            let time_agg = match e.time_agg.as_deref() {
                None | Some("sum") => TimeAgg::Sum,
                Some("mean") => TimeAgg::Mean,
                Some("last") => TimeAgg::Last,
                Some("max") => TimeAgg::Max,
                Some(other) => {
                    self.err(
                        "value",
                        &format!("{}.time_agg", e.code),
                        &span,
                        format!(
                            "数据项 {} 的 time_agg“{other}”无效：可用 sum、mean、last、max",
                            e.code
                        ),
                    );
                    TimeAgg::Sum
                }
            };
            let frequency = match e.frequency.as_deref() {
                None | Some("month") => Frequency::Month,
                Some("quarter") => Frequency::Quarter,
                Some("year") => Frequency::Year,
                Some(other) => {
                    self.err(
                        "value",
                        &format!("{}.frequency", e.code),
                        &span,
                        format!(
                            "数据项 {} 的 frequency“{other}”无效：可用 month、quarter、year",
                            e.code
                        ),
                    );
                    Frequency::Month
                }
            };
            let weight_by = match (&e.weight_by, region_agg) {
                (None, RegionAgg::WeightedMean) => {
                    self.err(
                        "weight_by",
                        &format!("{}.weight_by", e.code),
                        &span,
                        format!("数据项 {} 使用 weighted_mean 时必须指定 weight_by", e.code),
                    );
                    None
                }
                (Some(_), agg) if agg != RegionAgg::WeightedMean => {
                    self.err(
                        "weight_by",
                        &format!("{}.weight_by", e.code),
                        &span,
                        format!(
                            "数据项 {} 只有 region_agg = \"weighted_mean\" 时才能指定 weight_by",
                            e.code
                        ),
                    );
                    None
                }
                (Some(w), _) => match element_index.get(w) {
                    Some(&i) if i == element_index[&e.code] => {
                        self.err(
                            "weight_by",
                            &format!("{}.weight_by", e.code),
                            &span,
                            format!("数据项 {} 不能以自身为权重", e.code),
                        );
                        None
                    }
                    Some(&i) => Some(i),
                    None => {
                        self.err(
                            "unknown_element",
                            &format!("{}.weight_by", e.code),
                            &span,
                            format!("数据项 {} 的 weight_by 引用了未定义的数据项 {w}", e.code),
                        );
                        None
                    }
                },
                (None, _) => None,
            };
            elements.push(Element {
                code: e.code.clone(),
                name: e.name.clone(),
                unit: e.unit.clone(),
                department: e.department.clone(),
                region_agg,
                weight_by,
                time_agg,
                frequency,
            });
        }
        // A weight_by chain that loops would recurse forever when resolving.
        for (i, el) in elements.iter().enumerate() {
            let mut at = el.weight_by;
            let mut steps = 0;
            while let Some(j) = at {
                steps += 1;
                if j == i || steps > elements.len() {
                    let span = doc.element[i].span();
                    self.err(
                        "weight_by",
                        &format!("{}.weight_by", el.code),
                        &span,
                        format!("数据项 {} 的 weight_by 构成循环", el.code),
                    );
                    break;
                }
                at = elements[j].weight_by;
            }
        }
        let mut benchmarks = Vec::new();
        for b in &doc.benchmark {
            let span = b.span();
            let b = b.get_ref();
            claim(&mut self, &b.code, &span);
            benchmarks.push(Benchmark {
                code: b.code.clone(),
                name: b.name.clone(),
            });
        }

        // The tree.
        let mut used = vec![false; elements.len()];
        let mut used_benchmarks = vec![false; benchmarks.len()];
        let mut dimensions = Vec::new();
        let dim_weights: Vec<(String, f64)> = doc
            .dimension
            .iter()
            .map(|d| (d.get_ref().code.clone(), d.get_ref().weight))
            .collect();
        self.check_weights("framework", "指标体系（维度）", &header_span, &dim_weights);
        for d in doc.dimension {
            let dspan = d.span();
            let d = d.into_inner();
            claim(&mut self, &d.code, &dspan);
            let ws: Vec<(String, f64)> = d
                .domain
                .iter()
                .map(|m| (m.get_ref().code.clone(), m.get_ref().weight))
                .collect();
            self.check_weights(&d.code, &format!("维度 {} {}", d.code, d.name), &dspan, &ws);
            let mut domains = Vec::new();
            for m in d.domain {
                let mspan = m.span();
                let m = m.into_inner();
                claim(&mut self, &m.code, &mspan);
                let ws: Vec<(String, f64)> = m
                    .indicator
                    .iter()
                    .map(|i| (i.get_ref().code.clone(), i.get_ref().weight))
                    .collect();
                self.check_weights(&m.code, &format!("领域 {} {}", m.code, m.name), &mspan, &ws);
                let mut indicators = Vec::new();
                for ind in m.indicator {
                    let ispan = ind.span();
                    claim(&mut self, &ind.get_ref().code, &ispan);
                    if let Some(i) = self.indicator(
                        ind,
                        &element_index,
                        &benchmarks,
                        &mut used,
                        &mut used_benchmarks,
                    ) {
                        indicators.push(i);
                    }
                }
                domains.push(Domain {
                    code: m.code,
                    name: m.name,
                    weight: m.weight,
                    indicators,
                });
            }
            dimensions.push(Dimension {
                code: d.code,
                name: d.name,
                weight: d.weight,
                note: d.note,
                domains,
            });
        }
        // weight_by elements are read when rolling up.
        for el in &elements {
            if let Some(w) = el.weight_by {
                used[w] = true;
            }
        }

        let framework = Framework {
            code: h.code,
            name: h.name,
            year: h.year,
            total,
            missing,
            min_public_opinion_share: h.min_public_opinion_share.unwrap_or(0.40),
            grades,
            veto_grade,
            rank_decimals: rank_decimals.clamp(0, 9) as u32,
            elements,
            benchmarks,
            dimensions,
        };
        let share = framework.public_opinion_share();
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
        let unused: Vec<String> = framework
            .elements
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(e, _)| e.code.clone())
            .collect();
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
        let unused_b: Vec<String> = framework
            .benchmarks
            .iter()
            .zip(&used_benchmarks)
            .filter(|(_, u)| !**u)
            .map(|(b, _)| b.code.clone())
            .collect();
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
        let ok = self.errors.is_empty();
        LintReport {
            errors: self.errors,
            warnings,
            public_opinion_share: Some(share),
            framework: ok.then_some(framework),
        }
    }

    fn indicator(
        &mut self,
        doc: Spanned<IndicatorDoc>,
        element_index: &FxHashMap<String, usize>,
        benchmarks: &[Benchmark],
        used: &mut [bool],
        used_benchmarks: &mut [bool],
    ) -> Option<Indicator> {
        let span = doc.span();
        let d = doc.into_inner();
        let code = d.code.clone();
        let fspan = d.formula.span();
        let formula_text = d.formula.into_inner();
        let lookup = |s: &str| element_index.get(s).copied();
        let formula = match formula::parse(&formula_text, &lookup) {
            Ok(f) => {
                for e in f.elements() {
                    used[e] = true;
                }
                Some(f)
            }
            Err(FormulaError::UnknownElements(names)) => {
                for n in &names {
                    self.err(
                        "unknown_element",
                        &format!("{code}.formula"),
                        &fspan,
                        format!("指标 {code} 的公式引用了未定义的数据项 {n}"),
                    );
                }
                None
            }
            Err(e) => {
                self.err(
                    "formula",
                    &format!("{code}.formula"),
                    &fspan,
                    format!("指标 {code} 的公式有误：{e}"),
                );
                None
            }
        };
        let polarity = match d.polarity.as_deref() {
            None | Some("higher") => Better::Higher,
            Some("lower") => Better::Lower,
            Some(other) => {
                self.err(
                    "value",
                    &format!("{code}.polarity"),
                    &span,
                    format!("指标 {code} 的 polarity“{other}”无效：可用 higher、lower"),
                );
                Better::Higher
            }
        };
        let not_applicable = match d.not_applicable.as_deref() {
            None | Some("full") => NotApplicable::Full,
            Some("missing") => NotApplicable::Missing,
            Some(other) => {
                self.err(
                    "value",
                    &format!("{code}.not_applicable"),
                    &span,
                    format!("指标 {code} 的 not_applicable“{other}”无效：可用 full、missing"),
                );
                NotApplicable::Full
            }
        };
        let rspan = d.rule.span();
        let rule = match Rule::from_table(d.rule.get_ref()) {
            Ok(r) => Some(r),
            Err(issues) => {
                for i in issues {
                    self.err(
                        i.kind,
                        &format!("{code}.rule.{}", i.key),
                        &rspan,
                        format!("指标 {code}：{}", i.message),
                    );
                }
                None
            }
        };
        let mut benchmark = None;
        if let Some(b) = rule.as_ref().and_then(|r| r.benchmark()) {
            match benchmarks.iter().position(|x| x.code == b) {
                Some(i) => {
                    used_benchmarks[i] = true;
                    benchmark = Some(i);
                }
                None => self.err(
                    "unknown_benchmark",
                    &format!("{code}.rule.target"),
                    &rspan,
                    format!("指标 {code} 的计分规则引用了未定义的基准值 {b}"),
                ),
            }
        }
        Some(Indicator {
            code,
            name: d.name,
            unit: d.unit,
            department: d.department,
            definition: d.definition,
            suggestion: d.suggestion,
            formula_text,
            formula: formula?,
            polarity,
            weight: d.weight,
            public_opinion: d.public_opinion,
            provisional: d.provisional,
            not_applicable,
            rule: rule?,
            benchmark,
        })
    }
}

/// A weight sum shown with enough digits to see why it is not 1.
fn fmt_sum(x: f64) -> String {
    crate::num::fmt_num(x, 12)
}

//! The tree: dimensions → domains → indicators, each level's weights
//! checked, each indicator's formula and rule read.

use super::Compiler;
use crate::formula::{self, Expr, FormulaError};
use crate::framework::doc::{DimensionDoc, DomainDoc, IndicatorDoc};
use crate::framework::{Benchmark, Dimension, Domain, Indicator, NotApplicable};
use crate::rules::{Better, Rule};
use rustc_hash::FxHashMap;
use std::ops::Range;
use toml::Spanned;

/// The elements and benchmarks formulas and rules may name, and which of
/// them they do (for the unused warnings).
pub(super) struct Names<'a> {
    pub elements: &'a FxHashMap<String, usize>,
    pub benchmarks: &'a [Benchmark],
    pub used_elements: Vec<bool>,
    pub used_benchmarks: Vec<bool>,
}

impl<'a> Names<'a> {
    pub fn new(
        elements: &'a FxHashMap<String, usize>,
        element_count: usize,
        benchmarks: &'a [Benchmark],
    ) -> Self {
        Names {
            elements,
            benchmarks,
            used_elements: vec![false; element_count],
            used_benchmarks: vec![false; benchmarks.len()],
        }
    }
}

impl Compiler<'_> {
    pub(super) fn dimensions(
        &mut self,
        docs: Vec<Spanned<DimensionDoc>>,
        span: &Range<usize>,
        names: &mut Names,
    ) -> Vec<Dimension> {
        let weights: Vec<(String, f64)> = docs
            .iter()
            .map(|d| (d.get_ref().code.clone(), d.get_ref().weight))
            .collect();
        self.check_weights("framework", "指标体系（维度）", span, &weights);
        docs.into_iter().map(|d| self.dimension(d, names)).collect()
    }

    fn dimension(&mut self, doc: Spanned<DimensionDoc>, names: &mut Names) -> Dimension {
        let dspan = doc.span();
        let d = doc.into_inner();
        self.claim(&d.code, &dspan);
        let ws: Vec<(String, f64)> = d
            .domain
            .iter()
            .map(|m| (m.get_ref().code.clone(), m.get_ref().weight))
            .collect();
        self.check_weights(&d.code, &format!("维度 {} {}", d.code, d.name), &dspan, &ws);
        let domains = d
            .domain
            .into_iter()
            .map(|m| self.domain(m, names))
            .collect();
        Dimension {
            code: d.code,
            name: d.name,
            weight: d.weight,
            note: d.note,
            domains,
        }
    }

    fn domain(&mut self, doc: Spanned<DomainDoc>, names: &mut Names) -> Domain {
        let mspan = doc.span();
        let m = doc.into_inner();
        self.claim(&m.code, &mspan);
        let ws: Vec<(String, f64)> = m
            .indicator
            .iter()
            .map(|i| (i.get_ref().code.clone(), i.get_ref().weight))
            .collect();
        self.check_weights(&m.code, &format!("领域 {} {}", m.code, m.name), &mspan, &ws);
        let mut indicators = Vec::new();
        for ind in m.indicator {
            let ispan = ind.span();
            self.claim(&ind.get_ref().code, &ispan);
            if let Some(i) = self.indicator(ind, names) {
                indicators.push(i);
            }
        }
        Domain {
            code: m.code,
            name: m.name,
            weight: m.weight,
            indicators,
        }
    }

    /// The indicator, or None when its formula or rule cannot be used (the
    /// errors say why).
    fn indicator(&mut self, doc: Spanned<IndicatorDoc>, names: &mut Names) -> Option<Indicator> {
        let span = doc.span();
        let d = doc.into_inner();
        let code = d.code.clone();
        let fspan = d.formula.span();
        let formula_text = d.formula.into_inner();
        let formula = self.formula(&code, &formula_text, &fspan, names);
        let polarity = self.polarity(&code, d.polarity.as_deref(), &span);
        let not_applicable = self.not_applicable(&code, d.not_applicable.as_deref(), &span);
        let rspan = d.rule.span();
        let rule = self.rule(&code, d.rule.get_ref(), &rspan);
        let benchmark = self.benchmark(&code, rule.as_ref(), &rspan, names);
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

    /// The parsed formula; the elements it reads are marked used.
    fn formula(
        &mut self,
        code: &str,
        text: &str,
        span: &Range<usize>,
        names: &mut Names,
    ) -> Option<Expr> {
        let lookup = |s: &str| names.elements.get(s).copied();
        match formula::parse(text, &lookup) {
            Ok(f) => {
                for e in f.elements() {
                    names.used_elements[e] = true;
                }
                Some(f)
            }
            Err(FormulaError::UnknownElements(unknown)) => {
                for n in &unknown {
                    self.err(
                        "unknown_element",
                        &format!("{code}.formula"),
                        span,
                        format!("指标 {code} 的公式引用了未定义的数据项 {n}"),
                    );
                }
                None
            }
            Err(e) => {
                self.err(
                    "formula",
                    &format!("{code}.formula"),
                    span,
                    format!("指标 {code} 的公式有误：{e}"),
                );
                None
            }
        }
    }

    fn polarity(&mut self, code: &str, polarity: Option<&str>, span: &Range<usize>) -> Better {
        let options = [("higher", Better::Higher), ("lower", Better::Lower)];
        self.choice(
            &format!("指标 {code}"),
            code,
            span,
            "polarity",
            polarity,
            &options,
        )
    }

    fn not_applicable(
        &mut self,
        code: &str,
        not_applicable: Option<&str>,
        span: &Range<usize>,
    ) -> NotApplicable {
        let options = [
            ("full", NotApplicable::Full),
            ("missing", NotApplicable::Missing),
        ];
        self.choice(
            &format!("指标 {code}"),
            code,
            span,
            "not_applicable",
            not_applicable,
            &options,
        )
    }

    fn rule(&mut self, code: &str, table: &toml::Table, span: &Range<usize>) -> Option<Rule> {
        match Rule::from_table(table) {
            Ok(r) => Some(r),
            Err(issues) => {
                for i in issues {
                    self.err(
                        i.kind,
                        &format!("{code}.rule.{}", i.key),
                        span,
                        format!("指标 {code}：{}", i.message),
                    );
                }
                None
            }
        }
    }

    /// The index of the benchmark the rule targets, if any; it is marked
    /// used.
    fn benchmark(
        &mut self,
        code: &str,
        rule: Option<&Rule>,
        span: &Range<usize>,
        names: &mut Names,
    ) -> Option<usize> {
        let b = rule.and_then(|r| r.benchmark())?;
        match names.benchmarks.iter().position(|x| x.code == b) {
            Some(i) => {
                names.used_benchmarks[i] = true;
                Some(i)
            }
            None => {
                self.err(
                    "unknown_benchmark",
                    &format!("{code}.rule.target"),
                    span,
                    format!("指标 {code} 的计分规则引用了未定义的基准值 {b}"),
                );
                None
            }
        }
    }
}

//! The `[[element]]` and `[[benchmark]]` tables: what formulas and rules
//! may name.

use super::Compiler;
use crate::framework::doc::{BenchmarkDoc, ElementDoc};
use crate::framework::{Benchmark, Element, Frequency, RegionAgg, TimeAgg};
use rustc_hash::FxHashMap;
use std::ops::Range;
use toml::Spanned;

/// The settings an element may name, the default first.
const REGION_AGGS: [(&str, RegionAgg); 4] = [
    ("sum", RegionAgg::Sum),
    ("mean", RegionAgg::Mean),
    ("weighted_mean", RegionAgg::WeightedMean),
    ("none", RegionAgg::None),
];
const TIME_AGGS: [(&str, TimeAgg); 4] = [
    ("sum", TimeAgg::Sum),
    ("mean", TimeAgg::Mean),
    ("last", TimeAgg::Last),
    ("max", TimeAgg::Max),
];
const FREQUENCIES: [(&str, Frequency); 3] = [
    ("month", Frequency::Month),
    ("quarter", Frequency::Quarter),
    ("year", Frequency::Year),
];

/// Element code → index in the file.
pub(super) fn index(docs: &[Spanned<ElementDoc>]) -> FxHashMap<String, usize> {
    docs.iter()
        .enumerate()
        .map(|(i, e)| (e.get_ref().code.clone(), i))
        .collect()
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(s, "min" | "max" | "abs" | "prev")
}

impl Compiler<'_> {
    pub(super) fn elements(
        &mut self,
        docs: &[Spanned<ElementDoc>],
        index: &FxHashMap<String, usize>,
    ) -> Vec<Element> {
        let elements: Vec<Element> = docs.iter().map(|e| self.element(e, index)).collect();
        self.check_weight_by_cycles(docs, &elements);
        elements
    }

    fn element(&mut self, doc: &Spanned<ElementDoc>, index: &FxHashMap<String, usize>) -> Element {
        let span = doc.span();
        let e = doc.get_ref();
        self.claim(&e.code, &span);
        if !is_identifier(&e.code) {
            self.err(
                "invalid_code",
                &e.code,
                &span,
                format!("数据项代码“{}”无效：只能用英文字母、数字和下划线，且不以数字开头，不能是函数名", e.code),
            );
        }
        let region_agg = self.setting(
            e,
            &span,
            "region_agg",
            e.region_agg.as_deref(),
            &REGION_AGGS,
        );
        let time_agg = self.setting(e, &span, "time_agg", e.time_agg.as_deref(), &TIME_AGGS);
        let frequency = self.setting(e, &span, "frequency", e.frequency.as_deref(), &FREQUENCIES);
        let weight_by = self.weight_by(e, region_agg, index, &span);
        Element {
            code: e.code.clone(),
            name: e.name.clone(),
            unit: e.unit.clone(),
            department: e.department.clone(),
            region_agg,
            weight_by,
            time_agg,
            frequency,
        }
    }

    fn setting<T: Copy>(
        &mut self,
        e: &ElementDoc,
        span: &Range<usize>,
        field: &str,
        given: Option<&str>,
        options: &[(&str, T)],
    ) -> T {
        self.choice(
            &format!("数据项 {}", e.code),
            &e.code,
            span,
            field,
            given,
            options,
        )
    }

    /// The index of the element `e` is weighted by, when it is a
    /// weighted mean of another element.
    fn weight_by(
        &mut self,
        e: &ElementDoc,
        region_agg: RegionAgg,
        index: &FxHashMap<String, usize>,
        span: &Range<usize>,
    ) -> Option<usize> {
        match (&e.weight_by, region_agg) {
            (None, RegionAgg::WeightedMean) => {
                self.err(
                    "weight_by",
                    &format!("{}.weight_by", e.code),
                    span,
                    format!("数据项 {} 使用 weighted_mean 时必须指定 weight_by", e.code),
                );
                None
            }
            (Some(_), agg) if agg != RegionAgg::WeightedMean => {
                self.err(
                    "weight_by",
                    &format!("{}.weight_by", e.code),
                    span,
                    format!(
                        "数据项 {} 只有 region_agg = \"weighted_mean\" 时才能指定 weight_by",
                        e.code
                    ),
                );
                None
            }
            (Some(w), _) => match index.get(w) {
                Some(&i) if i == index[&e.code] => {
                    self.err(
                        "weight_by",
                        &format!("{}.weight_by", e.code),
                        span,
                        format!("数据项 {} 不能以自身为权重", e.code),
                    );
                    None
                }
                Some(&i) => Some(i),
                None => {
                    self.err(
                        "unknown_element",
                        &format!("{}.weight_by", e.code),
                        span,
                        format!("数据项 {} 的 weight_by 引用了未定义的数据项 {w}", e.code),
                    );
                    None
                }
            },
            (None, _) => None,
        }
    }

    // A weight_by chain that loops would recurse forever when resolving.
    fn check_weight_by_cycles(&mut self, docs: &[Spanned<ElementDoc>], elements: &[Element]) {
        for (i, el) in elements.iter().enumerate() {
            let mut at = el.weight_by;
            let mut steps = 0;
            while let Some(j) = at {
                steps += 1;
                if j == i || steps > elements.len() {
                    let span = docs[i].span();
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
    }

    pub(super) fn benchmarks(&mut self, docs: &[Spanned<BenchmarkDoc>]) -> Vec<Benchmark> {
        let mut benchmarks = Vec::new();
        for b in docs {
            let span = b.span();
            let b = b.get_ref();
            self.claim(&b.code, &span);
            benchmarks.push(Benchmark {
                code: b.code.clone(),
                name: b.name.clone(),
            });
        }
        benchmarks
    }
}

//! The indicator framework (scoring.md §1): dimensions → domains →
//! indicators, the data elements they read, benchmarks, grades.

mod compile;
mod doc;
pub mod edit;
mod issues;
mod lint;
pub mod view;

pub use issues::{Issue, LintReport, Warning};
pub use lint::check;

use crate::formula::Expr;
use crate::rules::{Better, Rule};

/// The seed's framework (default-framework.md), built into every binary.
pub const DEFAULT_TOML: &str = include_str!("../../../../frameworks/pingan-2024.toml");
pub const DEFAULT_FILE_NAME: &str = "pingan-2024.toml";

/// The built-in default framework. It is checked by the test suite, so a
/// failure here is a build defect, not user input.
pub fn default_framework() -> Framework {
    match check(DEFAULT_TOML).framework {
        Some(f) => f,
        None => panic!("内置指标体系 {DEFAULT_FILE_NAME} 校验失败"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingPolicy {
    /// 未报送不得分: the indicator's full points still count.
    Zero,
    /// The total is rescaled over the indicators that are present.
    Exclude,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionAgg {
    Sum,
    Mean,
    WeightedMean,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeAgg {
    Sum,
    Mean,
    Last,
    Max,
}

/// How often an element is reported (报送频次): which periods a department
/// owes it for. Scoring does not depend on it (values of any period roll
/// up, scoring.md §3); the 报送进度 board and the templates do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frequency {
    Month,
    Quarter,
    Year,
}

impl Frequency {
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::Year => "year",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Month => "按月",
            Frequency::Quarter => "按季",
            Frequency::Year => "按年",
        }
    }
    /// The periods of `year` it is reported for.
    pub fn periods(self, year: i32) -> Vec<crate::Period> {
        match self {
            Frequency::Month => crate::Period::months(year).collect(),
            Frequency::Quarter => crate::Period::quarters(year).collect(),
            Frequency::Year => vec![crate::Period::Year(year)],
        }
    }
    /// Whether a value of `p` is one of its reports.
    pub fn owes(self, p: crate::Period) -> bool {
        matches!(
            (self, p),
            (Frequency::Month, crate::Period::Month(..))
                | (Frequency::Quarter, crate::Period::Quarter(..))
                | (Frequency::Year, crate::Period::Year(..))
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotApplicable {
    Full,
    Missing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    pub name: String,
    pub min: f64,
}

#[derive(Clone, Debug)]
pub struct Element {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub department: String,
    pub region_agg: RegionAgg,
    /// Index of the weighting element for `weighted_mean`.
    pub weight_by: Option<usize>,
    pub time_agg: TimeAgg,
    pub frequency: Frequency,
}

#[derive(Clone, Debug)]
pub struct Benchmark {
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub department: String,
    pub definition: String,
    /// 整改建议 where the indicator loses points ('' if none is written).
    pub suggestion: String,
    pub formula_text: String,
    pub formula: Expr,
    pub polarity: Better,
    pub weight: f64,
    pub public_opinion: bool,
    pub provisional: bool,
    pub not_applicable: NotApplicable,
    pub rule: Rule,
    /// Index into `Framework::benchmarks` of the rule's target, if any.
    pub benchmark: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub code: String,
    pub name: String,
    pub weight: f64,
    pub indicators: Vec<Indicator>,
}

#[derive(Clone, Debug)]
pub struct Dimension {
    pub code: String,
    pub name: String,
    pub weight: f64,
    pub note: String,
    pub domains: Vec<Domain>,
}

#[derive(Clone, Debug)]
pub struct Framework {
    pub code: String,
    pub name: String,
    pub year: Option<i32>,
    pub total: f64,
    pub missing: MissingPolicy,
    pub min_public_opinion_share: f64,
    pub grades: Vec<Grade>,
    /// Index into `grades`.
    pub veto_grade: usize,
    pub rank_decimals: u32,
    pub elements: Vec<Element>,
    pub benchmarks: Vec<Benchmark>,
    pub dimensions: Vec<Dimension>,
}

/// An indicator with its place in the tree and its effective weight.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'a> {
    pub dimension: usize,
    pub domain: usize,
    pub indicator: &'a Indicator,
    /// w_dimension × w_domain × w_indicator.
    pub effective_weight: f64,
    /// total × effective weight.
    pub max: f64,
}

impl Framework {
    /// An indicator's scoring rule in words, benchmarks by their names
    /// (`基准值（全国刑事案件发案率）`, not the code).
    pub fn rule_in_words(&self, rule: &crate::rules::Rule, unit: &str) -> String {
        let mut s = rule.describe(unit);
        for b in &self.benchmarks {
            s = s.replace(
                &format!("基准值 {}", b.code),
                &format!("基准值（{}）", b.name),
            );
        }
        s
    }

    /// An expression as a reader says it: element codes replaced by their
    /// names, `*` and `/` as × and ÷.
    pub fn in_words(&self, src: &str) -> String {
        let fw = self;
        let mut out = String::with_capacity(src.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                match fw.element_index(word) {
                    Some(e) => out.push_str(&fw.elements[e].name),
                    None => out.push_str(word),
                }
                word.clear();
            }
        };
        for c in src.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out.replace(" * ", " × ").replace(" / ", " ÷ ")
    }

    /// Every indicator in file order, with effective weight and full points.
    pub fn indicators(&self) -> Vec<Placed<'_>> {
        let mut out = Vec::new();
        for (di, d) in self.dimensions.iter().enumerate() {
            for (mi, m) in d.domains.iter().enumerate() {
                for ind in &m.indicators {
                    out.push(Placed {
                        dimension: di,
                        domain: mi,
                        indicator: ind,
                        effective_weight: d.weight * m.weight * ind.weight,
                        // Left to right as scoring.md §4 writes it: the last
                        // bit can decide a rank at a rounding boundary.
                        max: self.total * d.weight * m.weight * ind.weight,
                    });
                }
            }
        }
        out
    }

    pub fn element_index(&self, code: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.code == code)
    }

    pub fn benchmark_index(&self, code: &str) -> Option<usize> {
        self.benchmarks.iter().position(|b| b.code == code)
    }

    /// How many years before the scored one the formulas read (prev()).
    pub fn prev_depth(&self) -> usize {
        self.indicators()
            .iter()
            .map(|p| p.indicator.formula.prev_depth())
            .max()
            .unwrap_or(0)
    }

    /// Σ effective weight over public-opinion indicators (seed §1.2).
    pub fn public_opinion_share(&self) -> f64 {
        self.indicators()
            .iter()
            .filter(|p| p.indicator.public_opinion)
            .map(|p| p.effective_weight)
            .sum::<f64>()
            + 0.0 // an empty sum is −0.0
    }

    /// The grade for a total: the first (in the order written) whose `min`
    /// the snapped total reaches.
    pub fn grade_for(&self, total: f64) -> usize {
        let t = crate::num::snap(total);
        self.grades
            .iter()
            .position(|g| t >= g.min)
            .unwrap_or(self.grades.len() - 1)
    }
}

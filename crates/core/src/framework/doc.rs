//! The framework file as written (serde), before any checking. Enumerated
//! keys stay strings here so the lint can say what is wrong in Chinese.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Doc {
    pub framework: Spanned<HeaderDoc>,
    #[serde(default)]
    pub element: Vec<Spanned<ElementDoc>>,
    #[serde(default)]
    pub benchmark: Vec<Spanned<BenchmarkDoc>>,
    #[serde(default)]
    pub dimension: Vec<Spanned<DimensionDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderDoc {
    pub code: String,
    pub name: String,
    pub year: Option<i32>,
    pub total: Option<f64>,
    pub missing: Option<String>,
    pub min_public_opinion_share: Option<f64>,
    pub grades: Option<Vec<GradeDoc>>,
    pub veto_grade: Option<String>,
    pub rank_decimals: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeDoc {
    pub name: String,
    pub min: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementDoc {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub department: String,
    pub region_agg: Option<String>,
    pub weight_by: Option<String>,
    pub time_agg: Option<String>,
    /// How often it is reported: month (default), quarter or year.
    pub frequency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkDoc {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionDoc {
    pub code: String,
    pub name: String,
    pub weight: f64,
    /// Why the dimension weighs what it does (seed §2.3), shown beside the
    /// weight chart.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub domain: Vec<Spanned<DomainDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainDoc {
    pub code: String,
    pub name: String,
    pub weight: f64,
    #[serde(default)]
    pub indicator: Vec<Spanned<IndicatorDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDoc {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub definition: String,
    /// 整改建议: what the 测评报告 suggests where the indicator loses
    /// points (issue 20); the office edits it per report.
    #[serde(default)]
    pub suggestion: String,
    pub formula: Spanned<String>,
    pub polarity: Option<String>,
    pub weight: f64,
    #[serde(default)]
    pub public_opinion: bool,
    #[serde(default)]
    pub provisional: bool,
    pub not_applicable: Option<String>,
    pub rule: Spanned<toml::Table>,
}

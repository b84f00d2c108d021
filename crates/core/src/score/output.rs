//! What a scoring run answers (scoring.md §7): the report, its regions,
//! their parts and indicators, and why a run could not be made.

use crate::period::Period;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    #[error("缺少基准值 {benchmark}（{name}）{period} 的数据：指标 {indicator} 的计分规则需要它")]
    MissingBenchmark {
        benchmark: String,
        name: String,
        period: Period,
        indicator: String,
    },
    #[error(
        "基准值 {benchmark}（{name}）{period} 为 0：指标 {indicator} 按相对差计分，不能以 0 为基准"
    )]
    ZeroBenchmark {
        benchmark: String,
        name: String,
        period: Period,
        indicator: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScoreReport {
    pub framework: String,
    pub period: Period,
    pub results: Vec<RegionResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegionResult {
    pub region: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
    pub total: f64,
    pub max: f64,
    pub grade: String,
    pub veto: bool,
    pub rank: usize,
    pub peers: usize,
    pub bottom: bool,
    pub level_rank: usize,
    pub level_peers: usize,
    pub level_bottom: bool,
    pub dimensions: Vec<PartScore>,
    pub domains: Vec<PartScore>,
    pub indicators: Vec<IndicatorResult>,
    /// Points taken from the total for an earlier year's rectification not
    /// done (通报批评, `crate::consequence::deduct`); none in a plain run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deductions: Vec<crate::consequence::Deducted>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartScore {
    pub code: String,
    pub points: f64,
    pub max: f64,
    pub percent: f64,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndicatorResult {
    pub code: String,
    pub value: Option<f64>,
    pub points: f64,
    pub max: f64,
    pub missing: bool,
    pub not_applicable: bool,
    pub reasons: Vec<String>,
    pub name: String,
    pub unit: String,
    pub provisional: bool,
    /// The indicator's rule vetoed the region.
    pub veto: bool,
}

//! 风险预警 (issue 22, forecast.md §3): the forecasts of every region's
//! monthly event elements and what they mean for next year's points,
//! computed by `refresh` (`pingan risk --refresh`, daily from cron, or the
//! office's button) and kept, never on a request; and the warnings the
//! office sends to a region (a notice on its home page and a field task).

mod calibrate;
mod compute;
mod send;

pub use calibrate::calibrate;
pub use send::{send, sent_to};

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, scores};
use pingan_core::Period;
use pingan_core::data::DataSet;
use pingan_core::labels::LedgerAction;
use pingan_core::risk;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Central interval kept with each forecast.
pub const LEVEL: f64 = 0.8;
/// Months of each series kept beside its forecast, for the chart.
pub(crate) const SHOWN_MONTHS: usize = 24;
/// Risks below this probability of losing points are left out of the list
/// (they still count in the regions' totals).
pub(crate) const MIN_P: f64 = 0.05;

/// One model's backtest on one series.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tested {
    pub model: String,
    pub mase: Option<f64>,
    pub coverage: Option<f64>,
}

/// A kept forecast series.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ForecastBody {
    /// Months shown before the forecast (`2023-01`…) and their values.
    pub months: Vec<String>,
    pub history: Vec<f64>,
    /// The forecast months and their point, interval.
    pub ahead: Vec<String>,
    pub point: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub model: String,
    pub backtest: Vec<Tested>,
}

/// An element of a warning with how far its forecast can be trusted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ElementTrust {
    pub code: String,
    pub name: String,
    pub model: String,
    /// The chosen model's backtest MASE and the seasonal naive's.
    pub mase: Option<f64>,
    pub naive_mase: Option<f64>,
    pub coverage: Option<f64>,
}

/// One region's risk on one indicator.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Warning {
    pub region: String,
    pub region_name: String,
    pub level: String,
    pub indicator: String,
    pub indicator_name: String,
    pub unit: String,
    pub max: f64,
    pub value: Option<f64>,
    pub points: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Probability of losing points, recalibrated on the year before when
    /// it could be; the model's own.
    pub p_loss: f64,
    #[serde(default)]
    pub p_model: f64,
    pub p_veto: f64,
    pub expected_loss: f64,
    pub years: Vec<i32>,
    pub history: Vec<Option<f64>>,
    /// (value, 满分线 / 否决线).
    pub thresholds: Vec<(f64, String)>,
    pub elements: Vec<ElementTrust>,
}

/// Per element: the models' mean backtest over the series.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ElementBacktest {
    pub code: String,
    pub name: String,
    pub series: usize,
    pub mase: Option<f64>,
    pub naive_mase: Option<f64>,
    pub coverage: Option<f64>,
    /// Share of series for which MSTL was chosen.
    pub mstl_share: f64,
}

/// A risk run as the pages read it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RiskView {
    /// The first month assessed, and the year it falls in.
    pub period: String,
    pub year: i32,
    pub train_end: String,
    pub draws: usize,
    pub series: usize,
    pub skipped: usize,
    pub seconds: f64,
    /// Where the time went: (phase, seconds).
    #[serde(default)]
    pub phases: Vec<(String, f64)>,
    pub backtest: Vec<ElementBacktest>,
    /// Every region's expected points lost, summed over its indicators.
    pub totals: Vec<(String, f64)>,
    /// Warnings, the highest expected loss first.
    pub warnings: Vec<Warning>,
    #[serde(default)]
    pub made_at: String,
    #[serde(default)]
    pub made_by: String,
    /// How the model's probabilities did on the year before, and the map
    /// fitted on it.
    #[serde(default)]
    pub calibration: Option<RiskCalibration>,
}

/// The year before assessed from the months before it, against its scores.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RiskCalibration {
    pub year: i32,
    pub n: usize,
    pub base_rate: f64,
    /// Brier score of the model's probabilities, of always saying the base
    /// rate, and of the recalibrated ones (on the same year: in-sample).
    pub brier_model: f64,
    pub brier_base: f64,
    pub brier_recalibrated: f64,
    pub bins: Vec<pingan_core::calibration::Bin>,
    pub map: pingan_core::calibration::Isotonic,
}

/// The month a refresh assesses from when none is asked: the one after the
/// last month the province's event elements have values for.
async fn default_period(ctx: &Ctx) -> Result<Period> {
    let year = ctx
        .latest_year()
        .await
        .ok_or_else(|| ServiceError::invalid("数据库中还没有数据：请先导入"))?;
    Ok(Period::Month(year + 1, 1))
}

/// What a run reads: the framework of the assessed year, the regions, every
/// year's approved values and benchmarks up to it, the elements forecast.
pub(crate) struct Inputs {
    pub fw: std::sync::Arc<pingan_core::Framework>,
    pub tree: std::sync::Arc<pingan_core::RegionTree>,
    pub data: DataSet,
    pub year: i32,
    pub from_month: u8,
    pub elements: Vec<usize>,
    pub history: Vec<i32>,
    pub draws: usize,
    /// The ledger head before the values were read.
    pub data_seq: i64,
}

impl Inputs {
    /// Forecast and assess `year` from `from_month` (see `compute`).
    pub(crate) fn assess(
        &self,
        year: i32,
        from_month: u8,
        history: &[i32],
        recalibrate: Option<&pingan_core::calibration::Isotonic>,
    ) -> Result<compute::Computed> {
        compute::compute(
            &self.fw,
            &self.tree,
            &self.data,
            compute::Span {
                year,
                from_month,
                elements: &self.elements,
                history,
                draws: self.draws,
            },
            recalibrate,
        )
    }
}

/// Read a run's inputs; the caller holds a heavy permit.
pub(crate) async fn load(ctx: &Ctx, period: Option<Period>, draws: usize) -> Result<Inputs> {
    let period = match period {
        Some(p @ Period::Month(..)) => p,
        Some(p) => {
            return Err(ServiceError::invalid(format!(
                "风险评估的起始期应为月份（如 2025-01），不是 {p}"
            )));
        }
        None => default_period(ctx).await?,
    };
    let Period::Month(year, from_month) = period else {
        unreachable!("checked above")
    };
    if !(1..=5000).contains(&draws) {
        return Err(ServiceError::invalid("模拟次数应在 1 到 5000 之间"));
    }
    let train_end = period.prev();
    let years = ctx.years().await?;
    let Some(&first_year) = years.first() else {
        return Err(ServiceError::invalid("数据库中还没有数据：请先导入"));
    };
    if train_end.year() < first_year {
        return Err(ServiceError::invalid(format!(
            "{train_end} 之前没有数据，无法预测"
        )));
    }
    let v = scores::version(ctx, year).await?;
    let fw = v.framework.clone();
    let tree = ctx.tree().await?;
    let (data_seq, _) = ctx.store.audit_head().await?;
    let mut data = DataSet::new(tree.len(), fw.elements.len());
    ctx.store
        .values_between(&fw, &tree, first_year, year, false, &mut data)
        .await?;
    for y in first_year..=year {
        let b = ctx
            .store
            .scoring_benchmarks(&fw, &tree, Period::Year(y))
            .await?;
        for i in 0..fw.benchmarks.len() {
            if let Some(x) = b.benchmark(i, Period::Year(y))
                && data.benchmark(i, Period::Year(y)).is_none()
            {
                let _ = data.insert_benchmark(i, Period::Year(y), x);
            }
        }
    }
    let elements: Vec<usize> = pingan_core::events::ELEMENTS
        .iter()
        .filter_map(|c| fw.element_index(c))
        .collect();
    if elements.is_empty() {
        return Err(ServiceError::invalid(
            "指标体系中没有网格事件与应急月度数据项，无法预测风险",
        ));
    }
    let past: Vec<i32> = years.iter().copied().filter(|y| *y < year).collect();
    let history = past[past.len().saturating_sub(3)..].to_vec();
    Ok(Inputs {
        fw,
        tree,
        data,
        year,
        from_month,
        elements,
        history,
        draws,
        data_seq,
    })
}

/// The year before the assessed one, assessed from the months before it
/// and compared with its scores: the map that makes the model's
/// probabilities honest. None where that year has no values or its series
/// are too short to forecast.
pub(crate) fn recalibration(input: &Inputs) -> Result<Option<RiskCalibration>> {
    use pingan_core::calibration::{Isotonic, pairs, summarize};
    let year = input.year - 1;
    let history: Vec<i32> = input
        .history
        .iter()
        .copied()
        .filter(|y| *y < year)
        .collect();
    let (_, _, risks) = input.assess(year, 1, &history, None)?;
    let found = pairs(&risks, &input.fw, &input.tree, &input.data, year)
        .map_err(|e| ServiceError::invalid(e.to_string()))?;
    let Some(map) = Isotonic::fit(&found) else {
        return Ok(None);
    };
    let before = summarize(&found, year);
    let mapped: Vec<_> = found
        .iter()
        .map(|p| (map.apply(p.0), p.1, p.2, p.3))
        .collect();
    let after = summarize(&mapped, year);
    Ok(Some(RiskCalibration {
        year,
        n: before.n,
        base_rate: before.base_rate,
        brier_model: before.brier,
        brier_base: before.brier_base,
        brier_recalibrated: after.brier,
        bins: before.bins,
        map,
    }))
}

/// Forecast every region's monthly event elements from the values up to
/// the month before `period` (default: the year after the latest data),
/// assess next year's risk, and keep both (one ledger entry).
pub async fn refresh(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    period: Option<Period>,
    draws: usize,
) -> Result<RiskView> {
    let started = std::time::Instant::now();
    let _permit = ctx.heavy_permit().await?;
    let input = load(ctx, period, draws).await?;
    let data_seq = input.data_seq;
    let made_by = who.actor().user.clone();
    let read = started.elapsed().as_secs_f64();
    let (view, rows, _) = tokio::task::spawn_blocking(move || {
        let calibration = recalibration(&input)?;
        let (mut view, rows, risks) = input.assess(
            input.year,
            input.from_month,
            &input.history,
            calibration.as_ref().map(|c| &c.map),
        )?;
        view.calibration = calibration;
        Ok::<_, ServiceError>((view, rows, risks))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("risk task: {e}")))??;
    let mut view = view;
    view.phases.insert(0, ("读取数据".to_string(), read));
    let saving = std::time::Instant::now();
    view.made_by = made_by.clone();
    view.made_at = pingan_store::now();
    // The run's time without its own saving, which the body cannot hold.
    view.seconds = started.elapsed().as_secs_f64();
    let body = serde_json::to_string(&view).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let summary = json!({"series": view.series, "skipped": view.skipped, "draws": view.draws,
        "warnings": view.warnings.len(), "seconds": view.seconds, "train_end": view.train_end});
    ctx.store
        .save_risk_run(
            &rows,
            &pingan_store::RiskRun {
                period: view.period.clone(),
                train_end: view.train_end.clone(),
                data_seq,
                summary: summary.to_string(),
                body,
                made_by,
                made_at: view.made_at.clone(),
            },
            summary,
            &who.actor(),
        )
        .await?;
    tracing::info!(
        period = %view.period,
        seconds = view.seconds,
        saving = saving.elapsed().as_secs_f64(),
        "risk run kept"
    );
    Ok(view)
}

/// Recompute the newest run (same period) when values changed since it:
/// the server's periodic look. Several instances may each do it; the last
/// one's run is kept.
pub async fn refresh_if_stale(ctx: &Ctx) -> Result<Option<RiskView>> {
    let Some(run) = ctx.store.risk_run(None).await? else {
        return Ok(None);
    };
    if !ctx.store.values_changed_since(run.data_seq).await? {
        return Ok(None);
    }
    let system = crate::Caller::operator("风险预警定时重算");
    let who = system.authorize::<cap::Notices>()?;
    let draws = serde_json::from_str::<serde_json::Value>(&run.summary)
        .ok()
        .and_then(|s| s["draws"].as_u64())
        .map_or(risk::DEFAULT_DRAWS, |d| d as usize);
    refresh(ctx, &who, run.period.parse().ok(), draws)
        .await
        .map(Some)
}

/// A kept run as read: parsed once per run and shared, and whether values
/// changed since it was made.
pub struct Viewed {
    pub run: Arc<RiskView>,
    pub stale: bool,
}

impl std::ops::Deref for Viewed {
    type Target = RiskView;
    fn deref(&self) -> &RiskView {
        &self.run
    }
}

/// The kept run of `period` (default: the newest).
pub async fn view(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    period: Option<&str>,
) -> Result<Option<Viewed>> {
    let Some(run) = ctx.store.risk_run(period).await? else {
        return Ok(None);
    };
    let key = format!("risk:{}", run.period);
    let parsed = ctx
        .versioned(&key, &[LedgerAction::RefreshRisk], async {
            serde_json::from_str::<RiskView>(&run.body)
                .map_err(|e| ServiceError::Internal(format!("risk run: {e}")))
        })
        .await?;
    let stale = ctx.store.values_changed_since(run.data_seq).await?;
    Ok(Some(Viewed { run: parsed, stale }))
}

/// The kept forecast of one region's element, in the caller's scope.
pub async fn forecast_of(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    region: &str,
    element: &str,
) -> Result<Option<ForecastBody>> {
    let tree = ctx.tree().await?;
    who.caller().region_in_scope(&tree, region)?;
    let Some(row) = ctx.store.forecast_of(region, element).await? else {
        return Ok(None);
    };
    serde_json::from_str(&row.body)
        .map(Some)
        .map_err(|e| ServiceError::Internal(format!("forecast: {e}")))
}

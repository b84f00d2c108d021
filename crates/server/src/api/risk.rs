//! `/api/v1/risk` (issue 22): the kept risk run in the caller's scope —
//! the backtest per element, every region's expected points lost and the
//! warnings, the highest expected loss first — as the 风险预警 page shows
//! it. Computed by `pingan risk --refresh`, never on a request.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Query, Who};
use axum::Json;
use axum::extract::State;
use pingan_service::{ServiceError, cap, risk};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(get_risk))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    /// The run's first month, e.g. 2025-01 (default: the newest run).
    pub period: Option<String>,
    /// Only this region and those below it (default: the caller's scope).
    pub region: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RiskOut {
    /// The first month assessed and its year.
    pub period: String,
    pub year: i32,
    pub train_end: String,
    pub made_at: String,
    /// Values changed after the run.
    pub stale: bool,
    pub draws: usize,
    /// Per element: series, the chosen models' mean MASE, the seasonal
    /// naive's, interval coverage, MSTL share.
    #[schema(value_type = Vec<Object>)]
    pub backtest: Vec<risk::ElementBacktest>,
    /// [region code, expected points lost] of every region in scope.
    #[schema(value_type = Vec<Object>)]
    pub totals: Vec<(String, f64)>,
    /// Region, indicator, forecast and its 80 % interval, thresholds,
    /// probability of losing points and of the veto, expected points lost,
    /// each element's model and backtest MASE.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<risk::Warning>,
}

/// The kept risk run, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/risk", params(RiskQuery),
    responses((status = 200, body = RiskOut), (status = 403, body = ApiError),
              (status = 404, body = ApiError)))]
async fn get_risk(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<RiskQuery>,
) -> Result<Json<RiskOut>, ApiError> {
    let who = caller.authorize::<cap::Scores>()?;
    let ctx = &state.ctx;
    let tree = ctx.tree().await?;
    let root = match q.region.as_deref().or(caller.region.as_deref()) {
        Some(r) => Some(caller.region_in_scope(&tree, r)?),
        None => None,
    };
    let Some(v) = risk::view(ctx, &who, q.period.as_deref()).await? else {
        return Err(ServiceError::not_found(
            "还没有风险评估结果：请运行 pingan risk --db … --refresh",
        )
        .into());
    };
    let within = |code: &str| match (root, tree.find(code)) {
        (Some(r), Some(i)) => tree.is_within(i, r),
        (None, Some(_)) => true,
        _ => false,
    };
    Ok(Json(RiskOut {
        period: v.period.clone(),
        year: v.year,
        train_end: v.train_end.clone(),
        made_at: v.made_at.clone(),
        stale: v.stale,
        draws: v.draws,
        backtest: v.backtest.clone(),
        totals: v.totals.iter().filter(|t| within(&t.0)).cloned().collect(),
        warnings: v
            .warnings
            .iter()
            .filter(|w| within(&w.region))
            .cloned()
            .collect(),
    }))
}

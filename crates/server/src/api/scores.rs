//! `/api/v1/scores`: the stored `pingan score` JSON for the regions in
//! scope, or a marked preview with the values still in review.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Query;
use crate::http::{Kept, Who, accepts_gzip, body_for};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use pingan_core::{Level, Period};
use pingan_service::cap;
use pingan_service::review;
use pingan_service::scores::{self, ScoreQuery};
use serde::Deserialize;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(get_scores))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScoreParams {
    /// 2024, 2024-03 or 2024Q1.
    pub period: String,
    pub level: Option<String>,
    /// Only regions with this parent.
    pub parent: Option<String>,
    /// Score every value, the ones still in review included, without
    /// storing anything; the answer carries `"preview": true`.
    #[serde(default)]
    pub preview: bool,
}

/// The stored `pingan score` JSON for the regions in scope.
#[utoipa::path(get, path = "/api/v1/scores", params(ScoreParams),
    responses((status = 200, description = "scoring.md §7"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn get_scores(
    State(state): State<AppState>,
    Who(caller): Who,
    headers: HeaderMap,
    Query(p): Query<ScoreParams>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Scores>()?;
    let period: Period = p
        .period
        .parse()
        .map_err(|e: pingan_core::period::PeriodError| {
            ApiError::invalid(format!("参数 period：{e}"))
        })?;
    let level: Option<Level> = match &p.level {
        Some(l) => Some(
            l.parse()
                .map_err(|e: String| ApiError::invalid(format!("参数 level：{e}")))?,
        ),
        None => None,
    };
    let q = ScoreQuery {
        period,
        level,
        parent: p.parent.clone(),
    };
    if p.preview {
        let report = scores::preview(&state.ctx, &who, &q).await?;
        let pending = review::pending_in_scope(&state.ctx, &caller, period.year(), None).await?;
        let mut v = serde_json::to_value(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
        v["preview"] = serde_json::json!(true);
        v["pending_values"] = serde_json::json!(pending);
        return Ok(Json(v).into_response());
    }
    // An unscoped caller gets the same bytes as every other: keep them,
    // versioned by the ledger head, with a gzip copy.
    let gzip = accepts_gzip(&headers);
    if caller.region.is_some() {
        let report = scores::official(&state.ctx, &who, &q).await?;
        let body = serde_json::to_vec(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let key = (
        period.to_string(),
        level.map(|l| l.code().to_string()),
        p.parent.clone(),
    );
    if let Some(body) = state.kept_scores(&key).await? {
        return Ok(body_for(&body, gzip, "application/json"));
    }
    // One request fills; the others wait for it (taking and dropping the
    // lock at once, so they do not queue behind each other) and then read
    // what it kept.
    let _filling = match state.filling.try_lock() {
        Ok(guard) => Some(guard),
        Err(_) => {
            drop(state.filling.lock().await);
            if let Some(body) = state.kept_scores(&key).await? {
                return Ok(body_for(&body, gzip, "application/json"));
            }
            None
        }
    };
    let report = scores::official(&state.ctx, &who, &q).await?;
    let body = serde_json::to_vec(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
    let body = Kept::new(axum::body::Bytes::from(body));
    state.keep_scores(key, body.clone()).await?;
    Ok(body_for(&body, gzip, "application/json"))
}

//! `/api/v1/checks` and `/api/v1/flags`: quality checks and the follow-up
//! queue (seed §3.4, §6.1).

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, Page, PageQuery, Who, fifty, one, page};
use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pingan_core::quality::FlagView;
use pingan_service::cap;
use pingan_service::quality::{self, FlagQuery, ResolveInput};
use pingan_store::{SaveSummary, StoredFlag};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(run_check))
        .with(routes!(flags))
        .with(routes!(flag))
        .with(routes!(resolve))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// `2024` (with its quarters and months), `2024Q1` or `2024-06`.
    pub period: String,
    /// Keep the flags in the follow-up queue.
    #[serde(default)]
    pub save: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub period: String,
    /// The flags in the caller's scope, as `pingan check --format json`.
    #[schema(value_type = Vec<Object>)]
    pub flags: Vec<FlagView>,
    #[schema(value_type = Object)]
    pub summary: pingan_core::quality::SummaryView,
    #[schema(value_type = Option<Object>)]
    pub saved: Option<SaveSummary>,
}

/// Run validation rules and anomaly detection over the stored values.
#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckBody,
    responses((status = 200, body = CheckResult), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn run_check(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(b): Body<CheckBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Check>()?;
    let period = quality::parse_period(&b.period)?;
    let out = quality::check(&state.ctx, &who, period, b.save).await?;
    Ok(Json(CheckResult {
        period: out.period.to_string(),
        flags: out.flags,
        summary: out.summary.view(),
        saved: out.saved,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlagParams {
    /// open, corrected or explained.
    pub status: Option<String>,
    /// zscore, mod_zscore, jump, run_above_mean, share, peer, rule, cross_source, timeliness.
    pub kind: Option<String>,
    pub period: Option<String>,
    pub year: Option<i32>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    pub element: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// The follow-up queue (待核查问题).
#[utoipa::path(get, path = "/api/v1/flags", params(FlagParams),
    responses((status = 200, description = "a page of flags"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn flags(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<FlagParams>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Quality>()?;
    let fq = FlagQuery::parse(
        q.status.as_deref(),
        q.kind.as_deref(),
        q.period.as_deref(),
        q.year,
        q.region.as_deref(),
        q.element.as_deref(),
    )?;
    let (_, flags) = quality::list(&state.ctx, &who, &fq).await?;
    let p: Page<StoredFlag> = page(
        flags,
        PageQuery {
            page: q.page,
            page_size: q.page_size,
        },
    )?;
    Ok(Json(p).into_response())
}

#[utoipa::path(get, path = "/api/v1/flags/{id}",
    responses((status = 200, description = "one flag"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn flag(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Quality>()?;
    Ok(Json(quality::one(&state.ctx, &who, id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `corrected` (a confirmed error: give `value` and `reason`) or
    /// `explained` (not an error: give `note`).
    pub resolution: String,
    #[schema(value_type = Option<f64>)]
    pub value: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// Close an open flag: a corrected value (kept under source 核查更正, the
/// year rescored) or an explanation. 409 when it was already closed.
#[utoipa::path(post, path = "/api/v1/flags/{id}/resolve", request_body = ResolveBody,
    responses((status = 200, description = "the resolved flag"), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn resolve(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Body(b): Body<ResolveBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Check>()?;
    let input = ResolveInput {
        resolution: b.resolution,
        value: b.value,
        reason: b.reason,
        note: b.note,
    };
    Ok(Json(quality::resolve(&state.ctx, &who, id, &input).await?).into_response())
}

//! `/api/v1/dataSets`: the three-level review (seed §3.3, §6.1).

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, Page, PageQuery, Who, fifty, one, page};
use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pingan_core::review::{Action, SetKey};
use pingan_service::cap;
use pingan_service::review::{self, SetQuery};
use pingan_store::DataSet;
use serde::Deserialize;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(data_sets))
        .with(routes!(data_set))
        .with(routes!(step))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct SetParams {
    pub year: Option<i32>,
    pub period: Option<String>,
    pub department: Option<String>,
    /// submitted, level1, level2, approved, returned or unlocked.
    pub state: Option<String>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// Data sets in review or reviewed (数据集审核).
#[utoipa::path(get, path = "/api/v1/dataSets", params(SetParams),
    responses((status = 200, description = "a page of data sets"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn data_sets(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<SetParams>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Values>()?;
    let sq = SetQuery::parse(
        q.year,
        q.period.as_deref(),
        q.department.as_deref(),
        q.state.as_deref(),
        q.region.as_deref(),
    )?;
    let sets = review::list(&state.ctx, &who, &sq).await?;
    let p: Page<DataSet> = page(
        sets,
        PageQuery {
            page: q.page,
            page_size: q.page_size,
        },
    )?;
    Ok(Json(p).into_response())
}

#[utoipa::path(get, path = "/api/v1/dataSets/{department}/{region}/{period}",
    responses((status = 200, description = "one data set with its history and values"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn data_set(
    State(state): State<AppState>,
    Who(caller): Who,
    Path((department, region, period)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Values>()?;
    let key = SetKey {
        department,
        region,
        period,
    };
    Ok(Json(review::detail(&state.ctx, &who, &key).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `[{"department":…,"region":…,"period":…}]`
    #[schema(value_type = Vec<Object>)]
    pub sets: Vec<SetKey>,
    /// pass (the level in charge passes it on), return (with a reason),
    /// resubmit (the submitter, after a return or unlock), unlock (office,
    /// with a reason).
    pub action: String,
    #[serde(default)]
    pub reason: String,
}

/// Pass, return, resubmit or unlock data sets.
#[utoipa::path(post, path = "/api/v1/dataSets/review", request_body = ReviewBody,
    responses((status = 200, description = "what changed"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn step(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(b): Body<ReviewBody>,
) -> Result<Response, ApiError> {
    let action = b.action.parse::<Action>().map_err(ApiError::invalid)?;
    let who = caller.authorize::<cap::Review>()?;
    let s = review::apply(&state.ctx, &who, &b.sets, action, &b.reason).await?;
    Ok(Json(s).into_response())
}

//! `/api/v1/rectify` (issue 21): a region's 整改清单 of a year — each item
//! with its plan, steps and evidence files — and a step on an item, under
//! the same state machine and scope as the page (evidence files are
//! uploaded from the page, as multipart forms).

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, Path, Query, Who};
use axum::Json;
use axum::extract::State;
use pingan_service::rectify::{self, StepInput};
use pingan_service::{cap, rectify_checks};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(list))
        .with(routes!(step))
        .with(routes!(late))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The year of the list (default: the latest with data).
    pub year: Option<i32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemOut {
    #[schema(value_type = Object)]
    pub item: pingan_store::Item,
    /// 整改方案逾期未报 / 逾期未完成整改, or null.
    pub overdue: Option<&'static str>,
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<pingan_store::Step>,
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<pingan_store::FileMeta>,
}

/// A region's 整改清单: its items (merged ones left out) in order.
#[utoipa::path(get, path = "/api/v1/rectify/{region}", params(("region" = String, Path), ListQuery),
    responses((status = 200, body = Vec<ItemOut>), (status = 403, body = ApiError),
              (status = 404, body = ApiError)))]
async fn list(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(region): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ItemOut>>, ApiError> {
    let who = caller.authorize::<cap::Rectify>()?;
    let year = crate::kit::pick_year(&state.ctx, q.year).await;
    let items = rectify::list(&state.ctx, &who, year, &region).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|v| ItemOut {
                item: v.item,
                overdue: v.overdue,
                steps: v.steps,
                files: v.files,
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStepIn {
    /// plan, progress, request (the region); approve, refuse (the office).
    pub action: String,
    /// The progress, the request's account, the 复查 opinion or the reason.
    #[serde(default)]
    pub note: String,
    /// With approve: document or on_site.
    #[serde(default)]
    pub recheck: String,
    /// With approve on_site: the closed field task.
    pub field_task: Option<i64>,
    /// With plan: 责任单位, 责任人, 整改措施, 整改目标, and the indicator value
    /// that closes the item automatically when a later year reaches it.
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub measures: String,
    #[serde(default)]
    pub target: String,
    pub target_value: Option<f64>,
}

/// Take a step on an item; answers with the step as kept.
#[utoipa::path(post, path = "/api/v1/rectify/items/{id}/steps", params(("id" = i64, Path)),
    request_body = NewStepIn,
    responses((status = 200, description = "the step"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError),
              (status = 422, body = ApiError)))]
async fn step(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Body(s): Body<NewStepIn>,
) -> Result<Json<pingan_store::Step>, ApiError> {
    let who = caller.authorize::<cap::Rectify>()?;
    let input = StepInput {
        note: s.note,
        recheck: s.recheck,
        unit: s.unit,
        person: s.person,
        measures: s.measures,
        target: s.target,
        target_value: s.target_value.map(|v| v.to_string()).unwrap_or_default(),
        field_task: s.field_task.map(|v| v.to_string()).unwrap_or_default(),
        files: Vec::new(),
    };
    Ok(Json(
        rectify::act(&state.ctx, &who, id, &s.action, &input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LateOut {
    #[schema(value_type = Object)]
    pub item: pingan_store::Item,
    pub overdue: &'static str,
}

/// The weekly list: every late item in the caller's scope, by region.
#[utoipa::path(get, path = "/api/v1/rectify-late",
    responses((status = 200, body = Vec<LateOut>), (status = 403, body = ApiError)))]
async fn late(
    State(state): State<AppState>,
    Who(caller): Who,
) -> Result<Json<Vec<LateOut>>, ApiError> {
    let who = caller.authorize::<cap::Rectify>()?;
    Ok(Json(
        rectify_checks::late(&state.ctx, &who)
            .await?
            .into_iter()
            .map(|(item, overdue)| LateOut { item, overdue })
            .collect(),
    ))
}

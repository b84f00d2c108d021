//! `/api/v1/regions` and `/api/v1/framework`: the evaluation's structure.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Query;
use crate::http::{Page, PageQuery, Who, fifty, one, page};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pingan_service::cap;
use pingan_service::structure;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(regions))
        .with(routes!(framework))
        .with(routes!(framework_versions))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegionItem {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

impl From<structure::RegionItem> for RegionItem {
    fn from(r: structure::RegionItem) -> RegionItem {
        RegionItem {
            code: r.code,
            name: r.name,
            parent: r.parent,
            level: r.level,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    /// Parent region code; the top of the caller's scope when omitted.
    pub parent: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// Children of a region (the scope's top when `parent` is omitted).
#[utoipa::path(get, path = "/api/v1/regions", params(RegionQuery),
    responses((status = 200, body = Page<RegionItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn regions(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<RegionQuery>,
) -> Result<Json<Page<RegionItem>>, ApiError> {
    let who = caller.authorize::<cap::Structure>()?;
    let items: Vec<RegionItem> = structure::regions(&state.ctx, &who, q.parent.as_deref())
        .await?
        .into_iter()
        .map(RegionItem::from)
        .collect();
    Ok(Json(page(
        items,
        PageQuery {
            page: q.page,
            page_size: q.page_size,
        },
    )?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FrameworkQuery {
    /// The framework in force for this year (the latest version when omitted).
    pub year: Option<i32>,
}

/// The framework tree with effective weights and full points, and its lint.
#[utoipa::path(get, path = "/api/v1/framework", params(FrameworkQuery),
    responses((status = 200, description = "the tree and the lint"), (status = 404, body = ApiError)))]
async fn framework(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<FrameworkQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Structure>()?;
    let fw = structure::framework(&state.ctx, &who, q.year).await?;
    let provisional: Vec<String> = fw
        .indicators()
        .iter()
        .filter(|p| p.indicator.provisional)
        .map(|p| p.indicator.code.clone())
        .collect();
    let mut body = serde_json::to_value(pingan_core::framework::view::tree(&fw))
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    body["lint"] = serde_json::json!({"public_opinion_share": fw.public_opinion_share(),
        "min_public_opinion_share": fw.min_public_opinion_share, "provisional": provisional});
    Ok(Json(body).into_response())
}

/// Every stored framework version, newest first: which applies from which
/// year, and when it was imported.
#[utoipa::path(get, path = "/api/v1/framework/versions",
    responses((status = 200, description = "framework versions, newest first"), (status = 401, body = ApiError)))]
async fn framework_versions(
    State(state): State<AppState>,
    Who(caller): Who,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Structure>()?;
    Ok(Json(structure::framework_versions(&state.ctx, &who).await?).into_response())
}

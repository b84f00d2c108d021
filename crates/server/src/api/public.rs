//! `/api/v1/public/{year}/scores` (api.md): the published results of a
//! year, without login — ranking, totals, grades and dimension scores per
//! region, the status (公示中 / 已发布) and when it was published. A year
//! not published is 404; nothing unpublished is served.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pingan_service::publish;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(public_scores))
}

/// The published results of `year` (no login).
#[utoipa::path(get, path = "/api/v1/public/{year}/scores",
    params(("year" = i32, Path, description = "测评年度")),
    responses((status = 200, description = "the published results"), (status = 404, body = ApiError)))]
async fn public_scores(
    State(state): State<AppState>,
    Path(year): Path<i32>,
) -> Result<Response, ApiError> {
    let p = publish::public(&state.ctx, year)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{year} 年的测评结果尚未公开")))?;
    let mut r = Json(p).into_response();
    // The government website links it: caches may keep it a minute.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(r)
}

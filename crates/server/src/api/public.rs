//! `/api/v1/public/{year}/scores` (api.md): the published results of a
//! year, without login — ranking, totals, grades and dimension scores per
//! region, the status (公示中 / 已发布) and when it was published. A year
//! not published is 404; nothing unpublished is served.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Path;
use crate::http::{Kept, accepts_gzip, body_for};
use crate::state::PublicForm;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
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
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kept = publish::kept(&state.ctx, year).await?;
    let Some((p, _)) = kept.as_ref() else {
        return Err(ApiError::not_found(format!("{year} 年的测评结果尚未公开")));
    };
    // Every visitor gets the same bytes until the publication or its
    // status changes: serialized and gzip'd once.
    let made_for = publish::state_key(p);
    let body = match state.kept_public(year, PublicForm::Json, &made_for) {
        Some(b) => b,
        None => {
            let y = publish::public(&state.ctx, year)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("{year} 年的测评结果尚未公开")))?;
            let bytes = serde_json::to_vec(&y).map_err(|e| ApiError::invalid(e.to_string()))?;
            let b = Kept::new(axum::body::Bytes::from(bytes));
            state.keep_public(year, PublicForm::Json, made_for, b.clone());
            b
        }
    };
    let mut r = body_for(&body, accepts_gzip(&headers), "application/json");
    // The government website links it: caches may keep it a minute.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(r)
}

//! `/api/v1/reports` and `/api/v1/notices` (issue 20): a region's 测评报告
//! (the province's summary for the root) and its 问题整改通知书 — as the
//! document's blocks in JSON, or as the Word, Excel or HTML file the pages
//! give — and issuing a notice.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, Path, Query, Who};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pingan_report::Format;
use pingan_service::{cap, report};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(document))
        .with(routes!(file))
        .with(routes!(issue))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DocQuery {
    /// The year (default: the latest with data).
    pub year: Option<i32>,
    /// `report` (default) or `notice` (only once issued).
    pub kind: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    pub year: Option<i32>,
    /// `report` (default) or `notice`.
    pub kind: Option<String>,
    /// `docx` (default, 党政机关公文格式), `xlsx` or `html`.
    pub format: Option<String>,
}

async fn doc_for(
    state: &AppState,
    caller: &pingan_service::Caller,
    region: &str,
    year: Option<i32>,
    kind: Option<&str>,
) -> Result<pingan_core::report::doc::Doc, ApiError> {
    let who = caller.authorize::<cap::Scores>()?;
    let year = match year {
        Some(y) => y,
        None => state.ctx.latest_year().await.unwrap_or(2024),
    };
    match kind.unwrap_or("report") {
        "report" => Ok(report::report_doc(&state.ctx, &who, year, region).await?),
        "notice" => report::issued_notice(&state.ctx, &who, year, region)
            .await?
            .ok_or_else(|| ApiError::not_found("该地区本年度尚未印发整改通知书")),
        k => Err(ApiError::invalid(format!(
            "kind “{k}” 无效：可选 report、notice"
        ))),
    }
}

/// A region's report or notice as blocks (title, headings, paragraphs,
/// tables, charts' data, the ledger head it was made at).
#[utoipa::path(get, path = "/api/v1/reports/{region}", params(DocQuery),
    responses((status = 200, description = "the document's blocks"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn document(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(region): Path<String>,
    Query(q): Query<DocQuery>,
) -> Result<Response, ApiError> {
    let doc = doc_for(&state, &caller, &region, q.year, q.kind.as_deref()).await?;
    Ok(Json(doc).into_response())
}

/// The same document as a file: Word in the 党政机关公文格式, an Excel
/// workbook with a cover sheet, or an HTML page of its own.
#[utoipa::path(get, path = "/api/v1/reports/{region}/file", params(FileQuery),
    responses((status = 200, description = "the file", content(
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("text/html"))),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn file(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(region): Path<String>,
    Query(q): Query<FileQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref().unwrap_or("docx") {
        "docx" => Format::Docx,
        "xlsx" => Format::Xlsx,
        "html" => Format::Html,
        f => {
            return Err(ApiError::invalid(format!(
                "format “{f}” 无效：可选 docx、xlsx、html（PDF 用 pingan report --format pdf 或报告页）"
            )));
        }
    };
    let doc = doc_for(&state, &caller, &region, q.year, q.kind.as_deref()).await?;
    let name = pingan_report::file_name(&doc, format);
    let at = report::beijing(&pingan_store::now()).1;
    let bytes = tokio::task::spawn_blocking(move || pingan_report::render(&doc, format, &at))
        .await
        .map_err(|e| ApiError::from(pingan_service::ServiceError::Internal(e.to_string())))?
        .map_err(|e| ApiError::from(pingan_service::ServiceError::Internal(e.to_string())))?;
    let mut r = crate::kit::xlsx::download_as(&name, format.mime(), bytes);
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    pub region: String,
    pub year: i32,
    /// 整改期限 (YYYY-MM-DD), only when first issued; default 90 days on.
    pub deadline: Option<String>,
}

/// Issue a region's 问题整改通知书: numbered in the year's sequence
/// (平安测评〔2024〕12号) and entered in the ledger the first time; the same
/// notice after. Answers with its blocks.
#[utoipa::path(post, path = "/api/v1/notices", request_body = NewNotice,
    responses((status = 200, description = "the notice's blocks"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn issue(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(n): Body<NewNotice>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Notices>()?;
    let doc =
        report::notice_doc(&state.ctx, &who, n.year, &n.region, n.deadline.as_deref()).await?;
    Ok(Json(doc).into_response())
}

//! `/api/v1/cases` and `/api/v1/callbacks`: callback sampling (回访抽查) —
//! the mediation register in, seeded draws, recorded callbacks and the
//! evidence beside the reported 矛盾纠纷化解成功率.

use super::values::DryRun;
use super::{Api, ApiError, ImportResult};
use crate::AppState;
use crate::http::{Body, Page, PageQuery, Who, fifty, one, page};
use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingan_service::callbacks::{self, CaseIntake};
use pingan_service::cap;
use pingan_service::intake::{At, Channel};
use pingan_store::Case;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(list_cases, import_cases))
        .with(routes!(draws, draw_cases))
        .with(routes!(draw_one))
        .with(routes!(evidence))
        .with(routes!(record_callback))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSet {
    pub cases: Vec<CaseItem>,
}

/// One case of the register, as in `cases.csv`.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseItem {
    pub case_id: String,
    pub region: String,
    /// `2024-03-05`.
    pub date: String,
    /// 纠纷类型.
    #[serde(rename = "type")]
    pub kind: String,
    /// 调解成功, 调解不成功, 调解中 or 终止调解.
    pub outcome: String,
    /// true/false, or 是/否.
    #[schema(value_type = bool)]
    pub agreement: serde_json::Value,
    /// true/false, or 是/否.
    #[schema(value_type = bool)]
    pub fulfilled: serde_json::Value,
    #[serde(default)]
    pub note: Option<String>,
}

fn yes_no(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Bool(b) => Some(if *b { "是" } else { "否" }.into()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Import mediation cases: checked whole, stored in one transaction,
/// idempotent on the case id. Also answers for a dry run.
#[utoipa::path(post, path = "/api/v1/cases", params(DryRun), request_body = CaseSet,
    responses((status = 200, body = ImportResult), (status = 422, body = ImportResult), (status = 403, body = ApiError)))]
async fn import_cases(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<DryRun>,
    Body(set): Body<CaseSet>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::CaseImport>()?;
    let mut intake = CaseIntake::open(&state.ctx, &who, Channel::Json).await?;
    for (i, c) in set.cases.iter().enumerate() {
        let at = At::Index(i);
        let mut flag = |v: &serde_json::Value, what: &str| {
            yes_no(v).unwrap_or_else(|| {
                intake.refuse(at, format!("{what} 应为 true/false 或 是/否，实际是 {v}"));
                String::new()
            })
        };
        let agreement = flag(&c.agreement, "agreement");
        let fulfilled = flag(&c.fulfilled, "fulfilled");
        let fields = [
            c.case_id.trim().to_string(),
            c.region.trim().to_string(),
            c.date.trim().to_string(),
            c.kind.trim().to_string(),
            c.outcome.trim().to_string(),
            agreement.trim().to_string(),
            fulfilled.trim().to_string(),
            c.note.clone().unwrap_or_default().trim().to_string(),
        ];
        intake.push(Some(at), fields);
    }
    let body = serde_json::to_vec(&set).unwrap_or_default();
    let result = match intake.finish("cases", pingan_store::sha256_hex(&body)) {
        Ok(batch) => callbacks::import(&state.ctx, &who, batch, q.dry_run).await,
        Err(e) => Err(e),
    };
    ImportResult::of(result)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// A region: its whole subtree (the caller's scope when omitted).
    pub region: Option<String>,
    pub year: Option<i32>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// The mediation register within the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery),
    responses((status = 200, description = "a page of cases"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn list_cases(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<CaseQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Cases>()?;
    let cases = callbacks::list(&state.ctx, &who, q.region.as_deref(), q.year).await?;
    let p: Page<Case> = page(
        cases,
        PageQuery {
            page: q.page,
            page_size: q.page_size,
        },
    )?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawBody {
    pub region: String,
    pub year: i32,
    /// Share of the successful cases to call back, 0 < rate ≤ 1 (0.3 when omitted).
    pub rate: Option<f64>,
    /// 0 … 2^53 − 1; a random seed is chosen and kept when omitted.
    pub seed: Option<i64>,
}

/// Draw cases for a callback: 201 with the new draw, or 200 with the one
/// already made for the region and year (409 for other parameters).
#[utoipa::path(post, path = "/api/v1/callbacks/draws", request_body = DrawBody,
    responses((status = 201, description = "the draw with its cases"), (status = 200, description = "the draw made before"),
        (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn draw_cases(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(b): Body<DrawBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Callback>()?;
    let (d, created) = callbacks::draw(&state.ctx, &who, &b.region, b.year, b.rate, b.seed).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(d)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DrawsQuery {
    pub year: Option<i32>,
}

/// The draws within the caller's scope, newest first (without their cases).
#[utoipa::path(get, path = "/api/v1/callbacks/draws", params(DrawsQuery),
    responses((status = 200, description = "draws"), (status = 403, body = ApiError)))]
async fn draws(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<DrawsQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Callbacks>()?;
    Ok(Json(callbacks::draws(&state.ctx, &who, q.year).await?).into_response())
}

/// One draw with its cases and their callbacks.
#[utoipa::path(get, path = "/api/v1/callbacks/draws/{id}",
    responses((status = 200, description = "the draw"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn draw_one(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Callbacks>()?;
    Ok(Json(callbacks::one(&state.ctx, &who, id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// confirmed (属实), not_confirmed (不属实, give a note) or unreachable (未接通);
    /// the Chinese words are accepted too.
    pub result: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Record (or correct) the callback of one drawn case.
#[utoipa::path(post, path = "/api/v1/callbacks/{draw_id}/{case_id}", request_body = RecordBody,
    responses((status = 200, description = "the drawn case with its callback"), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn record_callback(
    State(state): State<AppState>,
    Who(caller): Who,
    Path((draw_id, case_id)): Path<(i64, String)>,
    Body(b): Body<RecordBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Callback>()?;
    let r = callbacks::parse_result(&b.result)?;
    let got = callbacks::record(
        &state.ctx,
        &who,
        draw_id,
        &case_id,
        r,
        b.note.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Json(got).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    pub region: String,
    pub year: i32,
}

/// The confirmed share of the callbacks within a region and year, beside the
/// register's success rate and the reported 矛盾纠纷化解成功率 (D3.2.1).
#[utoipa::path(get, path = "/api/v1/callbacks/evidence", params(EvidenceQuery),
    responses((status = 200, description = "the evidence"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn evidence(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<EvidenceQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Callbacks>()?;
    Ok(Json(callbacks::evidence(&state.ctx, &who, &q.region, q.year).await?).into_response())
}

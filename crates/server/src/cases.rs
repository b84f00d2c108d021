//! Callback sampling over the API (回访抽查, issue 8): the mediation
//! register in, seeded draws, recorded callbacks and the evidence beside the
//! reported 矛盾纠纷化解成功率. The store does the work; this checks roles
//! and scope.

use crate::auth::{Caller, Cap};
use crate::routes::{Body, DryRun, ImportError, ImportResult, Page, page};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingan_core::region::RegionTree;
use pingan_store::{CallbackResult, Case, Draw};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
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
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DryRun>,
    Body(set): Body<CaseSet>,
) -> Result<Response, ApiError> {
    caller.require(Cap::CaseImport)?;
    let tree = state.tree().await?;
    let mut errors = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError::invalid(e.to_string());
    w.write_record([
        "case_id",
        "region",
        "date",
        "type",
        "outcome",
        "agreement",
        "fulfilled",
        "note",
    ])
    .map_err(io)?;
    for (i, c) in set.cases.iter().enumerate() {
        let mut flag = |v: &serde_json::Value, what: &str| {
            yes_no(v).unwrap_or_else(|| {
                errors.push(ImportError {
                    index: i,
                    message: format!("{what} 应为 true/false 或 是/否，实际是 {v}"),
                });
                String::new()
            })
        };
        let agreement = flag(&c.agreement, "agreement");
        let fulfilled = flag(&c.fulfilled, "fulfilled");
        if let Some(r) = tree.find(&c.region)
            && !caller.sees(&tree, r)
        {
            errors.push(ImportError {
                index: i,
                message: format!("无权报送地区 {} 的案件", c.region),
            });
        }
        w.write_record([
            &c.case_id,
            &c.region,
            &c.date,
            &c.kind,
            &c.outcome,
            &agreement,
            &fulfilled,
            &c.note.clone().unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    if !errors.is_empty() {
        return Ok(ImportResult::refused(errors));
    }
    let csv = w
        .into_inner()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    ImportResult::of(
        state
            .store
            .import_cases("cases", &csv, q.dry_run, &caller.actor())
            .await,
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// A region: its whole subtree (the caller's scope when omitted).
    pub region: Option<String>,
    pub year: Option<i32>,
    #[serde(default = "crate::routes::one")]
    pub page: usize,
    #[serde(default = "crate::routes::fifty")]
    pub page_size: usize,
}

/// The region asked for (in scope), else the caller's scope root, else
/// None for everything.
fn root_of(
    caller: &Caller,
    tree: &RegionTree,
    region: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match region {
        Some(r) => {
            caller.region_in_scope(tree, r)?;
            Ok(Some(r.to_string()))
        }
        None => Ok(caller.region.clone()),
    }
}

/// The mediation register within the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery),
    responses((status = 200, description = "a page of cases"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CaseQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Cases)?;
    let tree = state.tree().await?;
    let root = root_of(&caller, &tree, q.region.as_deref())?;
    let cases = state.store.cases(root.as_deref(), q.year).await?;
    let p: Page<Case> = page(cases, q.page, q.page_size)?;
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
pub async fn draw(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<DrawBody>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Callback)?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &b.region)?;
    let (d, created) = state
        .store
        .draw_callbacks(&b.region, b.year, b.rate, b.seed, &caller.actor())
        .await?;
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
pub async fn draws(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DrawsQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Callbacks)?;
    Ok(Json(draws_in_scope(&state, &caller, q.year).await?).into_response())
}

pub(crate) async fn draws_in_scope(
    state: &AppState,
    caller: &Caller,
    year: Option<i32>,
) -> Result<Vec<Draw>, ApiError> {
    let tree = state.tree().await?;
    Ok(state
        .store
        .draws(year)
        .await?
        .into_iter()
        .filter(|d| tree.find(&d.region).is_some_and(|i| caller.sees(&tree, i)))
        .collect())
}

/// A draw by id, 404 when unknown and 403 outside the caller's scope.
pub(crate) async fn draw_in_scope(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Draw, ApiError> {
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("第 {id} 号抽取不存在")))?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &d.region)?;
    Ok(d)
}

/// One draw with its cases and their callbacks.
#[utoipa::path(get, path = "/api/v1/callbacks/draws/{id}",
    responses((status = 200, description = "the draw"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn draw_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Callbacks)?;
    Ok(Json(draw_in_scope(&state, &caller, id).await?).into_response())
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

pub(crate) fn parse_result(s: &str) -> Result<CallbackResult, ApiError> {
    CallbackResult::parse(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "回访结果“{s}”无效：应为 confirmed（属实）、not_confirmed（不属实）或 unreachable（未接通）"
        ))
    })
}

/// Record (or correct) the callback of one drawn case.
#[utoipa::path(post, path = "/api/v1/callbacks/{draw_id}/{case_id}", request_body = RecordBody,
    responses((status = 200, description = "the drawn case with its callback"), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path((draw_id, case_id)): Path<(i64, String)>,
    Body(b): Body<RecordBody>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Callback)?;
    let r = parse_result(&b.result)?;
    draw_in_scope(&state, &caller, draw_id).await?;
    let got = state
        .store
        .record_callback(
            draw_id,
            &case_id,
            r,
            b.note.as_deref().unwrap_or_default(),
            &caller.actor(),
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
pub async fn evidence(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<EvidenceQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Callbacks)?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &q.region)?;
    let e = state
        .store
        .callback_evidence(&q.region, q.year, &caller.actor())
        .await?;
    Ok(Json(e).into_response())
}

//! `/api/v1/verifications`: field verification (§5.3 实地核查, §3.4 交叉核验).

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, Page, PageQuery, Who, fifty, one, page};
use crate::http::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pingan_service::cap;
use pingan_service::field::{self, DrawInput, TaskInput, TaskQuery};
use pingan_store::{NewRecord, Task};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(tasks, create))
        .with(routes!(draw))
        .with(routes!(task))
        .with(routes!(record))
        .with(routes!(close))
        .with(routes!(add_photo))
        .with(routes!(confirm))
        .with(routes!(photo))
        .with(routes!(from_flag))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    /// open, recorded or closed.
    pub status: Option<String>,
    pub period: Option<String>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    /// manual, flag, draw or cross_team.
    pub origin: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// The task filters of a request (empty means none).
pub(crate) fn task_query(
    status: Option<&str>,
    period: Option<&str>,
    region: Option<&str>,
    origin: Option<&str>,
) -> Result<TaskQuery, ApiError> {
    let some = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    Ok(TaskQuery {
        status: some(status)
            .map(|s| {
                s.parse()
                    .map_err(|e: String| ApiError::invalid(format!("参数 status：{e}")))
            })
            .transpose()?,
        period: some(period),
        region: some(region),
        origin: some(origin)
            .map(|s| {
                s.parse()
                    .map_err(|e: String| ApiError::invalid(format!("参数 origin：{e}")))
            })
            .transpose()?,
    })
}

#[utoipa::path(get, path = "/api/v1/verifications", params(TaskParams),
    responses((status = 200, description = "a page of field verification tasks"), (status = 403, body = ApiError)))]
async fn tasks(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<TaskParams>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRead>()?;
    let tq = task_query(
        q.status.as_deref(),
        q.period.as_deref(),
        q.region.as_deref(),
        q.origin.as_deref(),
    )?;
    let all = field::list(&state.ctx, &who, &tq).await?;
    let p: Page<Task> = page(
        all,
        PageQuery {
            page: q.page,
            page_size: q.page_size,
        },
    )?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    pub region: String,
    /// `2024`, `2024Q2` or `2024-06`.
    pub period: String,
    /// Element codes to verify.
    pub elements: Vec<String>,
    /// Checklist items; the default list when omitted.
    #[serde(default)]
    pub checklist: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// Create one task by hand.
#[utoipa::path(post, path = "/api/v1/verifications", request_body = TaskBody,
    responses((status = 200, description = "the new task"), (status = 403, body = ApiError), (status = 422, body = ApiError),
              (status = 409, body = ApiError, description = "an open task already covers it")))]
async fn create(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(b): Body<TaskBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Field>()?;
    let t = TaskInput {
        region: b.region,
        period: b.period,
        elements: b.elements,
        checklist: b.checklist,
        note: b.note,
    };
    Ok(Json(field::create(&state.ctx, &who, t).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FromFlagBody {
    #[serde(default)]
    pub note: String,
}

/// A task for the region, period and element of a quality flag.
#[utoipa::path(post, path = "/api/v1/flags/{id}/verification", request_body = FromFlagBody,
    responses((status = 200, description = "the flag's task: a new one (`created: true`) or the open one it already has (`created: false`)"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn from_flag(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Body(b): Body<FromFlagBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Field>()?;
    Ok(Json(field::from_flag(&state.ctx, &who, id, &b.note).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDrawBody {
    pub period: String,
    /// How many base regions to draw.
    pub count: usize,
    pub elements: Vec<String>,
    /// The same seed over the same regions draws the same ones; the year by default.
    pub seed: Option<u64>,
    /// Draw under this region (the caller's scope by default).
    pub region: Option<String>,
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// Draw base regions at random (reproducibly) and give each a task.
#[utoipa::path(post, path = "/api/v1/verifications/draw", request_body = TaskDrawBody,
    responses((status = 200, description = "the drawn regions and their tasks"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn draw(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(b): Body<TaskDrawBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Field>()?;
    let d = DrawInput {
        period: b.period,
        count: b.count,
        elements: b.elements,
        seed: b.seed,
        region: b.region,
        checklist: b.checklist,
    };
    Ok(Json(field::draw(&state.ctx, &who, d).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}",
    responses((status = 200, description = "a task, its records and the comparisons"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn task(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRead>()?;
    Ok(Json(field::detail(&state.ctx, &who, id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    /// The team's name (核查一组); the cross-team check compares teams.
    pub team: String,
    /// The two verifiers' user names; the caller must be one of them.
    pub verifiers: [String; 2],
    /// Every checklist item of the task, answered.
    #[schema(value_type = Object)]
    pub checklist: BTreeMap<String, bool>,
    /// Element code → observed value, for every element of the task.
    #[schema(value_type = Object)]
    pub observed: BTreeMap<String, f64>,
    #[serde(default)]
    pub notes: String,
    pub latitude: f64,
    pub longitude: f64,
}

impl From<VisitBody> for NewRecord {
    fn from(b: VisitBody) -> NewRecord {
        NewRecord {
            team: b.team,
            verifiers: b.verifiers,
            checklist: b.checklist,
            observed: b.observed,
            notes: b.notes,
            latitude: b.latitude,
            longitude: b.longitude,
        }
    }
}

/// Record one team's visit; answers the cross-team check's findings.
#[utoipa::path(post, path = "/api/v1/verifications/{id}/records", request_body = VisitBody,
    responses((status = 200, description = "the record, any conflicts and the re-verification task"),
              (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn record(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Body(b): Body<VisitBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRecord>()?;
    Ok(Json(field::record(&state.ctx, &who, id, b.into()).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/verifications/{id}/close", request_body = CloseBody,
    responses((status = 200, description = "closed"), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn close(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Body(b): Body<CloseBody>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Field>()?;
    field::close(&state.ctx, &who, id, &b.note).await?;
    Ok(Json(serde_json::json!({"id": id, "status": "closed"})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// The file's name, for the list.
    pub name: Option<String>,
}

/// Add a photo to a record: the body is the image itself (JPEG, PNG or
/// WebP, at most 6 MB), checked by its content, kept with its SHA-256.
#[utoipa::path(post, path = "/api/v1/verifications/records/{id}/photos", params(PhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG, PNG or WebP bytes"),
    responses((status = 200, description = "the photo's metadata"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 413, body = ApiError), (status = 422, body = ApiError)))]
async fn add_photo(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
    Query(q): Query<PhotoQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRecord>()?;
    let name = q.name.unwrap_or_else(|| "照片".into());
    Ok(Json(field::add_photo(&state.ctx, &who, id, &name, &body).await?).into_response())
}

/// A photo, if its task is in the caller's scope.
#[utoipa::path(get, path = "/api/v1/verifications/photos/{id}",
    responses((status = 200, description = "the image"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn photo(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRead>()?;
    let (p, bytes) = field::photo(&state.ctx, &who, id).await?;
    Ok(image(&p.mime, bytes))
}

/// An image answer: its type, never sniffed, kept privately for an hour.
pub(crate) fn image(mime: &str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    r
}

/// The second verifier confirms a record (双人核查).
#[utoipa::path(post, path = "/api/v1/verifications/records/{id}/confirm",
    responses((status = 200, description = "the confirmed record"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn confirm(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::FieldRecord>()?;
    Ok(Json(field::confirm(&state.ctx, &who, id).await?).into_response())
}

//! Field verification over the API (§5.3 实地核查, §3.4 交叉核验): tasks by
//! hand, from a quality flag or by a seeded random draw; records by two
//! verifiers with a checklist, observed values and a position; photos; the
//! observed values beside the reported ones.

use crate::auth::{Caller, Cap};
use crate::routes::{Body, Page, page};
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pingan_core::Period;
use pingan_core::field::relative_difference;
use pingan_store::{NewRecord, NewTask, Record, Task, TaskFilter};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// open, recorded or closed.
    pub status: Option<String>,
    pub period: Option<String>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    /// manual, flag, draw or cross_team.
    pub origin: Option<String>,
    #[serde(default = "crate::routes::one")]
    pub page: usize,
    #[serde(default = "crate::routes::fifty")]
    pub page_size: usize,
}

/// Tasks in the caller's scope matching the query.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    q: &TaskQuery,
) -> Result<Vec<Task>, ApiError> {
    let tree = state.tree().await?;
    let root = match q.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(caller.region_in_scope(&tree, r)?),
        None => None,
    };
    let tasks = state
        .store
        .tasks(&TaskFilter {
            status: q.status.clone().filter(|s| !s.is_empty()),
            period: q.period.clone().filter(|s| !s.is_empty()),
            origin: q.origin.clone().filter(|s| !s.is_empty()),
            region: None,
        })
        .await?;
    Ok(tasks
        .into_iter()
        .filter(|t| match tree.find(&t.region) {
            Some(i) => caller.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)),
            None => false,
        })
        .collect())
}

#[utoipa::path(get, path = "/api/v1/verifications", params(TaskQuery),
    responses((status = 200, description = "a page of field verification tasks"), (status = 403, body = ApiError)))]
pub async fn tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<TaskQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::FieldRead)?;
    let all = list(&state, &caller, &q).await?;
    let p: Page<Task> = page(all, q.page, q.page_size)?;
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
    responses((status = 200, description = "the new task"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<TaskBody>,
) -> Result<Response, ApiError> {
    let task = create_one(&state, &caller, b, "manual", None).await?;
    Ok(Json(task).into_response())
}

pub(crate) async fn create_one(
    state: &AppState,
    caller: &Caller,
    b: TaskBody,
    origin: &str,
    flag_id: Option<i64>,
) -> Result<Task, ApiError> {
    caller.require(Cap::Field)?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &b.region)?;
    let ids = state
        .store
        .create_tasks(
            &[NewTask {
                region: b.region,
                period: b.period,
                elements: b.elements,
                checklist: b.checklist,
                origin: origin.into(),
                flag_id,
                parent_id: None,
                note: b.note,
            }],
            &caller.actor(),
        )
        .await?;
    let id = ids.first().copied().unwrap_or_default();
    state
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("核查任务 {id} 不存在")))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FromFlagBody {
    #[serde(default)]
    pub note: String,
}

/// A task for the region, period and element of a quality flag.
#[utoipa::path(post, path = "/api/v1/flags/{id}/verification", request_body = FromFlagBody,
    responses((status = 200, description = "the new task"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn from_flag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(b): Body<FromFlagBody>,
) -> Result<Response, ApiError> {
    let task = task_from_flag(&state, &caller, id, &b.note).await?;
    Ok(Json(task).into_response())
}

pub(crate) async fn task_from_flag(
    state: &AppState,
    caller: &Caller,
    id: i64,
    note: &str,
) -> Result<Task, ApiError> {
    caller.require(Cap::Field)?;
    let flag = state
        .store
        .flag(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("待核查问题 {id} 不存在")))?;
    let note = if note.trim().is_empty() {
        format!("来自数据质量问题 {id}：{}", flag.message)
    } else {
        note.trim().to_string()
    };
    create_one(
        state,
        caller,
        TaskBody {
            region: flag.region,
            period: flag.period,
            elements: vec![flag.element],
            checklist: Vec::new(),
            note,
        },
        "flag",
        Some(id),
    )
    .await
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

#[derive(Serialize)]
pub struct DrawResult {
    pub seed: u64,
    pub candidates: usize,
    pub regions: Vec<String>,
    pub tasks: Vec<i64>,
}

/// Draw base regions at random (reproducibly) and give each a task.
#[utoipa::path(post, path = "/api/v1/verifications/draw", request_body = TaskDrawBody,
    responses((status = 200, description = "the drawn regions and their tasks"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn draw(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<TaskDrawBody>,
) -> Result<Response, ApiError> {
    Ok(Json(draw_tasks(&state, &caller, b).await?).into_response())
}

pub(crate) async fn draw_tasks(
    state: &AppState,
    caller: &Caller,
    b: TaskDrawBody,
) -> Result<DrawResult, ApiError> {
    caller.require(Cap::Field)?;
    let period: Period = b
        .period
        .trim()
        .parse()
        .map_err(|e| ApiError::invalid(format!("参数 period：{e}")))?;
    if b.count == 0 || b.count > 1000 {
        return Err(ApiError::invalid("抽取数量应在 1 到 1000 之间"));
    }
    let tree = state.tree().await?;
    let root = match b.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(caller.region_in_scope(&tree, r)?),
        None => None,
    };
    // Base regions valid in the period, in the tree's order: the same
    // tree, count and seed always give the same draw.
    let candidates: Vec<usize> = (0..tree.len())
        .filter(|&i| tree.children(i).is_empty() && tree.get(i).valid_in(period))
        .filter(|&i| caller.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)))
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::invalid("所选范围内没有可抽取的基层地区"));
    }
    let seed = b.seed.unwrap_or(period.year() as u64);
    let picked = pingan_core::field::draw(candidates.len(), b.count, seed);
    let regions: Vec<String> = picked
        .iter()
        .map(|&k| tree.get(candidates[k]).code.clone())
        .collect();
    let tasks: Vec<NewTask> = regions
        .iter()
        .map(|r| NewTask {
            region: r.clone(),
            period: period.to_string(),
            elements: b.elements.clone(),
            checklist: b.checklist.clone(),
            origin: "draw".into(),
            flag_id: None,
            parent_id: None,
            note: format!(
                "随机抽取（种子 {seed}，{} 个中抽 {}）",
                candidates.len(),
                regions.len()
            ),
        })
        .collect();
    let ids = state.store.create_tasks(&tasks, &caller.actor()).await?;
    Ok(DrawResult {
        seed,
        candidates: candidates.len(),
        regions,
        tasks: ids,
    })
}

/// A task by id, if its region is in the caller's scope.
async fn task_in_scope(state: &AppState, caller: &Caller, id: i64) -> Result<Task, ApiError> {
    let task = state
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("核查任务 {id} 不存在")))?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &task.region)?;
    Ok(task)
}

/// A verification-group writer acting on a record in its scope.
async fn verifier_on_record(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
    refusal: &str,
) -> Result<(), ApiError> {
    caller.require(Cap::Field)?;
    if !caller.is_verifier() {
        return Err(ApiError::forbidden(refusal));
    }
    let (_, task) = state
        .store
        .record_task(record_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("核查记录 {record_id} 不存在")))?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &task.region)?;
    Ok(())
}

/// One element of a task: the reported value beside each team's observation.
#[derive(Serialize, Clone, Debug)]
pub struct Comparison {
    pub element: String,
    pub element_name: String,
    /// The value that counts now (latest submission), if any.
    pub reported: Option<f64>,
    pub observed: Vec<(String, f64)>,
    /// The largest observed-vs-reported difference, as a share.
    pub difference: Option<f64>,
    /// Over 10 %: the review should look at it.
    pub over_tolerance: bool,
}

#[derive(Serialize)]
pub struct TaskDetail {
    pub task: Task,
    pub records: Vec<Record>,
    pub comparisons: Vec<Comparison>,
}

/// Reported vs observed for `elements` of a region and period.
pub(crate) async fn compare(
    state: &AppState,
    region: &str,
    period: &str,
    elements: &[String],
) -> Result<Vec<Comparison>, ApiError> {
    let fw = state.store.known_codes().await?;
    let values = state.store.values(Some(region), Some(period), None).await?;
    let observed = state.store.field_observations(region, period).await?;
    Ok(elements
        .iter()
        .map(|e| {
            let reported = values
                .iter()
                .filter(|v| v.element == *e)
                .max_by(|a, b| a.submitted_at.cmp(&b.submitted_at))
                .map(|v| v.value);
            let obs: Vec<(String, f64)> = observed
                .iter()
                .filter(|(_, el, _)| el == e)
                .map(|(t, _, v)| (t.clone(), *v))
                .collect();
            let difference = reported.and_then(|r| {
                obs.iter()
                    .map(|(_, v)| relative_difference(r, *v))
                    .max_by(|a, b| a.total_cmp(b))
            });
            Comparison {
                element: e.clone(),
                element_name: fw
                    .element_index(e)
                    .map(|i| fw.elements[i].name.clone())
                    .unwrap_or_else(|| e.clone()),
                reported,
                observed: obs,
                difference,
                over_tolerance: difference
                    .is_some_and(|d| d > pingan_core::field::CROSS_TEAM_TOLERANCE),
            }
        })
        .collect())
}

pub(crate) async fn detail(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<TaskDetail, ApiError> {
    caller.require(Cap::FieldRead)?;
    let task = task_in_scope(state, caller, id).await?;
    let records = state.store.records(id).await?;
    let comparisons = compare(state, &task.region, &task.period, &task.elements).await?;
    Ok(TaskDetail {
        task,
        records,
        comparisons,
    })
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}",
    responses((status = 200, description = "a task, its records and the comparisons"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(detail(&state, &caller, id).await?).into_response())
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

pub(crate) async fn record_in_scope(
    state: &AppState,
    caller: &Caller,
    id: i64,
    b: VisitBody,
) -> Result<pingan_store::RecordOutcome, ApiError> {
    caller.require(Cap::Field)?;
    if !caller.is_verifier() {
        return Err(ApiError::forbidden("实地核查记录只能由实地核查组填写"));
    }
    task_in_scope(state, caller, id).await?;
    Ok(state
        .store
        .add_record(
            id,
            &NewRecord {
                team: b.team,
                verifiers: b.verifiers,
                checklist: b.checklist,
                observed: b.observed,
                notes: b.notes,
                latitude: b.latitude,
                longitude: b.longitude,
            },
            &caller.actor(),
        )
        .await?)
}

/// Record one team's visit; answers the cross-team check's findings.
#[utoipa::path(post, path = "/api/v1/verifications/{id}/records", request_body = VisitBody,
    responses((status = 200, description = "the record, any conflicts and the re-verification task"),
              (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(b): Body<VisitBody>,
) -> Result<Response, ApiError> {
    Ok(Json(record_in_scope(&state, &caller, id, b).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/verifications/{id}/close", request_body = CloseBody,
    responses((status = 200, description = "closed"), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(b): Body<CloseBody>,
) -> Result<Response, ApiError> {
    close_in_scope(&state, &caller, id, &b.note).await?;
    Ok(Json(serde_json::json!({"id": id, "status": "closed"})).into_response())
}

pub(crate) async fn close_in_scope(
    state: &AppState,
    caller: &Caller,
    id: i64,
    note: &str,
) -> Result<(), ApiError> {
    caller.require(Cap::Field)?;
    task_in_scope(state, caller, id).await?;
    Ok(state.store.close_task(id, note, &caller.actor()).await?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// The file's name, for the list.
    pub name: Option<String>,
}

pub(crate) async fn photo_in_scope(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<pingan_store::Photo, ApiError> {
    verifier_on_record(state, caller, record_id, "照片只能由实地核查组上传").await?;
    Ok(state
        .store
        .add_photo(record_id, name, bytes, &caller.actor())
        .await?)
}

/// Add a photo to a record: the body is the image itself (JPEG, PNG or
/// WebP, at most 6 MB), checked by its content, kept with its SHA-256.
#[utoipa::path(post, path = "/api/v1/verifications/records/{id}/photos", params(PhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG, PNG or WebP bytes"),
    responses((status = 200, description = "the photo's metadata"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn add_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PhotoQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = q.name.unwrap_or_else(|| "照片".into());
    Ok(Json(photo_in_scope(&state, &caller, id, &name, &body).await?).into_response())
}

/// A photo, if its task is in the caller's scope.
#[utoipa::path(get, path = "/api/v1/verifications/photos/{id}",
    responses((status = 200, description = "the image"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.require(Cap::FieldRead)?;
    let (p, bytes, task) = state
        .store
        .photo(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("照片 {id} 不存在")))?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &task.region)?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&p.mime) {
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
    Ok(r)
}

pub(crate) async fn confirm_in_scope(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
) -> Result<Record, ApiError> {
    verifier_on_record(state, caller, record_id, "核查记录只能由实地核查组确认").await?;
    Ok(state
        .store
        .confirm_record(record_id, &caller.actor())
        .await?)
}

/// The second verifier confirms a record (双人核查).
#[utoipa::path(post, path = "/api/v1/verifications/records/{id}/confirm",
    responses((status = 200, description = "the confirmed record"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(confirm_in_scope(&state, &caller, id).await?).into_response())
}

//! Quality checks and the follow-up queue over the API (seed §3.4, §6.1):
//! run the checks, list the flags in scope, resolve one.

use crate::auth::{Caller, Cap};
use crate::routes::{Body, Page, page};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use pingan_core::Period;
use pingan_core::quality::{FlagKind, FlagView, Summary};
use pingan_core::region::RegionTree;
use pingan_store::{FlagFilter, Resolution, SaveSummary, StoredFlag};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// `2024` (with its quarters and months), `2024Q1` or `2024-06`.
    pub period: String,
    /// Keep the flags in the follow-up queue.
    #[serde(default)]
    pub save: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub period: String,
    /// The flags in the caller's scope, as `pingan check --format json`.
    #[schema(value_type = Vec<Object>)]
    pub flags: Vec<FlagView>,
    #[schema(value_type = Object)]
    pub summary: pingan_core::quality::SummaryView,
    #[schema(value_type = Option<Object>)]
    pub saved: Option<SaveSummary>,
}

fn parse_period(s: &str) -> Result<Period, ApiError> {
    s.parse::<Period>()
        .map_err(|e| ApiError::invalid(format!("参数 period：{e}")))
}

/// Codes of the regions a caller sees (None: everything).
fn scope_codes(caller: &Caller, tree: &RegionTree) -> Option<Vec<String>> {
    caller.region.as_ref()?;
    Some(
        (0..tree.len())
            .filter(|&i| caller.sees(tree, i))
            .map(|i| tree.get(i).code.clone())
            .collect(),
    )
}

/// Run the checks over the stored values and keep the flags the caller may
/// see (saving them to the queue when asked): the API's and the page's one
/// path.
pub(crate) async fn check_in_scope(
    state: &AppState,
    caller: &Caller,
    period: Period,
    save: bool,
) -> Result<(Vec<FlagView>, Summary, Option<SaveSummary>), ApiError> {
    let (fw, tree, report) = state.store.run_check(None, period).await?;
    let flags: Vec<FlagView> = report
        .flags
        .iter()
        .filter(|f| caller.sees(&tree, f.region))
        .map(|f| f.view(&fw, &tree))
        .collect();
    let saved = if save {
        Some(
            state
                .store
                .save_flags(period, &flags, &caller.actor())
                .await?,
        )
    } else {
        None
    };
    Ok((flags, report.summary, saved))
}

/// Run validation rules and anomaly detection over the stored values.
#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckBody,
    responses((status = 200, body = CheckResult), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn run_check(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<CheckBody>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Review)?;
    let period = parse_period(&b.period)?;
    let (flags, summary, saved) = check_in_scope(&state, &caller, period, b.save).await?;
    Ok(Json(CheckResult {
        period: period.to_string(),
        flags,
        summary: summary.view(),
        saved,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlagQuery {
    /// open, corrected or explained.
    pub status: Option<String>,
    /// zscore, mod_zscore, jump, run_above_mean, peer, rule, cross_source, timeliness.
    pub kind: Option<String>,
    pub period: Option<String>,
    pub year: Option<i32>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    pub element: Option<String>,
    #[serde(default = "crate::routes::one")]
    pub page: usize,
    #[serde(default = "crate::routes::fifty")]
    pub page_size: usize,
}

pub(crate) fn parse_kind(s: &str) -> Result<FlagKind, ApiError> {
    FlagKind::parse(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "参数 kind：未知的类型“{s}”，应为 {}",
            FlagKind::ALL.map(|k| k.code()).join("、")
        ))
    })
}

/// The queue filtered by the query, within the caller's scope.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    q: &FlagQuery,
) -> Result<(std::sync::Arc<RegionTree>, Vec<StoredFlag>), ApiError> {
    if let Some(s) = &q.status
        && !matches!(s.as_str(), "open" | "corrected" | "explained")
    {
        return Err(ApiError::invalid(
            "参数 status 应为 open、corrected 或 explained",
        ));
    }
    let kind = q.kind.as_deref().map(parse_kind).transpose()?;
    if let Some(p) = &q.period {
        parse_period(p)?;
    }
    let tree = state.tree().await?;
    let mut regions = scope_codes(caller, &tree);
    if let Some(r) = &q.region {
        let root = caller.region_in_scope(&tree, r)?;
        regions = Some(
            (0..tree.len())
                .filter(|&i| tree.is_within(i, root))
                .map(|i| tree.get(i).code.clone())
                .collect(),
        );
    }
    let flags = state
        .store
        .flags(&FlagFilter {
            status: q.status.clone(),
            kind,
            year: q.year,
            period: q.period.clone(),
            element: q.element.clone(),
            regions,
        })
        .await?;
    Ok((tree, flags))
}

/// The follow-up queue (待核查问题).
#[utoipa::path(get, path = "/api/v1/flags", params(FlagQuery),
    responses((status = 200, description = "a page of flags"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn flags(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FlagQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Quality)?;
    let (_, flags) = list(&state, &caller, &q).await?;
    let p: Page<StoredFlag> = page(flags, q.page, q.page_size)?;
    Ok(Json(p).into_response())
}

async fn one_in_scope(state: &AppState, caller: &Caller, id: i64) -> Result<StoredFlag, ApiError> {
    let flag = state
        .store
        .flag(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("待核查问题 {id} 不存在")))?;
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &flag.region)?;
    Ok(flag)
}

#[utoipa::path(get, path = "/api/v1/flags/{id}",
    responses((status = 200, description = "one flag"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn flag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Quality)?;
    Ok(Json(one_in_scope(&state, &caller, id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `corrected` (a confirmed error: give `value` and `reason`) or
    /// `explained` (not an error: give `note`).
    pub resolution: String,
    #[schema(value_type = Option<f64>)]
    pub value: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

pub(crate) fn resolution(b: &ResolveBody) -> Result<Resolution, ApiError> {
    match b.resolution.as_str() {
        "corrected" => {
            let value = match &b.value {
                Some(serde_json::Value::Number(n)) => n.as_f64(),
                Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|v| v.is_finite())
            .ok_or_else(|| ApiError::invalid("更正后的数值（value）应为有限数"))?;
            Ok(Resolution::Corrected {
                value: value + 0.0,
                reason: b.reason.clone().unwrap_or_default(),
            })
        }
        "explained" => Ok(Resolution::Explained {
            note: b.note.clone().unwrap_or_default(),
        }),
        other => Err(ApiError::invalid(format!(
            "resolution“{other}”无效：应为 corrected（确认有误并更正）或 explained（情况说明）"
        ))),
    }
}

/// Close an open flag: a corrected value (kept under source 核查更正, the
/// year rescored) or an explanation. 409 when it was already closed.
#[utoipa::path(post, path = "/api/v1/flags/{id}/resolve", request_body = ResolveBody,
    responses((status = 200, description = "the resolved flag"), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ResolveBody>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Review)?;
    let r = resolution(&b)?;
    one_in_scope(&state, &caller, id).await?;
    let flag = state.store.resolve_flag(id, &r, &caller.actor()).await?;
    Ok(Json(flag).into_response())
}

//! The three-level review over the API (seed §3.3, §6.1): list data sets in
//! scope, read one with its history and values, move a batch through the
//! levels. The rules are `pingan_core::review`'s; this file adds the scope.

use crate::auth::{Caller, Cap};
use crate::routes::{Body, Page, page};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use pingan_core::access::Role;
use pingan_core::review::{Action, State as SetState};
use pingan_store::{DataSet, Reviewer, SetEvent, SetFilter, SetKey, StoredValue};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct SetQuery {
    pub year: Option<i32>,
    pub period: Option<String>,
    pub department: Option<String>,
    /// submitted, level1, level2, approved, returned or unlocked.
    pub state: Option<String>,
    /// A region: its whole subtree.
    pub region: Option<String>,
    #[serde(default = "crate::routes::one")]
    pub page: usize,
    #[serde(default = "crate::routes::fifty")]
    pub page_size: usize,
}

/// Sets matching the query that the caller may see: its region scope, and
/// a department account its own department only.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    q: &SetQuery,
) -> Result<Vec<DataSet>, ApiError> {
    let set_state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<SetState>().map_err(ApiError::invalid))
        .transpose()?;
    if let Some(p) = &q.period {
        p.parse::<pingan_core::Period>()
            .map_err(|e| ApiError::invalid(format!("参数 period：{e}")))?;
    }
    let tree = state.tree().await?;
    let root = match q.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(caller.region_in_scope(&tree, r)?),
        None => None,
    };
    let sets = state
        .store
        .data_sets(&SetFilter {
            year: q.year,
            period: q.period.clone().filter(|p| !p.is_empty()),
            department: q.department.clone().filter(|d| !d.is_empty()),
            state: set_state,
        })
        .await?;
    Ok(sets
        .into_iter()
        .filter(|s| caller.element_allowed(&s.key.department))
        .filter(|s| match tree.find(&s.key.region) {
            Some(i) => caller.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)),
            None => false,
        })
        .collect())
}

/// Data sets in review or reviewed (数据集审核).
#[utoipa::path(get, path = "/api/v1/dataSets", params(SetQuery),
    responses((status = 200, description = "a page of data sets"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn data_sets(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SetQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Values)?;
    let sets = list(&state, &caller, &q).await?;
    let p: Page<DataSet> = page(sets, q.page, q.page_size)?;
    Ok(Json(p).into_response())
}

#[derive(Serialize)]
pub struct SetDetail {
    pub set: DataSet,
    pub events: Vec<SetEvent>,
    /// The set's stored values (every source), with their review state.
    pub values: Vec<StoredValue>,
    /// Field verification of the set's elements: reported beside observed,
    /// marked where they differ by over 10 %.
    pub field: Vec<crate::field::Comparison>,
}

/// One set, its history and its values, if the caller may see it.
pub(crate) async fn detail(
    state: &AppState,
    caller: &Caller,
    key: &SetKey,
) -> Result<SetDetail, ApiError> {
    let tree = state.tree().await?;
    caller.region_in_scope(&tree, &key.region)?;
    if !caller.element_allowed(&key.department) {
        return Err(ApiError::forbidden("无权查看其他部门的数据"));
    }
    let (set, events) = state
        .store
        .data_set(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("没有数据集 {}", key.describe(&tree))))?;
    let fw = state.store.known_codes().await?;
    let values = state
        .store
        .values(Some(&key.region), Some(&key.period), None)
        .await?
        .into_iter()
        .filter(|v| {
            fw.element_index(&v.element)
                .is_some_and(|e| fw.elements[e].department == key.department)
        })
        .collect();
    let elements: Vec<String> = fw
        .elements
        .iter()
        .filter(|e| e.department == key.department)
        .map(|e| e.code.clone())
        .collect();
    // Field observations only for those who may read field verification.
    let field = if caller.can(Cap::FieldRead) {
        crate::field::compare(state, &key.region, &key.period, &elements)
            .await?
            .into_iter()
            .filter(|c| !c.observed.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    Ok(SetDetail {
        set,
        events,
        values,
        field,
    })
}

#[utoipa::path(get, path = "/api/v1/dataSets/{department}/{region}/{period}",
    responses((status = 200, description = "one data set with its history and values"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn data_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((department, region, period)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Values)?;
    let key = SetKey {
        department,
        region,
        period,
    };
    Ok(Json(detail(&state, &caller, &key).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `[{"department":…,"region":…,"period":…}]`
    #[schema(value_type = Vec<Object>)]
    pub sets: Vec<SetKey>,
    /// pass (the level in charge passes it on), return (with a reason),
    /// resubmit (the submitter, after a return or unlock), unlock (office,
    /// with a reason).
    pub action: String,
    #[serde(default)]
    pub reason: String,
}

/// Move sets one step, all or nothing; the batch shares one reason.
pub(crate) async fn apply(
    state: &AppState,
    caller: &Caller,
    keys: &[SetKey],
    action: Action,
    reason: &str,
) -> Result<pingan_store::ReviewSummary, ApiError> {
    if caller.must_change_password {
        return Err(ApiError::forbidden("首次登录请先修改密码"));
    }
    let may = [
        Role::OfficeAdmin,
        Role::Department,
        Role::Collector,
        Role::Verifier,
        Role::Expert,
    ];
    if !caller.roles.iter().any(|r| may.contains(r)) {
        return Err(ApiError::forbidden("当前角色无权审核数据"));
    }
    let tree = state.tree().await?;
    for k in keys {
        caller.region_in_scope(&tree, &k.region)?;
        if !caller.element_allowed(&k.department) {
            return Err(ApiError::forbidden("无权操作其他部门的数据"));
        }
    }
    // A department account acts only for its department; the reviewers' own
    // department (if any) does not make them the submitter.
    let department = caller
        .roles
        .contains(&Role::Department)
        .then_some(caller.department.as_deref())
        .flatten();
    Ok(state
        .store
        .review_sets(
            keys,
            action,
            reason,
            &Reviewer {
                roles: &caller.roles,
                department,
            },
            &caller.actor(),
        )
        .await?)
}

/// Pass, return, resubmit or unlock data sets.
#[utoipa::path(post, path = "/api/v1/dataSets/review", request_body = ReviewBody,
    responses((status = 200, description = "what changed"), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ReviewBody>,
) -> Result<Response, ApiError> {
    let action = b.action.parse::<Action>().map_err(ApiError::invalid)?;
    if b.sets.len() > 10_000 {
        return Err(ApiError::invalid("一次最多审核 10000 个数据集"));
    }
    let s = apply(&state, &caller, &b.sets, action, &b.reason).await?;
    Ok(Json(s).into_response())
}

/// Values of `year` still in review that the caller may know about: all of
/// them for an unscoped caller, else those of its regions.
pub(crate) async fn pending_in_scope(
    state: &AppState,
    caller: &Caller,
    year: i32,
) -> Result<i64, ApiError> {
    if caller.region.is_none() {
        return Ok(state.store.pending_values(year).await?);
    }
    let tree = state.tree().await?;
    Ok(state
        .store
        .pending_by_region(year)
        .await?
        .into_iter()
        .filter(|(r, _)| tree.find(r).is_some_and(|i| caller.sees(&tree, i)))
        .map(|(_, n)| n)
        .sum())
}

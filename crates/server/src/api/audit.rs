//! `/api/v1/audit`: the ledger, for supervisors and the audit administrator.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Query;
use crate::http::{PageQuery, Who, fifty, one, page};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pingan_service::audit::{self, LedgerQuery};
use pingan_service::cap;
use serde::Deserialize;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(audit_list)).with(routes!(audit_verify))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries at or after this time (RFC 3339 or `YYYY-MM-DD`).
    pub from: Option<String>,
    /// Entries up to this time; a bare date `YYYY-MM-DD` includes that whole day.
    pub to: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// The ledger (supervisors and the audit administrator).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, description = "a page of ledger entries"), (status = 403, body = ApiError)))]
async fn audit_list(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Ledger>()?;
    let entries = audit::entries(
        &state.ctx,
        &who,
        &LedgerQuery {
            from: q.from,
            to: q.to,
            user: q.user,
            action: q.action,
            object: None,
        },
    )
    .await?;
    let p = PageQuery {
        page: q.page,
        page_size: q.page_size,
    };
    Ok(Json(page(entries, p)?).into_response())
}

/// Recompute the ledger's hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, description = "the verification"), (status = 403, body = ApiError)))]
async fn audit_verify(
    State(state): State<AppState>,
    Who(caller): Who,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Ledger>()?;
    Ok(Json(audit::verify(&state.ctx, &who, None).await?).into_response())
}

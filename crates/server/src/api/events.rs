//! `/api/v1/events`: event records from the grid platform and the
//! emergency services (events.md §1 as JSON), a batch checked whole and
//! stored as `pingan import events` stores a file, for the office and the
//! departments that record events (capability `events`).

use super::{Api, ApiError, ImportError};
use crate::AppState;
use crate::http::{Body, Query, Who};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingan_service::{ServiceError, cap, events};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(post_events))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<EventItem>,
}

/// One event version, as a row of the record file (events.md §1).
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventItem {
    pub event_id: String,
    /// grid, fire or medical.
    pub kind: String,
    /// A base region (township) code.
    pub region: String,
    #[serde(default)]
    pub category: Option<String>,
    /// Grid events: 一般, 紧急 or 特急.
    #[serde(default)]
    pub urgency: Option<String>,
    /// Grid events: the departments that handled it (a number or a string).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub departments: Option<serde_json::Value>,
    /// RFC 3339 with an offset, or `YYYY-MM-DD HH:MM:SS` (China time).
    pub reported_at: String,
    #[serde(default)]
    pub handled_at: Option<String>,
    #[serde(default)]
    pub dispatched_at: Option<String>,
    #[serde(default)]
    pub arrived_at: Option<String>,
    pub updated_at: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// Check and report, store nothing.
    #[serde(rename = "dryRun", default)]
    pub dry_run: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventsResult {
    /// OK or ERROR.
    pub status: &'static str,
    pub rows: usize,
    /// Distinct events in the batch.
    pub events: usize,
    /// Stored for the first time or in a newer version.
    pub written: usize,
    pub duplicates: usize,
    /// Stored in a newer version already.
    pub older: usize,
    /// Derived values written (the eight elements of the touched years).
    pub values: usize,
    pub errors: Vec<ImportError>,
}

/// Send a batch of event records: all or nothing, errors by item index;
/// idempotent on `event_id` + `updated_at`.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    params(DryRun), request_body = EventBatch,
    responses((status = 200, body = EventsResult), (status = 422, body = EventsResult),
        (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn post_events(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<DryRun>,
    Body(batch): Body<EventBatch>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Events>()?;
    let items: Vec<serde_json::Value> = batch
        .events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect();
    match events::import_batch(&state.ctx, &who, &items, q.dry_run).await {
        Ok(s) => Ok(Json(EventsResult {
            status: "OK",
            rows: s.rows,
            events: s.events,
            written: s.written,
            duplicates: s.duplicates,
            older: s.older,
            values: s.values.map_or(0, |v| v.imported + v.updated),
            errors: Vec::new(),
        })
        .into_response()),
        Err(ServiceError::Rejected(problems)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(EventsResult {
                status: "ERROR",
                rows: items.len(),
                events: 0,
                written: 0,
                duplicates: 0,
                older: 0,
                values: 0,
                errors: problems.into_iter().map(ImportError::from).collect(),
            }),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

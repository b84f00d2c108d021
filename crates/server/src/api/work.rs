//! `/api/v1/work`: what waits for the caller (the 工作台 counts), which the
//! pages' menu shows as badges.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::Who;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(work))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TodoItem {
    /// `todo-review`, `todo-returned`, `todo-flags` or `todo-tasks`.
    pub id: String,
    pub what: String,
    pub count: usize,
    /// The page where the work is done.
    pub href: String,
    pub hint: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Work {
    pub items: Vec<TodoItem>,
    /// The sum of the counts.
    pub total: usize,
}

/// What waits for the caller: data sets at their review level, sets sent
/// back to their department, open quality flags, open verification tasks
/// (empty for roles that have none).
#[utoipa::path(get, path = "/api/v1/work",
    responses((status = 200, body = Work), (status = 401, body = ApiError)))]
async fn work(State(state): State<AppState>, Who(caller): Who) -> Result<Json<Work>, ApiError> {
    let todos = pingan_service::work::todos(&state.ctx, &caller).await?;
    let items: Vec<TodoItem> = todos
        .iter()
        .map(|t| TodoItem {
            id: t.id.to_string(),
            what: t.what.clone(),
            count: t.count,
            href: t.href.clone(),
            hint: t.hint.to_string(),
        })
        .collect();
    Ok(Json(Work {
        total: items.iter().map(|t| t.count).sum(),
        items,
    }))
}

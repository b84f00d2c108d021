//! `Viewer`: a signed-in person in a browser. Sent to the login page when
//! the session is missing or expired, and to the password page when the
//! password must change first.

use super::error::{PageError, Seen};
use super::forms::urlencode;
use crate::AppState;
use crate::http::{Who, session_token};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use pingan_service::Caller;

pub struct Viewer(pub Caller);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Who::from_request_parts(parts, state).await {
            Ok(Who(c)) if c.is_token() => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "接口令牌不能用于网页登录",
            )
            .into_response()),
            Ok(Who(c)) if c.must_change_password && parts.uri.path() != "/password" => {
                Err(Redirect::to("/password").into_response())
            }
            Ok(Who(c)) => {
                if let Some(seen) = parts.extensions.get::<Seen>() {
                    let _ = seen.0.set(c.clone());
                }
                Ok(Viewer(c))
            }
            Err(e) if e.status != 401 => Err(PageError::new(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                e.message,
            )
            .into_response()),
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next = urlencode(next).replace("%2F", "/");
                let url = if session_token(parts).is_some() {
                    format!("/login?expired=1&next={next}")
                } else {
                    format!("/login?next={next}")
                };
                Err(Redirect::to(&url).into_response())
            }
        }
    }
}

/// The year a page was asked for, else the latest year with data.
pub async fn pick_year(ctx: &pingan_service::Ctx, asked: Option<i32>) -> i32 {
    match asked {
        Some(y) => y,
        None => ctx.latest_year().await.unwrap_or(2024),
    }
}

pub use pingan_service::events_board::now_seconds;

/// The region a page was asked for (within the caller's scope), else the
/// scope's root, else the tree's root.
pub fn pick_region(
    c: &pingan_service::Caller,
    tree: &pingan_core::RegionTree,
    asked: &Option<String>,
) -> Result<usize, super::PageError> {
    let code = asked
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or(c.region.clone())
        .or_else(|| tree.root().map(|r| r.code.clone()))
        .ok_or_else(|| super::PageError::not_found("数据库中还没有地区"))?;
    Ok(c.region_in_scope(tree, &code)?)
}

//! The one error page: a handler returns `PageError` (from any service
//! error with `?`), and the `framed` layer shows it in Chinese inside the
//! app frame when the viewer is known, on a page of its own when not
//! (before sign-in). Causes of internal failures are logged where they
//! happen; 5xx answers are logged here too.

use super::layout::{self, Frame};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, html};
use pingan_service::{Caller, ServiceError};
use std::sync::{Arc, OnceLock};

pub type PageResult = Result<Response, PageError>;

/// Why a page could not be shown.
#[derive(Clone, Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }
    pub fn not_found(m: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, m)
    }
    pub fn bad_request(m: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, m)
    }
    /// A request that cannot be served as asked (another department, too
    /// many rows): 422 with the reason; an internal failure stays a 5xx.
    pub fn unprocessable(e: ServiceError) -> PageError {
        match e {
            ServiceError::Internal(_) => PageError::from(e),
            e => PageError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> PageError {
        let api = crate::api::ApiError::from(e);
        PageError {
            status: StatusCode::from_u16(api.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: api.message,
        }
    }
}

/// The error travels to `framed` in the response's extensions.
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = self.status.into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Where the viewer extractor leaves the caller, for `framed`.
#[derive(Clone, Default)]
pub(crate) struct Seen(pub(crate) Arc<OnceLock<Caller>>);

/// Renders a `PageError` answer as the error page.
pub(crate) async fn framed(State(_): State<AppState>, mut req: Request, next: Next) -> Response {
    let seen = Seen::default();
    req.extensions_mut().insert(seen.clone());
    let resp = next.run(req).await;
    let Some(e) = resp.extensions().get::<PageError>().cloned() else {
        return resp;
    };
    if e.status.is_server_error() {
        tracing::warn!(status = e.status.as_u16(), message = %e.message, "page error");
    }
    match seen.0.get() {
        Some(caller) => in_frame(caller, &e),
        None => standalone(&e),
    }
}

fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "无权访问",
        404 => "页面不存在",
        _ => "出错了",
    }
}

fn in_frame(caller: &Caller, e: &PageError) -> Response {
    let t = title(e.status);
    let mut r = layout::page(
        Frame {
            caller,
            title: t,
            active: "",
            crumbs: vec![(t.to_string(), None)],
            pickers: None,
            banner: None,
        },
        html! {
            div.banner.error id="page-error" { (e.message) }
            p { a href="/" { "返回首页" } " · " a href="/" data-back { "返回上一页" } }
        },
    );
    *r.status_mut() = e.status;
    r
}

/// A page of its own, for errors before anyone is signed in.
pub fn standalone(e: &PageError) -> Response {
    let t = title(e.status);
    (
        e.status,
        Html(
            html! {
                (DOCTYPE)
                html lang="zh-CN" {
                    head { (layout::head(t)) }
                    body.login-page {
                        div.login-box {
                            h1 { (e.status.as_u16()) " " (t) }
                            div.banner.error id="page-error" { (e.message) }
                            p { a href="/" { "返回首页" } " · " a href="/login" { "重新登录" } }
                        }
                    }
                }
            }
            .into_string(),
        ),
    )
        .into_response()
}

//! The caller of a request: a department token (`Authorization: Bearer`)
//! or a session cookie, resolved by the service. Unsafe methods with a
//! cookie must come from our own pages.

use crate::AppState;
use crate::api::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use pingan_service::Caller;
use pingan_service::session::{Credential, authenticate};
use std::net::{IpAddr, SocketAddr};

pub const COOKIE: &str = "pingan_session";

/// A cookie's value from the request's headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn session_token(parts: &Parts) -> Option<String> {
    cookie(&parts.headers, COOKIE)
}

/// A `Set-Cookie` value for one of our cookies: HttpOnly, SameSite=Strict,
/// the whole site; `Secure` is added by `guard` where the client uses TLS.
pub fn set_cookie_named(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn set_cookie(value: &str, max_age: i64) -> HeaderValue {
    set_cookie_named(COOKIE, value, max_age)
}

/// The cookie of a new session (30 idle minutes).
pub fn session_cookie(token: &str) -> HeaderValue {
    set_cookie(token, 30 * 60)
}

pub fn clear_cookie() -> HeaderValue {
    set_cookie("", 0)
}

pub fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Unsafe methods with a cookie session must come from our own pages.
pub fn same_origin(parts: &Parts) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let h = &parts.headers;
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        // No Origin at all: not a browser form post (scripts, curl).
        (None, _) => true,
        _ => false,
    }
}

/// The caller of a request, or 401 (no or stale credentials) / 403 (a
/// cross-site request with a cookie).
pub struct Who(pub Caller);

impl FromRequestParts<AppState> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let client = client_of(parts);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            && let Some(token) = auth.strip_prefix("Bearer ")
        {
            return Ok(Who(authenticate(
                &state.ctx,
                Credential::Token(token),
                &client,
            )
            .await?));
        }
        let token = session_token(parts).ok_or_else(ApiError::unauthorized)?;
        let caller = authenticate(&state.ctx, Credential::Session(&token), &client).await?;
        if !same_origin(parts) {
            return Err(ApiError::forbidden("跨站请求被拒绝"));
        }
        Ok(Who(caller))
    }
}

/// The peer address, when the server runs with connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl ClientIp {
    /// The address as the login history records it.
    pub fn text(&self) -> String {
        self.0.map_or_else(|| "unknown".into(), |i| i.to_string())
    }
}

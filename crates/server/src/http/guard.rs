//! What every answer gets on its way out: the security headers, the
//! `Secure` flag on our cookie when the client reached us over TLS, and
//! errors in the shape their caller reads — JSON (api.md) under `/api`,
//! a Chinese page elsewhere — even the ones the framework makes itself
//! (unknown path 404, wrong method 405, body too large 413).

use crate::api::ApiError;
use crate::kit::PageError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How the server is deployed.
#[derive(Clone, Debug, Default)]
pub struct Deployment {
    /// Always mark the session cookie `Secure` (the server is reached only
    /// over HTTPS).
    pub secure_cookie: bool,
    /// Reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-For`
    /// are believed; from anyone else those headers are ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Our own scripts and styles only; no framing; forms post here.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn peer(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Security headers, `Secure` cookies and errors in shape.
pub async fn guard(State(d): State<Arc<Deployment>>, mut req: Request, next: Next) -> Response {
    let from_proxy = peer(&req).is_some_and(|ip| d.trusted_proxies.contains(&ip));
    let tls = d.secure_cookie
        || (from_proxy
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")));
    if from_proxy {
        // The client is the address the proxy saw (its last entry), so
        // sign-in limits and the ledger name the person, not the proxy.
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 0)));
        }
    }
    let api = req.uri().path().starts_with("/api/");
    let method = req.method().clone();
    let had_flash = crate::kit::forms::flash_of(req.headers()).is_some();
    let mut resp = next.run(req).await;
    if needs_shape(&resp) {
        resp = reshape(resp, api, &method);
    }
    if had_flash {
        spend_flash(&mut resp);
    }
    let h = resp.headers_mut();
    if tls {
        secure_cookies(h);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // Pages and answers carry personal or unpublished data: no cache keeps
    // them. Static assets set their own (immutable, content-hashed URLs).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A page was shown with the form's outcome: the banner is not shown
/// again on the next page (unless this answer leaves a new one).
fn spend_flash(resp: &mut Response) {
    let flash = crate::kit::forms::FLASH;
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    let sets_new = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("{flash}=")));
    if html && !sets_new {
        resp.headers_mut()
            .append(header::SET_COOKIE, super::set_cookie_named(flash, "", 0));
    }
}

fn secure_cookies(h: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = h
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(s) if !s.contains("; Secure") => {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or_else(|_| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    h.remove(header::SET_COOKIE);
    for c in cookies {
        h.append(header::SET_COOKIE, c);
    }
}

/// An error the framework answered itself (plain text or nothing).
fn needs_shape(resp: &Response) -> bool {
    let s = resp.status();
    if !(s.is_client_error() || s.is_server_error()) {
        return false;
    }
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Our own errors are JSON or a page; axum's are text/plain or empty.
    !(ct.starts_with("application/json") || ct.starts_with("text/html"))
}

fn reshape(resp: Response, api: bool, method: &axum::http::Method) -> Response {
    let s = resp.status();
    let (code, message) = match s {
        StatusCode::BAD_REQUEST => ("bad_request", "请求无效：参数或请求体无法识别".to_string()),
        StatusCode::NOT_FOUND => (
            "not_found",
            if api {
                "接口不存在：请查阅 /api/v1/openapi.json"
            } else {
                "页面不存在"
            }
            .to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", format!("该地址不支持 {method} 请求"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            let e = crate::http::too_large();
            (e.code, e.message)
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "请求体应为 JSON（Content-Type: application/json）".to_string(),
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时，请重试".to_string()),
        s if s.is_server_error() => ("internal", "服务器内部错误，请稍后重试".to_string()),
        _ => ("bad_request", "请求无法处理".to_string()),
    };
    // Keep what the answer said besides its body (Allow, Retry-After).
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let fresh = if api {
        ApiError::new(s, code, message).into_response()
    } else {
        crate::kit::error::standalone(&PageError::new(s, message))
    };
    let (fp, body) = fresh.into_parts();
    for (k, v) in fp.headers.iter() {
        parts.headers.insert(k, v.clone());
    }
    Response::from_parts(parts, body)
}

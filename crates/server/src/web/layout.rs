//! The page frame (left navigation, breadcrumb, pickers) and the `Viewer`
//! extractor: a signed-in person in a browser, sent to the login page when
//! the session is missing or expired and to the password page when the
//! password must change first.

use super::assets;
use crate::AppState;
use crate::auth::{Caller, Cap, session_token};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use pingan_core::access::Role;

pub struct Viewer(pub Caller);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(c) if c.name.starts_with("token:") => Err(error_page(
                StatusCode::FORBIDDEN,
                "接口令牌不能用于网页登录",
            )),
            Ok(c) if c.must_change_password && parts.uri.path() != "/password" => {
                Err(Redirect::to("/password").into_response())
            }
            Ok(c) => Ok(Viewer(c)),
            Err(e) if e.status == 403 => Err(error_page(StatusCode::FORBIDDEN, &e.message)),
            Err(e) if e.status != 401 => Err(error_page(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &e.message,
            )),
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next = form_urlencoded(next);
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

fn form_urlencoded(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Caller {
    pub fn can(&self, cap: Cap) -> bool {
        self.require(cap).is_ok()
    }

    pub fn is(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The navigation a caller may use, in order: (path, label).
pub fn nav(c: &Caller) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    if c.can(Cap::Scores) {
        v.push(("/", "测评总览"));
    }
    if c.can(Cap::Structure) {
        v.push(("/framework", "指标体系"));
    }
    if c.can(Cap::Submit) {
        v.push(("/submit", "数据报送"));
    }
    if c.can(Cap::Quality) || c.can(Cap::Submit) {
        v.push(("/progress", "报送进度"));
    }
    if c.can(Cap::Quality) {
        v.push(("/quality", "数据质量"));
    }
    if c.can(Cap::Values) && !c.is(Role::RegionOfficial) {
        v.push(("/review", "数据审核"));
    }
    if c.can(Cap::FieldRead) {
        v.push(("/verify", "实地核查"));
    }
    if c.can(Cap::Callbacks) {
        v.push(("/callbacks", "回访抽查"));
    }
    if c.can(Cap::Ledger) {
        v.push(("/audit", "操作日志"));
    }
    if c.is(Role::SystemAdmin) || c.is(Role::SecurityAdmin) {
        v.push(("/users", "用户管理"));
    }
    v.push(("/password", "修改密码"));
    v
}

pub struct Frame<'a> {
    pub caller: &'a Caller,
    pub title: &'a str,
    /// The active navigation entry.
    pub active: &'a str,
    /// Breadcrumb: label and link (none for the current page).
    pub crumbs: Vec<(String, Option<String>)>,
    pub pickers: Option<Markup>,
    pub banner: Option<(&'static str, String)>,
}

pub fn page(f: Frame<'_>, body: Markup) -> Response {
    let nav = nav(f.caller);
    let roles: Vec<&str> = f.caller.roles.iter().map(|r| r.label()).collect();
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                head { (head(f.title)) }
                body {
                    div.layout {
                        aside.side {
                            div.brand { "平安建设测评平台" }
                            nav {
                                @for (href, label) in &nav {
                                    a href=(href) class=[(*href == f.active).then_some("active")] { (label) }
                                }
                            }
                        }
                        div.main {
                            header.topbar {
                                div.crumb {
                                    @for (i, (label, link)) in f.crumbs.iter().enumerate() {
                                        @if i > 0 { span.sep { "/" } }
                                        @match link {
                                            Some(l) => a href=(l) { (label) },
                                            None => span { (label) },
                                        }
                                    }
                                }
                                div.user {
                                    span title=(roles.join("、")) { (f.caller.name) "（" (roles.join("、")) "）" }
                                    " "
                                    form method="post" action="/logout" {
                                        button.btn.small type="submit" id="logout" { "退出" }
                                    }
                                }
                            }
                            @if let Some(p) = &f.pickers { div.pickers { (p) } }
                            main.content {
                                @if let Some((kind, text)) = &f.banner {
                                    div class={"banner " (kind)} { (text) }
                                }
                                (body)
                            }
                        }
                    }
                    script src=(assets::url("echarts.min.js")) {}
                    script src=(assets::url("app.js")) {}
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

pub fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · 平安建设测评平台" }
        link rel="stylesheet" href=(assets::url("app.css"));
    }
}

/// A page of its own for errors (403 another region, 404 …), in Chinese.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status.as_u16() {
        403 => "无权访问",
        404 => "页面不存在",
        _ => "出错了",
    };
    (
        status,
        Html(
            html! {
                (DOCTYPE)
                html lang="zh-CN" {
                    head { (head(title)) }
                    body.login-page {
                        div.login-box {
                            h1 { (status.as_u16()) " " (title) }
                            div.banner.error { (message) }
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

/// JSON for a chart, safe inside a `<script>` element.
pub fn data_script(id: &str, value: &serde_json::Value) -> Markup {
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id=(id) { (PreEscaped(text)) } }
}

/// A card with a title, optional tools on the right, and a body.
pub fn card(title: &str, tools: Option<Markup>, body: Markup) -> Markup {
    html! {
        section.card {
            h2 { (title) @if let Some(t) = tools { span.tools { (t) } } }
            div.body { (body) }
        }
    }
}

/// After a form: back to `path` (a page of ours) with the outcome in the
/// query, which the page shows as its banner (post, redirect, get).
pub fn back(path: &str, result: Result<String, String>) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = match result {
        Ok(m) => format!("{path}{sep}ok={}", super::audit::urlencode(&m)),
        Err(e) => format!("{path}{sep}err={}", super::audit::urlencode(&e)),
    };
    Redirect::to(&url).into_response()
}

/// The banner for a page reached through `back`: an error wins.
pub fn outcome(ok: &Option<String>, err: &Option<String>) -> Option<(&'static str, String)> {
    match (super::audit::some(ok), super::audit::some(err)) {
        (_, Some(e)) => Some(("error", e)),
        (Some(m), _) => Some(("ok", m)),
        _ => None,
    }
}

/// A region's name by code, the code itself when unknown.
pub fn region_name(tree: &pingan_core::RegionTree, code: &str) -> String {
    tree.find(code)
        .map(|i| tree.get(i).name.clone())
        .unwrap_or_else(|| code.to_string())
}

//! Login, logout and the password change, as pages with plain forms.

use crate::AppState;
use crate::http::{ClientIp, clear_cookie, same_origin, session_cookie, session_token};
use crate::kit::forms::own_path;
use crate::kit::layout::{self, Frame};
use crate::kit::{PageError, Viewer};
use axum::Form;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, html};
use pingan_service::session;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(password_submit))
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    bye: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    own_path(next, "/")
}

fn login_html(
    status: StatusCode,
    message: Option<(&str, &str)>,
    username: &str,
    ask_totp: bool,
    next: &str,
) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { (layout::head("登录")) }
            body.login-page {
                form.login-box id="login" method="post" action="/login" {
                    h1 { "平安建设测评平台" }
                    @if let Some((kind, text)) = message {
                        div class={"banner " (kind)} id="login-message" { (text) }
                    }
                    label for="username" { "用户名" }
                    input type="text" id="username" name="username" value=(username)
                        autocomplete="username" required autofocus[username.is_empty()];
                    label for="password" { "密码" }
                    input type="password" id="password" name="password" autocomplete="current-password"
                        required autofocus[!username.is_empty()];
                    @if ask_totp {
                        label for="totp" { "动态口令（6 位数字）" }
                        input type="text" id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code"
                            pattern="[0-9]{6}" required;
                    }
                    input type="hidden" name="next" value=(next);
                    button.btn.primary type="submit" { "登 录" }
                    p.muted { "连续 5 次密码错误将锁定账户 10 分钟；30 分钟无操作自动退出。" }
                }
            }
        }
    };
    (status, Html(body.into_string())).into_response()
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let message = if q.expired.is_some() {
        Some(("warn", "登录已超时（30 分钟无操作），请重新登录"))
    } else if q.bye.is_some() {
        Some(("ok", "已安全退出"))
    } else {
        None
    };
    login_html(
        StatusCode::OK,
        message,
        "",
        false,
        &safe_next(q.next.as_deref()),
    )
}

async fn login_submit(
    State(state): State<AppState>,
    ip: ClientIp,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let totp = f.totp.as_deref().filter(|t| !t.trim().is_empty());
    match session::sign_in(&state.ctx, &ip.text(), &f.username, &f.password, totp).await {
        Ok((user, token)) => {
            let to = if user.must_change_password {
                "/password".to_string()
            } else {
                next
            };
            let mut resp = Redirect::to(&to).into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&token));
            resp
        }
        Err(e) => {
            let e = crate::api::ApiError::from(e);
            let ask_totp = e.code == "totp_required" || totp.is_some();
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
            login_html(
                status,
                Some(("error", &e.message)),
                &f.username,
                ask_totp,
                &next,
            )
        }
    }
}

async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if !same_origin(&parts) {
        return PageError::new(StatusCode::FORBIDDEN, "跨站请求被拒绝").into_response();
    }
    if let Some(token) = session_token(&parts) {
        let _ = session::sign_out(&state.ctx, &token).await;
    }
    let mut resp = Redirect::to("/login?bye=1").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    resp
}

#[derive(Deserialize)]
pub struct PasswordForm {
    old: String,
    new: String,
    confirm: String,
}

fn password_html(
    v: &Viewer,
    banner: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let forced = v.0.must_change_password;
    let body = html! {
        (layout::card("修改密码", None, html! {
            form method="post" action="/password" id="password-form" style="max-width:420px" {
                p.muted { "密码至少 10 位，须含大写字母、小写字母、数字和符号中的至少三类，且不能包含用户名。" }
                p { label for="old" { "原密码" } br; input type="password" id="old" name="old" required style="width:100%"; }
                p { label for="new" { "新密码" } br; input type="password" id="new" name="new" required style="width:100%"; }
                p { label for="confirm" { "确认新密码" } br; input type="password" id="confirm" name="confirm" required style="width:100%"; }
                button.btn.primary type="submit" { "保存" }
            }
        }))
    };
    let banner = banner.or_else(|| {
        forced.then(|| {
            (
                "warn",
                "首次登录（或密码被重置）须先修改密码，修改后才能使用其他功能".to_string(),
            )
        })
    });
    let mut resp = layout::page(
        Frame::simple(&v.0, "修改密码", "/password").banner(banner),
        body,
    );
    *resp.status_mut() = status;
    resp
}

async fn password_page(v: Viewer) -> Response {
    password_html(&v, None, StatusCode::OK)
}

async fn password_submit(
    State(state): State<AppState>,
    v: Viewer,
    Form(f): Form<PasswordForm>,
) -> Response {
    if f.new != f.confirm {
        return password_html(
            &v,
            Some(("error", "两次输入的新密码不一致".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match session::change_own_password(&state.ctx, &v.0, &f.old, &f.new).await {
        Ok(token) => {
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&token));
            resp
        }
        Err(e) => {
            let e = crate::api::ApiError::from(e);
            password_html(
                &v,
                Some(("error", e.message)),
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            )
        }
    }
}

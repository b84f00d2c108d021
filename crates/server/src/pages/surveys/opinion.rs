//! 意见箱 (issue 18): a township's public opinion box, `/o/{township}` —
//! no login, phone first, a plain form that works without JavaScript (a QR
//! code on a notice board opens it). What is written is kept for the year
//! it was written in, phone and ID numbers taken out first; no name, no
//! address; the client's address only feeds the same rate limit as the
//! answering pages.

use super::answer::admit;
use crate::AppState;
use crate::kit::forms::Fields;
use crate::kit::layout;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use pingan_service::surveys::comments::{self, OPINION_MAX};
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new().route("/o/{township}", get(page).post(submit))
}

#[derive(serde::Deserialize)]
struct Sent {
    sent: Option<String>,
}

/// The township as people know it, if it has an opinion box (a township).
async fn place(state: &AppState, code: &str) -> Option<String> {
    let tree = state.ctx.tree().await.ok()?;
    let r = tree.find(code).filter(|&r| tree.children(r).is_empty())?;
    Some(tree.place(r))
}

fn frame(status: StatusCode, title: &str, body: Markup) -> Response {
    (
        status,
        Html(
            html! {
                (DOCTYPE)
                html lang="zh-CN" {
                    head { (layout::head(title)) }
                    body.answer { main.answer-main { (body) } }
                }
            }
            .into_string(),
        ),
    )
        .into_response()
}

fn form(code: &str, place: &str, text: &str, error: Option<&str>) -> Markup {
    html! {
        header.answer-head { h1 { "平安建设意见箱" } p.place { (place) } }
        p { "您对本地治安、矛盾纠纷化解、公共安全和平安建设工作有什么意见和建议？请写下来，我们会认真研究。" }
        form method="post" action=(format!("/o/{code}")) id="opinion-form" {
            @if let Some(e) = error { p.error-msg role="alert" { (e) } }
            textarea name="text" id="opinion-text" rows="8" maxlength=(OPINION_MAX) required
                placeholder="例如：某某路段夜间路灯不亮，希望尽快修复" { (text) }
            div.answer-nav { button.btn.primary type="submit" { "提交意见" } }
        }
        p.muted.privacy { "意见箱匿名：请勿填写姓名、电话、身份证号；如有填写，系统会在保存前自动隐去。不记录您的网络地址。" }
    }
}

async fn page(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Sent>,
) -> Response {
    let Some(place) = place(&state, &code).await else {
        return frame(
            StatusCode::NOT_FOUND,
            "意见箱",
            html! { h1 { "意见箱链接无效" } p { "没有这个乡镇（街道），请核对链接。" } },
        );
    };
    if q.sent.is_some() {
        return frame(
            StatusCode::OK,
            "意见箱",
            html! {
                header.answer-head { h1 { "平安建设意见箱" } p.place { (place) } }
                h2 id="opinion-done" { "已收到您的意见，感谢您的参与！" }
                p { a href=(format!("/o/{code}")) { "再写一条" } }
            },
        );
    }
    frame(StatusCode::OK, "意见箱", form(&code, &place, "", None))
}

async fn submit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    req: axum::extract::Request,
) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let Some(place) = place(&state, &code).await else {
        return frame(
            StatusCode::NOT_FOUND,
            "意见箱",
            html! { h1 { "意见箱链接无效" } },
        );
    };
    if !admit(&state, &client) {
        return frame(
            StatusCode::TOO_MANY_REQUESTS,
            "意见箱",
            html! { h1 { "提交过于频繁" } p { "请稍后再试。" } },
        );
    }
    let Ok(body) = axum::body::to_bytes(req.into_body(), 16 * 1024).await else {
        return frame(
            StatusCode::PAYLOAD_TOO_LARGE,
            "意见箱",
            html! { h1 { "内容过长" } },
        );
    };
    let text = Fields::parse(&String::from_utf8_lossy(&body)).get("text");
    // The year in China, where the box hangs.
    let year = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
        .year();
    match comments::add_opinion(&state.ctx, year, &code, &text).await {
        Ok(_) => Redirect::to(&format!("/o/{code}?sent=1")).into_response(),
        Err(e) => frame(
            StatusCode::UNPROCESSABLE_ENTITY,
            "意见箱",
            form(&code, &place, &text, Some(&e.to_string())),
        ),
    }
}

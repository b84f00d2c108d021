//! The public answering page (issue 18): a township's open link
//! `/s/{year}/{region}`, no login, phone first. The page draws the year's
//! questionnaire (`assets/answer.js`, conditions by `assets/survey.js`);
//! the answer comes back as JSON and is checked and stored by the same
//! service call as the API's batches: validity judged on the server, the
//! `instance_id` making a resubmission from a flaky phone a duplicate. The
//! answer and its ledger entry name the respondent "public", never an
//! address; the address only feeds the in-memory rate limit.

use crate::AppState;
use crate::kit::{assets, layout};
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, html};
use pingan_core::survey::response::parse_time;
use pingan_input::survey::{Head, Item};
use pingan_service::surveys::invite;
use pingan_service::{Caller, ServiceError, cap, surveys};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/s/{year}/{region}", get(page).post(submit))
        .route("/i/{token}", get(invited_page).post(invited_submit))
}

const WINDOW: Duration = Duration::from_secs(600);
/// An answer is a few kilobytes; anything much larger is not one.
const MAX_BODY: usize = 64 * 1024;

/// Whether `client` may hand in one more answer now.
pub(super) fn admit(state: &AppState, client: &str) -> bool {
    let now = Instant::now();
    let mut seen = state
        .answer_limits
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.len() > 100_000 {
        seen.retain(|_, (at, _)| now.duration_since(*at) < WINDOW);
    }
    let entry = seen.entry(client.to_string()).or_insert((now, 0));
    if now.duration_since(entry.0) >= WINDOW {
        *entry = (now, 0);
    }
    entry.1 += 1;
    entry.1 <= state.answers_per_address
}

fn not_found(m: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            html! {
                (DOCTYPE)
                html lang="zh-CN" {
                    (layout::head("群众安全感调查"))
                    body.answer { main.answer-main { h1 { "调查链接无效" } p { (m) } } }
                }
            }
            .into_string(),
        ),
    )
        .into_response()
}

/// The year's survey and the township, if this is a link of ours.
async fn open(
    state: &AppState,
    year: i32,
    region: &str,
) -> Result<(Arc<surveys::OpenYear>, usize), String> {
    let o = surveys::open_year(&state.ctx, year)
        .await
        .map_err(|_| format!("{year} 年没有正在进行的调查"))?;
    let town = o
        .township(region)
        .ok_or_else(|| "该地区不在本次调查的抽样范围内".to_string())?;
    Ok((o, town))
}

async fn page(
    State(state): State<AppState>,
    Path((year, region)): Path<(i32, String)>,
) -> Response {
    match open(&state, year, &region).await {
        Ok((o, town)) => render(
            &o.form,
            &o.place(town),
            year,
            &format!("/s/{year}/{region}"),
        ),
        Err(m) => not_found(&m),
    }
}

/// A one-time invitation link: the same page, answered once.
async fn invited_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match invite::open(&state.ctx, &token).await {
        Ok((inv, _)) if inv.used_by.is_some() => {
            let mut r = not_found("该邀请链接已使用：每个链接只能提交一份答卷。感谢您的参与！");
            *r.status_mut() = StatusCode::GONE;
            r
        }
        Ok((inv, o)) => {
            let place = o
                .township(&inv.region)
                .map(|t| o.place(t))
                .unwrap_or_default();
            render(&o.form, &place, inv.year, &format!("/i/{token}"))
        }
        Err(e) => not_found(&e.to_string()),
    }
}

/// The questionnaire's frame that `answer.js` draws into: title, the
/// large-text switch, progress, the form, the page buttons and the panel
/// shown when done (the public pages and 问卷采集 alike).
pub(super) fn questionnaire(title: &str, place: Option<&str>) -> maud::Markup {
    html! {
        header.answer-head {
            h1 { (title) }
            @if let Some(p) = place { p.place { (p) } }
            button.btn.small type="button" id="big-text" aria-pressed="false" { "大字" }
        }
        div.progress aria-hidden="true" { div.bar id="progress-bar" {} }
        p.muted id="progress-text" {}
        form id="answer-form" novalidate {}
        div.answer-nav {
            button.btn type="button" id="prev" { "上一页" }
            button.btn.primary type="button" id="next" { "下一页" }
        }
        div id="answer-done" hidden {}
        noscript { p { "请在浏览器中启用 JavaScript 后作答。" } }
    }
}

fn render(f: &surveys::YearForm, place: &str, year: i32, submit: &str) -> Response {
    let data = json!({"form": f.form.client(), "year": year, "place": place, "submit": submit});
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                (layout::head(&f.form.title))
                body.answer {
                    main.answer-main id="answer" {
                        (questionnaire(&f.form.title, Some(&format!("{place} · {year} 年"))))
                        p.muted.privacy { "本调查匿名进行，不收集姓名、电话、身份证号，不记录您的网络地址。" }
                    }
                    (layout::data_script("answer-data", &data))
                    script src=(assets::url("survey.js")) {}
                    script src=(assets::url("answer.js")) {}
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    instance_id: String,
    started: String,
    /// Fixed at the first attempt, so a retry is the same answer.
    submitted: String,
    /// A channel's stable id for this person (a WeChat openid), if it has
    /// one: only its HMAC is kept, to refuse a second answer.
    #[serde(default)]
    respondent: Option<String>,
    answers: BTreeMap<String, serde_json::Value>,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn unprocessable(m: &str) -> Response {
    reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"status": 422, "code": "invalid_value", "message": m}),
    )
}

/// The answer from a request: rate limited per address, size limited,
/// its fields exactly these.
async fn read(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(Answer, axum::body::Bytes), Response> {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    if !admit(state, &client) {
        return Err(reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": 429, "code": "rate_limited", "message": "提交过于频繁，请稍后再试"}),
        ));
    }
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_BODY).await else {
        return Err(reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"status": 413, "code": "too_large", "message": "答卷过大"}),
        ));
    };
    match serde_json::from_slice(&body) {
        Ok(a) => Ok((a, body)),
        Err(e) => Err(reply(
            StatusCode::BAD_REQUEST,
            json!({"status": 400, "code": "bad_request", "message": format!("答卷格式不正确：{e}")}),
        )),
    }
}

/// An answer as the row of a batch: the phone's times, kept across retries
/// so that a retry is the same answer (a submission time in the future is
/// the server's now instead).
struct Row {
    respondent: Option<String>,
    instance_id: String,
    started: String,
    submitted: String,
    answers: Vec<(String, String)>,
}

/// The row of an answer, or why it cannot be one (a 422).
fn row(a: Answer) -> Result<Row, String> {
    if a.instance_id.trim().is_empty() || a.instance_id.chars().count() > 100 {
        return Err("答卷编号无效".into());
    }
    let mut answers = Vec::new();
    for (name, v) in a.answers {
        let t = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(format!("题目 {name} 的答案格式不正确")),
        };
        answers.push((name, t));
    }
    let now = pingan_store::now();
    let submitted = match parse_time(a.submitted.trim()).zip(parse_time(&now)) {
        Some((t, n)) if t <= n => a.submitted.trim().to_string(),
        _ => now,
    };
    Ok(Row {
        respondent: a.respondent,
        instance_id: a.instance_id.trim().to_string(),
        started: a.started.trim().to_string(),
        submitted,
        answers,
    })
}

fn item<'a>(r: &'a Row, version: &'a str, region: &'a str) -> Item<'a> {
    Item {
        head: Head {
            instance_id: &r.instance_id,
            form_version: version,
            region,
            channel: "online",
            started: &r.started,
            submitted: &r.submitted,
        },
        answers: r
            .answers
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect(),
    }
}

fn outcome(result: pingan_service::Result<surveys::ResponsesSummary>) -> Response {
    match result {
        Ok(s) => reply(
            StatusCode::OK,
            json!({"status": "OK", "duplicate": s.duplicates > 0, "valid": s.valid > 0}),
        ),
        Err(ServiceError::Rejected(problems)) => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "code": "invalid_value",
                   "message": problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>().join("；")}),
        ),
        Err(ServiceError::Conflict(m)) => reply(
            StatusCode::CONFLICT,
            json!({"status": 409, "code": "conflict", "message": m}),
        ),
        Err(e) => crate::api::ApiError::from(e).into_response(),
    }
}

async fn submit(
    State(state): State<AppState>,
    Path((year, region)): Path<(i32, String)>,
    req: axum::extract::Request,
) -> Response {
    let (a, body) = match read(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (o, _) = match open(&state, year, &region).await {
        Ok(x) => x,
        Err(m) => {
            return reply(
                StatusCode::NOT_FOUND,
                json!({"status": 404, "code": "not_found", "message": m}),
            );
        }
    };
    let r = match row(a) {
        Ok(r) => r,
        Err(m) => return unprocessable(&m),
    };
    let public = Caller::public(&region);
    let who = match public.authorize::<cap::SurveyAnswers>() {
        Ok(w) => w,
        Err(e) => return crate::api::ApiError::from(e).into_response(),
    };
    let it = item(&r, &o.form.form.version, &region);
    let sha = pingan_store::sha256_hex(&body);
    let ctx = &state.ctx;
    outcome(
        invite::once_per_person(ctx, year, r.respondent.as_deref(), &r.instance_id, || {
            surveys::answer_one(ctx, &who, &o, &it, Default::default(), sha)
        })
        .await,
    )
}

async fn invited_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: axum::extract::Request,
) -> Response {
    let (a, body) = match read(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (inv, o) = match invite::open(&state.ctx, &token).await {
        Ok(x) => x,
        Err(e) => return crate::api::ApiError::from(e).into_response(),
    };
    let r = match row(a) {
        Ok(r) => r,
        Err(m) => return unprocessable(&m),
    };
    let it = item(&r, &o.form.form.version, &inv.region);
    let sha = pingan_store::sha256_hex(&body);
    let ctx = &state.ctx;
    outcome(
        invite::once_per_person(
            ctx,
            inv.year,
            r.respondent.as_deref(),
            &r.instance_id,
            || invite::answer(ctx, &inv, &o, &it, sha),
        )
        .await,
    )
}

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
use pingan_input::survey::{Head, Item};
use pingan_service::{Caller, ServiceError, cap, surveys};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn routes() -> Router<AppState> {
    Router::new().route("/s/{year}/{region}", get(page).post(submit))
}

/// Answers one address may hand in per window: a household sharing a
/// connection answers several times, a script does not.
const PER_WINDOW: u32 = 30;
const WINDOW: Duration = Duration::from_secs(600);
/// An answer is a few kilobytes; anything much larger is not one.
const MAX_BODY: usize = 64 * 1024;

/// Whether `client` may hand in one more answer now.
fn admit(client: &str) -> bool {
    static SEEN: Mutex<Option<HashMap<String, (Instant, u32)>>> = Mutex::new(None);
    let now = Instant::now();
    let mut guard = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = guard.get_or_insert_with(HashMap::new);
    if seen.len() > 100_000 {
        seen.retain(|_, (at, _)| now.duration_since(*at) < WINDOW);
    }
    let entry = seen.entry(client.to_string()).or_insert((now, 0));
    if now.duration_since(entry.0) >= WINDOW {
        *entry = (now, 0);
    }
    entry.1 += 1;
    entry.1 <= PER_WINDOW
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

/// The year's questionnaire and the township, if this is a link of ours.
async fn open(
    state: &AppState,
    year: i32,
    region: &str,
) -> Result<(surveys::YearForm, String), String> {
    let f = surveys::year_form(&state.ctx, year)
        .await
        .map_err(|_| format!("{year} 年没有正在进行的调查"))?;
    let tree = state.ctx.tree().await.map_err(|e| e.to_string())?;
    let frame = state
        .ctx
        .store
        .survey_frame(year)
        .await
        .map_err(|e| e.to_string())?;
    if !frame.iter().any(|(c, _)| c == region) {
        return Err("该地区不在本次调查的抽样范围内".into());
    }
    let name = tree
        .find(region)
        .map(|i| {
            let r = tree.get(i);
            let parent = r
                .parent
                .map(|p| tree.get(p).name.clone())
                .unwrap_or_default();
            format!("{parent}{}", r.name)
        })
        .unwrap_or_default();
    Ok((f, name))
}

async fn page(
    State(state): State<AppState>,
    Path((year, region)): Path<(i32, String)>,
) -> Response {
    let (f, place) = match open(&state, year, &region).await {
        Ok(x) => x,
        Err(m) => return not_found(&m),
    };
    let client = f.form.client();
    let data = json!({"form": client, "year": year, "region": region, "place": place,
                      "submit": format!("/s/{year}/{region}")});
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                (layout::head(&f.form.title))
                body.answer {
                    main.answer-main id="answer" {
                        header.answer-head {
                            h1 { (f.form.title) }
                            p.place { (place) " · " (year) " 年" }
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
    answers: BTreeMap<String, serde_json::Value>,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn submit(
    State(state): State<AppState>,
    Path((year, region)): Path<(i32, String)>,
    req: axum::extract::Request,
) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    if !admit(&client) {
        return reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": 429, "code": "rate_limited", "message": "提交过于频繁，请稍后再试"}),
        );
    }
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_BODY).await else {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"status": 413, "code": "too_large", "message": "答卷过大"}),
        );
    };
    let a: Answer = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"status": 400, "code": "bad_request", "message": format!("答卷格式不正确：{e}")}),
            );
        }
    };
    let (f, _) = match open(&state, year, &region).await {
        Ok(x) => x,
        Err(m) => {
            return reply(
                StatusCode::NOT_FOUND,
                json!({"status": 404, "code": "not_found", "message": m}),
            );
        }
    };
    if a.instance_id.is_empty() || a.instance_id.chars().count() > 100 {
        return reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "code": "invalid_value", "message": "答卷编号无效"}),
        );
    }
    let mut texts: Vec<(&str, String)> = Vec::new();
    for (name, v) in &a.answers {
        let t = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"status": 422, "code": "invalid_value", "message": format!("题目 {name} 的答案格式不正确")}),
                );
            }
        };
        texts.push((name, t));
    }
    // The phone's times, kept across retries so that a retry is the same
    // answer; a submission time in the future is the server's now instead.
    let now = pingan_store::now();
    let submitted = match pingan_core::survey::response::parse_time(a.submitted.trim())
        .zip(pingan_core::survey::response::parse_time(&now))
    {
        Some((t, n)) if t <= n => a.submitted.trim().to_string(),
        _ => now,
    };
    let item = Item {
        head: Head {
            instance_id: a.instance_id.trim(),
            form_version: &f.form.version,
            region: &region,
            channel: "online",
            started: a.started.trim(),
            submitted: &submitted,
        },
        answers: texts.iter().map(|(n, t)| (*n, t.as_str())).collect(),
    };
    let public = Caller::public(&region);
    let who = match public.authorize::<cap::SurveyAnswers>() {
        Ok(w) => w,
        Err(e) => {
            return reply(
                StatusCode::FORBIDDEN,
                json!({"status": 403, "message": e.to_string()}),
            );
        }
    };
    let sha = pingan_store::sha256_hex(&body);
    match surveys::import_batch(&state.ctx, &who, &f.form.id, &[item], sha, false).await {
        Ok(s) => reply(
            StatusCode::OK,
            json!({"status": "OK", "duplicate": s.duplicates > 0, "valid": s.valid > 0}),
        ),
        Err(ServiceError::Rejected(problems)) => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"status": 422, "code": "invalid_value",
                   "message": problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>().join("；")}),
        ),
        Err(ServiceError::Conflict(_)) => reply(
            StatusCode::CONFLICT,
            json!({"status": 409, "code": "conflict", "message": "这份答卷已提交过，内容不同：请刷新页面重新作答"}),
        ),
        Err(e) => crate::api::ApiError::from(e).into_response(),
    }
}

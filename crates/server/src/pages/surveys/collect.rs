//! 问卷采集 (issue 18): the interviewer's page for door-to-door interviews,
//! paper questionnaires typed in and the 12345 hotline. Installable and
//! offline: a service worker keeps the page and its scripts, answers wait
//! in an outbox on the device (`assets/collect.js`) and go to
//! `POST /api/v1/surveys/{form}/responses` when the network is back, with
//! the interviewer's paradata; the `instance_id` makes a resent answer a
//! duplicate. For the survey firm's accounts and the office.

use super::pick_year;
use crate::AppState;
use crate::kit::{Frame, PageError, PageResult, Viewer, assets, card, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use pingan_service::{cap, surveys};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collect/", get(page))
        .route(
            "/collect",
            get(|| async { axum::response::Redirect::permanent("/collect/") }),
        )
        .route("/collect/sw.js", get(worker))
        .route("/collect/manifest.webmanifest", get(manifest))
        .route("/collect/icon.svg", get(icon))
}

#[derive(serde::Deserialize)]
struct CollectQuery {
    year: Option<i32>,
}

/// The files the page needs, kept by the service worker.
fn files() -> Vec<String> {
    let mut f = vec![
        "/collect/".to_string(),
        "/collect/manifest.webmanifest".to_string(),
        "/collect/icon.svg".to_string(),
    ];
    for a in [
        "app.css",
        "echarts.min.js",
        "app.js",
        "survey.js",
        "collect.js",
        "answer.js",
    ] {
        f.push(assets::url(a));
    }
    f
}

const CHANNELS: [(&str, &str); 3] = [
    ("interview", "入户访问"),
    ("paper", "纸质问卷录入"),
    ("hotline", "12345 热线"),
];

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<CollectQuery>,
) -> PageResult {
    let c = &v.0;
    c.authorize::<cap::SurveyAnswers>()?;
    let (_, year) = pick_year(&state, q.year).await?;
    let year = year.ok_or_else(|| PageError::not_found("还没有调查问卷：请先导入"))?;
    let open = surveys::open_year(&state.ctx, year).await?;
    let tree = &open.tree;
    let mut towns: Vec<(String, String)> = (0..tree.len())
        .filter(|&r| open.in_frame(r) && c.sees(tree, r))
        .map(|r| (tree.get(r).code.clone(), open.place(r)))
        .collect();
    towns.sort();
    if towns.is_empty() {
        return Err(PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "您的数据范围内没有本次调查的乡镇（街道）",
        ));
    }
    let form = &open.form;
    let data = json!({
        "form": form.form.client(), "year": year, "place": "", "submit": "",
        "api": format!("/api/v1/surveys/{}/responses", form.form.id),
        "worker": "/collect/sw.js",
    });
    let setup = html! {
        div.collect-setup {
            label { "乡镇（街道）"
                select id="c-region" {
                    option value="" { "请选择" }
                    @for (code, place) in &towns { option value=(code) { (place) } }
                }
            }
            label { "渠道"
                select id="c-channel" {
                    @for (code, label) in CHANNELS { option value=(code) { (label) } }
                }
            }
            label { "访问员编号"
                input id="c-interviewer" maxlength="50" value=(c.name()) autocomplete="off";
            }
            label.check {
                input type="checkbox" id="c-assisted";
                " 一对一协助作答（老年人、读写困难者）"
            }
        }
        div.collect-status {
            span { "网络：" span.tag id="c-net" { "—" } }
            span { "待上传 " strong id="c-waiting" { "0" } " 份" }
            span { "本机已上传 " strong id="c-synced" { "0" } " 份" }
            button.btn.small type="button" id="c-sync" { "立即上传" }
        }
        p.muted id="c-note" role="status" {}
        div id="c-problems-box" hidden {
            h3 { "未能上传的答卷" }
            ul id="c-problems" {}
        }
        p.muted {
            "答卷先保存在本机，联网后自动上传；同一份答卷重复上传只计一次。"
            "首次使用请在联网时打开本页，之后无网络也可打开和作答。"
        }
    };
    let body = html! {
        (card(&format!("{year} 年问卷采集"), None, setup))
        section.card.answer-main id="answer" { (super::answer::questionnaire(&form.form.title, None)) }
        (layout::data_script("answer-data", &data))
        script src=(assets::url("survey.js")) {}
        script src=(assets::url("collect.js")) {}
        script src=(assets::url("answer.js")) {}
    };
    let head = html! {
        link rel="manifest" href="/collect/manifest.webmanifest";
        meta name="theme-color" content="#1f4e8c";
    };
    Ok(layout::page_with_head(
        Frame::simple(c, "问卷采集", "/collect/"),
        head,
        body,
    ))
}

fn typed(mime: &'static str, body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Checked on every start, so a new release reaches the devices.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The service worker, with this release's files and a cache named by them.
async fn worker() -> Response {
    let files = files();
    let version = pingan_store::sha256_hex(files.concat().as_bytes());
    let text = include_str!("../../../assets/collect-sw.js")
        .replace("__CACHE__", &format!("pingan-collect-{}", &version[..12]))
        .replace(
            "__FILES__",
            &serde_json::to_string(&files).unwrap_or_else(|_| "[]".into()),
        );
    typed("text/javascript; charset=utf-8", text)
}

async fn manifest() -> Response {
    let m = json!({
        "name": "平安建设群众调查 · 问卷采集",
        "short_name": "问卷采集",
        "lang": "zh-CN",
        "start_url": "/collect/",
        "scope": "/collect/",
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#1f4e8c",
        "icons": [{"src": "/collect/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    });
    typed("application/manifest+json", m.to_string())
}

async fn icon() -> Response {
    typed(
        "image/svg+xml",
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 192 192"><rect width="192" height="192" rx="36" fill="#1f4e8c"/><path d="M96 28l56 20v44c0 38-24 62-56 74-32-12-56-36-56-74V48z" fill="#fff"/><path d="M70 98l18 18 36-40" stroke="#1f4e8c" stroke-width="14" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>"##
            .to_string(),
    )
}

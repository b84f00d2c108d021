//! 测评结果公开 (issue 21): the published results of a year for everyone,
//! without login — each level's ranking with totals, grades and dimension
//! scores, and the 公示 window's status. Only what was published is shown.

use crate::AppState;
use crate::http::{ClientIp, Kept, accepts_gzip, body_for};
use crate::kit::forms::{Fields, Flash, back, urlencode};
use crate::kit::{PageError, PageResult, fmt, layout};
use crate::state::PublicForm;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use maud::{DOCTYPE, html};
use pingan_core::region::Level;
use pingan_core::report::doc::{Chart, ChartKind, Series};
use pingan_service::ServiceError;
use pingan_service::objections::{self, Filing};
use pingan_service::publish::{self, PublicRegion};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/{year}", get(page))
        .route("/public/{year}/objection", post(object))
}

/// Whoever is signed in, if anyone (the public page needs no login; a
/// region's official who is signed in files as the account).
struct SignedIn(Option<pingan_service::Caller>);

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(SignedIn(
            crate::http::Who::from_request_parts(parts, state)
                .await
                .ok()
                .map(|w| w.0)
                .filter(|c| !c.is_token()),
        ))
    }
}

/// 提出异议 from the public page: the public without login (name and
/// contact), or a signed-in account as itself.
async fn object(
    State(state): State<AppState>,
    Path(year): Path<String>,
    ip: ClientIp,
    who: SignedIn,
    body: String,
) -> PageResult {
    let f = Fields::parse(&body);
    let result = async {
        let year: i32 = year
            .parse()
            .map_err(|_| ServiceError::not_found("年度无效"))?;
        let id = objections::file(
            &state.ctx,
            who.0.as_ref(),
            year,
            &Filing {
                region: &f.get("region"),
                name: &f.get("name"),
                contact: &f.get("contact"),
                content: &f.get("content"),
                evidence: &f.get("evidence"),
                address: &ip.text(),
            },
        )
        .await?;
        Ok(format!(
            "已收到您的异议（第 {id} 号），测评办将在公示期内答复"
        ))
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    let to = format!("/public/{}#objection", urlencode(&year));
    Ok(back(&to, result))
}

async fn page(
    State(state): State<AppState>,
    flash: Flash,
    Path(year): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let year: i32 = year
        .parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "年度无效"))?;
    // Linked from the government website: one rendering (charts and all)
    // per publication state, gzip'd once; a page with a message is made anew.
    let made_for = match publish::kept(&state.ctx, year).await?.as_ref() {
        Some((p, _)) => publish::state_key(p),
        None => String::new(),
    };
    if flash.0.is_none()
        && let Some(b) = state.kept_public(year, PublicForm::Page, &made_for)
    {
        return Ok(public_response(&b, &headers));
    }
    let p = publish::public(&state.ctx, year).await?.ok_or_else(|| {
        PageError::new(
            StatusCode::NOT_FOUND,
            format!("{year} 年的测评结果尚未公开"),
        )
    })?;
    let title = format!("{year}年平安建设测评结果公开");
    let levels = [(Level::City, "市（州）"), (Level::County, "县（市、区）")];
    let dims: Vec<String> = p
        .results
        .first()
        .map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    let body = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { (layout::head(&title)) }
            body.public-page {
                main.public-main {
                    h1 { (title) }
                    p id="public-status" data-status=(p.status) data-final=(!p.final_at.is_empty()) {
                        span class={"tag " (if p.status == "公示中" { "warn" } else { "ok" })} { (p.status) }
                        " 发布时间 " (fmt::local_time(&p.published_at))
                        @if p.status == "公示中" { "，公示期至 " (fmt::local_time(&p.window_ends)) "。公示期内对结果有异议的，可向测评办提出。" }
                        @if !p.final_at.is_empty() { "；公示期满、异议处理完毕，于 " (fmt::local_time(&p.final_at)) " 正式发布。" }
                    }
                    @for (id, chart) in charts(&p.results) {
                        figure.doc-chart data-chart=(id) role="img" aria-label=(chart.caption) {
                            @match pingan_report::charts::svg(&chart, pingan_report::charts::font().unwrap_or("sans-serif")) {
                                Ok(svg) => (maud::PreEscaped(svg)),
                                Err(e) => span.muted { "图表未能生成：" (e.to_string()) },
                            }
                            figcaption.doc-caption { (chart.caption) }
                        }
                    }
                    @for (level, label) in levels {
                        @let rows: Vec<&PublicRegion> = p.results.iter().filter(|r| r.level == level.code()).collect();
                        @if !rows.is_empty() {
                            h2 { (label) "测评结果" }
                            div.table-wrap {
                                table.data id=(format!("public-{}", level.code())) {
                                    thead { tr {
                                        th { "名次" } th { "地区" } th { "总分" } th { "等级" }
                                        @for d in &dims { th { (d) } }
                                        th { "解读" }
                                    } }
                                    tbody {
                                        @for r in rows {
                                            tr data-region=(r.region) {
                                                td.num { (r.level_rank) }
                                                td { (r.name) }
                                                td.num { (fmt::fixed(r.total)) }
                                                td { span class={"tag " (fmt::grade_class(&r.grade))} { (r.grade) } }
                                                @for d in &r.dimensions { td.num { (fmt::fixed(d.points)) } }
                                                td.interpretation { (publish::interpret(r)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if p.status == "公示中" {
                        section.card id="objection" {
                            h2 { "提出异议" }
                            @if let Some((k, m)) = &flash.0 {
                                div class={"banner " (k)} role="status" { (m) }
                            }
                            form.objection-form method="post" action=(format!("/public/{year}/objection")) {
                                label { "地区 "
                                    select name="region" required {
                                        @for r in &p.results { option value=(r.region) { (r.name) } }
                                    }
                                }
                                p.muted { "已登录的地区用户以本人账户名义提交，无需填写姓名和联系方式。" }
                                label { "姓名或单位 " input type="text" name="name" maxlength="100"; }
                                label { "联系方式 " input type="text" name="contact" maxlength="100"; }
                                label { "异议内容 " textarea name="content" rows="4" maxlength="2000" required {} }
                                label { "依据（可选） " textarea name="evidence" rows="3" maxlength="2000" {} }
                                button.btn.primary type="submit" { "提交异议" }
                            }
                        }
                    }
                }
            }
        }
    };
    let b = Kept::new(axum::body::Bytes::from(body.into_string()));
    if flash.0.is_none() {
        state.keep_public(year, PublicForm::Page, made_for, b.clone());
    }
    Ok(public_response(&b, &headers))
}

fn public_response(b: &Kept, headers: &HeaderMap) -> axum::response::Response {
    let mut r = body_for(b, accepts_gzip(headers), "text/html; charset=utf-8");
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}

/// The public page's charts: the cities' totals, and the province's
/// share of the points in each dimension.
fn charts(results: &[PublicRegion]) -> Vec<(&'static str, Chart)> {
    let mut out = Vec::new();
    let cities: Vec<&PublicRegion> = results
        .iter()
        .filter(|r| r.level == Level::City.code())
        .collect();
    if cities.len() > 1 {
        out.push((
            "cities",
            Chart {
                id: "cities".into(),
                caption: "各市（州）测评总分".into(),
                kind: ChartKind::Bar,
                categories: cities.iter().map(|r| r.name.clone()).collect(),
                series: vec![Series {
                    name: "总分".into(),
                    values: cities.iter().map(|r| r.total).collect(),
                }],
            },
        ));
    }
    if let Some(p) = results.iter().find(|r| r.level == Level::Province.code())
        && p.dimensions.len() >= 3
    {
        out.push((
            "province",
            Chart {
                id: "province".into(),
                caption: format!("{}各维度得分率（%）", p.name),
                kind: ChartKind::Radar { max: 100.0 },
                categories: p.dimensions.iter().map(|d| d.name.clone()).collect(),
                series: vec![Series {
                    name: p.name.clone(),
                    values: p.dimensions.iter().map(|d| d.percent).collect(),
                }],
            },
        ));
    }
    out
}

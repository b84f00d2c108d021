//! 测评报告 as an A4 print view (issue 20): one region's year in the
//! sections of the seed's 《平安建设测评报告》 — overall, dimensions with
//! the radar chart, the three-year trend, strengths and weaknesses against
//! the peers' median, every deduction in words, vetoes, and suggestions —
//! laid out on GB/T 9704's page (A4, margins 37/26/35/28 mm, 仿宋 3号
//! body) so 打印 / 另存为PDF works from any browser.

use crate::AppState;
use crate::kit::xlsx;
use crate::kit::{PageError, PageResult, Viewer, data_script, fmt, layout, pick_year};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use pingan_core::report::{Line, numeral};
use pingan_service::{cap, report};
use serde_json::json;

/// Suggestions printed at most.
const SUGGESTIONS: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/report/{code}", get(page))
        .route("/export/report.docx", get(docx))
}

#[derive(serde::Deserialize)]
struct DocxQuery {
    region: String,
    year: Option<i32>,
}

/// The same report as a Word document in the 党政机关公文格式.
async fn docx(State(state): State<AppState>, v: Viewer, Query(q): Query<DocxQuery>) -> PageResult {
    let who = v.0.authorize::<cap::Scores>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let made = report::region(&state.ctx, &who, year, &q.region).await?;
    let r = &made.report;
    let made_at = fmt::local_time(&pingan_store::now());
    let ledger = pingan_report::Ledger {
        seq: made.ledger.0,
        hash: &made.ledger.1,
        made_at: &made_at,
    };
    // A few milliseconds of writing XML: no need to leave the request's task.
    let bytes = pingan_report::report_docx(r, &ledger, SUGGESTIONS)
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(xlsx::download_as(
        &format!("{}{}年平安建设测评报告.docx", r.name, r.year),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        bytes,
    ))
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    year: Option<i32>,
}

fn median_text(v: Option<f64>, unit: &str) -> String {
    v.map_or("—".into(), |v| fmt::value(Some(v), unit))
}

/// Strongest or weakest indicators, with the peers' median beside each.
fn lines(list: &[Line]) -> Markup {
    html! {
        table.doc-table {
            thead { tr { th { "指标" } th { "数值" } th { "同级中位数" } th { "得分 / 满分" } } }
            tbody {
                @for l in list {
                    tr {
                        td { (l.code) " " (l.name) }
                        td.num { (fmt::value(l.value, &l.unit)) }
                        td.num { (median_text(l.peers_value, &l.unit)) }
                        td.num { (fmt::num(l.points, 2)) " / " (fmt::num(l.max, 2)) }
                    }
                }
            }
        }
    }
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let made = report::region(&state.ctx, &who, year, &code).await?;
    let r = &made.report;
    let (seq, hash) = &made.ledger;
    let radar = json!({
        "indicators": r.dimensions.iter().map(|d| json!({"name": d.name, "max": 100})).collect::<Vec<_>>(),
        "series": [
            {"name": r.name, "value": r.dimensions.iter().map(|d| d.percent).collect::<Vec<_>>()},
            {"name": "同级中位数", "value": r.peers_dimensions.iter().map(|p| p.unwrap_or(0.0)).collect::<Vec<_>>()},
        ],
    });
    let trend = json!({
        "years": r.trend.iter().map(|(y, _)| format!("{y}年")).collect::<Vec<_>>(),
        "total": r.trend.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        "dimensions": [],
    });
    let suggestions = r.suggestions(SUGGESTIONS);
    let mut n = 0;
    let mut section = || {
        n += 1;
        numeral(n - 1)
    };
    let title = format!("{}{}年平安建设测评报告", r.name, r.year);
    let body = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { (layout::head(&title)) }
            body.report-doc {
                div.doc-tools.no-print {
                    a.btn.small href=(format!("/region/{}?period={}", r.region, r.year)) { "返回地区详情" }
                    " "
                    button.btn.small.primary type="button" data-print { "打印 / 另存为PDF" }
                    " "
                    a.btn.small id="report-docx" href=(format!("/export/report.docx?region={}&year={}", r.region, r.year)) download { "下载 Word" }
                    span.muted { " 按 A4、党政机关公文格式（GB/T 9704）排版；打印时请选择“无边距”以外的默认页边距。" }
                }
                article.doc-sheet id="report" data-region=(r.region) data-year=(r.year) {
                    h1.doc-title { (title) }
                    h2.doc-h1 { (section()) "、总体情况" }
                    p.doc-p id="report-overall" { (r.overall()) }
                    h2.doc-h1 { (section()) "、各维度得分" }
                    table.doc-table {
                        thead { tr { th { "维度" } th { "得分" } th { "满分" } th { "得分率" } th { "同级中位数" } } }
                        tbody {
                            @for (d, p) in r.dimensions.iter().zip(&r.peers_dimensions) {
                                tr {
                                    td { (d.name) }
                                    td.num { (fmt::fixed(d.points)) }
                                    td.num { (fmt::num(d.max, 2)) }
                                    td.num { (fmt::percent(d.percent)) }
                                    td.num { (p.map_or("—".into(), fmt::percent)) }
                                }
                            }
                        }
                    }
                    (data_script("radar-data", &radar))
                    div.chart.doc-chart data-chart="radar" data-source="radar-data" role="img" aria-label="五个维度得分率雷达图" {}
                    @if r.trend.len() > 1 {
                        h2.doc-h1 { (section()) "、历年得分趋势" }
                        p.doc-p {
                            @for (k, (y, t)) in r.trend.iter().enumerate() {
                                @if k > 0 { "，" }
                                (y) "年 " (fmt::fixed(*t)) " 分"
                            }
                            "。"
                        }
                        (data_script("trend-data", &trend))
                        div.chart.doc-chart data-chart="trend" data-source="trend-data" role="img" aria-label="历年总分趋势" {}
                    }
                    h2.doc-h1 { (section()) "、优势与短板" }
                    h3.doc-h2 { "（一）得分率最高的指标" }
                    (lines(&r.strongest))
                    h3.doc-h2 { "（二）得分率最低的指标" }
                    (lines(&r.weakest))
                    h2.doc-h1 { (section()) "、扣分情况" }
                    @if r.deductions.is_empty() {
                        p.doc-p { "各项指标均得满分。" }
                    } @else {
                        p.doc-p { "共有 " (r.deductions.len()) " 项指标失分，合计失分 "
                            (fmt::num(r.deductions.iter().map(|l| l.lost).sum::<f64>(), 2)) " 分，按失分从多到少列出：" }
                        table.doc-table id="report-deductions" {
                            thead { tr { th { "指标" } th { "数值" } th { "同级中位数" } th { "失分" } th { "扣分原因" } } }
                            tbody {
                                @for l in &r.deductions {
                                    tr data-indicator=(l.code) {
                                        td { (l.code) " " (l.name) }
                                        td.num { (fmt::value(l.value, &l.unit)) }
                                        td.num { (median_text(l.peers_value, &l.unit)) }
                                        td.num { (fmt::num(l.lost, 2)) }
                                        td { (l.reasons.join("；")) }
                                    }
                                }
                            }
                        }
                    }
                    @if !r.vetoes.is_empty() || !r.missing.is_empty() {
                        h2.doc-h1 { (section()) "、一票否决与未报送" }
                        @for l in &r.vetoes {
                            p.doc-p { "一票否决：" (l.name) "（" (l.reasons.join("；")) "）。" }
                        }
                        @if !r.missing.is_empty() {
                            p.doc-p { "未报送数据的指标 " (r.missing.len()) " 项（未报送不得分）："
                                @for (k, l) in r.missing.iter().enumerate() { @if k > 0 { "、" } (l.name) } "。" }
                        }
                    }
                    h2.doc-h1 { (section()) "、整改建议" }
                    @if suggestions.is_empty() {
                        p.doc-p { "无失分指标，保持现有工作水平。" }
                    } @else {
                        @for (k, l) in suggestions.iter().enumerate() {
                            p.doc-p.suggestion {
                                span.doc-h2 { "（" (numeral(k)) "）" (l.name) "。" }
                                (l.suggestion)
                            }
                        }
                    }
                    p.doc-note id="report-ledger" data-seq=(seq) data-hash=(hash) {
                        "注：本报告依据审计日志第 " (seq) " 条（哈希 " (hash.get(..16).unwrap_or(hash)) "…）时已审定的测评结果生成，"
                        "在同一日志状态下重新生成，内容相同。生成时间：" (fmt::local_time(&pingan_store::now())) "。"
                    }
                }
                script src=(crate::kit::assets::url("echarts.min.js")) {}
                script src=(crate::kit::assets::url("app.js")) {}
            }
        }
    };
    Ok(Html(body.into_string()).into_response())
}

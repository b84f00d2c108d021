//! 测评报告 and 问题整改通知书 as A4 print views (issue 20), and their
//! downloads: Word (党政机关公文格式), Excel, PDF where LibreOffice is
//! installed, and for the office every region's report of a level in one
//! zip. The documents are `pingan_service::report`'s blocks, printed by
//! `pingan_report` — the same words in every form.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back, urlencode};
use crate::kit::{PageError, PageResult, Viewer, layout, pick_year, prepared, xlsx};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use maud::{DOCTYPE, html};
use pingan_core::Level;
use pingan_core::access::Cap;
use pingan_core::report::doc::Doc;
use pingan_report::Format;
use pingan_service::{ServiceError, cap, exports, report};
use std::io::Write;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/report/{code}", get(page))
        .route("/report/{code}/notice", post(issue))
        .route("/export/report", get(download))
        .route("/export/report.docx", get(docx))
        .route("/export/reports.zip", get(batch).post(prepare_batch))
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    year: Option<i32>,
    kind: Option<String>,
}

fn is_notice(kind: &Option<String>) -> bool {
    kind.as_deref() == Some("notice")
}

/// The document asked for: the report (the province's summary for the
/// root), or the notice if it was issued.
async fn document(
    state: &AppState,
    v: &Viewer,
    year: i32,
    code: &str,
    notice: bool,
) -> Result<Option<Doc>, PageError> {
    let who = v.0.authorize::<cap::Scores>()?;
    Ok(if notice {
        report::issued_notice(&state.ctx, &who, year, code).await?
    } else {
        Some(report::report_doc(&state.ctx, &who, year, code).await?)
    })
}

fn made_at() -> String {
    report::beijing(&pingan_store::now()).1
}

/// `doc` as a download in `format` (PDF off the async threads: LibreOffice
/// takes seconds).
async fn send(doc: Doc, format: Format) -> PageResult {
    let name = pingan_report::file_name(&doc, format);
    let at = made_at();
    let bytes = tokio::task::spawn_blocking(move || pingan_report::render(&doc, format, &at))
        .await
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| match e {
            pingan_report::ReportError::NoOffice(m) => {
                PageError::new(StatusCode::SERVICE_UNAVAILABLE, m)
            }
            e => PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        })?;
    Ok(xlsx::download_as(&name, format.mime(), bytes))
}

/// The format asked for (Word when none), one of `allowed`.
fn format_of(asked: Option<&str>, allowed: &[Format]) -> Result<Format, PageError> {
    let f = asked.unwrap_or("docx");
    Format::parse(f)
        .filter(|x| allowed.contains(x))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|x| x.extension()).collect();
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("不支持的格式“{f}”：可选 {}", names.join("、")),
            )
        })
}

/// A form's year: as the query part of the page to go back to ('' when it
/// is no number, so that page still opens), and as the service takes it.
pub(super) fn form_year(text: &str) -> (String, Result<i32, ServiceError>) {
    match text.parse::<i32>() {
        Ok(y) => (format!("year={y}&"), Ok(y)),
        Err(_) => (String::new(), Err(ServiceError::invalid("年度应为数字"))),
    }
}

#[derive(serde::Deserialize)]
struct DownloadQuery {
    region: String,
    year: Option<i32>,
    kind: Option<String>,
    format: Option<String>,
}

async fn download(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<DownloadQuery>,
) -> PageResult {
    let format = format_of(
        q.format.as_deref(),
        &[Format::Docx, Format::Xlsx, Format::Html, Format::Pdf],
    )?;
    let year = pick_year(&state.ctx, q.year).await;
    let doc = document(&state, &v, year, &q.region, is_notice(&q.kind))
        .await?
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, "该地区本年度尚未印发整改通知书"))?;
    send(doc, format).await
}

#[derive(serde::Deserialize)]
struct DocxQuery {
    region: String,
    year: Option<i32>,
}

/// The report as Word (the print view's first link).
async fn docx(State(state): State<AppState>, v: Viewer, Query(q): Query<DocxQuery>) -> PageResult {
    let year = pick_year(&state.ctx, q.year).await;
    let doc = document(&state, &v, year, &q.region, false)
        .await?
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, "没有测评报告"))?;
    send(doc, Format::Docx).await
}

#[derive(serde::Deserialize)]
struct BatchQuery {
    year: Option<i32>,
    level: Option<String>,
    format: Option<String>,
}

/// A level with more reports than this is zipped in the download centre
/// from the report page (a county report takes about 11 ms to write; the
/// demo province's 101 counties took a second in one request).
const BATCH_DIRECT_MAX: usize = 30;

/// The documents of a batch: the province's summary (when in scope) and
/// every city's or county's report.
struct Batch {
    docs: Vec<(String, Doc)>,
    format: Format,
    year: i32,
    level: &'static str,
    root: String,
}

impl Batch {
    fn name(&self) -> String {
        let what = if self.level == "city" { "市" } else { "县" };
        format!("{}年平安建设测评报告（{what}级）.zip", self.year)
    }
}

async fn batch_docs(state: &AppState, v: &Viewer, q: &BatchQuery) -> Result<Batch, PageError> {
    let who = v.0.authorize::<cap::Notices>()?;
    let reader = v.0.authorize::<cap::Scores>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let (level, name) = match q.level.as_deref().unwrap_or("county") {
        "city" => (Level::City, "city"),
        "county" => (Level::County, "county"),
        l => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                format!("级别“{l}”无效：可选 city、county"),
            ));
        }
    };
    let format = format_of(q.format.as_deref(), &[Format::Docx, Format::Xlsx])?;
    let tree = state.ctx.tree().await?;
    let root = tree.root().map(|r| r.code.clone()).unwrap_or_default();
    let mut docs: Vec<(String, Doc)> = Vec::new();
    if v.0.region_in_scope(&tree, &root).is_ok() {
        docs.push((
            root.clone(),
            report::report_doc(&state.ctx, &reader, year, &root).await?,
        ));
    }
    for b in report::batch(&state.ctx, &who, year, level, false).await? {
        docs.push((b.code, b.doc));
    }
    Ok(Batch {
        docs,
        format,
        year,
        level: name,
        root,
    })
}

/// Every city's or county's report (and the province's summary) in one
/// zip, for the office.
async fn batch(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<BatchQuery>,
) -> PageResult {
    let b = batch_docs(&state, &v, &q).await?;
    let name = b.name();
    let (docs, format, at) = (b.docs, b.format, made_at());
    let bytes = tokio::task::spawn_blocking(move || {
        pingan_report::render_all(&docs, format, &at).and_then(|files| pingan_report::zip(&files))
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(xlsx::download_as(&name, "application/zip", bytes))
}

/// The same zip made in the background (下载中心).
async fn prepare_batch(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<BatchQuery>,
) -> PageResult {
    let b = batch_docs(&state, &v, &q).await?;
    let who = v.0.authorize::<cap::Notices>()?;
    let name = b.name();
    let params = format!(
        "region={}&year={}&level={}",
        urlencode(&b.root),
        b.year,
        b.level
    );
    let id = exports::start(&state.ctx, &who, "reports", &name, &params).await?;
    let what = format!("{name}（{} 份）", b.docs.len());
    let (docs, format, at) = (b.docs, b.format, made_at());
    Ok(prepared::start(
        state.ctx.clone(),
        id,
        &what,
        move |mut out, rows| {
            let files = pingan_report::render_all(&docs, format, &at).map_err(|e| e.to_string())?;
            rows.store(files.len() as u64, Ordering::Relaxed);
            let bytes = pingan_report::zip(&files).map_err(|e| e.to_string())?;
            out.write_all(&bytes).map_err(|e| e.to_string())
        },
    ))
}

/// 印发整改通知书: numbered in the year's sequence and entered in the
/// ledger the first time; then shown.
async fn issue(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    body: String,
) -> PageResult {
    let who = v.0.authorize::<cap::Notices>()?;
    let f = Fields::parse(&body);
    let (shown, year) = form_year(&f.get("year"));
    let to = format!("/report/{}?{shown}kind=notice", urlencode(&code));
    let result = async {
        let year = year?;
        let deadline = f.opt("deadline");
        let doc = report::notice_doc(&state.ctx, &who, year, &code, deadline.as_deref()).await?;
        let number = doc
            .property("pingan-notice-number")
            .unwrap_or("")
            .to_string();
        Ok(format!("已印发整改通知书（{number}）"))
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let year = pick_year(&state.ctx, q.year).await;
    let notice = is_notice(&q.kind);
    let doc = document(&state, &v, year, &code, notice).await?;
    let kind = if notice { "notice" } else { "report" };
    let file = |f: &str| {
        format!(
            "/export/report?region={}&year={year}&kind={kind}&format={f}",
            urlencode(&code)
        )
    };
    let office = v.0.can(Cap::Notices);
    let tree = state.ctx.tree().await?;
    let name = tree
        .find(&code)
        .map_or(String::new(), |i| tree.get(i).name.clone());
    let counties = tree
        .regions()
        .iter()
        .filter(|r| r.level == Level::County && r.valid_in(pingan_core::Period::Year(year)))
        .count();
    let title = doc.as_ref().map_or_else(
        || format!("{name}{year}年问题整改通知书"),
        |d| d.title.clone(),
    );
    let body = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                (layout::head(&title))
                link rel="stylesheet" href=(crate::kit::assets::url("doc.css"));
            }
            body.report-doc {
                div.doc-tools.no-print {
                    a.btn.small href=(format!("/region/{}?period={year}", urlencode(&code))) { "返回地区详情" }
                    " "
                    @if notice {
                        a.btn.small href=(format!("/report/{}?year={year}", urlencode(&code))) { "测评报告" }
                    } @else {
                        a.btn.small id="report-notice" href=(format!("/report/{}?year={year}&kind=notice", urlencode(&code))) { "整改通知书" }
                    }
                    @if doc.is_some() {
                        " "
                        button.btn.small.primary type="button" data-print { "打印 / 另存为PDF" }
                        " "
                        @if notice {
                            a.btn.small id="report-docx" href=(file("docx")) download { "下载 Word" }
                        } @else {
                            a.btn.small id="report-docx" href=(format!("/export/report.docx?region={}&year={year}", urlencode(&code))) download { "下载 Word" }
                        }
                        " "
                        a.btn.small id="report-xlsx" href=(file("xlsx")) download { "下载 Excel" }
                        " "
                        a.btn.small id="report-pdf" href=(file("pdf")) download { "下载 PDF" }
                    }
                    @if notice && doc.is_some() && v.0.can(Cap::Rectify) {
                        " "
                        a.btn.small id="rectify-link" href=(format!("/rectify/{}?year={year}", urlencode(&code))) { "整改清单" }
                    }
                    @if office && doc.is_some() {
                        " "
                        a.btn.small id="report-edit" href=(format!("/report/{}/edit?year={year}&kind={kind}", urlencode(&code))) { "修改文字" }
                    }
                    @if office && !notice {
                        " "
                        @if counties <= BATCH_DIRECT_MAX {
                            a.btn.small id="report-zip" href=(format!("/export/reports.zip?year={year}&level=county")) { "全部县级报告（zip）" }
                        } @else {
                            form.inline method="post" action=(format!("/export/reports.zip?year={year}&level=county")) id="prepare-reports" {
                                button.btn.small type="submit" title=(format!("{counties} 份县级报告，在后台生成，完成后到“下载中心”下载")) { "全部县级报告（zip，后台生成）" }
                            }
                        }
                    }
                    @if let Some((k, m)) = &flash.0 {
                        div class={"banner " (k)} role="status" { (m) }
                    }
                    span.muted { " 按 A4、党政机关公文格式（GB/T 9704）排版；PDF 由服务器上的 LibreOffice 转换，未安装时请用“打印 / 另存为PDF”。" }
                }
                @match &doc {
                    Some(d) => (pingan_report::html::article(d)),
                    None => {
                        article.doc-sheet id="report" {
                            h1.doc-title { (title) }
                            p.doc-p { "该地区本年度尚未印发问题整改通知书。" }
                            @if office {
                                form.notice-form method="post" action=(format!("/report/{}/notice", urlencode(&code))) {
                                    input type="hidden" name="year" value=(year);
                                    div { label { "整改期限（默认 90 天后）：" input type="date" name="deadline"; } }
                                    div { button.btn.primary type="submit" id="issue-notice" { "印发整改通知书（按年度顺序编号）" } }
                                    div.muted { "印发后编号和日期固定，再次生成内容相同；印发记入审计日志。" }
                                }
                            } @else {
                                p.doc-p.muted { "通知书由测评办印发后在此查看。" }
                            }
                        }
                    }
                }
                script src=(crate::kit::assets::url("app.js")) {}
            }
        }
    };
    Ok(Html(body.into_string()).into_response())
}

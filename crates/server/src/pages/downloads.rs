//! 下载中心: the caller's exports made in the background — state, rows,
//! size, when — and their download. The list refreshes itself while a file
//! is still being made.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, urlencode};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout, xlsx};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use maud::html;
use pingan_service::exports;
use pingan_store::{ExportFile, ExportStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/downloads", get(page))
        .route("/downloads/{id}", get(download))
}

/// A size as people read it.
fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MB", fmt::num(b as f64 / 1_048_576.0, 1)),
        b if b >= 1 << 10 => format!("{} KB", fmt::num(b as f64 / 1024.0, 0)),
        b => format!("{b} 字节"),
    }
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "events" => "事件清单",
        "responses" => "调查答卷",
        "reports" => "测评报告",
        other => other,
    }
}

/// Where a failed file can be asked for again.
fn again(f: &ExportFile) -> Option<String> {
    match (f.status, f.kind.as_str()) {
        (ExportStatus::Failed, "events") => Some(format!("/events/list?{}", f.params)),
        (ExportStatus::Failed, "responses") => Some(format!("/surveys?{}", f.params)),
        // `region=…&year=…&level=…`: back to the report it was asked from.
        (ExportStatus::Failed, "reports") => {
            let q = Fields::parse(&f.params);
            Some(format!(
                "/report/{}?year={}",
                urlencode(&q.get("region")),
                q.get("year")
            ))
        }
        _ => None,
    }
}

/// The type of a made file, by its name.
fn mime_of(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("zip") => "application/zip",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

fn state_text(f: &ExportFile) -> String {
    match f.status {
        ExportStatus::Running if f.rows > 0 => format!("生成中（已写 {} 行）", f.rows),
        ExportStatus::Running => "生成中".to_string(),
        ExportStatus::Done => "已完成".to_string(),
        ExportStatus::Failed => format!("失败：{}", f.error.as_deref().unwrap_or("")),
    }
}

async fn page(State(state): State<AppState>, v: Viewer, flash: Flash) -> PageResult {
    let c = &v.0;
    let files = exports::list(&state.ctx, c).await?;
    let running = files.iter().any(|f| f.status == ExportStatus::Running);
    let body = html! {
        (card("下载中心", None, html! {
            p.hint {
                "数据量大的导出（超过五万条的事件清单、超过五万份的调查答卷、全部县级测评报告）在后台生成，完成后在此下载；文件保留 "
                (pingan_store::exports::KEPT_DAYS) " 天、每人最近 " (pingan_store::exports::KEPT_PER_OWNER)
                " 个，只有提交导出的本人可以下载。"
                @if running { "本页每 3 秒自动刷新。" }
            }
            @if files.is_empty() {
                div.empty id="no-downloads" { "还没有后台导出的文件。" }
            } @else {
                div.table-wrap {
                    table.data id="downloads" {
                        thead { tr {
                            th { "文件" } th { "状态" } th { "内容" } th.num { "行数" } th.num { "大小" }
                            th { "提交时间（北京时间）" } th { "操作" }
                        } }
                        tbody {
                            @for f in &files {
                                tr data-status=(format!("{:?}", f.status).to_lowercase()) {
                                    td {
                                        // The name is the link: on a phone the
                                        // last column is off screen.
                                        @if f.status == ExportStatus::Done {
                                            a href=(format!("/downloads/{}", f.id)) download { (f.title) }
                                        } @else { (f.title) }
                                    }
                                    td { (state_text(f)) }
                                    td { (kind_label(&f.kind)) }
                                    td.num { (f.rows) @if f.kind == "reports" { " 份" } }
                                    td.num { (size(f.size)) }
                                    td { (fmt::local_time(&f.created_at)) }
                                    td {
                                        @if f.status == ExportStatus::Done {
                                            a.btn.small href=(format!("/downloads/{}", f.id)) download { "下载" }
                                        } @else if let Some(back) = again(f) {
                                            a.btn.small href=(back) { "返回重新导出" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    let head = if running {
        html! { meta http-equiv="refresh" content="3"; }
    } else {
        html! {}
    };
    Ok(layout::page_with_head(
        Frame::simple(c, "下载中心", "/downloads").banner(flash.0),
        head,
        body,
    ))
}

/// A finished file, read part by part as it is sent.
async fn download(State(state): State<AppState>, v: Viewer, Path(id): Path<i64>) -> PageResult {
    let c = &v.0;
    let f = exports::file(&state.ctx, c, id).await?;
    if f.status != ExportStatus::Done {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            format!("{}：{}，暂不能下载", f.title, state_text(&f)),
        ));
    }
    let first = exports::part(&state.ctx, &f, 0).await?.unwrap_or_default();
    let ctx = state.ctx.clone();
    let file = f.clone();
    let rest = futures_util::stream::unfold(1i64, move |n| {
        let (ctx, file) = (ctx.clone(), file.clone());
        async move {
            match exports::part(&ctx, &file, n).await {
                Ok(Some(bytes)) => Some((Ok(axum::body::Bytes::from(bytes)), n + 1)),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), i64::MAX)),
            }
        }
    });
    let first = futures_util::stream::once(async move { Ok(axum::body::Bytes::from(first)) });
    let mut resp = xlsx::download_as(&f.title, mime_of(&f.title), Vec::new());
    *resp.body_mut() = axum::body::Body::from_stream(futures_util::StreamExt::chain(first, rest));
    // The browser shows how far the download is.
    resp.headers_mut()
        .insert(axum::http::header::CONTENT_LENGTH, f.size.into());
    Ok(resp)
}

//! The year's answers as `responses.xlsx`: the columns of the CSV export,
//! written by rust_xlsxwriter in constant-memory mode (rows go to a
//! temporary file as they come, half a million answers are never all held)
//! and sent as the zip is made. The store is read page by page on the async
//! side while the workbook is written on a blocking thread.

use super::export::{ExportQuery, answered, fields, header_row, read_pages, start_answers};
use crate::AppState;
use crate::kit::{PageError, PageResult, Viewer, prepared, xlsx};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use pingan_service::surveys::{self, YearForm};
use pingan_service::{Caller, cap};
use pingan_store::StoredResponse;
use rust_xlsxwriter::{Format, XlsxError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/surveys/responses.xlsx",
        axum::routing::get(export).post(prepare),
    )
}

/// Years with more answers than this are exported through the download
/// centre (about 75,000 answers a second are written here).
pub const DIRECT_MAX: u64 = 50_000;

/// Write the workbook from `pages` to `out`.
fn write(
    f: &YearForm,
    caller: &Caller,
    mut pages: mpsc::Receiver<Result<Vec<StoredResponse>, String>>,
    out: xlsx::ByteSink,
    written: &AtomicU64,
) -> Result<(), String> {
    let e = |e: XlsxError| e.to_string();
    let mut book = xlsx::streamed_book();
    let mut ws = book.new_worksheet_with_constant_memory().map_err(e)?;
    ws.set_name("答卷").map_err(e)?;
    let bold = Format::new().set_bold();
    let head = header_row(f);
    let duration = head.iter().position(|h| h == "_duration_seconds");
    for (j, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, h, &bold)
            .map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    let answered = answered(f);
    let mut row = 0u32;
    while let Some(page) = pages.blocking_recv() {
        for r in page? {
            row += 1;
            let answers: Vec<String> = serde_json::from_str(&r.answers).unwrap_or_default();
            let seconds = format!("{:.0}", r.seconds);
            for (j, v) in fields(f, &r, &answers, &answered, &seconds)
                .into_iter()
                .enumerate()
            {
                if Some(j) == duration {
                    ws.write_number(row, j as u16, r.seconds.round())
                        .map_err(e)?;
                } else if !v.is_empty() {
                    ws.write_string(row, j as u16, v).map_err(e)?;
                }
            }
        }
        written.store(u64::from(row), Ordering::Relaxed);
    }
    book.push_worksheet(ws);
    xlsx::describe(&mut book, caller, "答卷", row as usize).map_err(e)?;
    book.save_to_writer(out).map_err(e)
}

/// The year's form, when the caller may export its answers as Excel.
async fn form(state: &AppState, c: &Caller, year: i32) -> Result<Arc<YearForm>, PageError> {
    c.authorize::<cap::Surveys>()?;
    let f = surveys::year_form(&state.ctx, year).await?;
    if f.form.questions.len() > 16_000 {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "问卷题目过多，无法导出为 Excel，请导出 CSV",
        ));
    }
    Ok(f)
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    let c: Caller = v.0;
    let f = form(&state, &c, q.year).await?;
    let name = format!("responses-{}-{}.xlsx", f.form.id, q.year);
    let pages = read_pages(&state.ctx, &c, &f);
    Ok(xlsx::streamed(&name, move |out| {
        write(&f, &c, pages, out, &AtomicU64::new(0))
    }))
}

/// The answers as a workbook made in the background (download centre).
async fn prepare(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    let c: Caller = v.0;
    let f = form(&state, &c, q.year).await?;
    let (id, name, pages) = start_answers(&state, &c, &f, q.year, "xlsx").await?;
    Ok(prepared::start(
        state.ctx.clone(),
        id,
        &format!("{name} "),
        move |out, rows| write(&f, &c, pages, out, rows),
    ))
}

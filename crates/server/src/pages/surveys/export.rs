//! The year's answers as `responses.csv` (issue 18): the columns of
//! survey.md §3, so the file imports again, plus `_verdict`,
//! `_straightlining`, `_duration_seconds` and the interviewer's paradata
//! `_interviewer`, `_assisted` (underscore columns, as KoboToolbox names
//! its own metadata, are skipped on import). Streamed page by page from the store:
//! half a million answers never sit in memory, and the download starts at
//! once. In the caller's scope; UTF-8 with a BOM, for Excel.

use crate::AppState;
use crate::kit::{PageResult, Viewer, prepared};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use pingan_service::exports;
use pingan_service::surveys::{self, YearForm};
use pingan_service::{Caller, cap};
use pingan_store::StoredResponse;
use serde::Deserialize;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/surveys/responses.csv", get(export).post(prepare))
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    pub year: i32,
}

/// Answers per page read from the store.
pub(super) const PAGE: i64 = 5000;

pub(super) fn header_row(f: &YearForm) -> Vec<String> {
    let mut h: Vec<String> = [
        "instance_id",
        "form_version",
        "region",
        "channel",
        "started",
        "submitted",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(
        f.form
            .questions
            .iter()
            .filter(|q| q.kind.answered())
            .map(|q| q.name.clone()),
    );
    h.push("_verdict".into());
    h.push("_straightlining".into());
    h.push("_duration_seconds".into());
    h.push("_interviewer".into());
    h.push("_assisted".into());
    h
}

/// The answered questions' positions in a stored answer.
pub(super) fn answered(f: &YearForm) -> Vec<usize> {
    f.form
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.kind.answered())
        .map(|(i, _)| i)
        .collect()
}

/// One answer's fields in `header_row`'s order, `seconds` its duration as
/// written.
pub(super) fn fields<'a>(
    f: &'a YearForm,
    r: &'a pingan_store::StoredResponse,
    answers: &'a [String],
    answered: &[usize],
    seconds: &'a str,
) -> Vec<&'a str> {
    let mut rec: Vec<&str> = vec![
        &r.instance_id,
        &f.form.version,
        &r.region,
        &r.channel,
        &r.started,
        &r.submitted,
    ];
    for &q in answered {
        rec.push(answers.get(q).map_or("", String::as_str));
    }
    rec.push(r.verdict.as_deref().unwrap_or("valid"));
    rec.push(if r.straightlining { "1" } else { "0" });
    rec.push(seconds);
    rec.push(r.interviewer.as_deref().unwrap_or(""));
    rec.push(match r.assisted {
        Some(true) => "1",
        Some(false) => "0",
        None => "",
    });
    rec
}

fn page_csv(
    f: &YearForm,
    rows: &[pingan_store::StoredResponse],
    first: bool,
) -> Result<Bytes, String> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    if first {
        w.write_record(header_row(f)).map_err(|e| e.to_string())?;
    }
    let answered = answered(f);
    for r in rows {
        let answers: Vec<String> = serde_json::from_str(&r.answers).unwrap_or_default();
        let seconds = format!("{:.0}", r.seconds);
        w.write_record(fields(f, r, &answers, &answered, &seconds))
            .map_err(|e| e.to_string())?;
    }
    let mut bytes = w.into_inner().map_err(|e| e.to_string())?;
    if first {
        bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
    }
    Ok(Bytes::from(bytes))
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    let c: Caller = v.0;
    c.authorize::<cap::Surveys>()?;
    let f = surveys::year_form(&state.ctx, q.year).await?;
    let name = format!("responses-{}-{}.csv", f.form.id, q.year);
    let ctx = state.ctx.clone();
    let stream = futures_util::stream::unfold(Some(-1i64), move |cursor| {
        let (ctx, c, f) = (ctx.clone(), c.clone(), f.clone());
        async move {
            let after = cursor?;
            let who = c.authorize::<cap::Surveys>().ok()?;
            let page = surveys::answers_after(&ctx, &who, &f, after, PAGE).await;
            let (next, rows) = match page {
                Ok(p) => p,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            let chunk = page_csv(&f, &rows, after == -1).map_err(std::io::Error::other);
            Some((chunk, next))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The answers as `responses.csv` made in the background (download
/// centre), for years with more than `export_xlsx::DIRECT_MAX` answers.
async fn prepare(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    let c: Caller = v.0;
    let f = surveys::year_form(&state.ctx, q.year).await?;
    let (id, name, mut pages) = start_answers(&state, &c, &f, q.year, "csv").await?;
    Ok(prepared::start(
        state.ctx.clone(),
        id,
        &format!("{name} "),
        move |mut out, rows| {
            let mut first = true;
            while let Some(page) = pages.blocking_recv() {
                let page = page?;
                let chunk = page_csv(&f, &page, first)?;
                first = false;
                out.write_all(&chunk).map_err(|e| e.to_string())?;
                rows.fetch_add(page.len() as u64, Ordering::Relaxed);
            }
            if first {
                // No answers at all: the header alone.
                out.write_all(&page_csv(&f, &[], true)?)
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        },
    ))
}

/// Record an export of the year's answers as `ext` for the download centre
/// and start reading them: its id, file name and pages.
pub(super) async fn start_answers(
    state: &AppState,
    c: &Caller,
    f: &Arc<YearForm>,
    year: i32,
    ext: &str,
) -> Result<(i64, String, Pages), crate::kit::PageError> {
    let who = c.authorize::<cap::Surveys>()?;
    let name = format!("responses-{}-{year}.{ext}", f.form.id);
    let id = exports::start(
        &state.ctx,
        &who,
        "responses",
        &name,
        &format!("year={year}"),
    )
    .await?;
    Ok((id, name, read_pages(&state.ctx, c, f)))
}

/// Pages of answers as another task reads them.
pub(super) type Pages = mpsc::Receiver<Result<Vec<StoredResponse>, String>>;

/// The answers in the caller's scope, page by page, read by another task.
pub(super) fn read_pages(ctx: &pingan_service::Ctx, c: &Caller, f: &Arc<YearForm>) -> Pages {
    let (page_tx, page_rx) = mpsc::channel(2);
    let (ctx, reader_c, reader_f) = (ctx.clone(), c.clone(), f.clone());
    tokio::spawn(async move {
        let Ok(who) = reader_c.authorize::<cap::Surveys>() else {
            return;
        };
        let mut after = Some(-1i64);
        while let Some(a) = after {
            match surveys::answers_after(&ctx, &who, &reader_f, a, PAGE).await {
                Ok((next, rows)) => {
                    if page_tx.send(Ok(rows)).await.is_err() {
                        return;
                    }
                    after = next;
                }
                Err(err) => {
                    let _ = page_tx.send(Err(err.to_string())).await;
                    return;
                }
            }
        }
    });
    page_rx
}

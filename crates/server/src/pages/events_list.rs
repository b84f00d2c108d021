//! 事件清单 (issue 19): the drill-down of 网格事件 — a region's events of a
//! year or a month, filtered by kind, category, urgency and state, fifty to
//! a page, newest first, with the count; the same list as an Excel
//! workbook (up to a million rows, written as it is read).

use crate::AppState;
use crate::kit::forms::{some, urlencode};
use crate::kit::{
    Frame, PageError, PageResult, Viewer, card, fmt, layout, now_seconds, pick_region, pick_year,
    prepared, xlsx,
};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::events::Kind;
use pingan_service::events_list::{self, ListParams, STATES};
use pingan_service::{Caller, cap, exports};
use pingan_store::{EventCursor, EventFilter, EventRecord};
use rust_xlsxwriter::{Format, XlsxError};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/list", get(page))
        .route("/events/list.xlsx", get(export).post(prepare))
}

const PAGE: i64 = 50;
/// Rows an export holds at most (a sheet holds 1,048,576).
const EXPORT_MAX: usize = 1_000_000;
/// Lists longer than this are exported through the download centre: a
/// workbook is written at about 100,000 rows a second, so the page offers a
/// direct download only where it takes under a second.
const DIRECT_MAX: i64 = 50_000;

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    year: Option<i32>,
    region: Option<String>,
    month: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    urgency: Option<String>,
    state: Option<String>,
    /// `time~event_id` of the previous page's last row (`events_list::cursor`).
    after: Option<String>,
}

/// In a link, the empty category or urgency (grid events without a
/// category, call-outs without an urgency): an empty parameter means "any".
const NONE: &str = "none";

/// A category or urgency as a link carries it.
pub(super) fn query_value(v: &str) -> &str {
    if v.is_empty() { NONE } else { v }
}

/// A category or urgency as a reader sees it.
pub(super) fn value_label(v: &str) -> &str {
    if v.is_empty() { "（未分类）" } else { v }
}

/// A category or urgency from a link: None for any, '' for none.
fn from_query(v: &Option<String>) -> Option<String> {
    some(v).map(|v| if v == NONE { String::new() } else { v })
}

impl ListQuery {
    fn params(&self, year: i32) -> ListParams {
        ListParams {
            year,
            month: some(&self.month)
                .and_then(|m| m.parse::<u8>().ok())
                .filter(|m| (1..=12).contains(m)),
            kind: some(&self.kind).filter(|k| Kind::parse(k).is_some()),
            category: from_query(&self.category),
            urgency: from_query(&self.urgency),
            state: some(&self.state)
                .filter(|s| STATES.iter().any(|(v, _)| v == s))
                .unwrap_or_default(),
        }
    }

    fn cursor(&self) -> Option<EventCursor> {
        let a = some(&self.after)?;
        let (reported, id) = a.split_once('~')?;
        Some((reported.parse::<f64>().ok()?, id.to_string()))
    }
}

/// The list's query string (without `after`).
fn query_of(year: i32, region: &str, p: &ListParams) -> String {
    let mut q = format!("year={year}&region={}", urlencode(region));
    if let Some(m) = p.month {
        q.push_str(&format!("&month={m}"));
    }
    if let Some(k) = &p.kind {
        q.push_str(&format!("&kind={}", urlencode(k)));
    }
    for (k, v) in [("category", &p.category), ("urgency", &p.urgency)] {
        if let Some(v) = v {
            q.push_str(&format!("&{k}={}", urlencode(query_value(v))));
        }
    }
    if !p.state.is_empty() {
        q.push_str(&format!("&state={}", p.state));
    }
    q
}

fn kind_label(k: &str) -> &'static str {
    Kind::parse(k).map_or("", Kind::label)
}

/// Minutes or hours between two times, as people say them.
fn span(seconds: f64) -> String {
    if seconds < 3600.0 {
        format!("{} 分钟", fmt::num(seconds / 60.0, 0))
    } else if seconds < 172_800.0 {
        format!("{} 小时", fmt::num(seconds / 3600.0, 1))
    } else {
        format!("{} 天", fmt::num(seconds / 86_400.0, 1))
    }
}

/// (start, end, state) of a row as the list shows it.
fn row_texts(e: &EventRecord, now: f64) -> (f64, Option<f64>, &'static str) {
    let Some(ev) = e.event().filter(|ev| ev.kind == Kind::Grid) else {
        let start = e.dispatched_at.unwrap_or(e.reported_at);
        let state = if e.arrived_at.is_some() {
            "已到场"
        } else {
            "未到场"
        };
        return (start, e.arrived_at, state);
    };
    let state = if ev.timely() {
        "按时处置"
    } else if ev.handled.is_some() {
        "超时处置"
    } else if ev.overdue_at(now) {
        "超时未处置"
    } else {
        "处置中"
    };
    (e.reported_at, e.handled_at, state)
}

fn select(name: &str, label: &str, options: &[(String, String)], chosen: &str) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                @for (v, l) in options {
                    option value=(v) selected[v == chosen] { (l) }
                }
            }
        }
    }
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<ListQuery>) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let year = pick_year(&state.ctx, q.year).await;
    let p = q.params(year);
    let now = now_seconds();
    let f = events_list::filter(&tree, root, &p, now);
    let after = q.cursor();
    let (rows, total) = events_list::page(&state.ctx, &who, &f, after.as_ref(), PAGE).await?;
    let categories = events_list::categories(&state.ctx, &who, year).await?;
    let here = tree.get(root);
    let query = query_of(year, &here.code, &p);
    let next = (rows.len() as i64 == PAGE).then(|| {
        let (r, id) = events_list::cursor(rows.last().expect("a full page"));
        format!(
            "/events/list?{query}&after={}",
            urlencode(&format!("{r}~{id}"))
        )
    });
    let opts = |items: Vec<(String, String)>| items;
    let months = opts(
        std::iter::once((String::new(), "全年".to_string()))
            .chain((1..=12).map(|m| (m.to_string(), format!("{m}月"))))
            .collect(),
    );
    let kinds = opts(
        std::iter::once((String::new(), "全部".to_string()))
            .chain(
                [Kind::Grid, Kind::Fire, Kind::Medical]
                    .iter()
                    .map(|k| (k.code().to_string(), k.label().to_string())),
            )
            .collect(),
    );
    let cats = opts(
        std::iter::once((String::new(), "全部".to_string()))
            .chain(
                categories
                    .iter()
                    .map(|c| (query_value(c).to_string(), value_label(c).to_string())),
            )
            .collect(),
    );
    let urgencies = opts(vec![
        (String::new(), "全部".into()),
        ("一般".into(), "一般".into()),
        ("紧急".into(), "紧急".into()),
        ("特急".into(), "特急".into()),
        (NONE.into(), "无（出警出车）".into()),
    ]);
    let states = opts(
        STATES
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
    );
    let chosen = |v: &Option<String>| v.as_deref().map_or("", query_value).to_string();
    let body = html! {
        (card(&format!("{} {} 年事件清单", here.name, year), None, html! {
            form.inline method="get" action="/events/list" id="event-filters" {
                input type="hidden" name="year" value=(year);
                input type="hidden" name="region" value=(here.code);
                (select("month", "月份", &months, &p.month.map(|m| m.to_string()).unwrap_or_default()))
                (select("kind", "类型", &kinds, p.kind.as_deref().unwrap_or("")))
                (select("category", "类别", &cats, &chosen(&p.category)))
                (select("urgency", "紧急程度", &urgencies, &chosen(&p.urgency)))
                (select("state", "状态", &states, &p.state))
                button.btn.primary type="submit" { "筛选" }
                @if total <= DIRECT_MAX {
                    a.btn.small.export href=(format!("/events/list.xlsx?{query}")) id="export-events" download { "导出 Excel" }
                }
            }
            @if total > DIRECT_MAX {
                form.inline method="post" action=(format!("/events/list.xlsx?{query}")) id="prepare-events" {
                    button.btn.small.export type="submit" { "导出 Excel（后台生成）" }
                    span.hint { "超过 " (DIRECT_MAX) " 条，在后台生成，完成后到“下载中心”下载" }
                }
            }
            p { "共 " strong id="list-total" { (total) } " 条" @if total > PAGE { "，每页 " (PAGE) " 条，最新的在前" } "。" }
            @if rows.is_empty() {
                div.empty id="no-rows" { "没有符合条件的事件。" }
            } @else {
                div.table-wrap {
                    table.data id="event-list" {
                        thead { tr {
                            th { "事件编号" } th { "类型" } th { "乡镇（街道）" } th { "类别" } th { "紧急程度" }
                            th { "上报 / 出警" } th { "处置 / 到场" } th.num { "用时" } th { "状态" }
                        } }
                        tbody {
                            @for e in &rows {
                                @let (start, end, st) = row_texts(e, now);
                                tr {
                                    td { (e.event_id) }
                                    td { (kind_label(&e.kind)) }
                                    td { (crate::kit::layout::region_name(&tree, &e.region)) }
                                    td { (e.category) }
                                    td { (e.urgency.clone().unwrap_or_default()) }
                                    td { (fmt::china_time(start)) }
                                    td { (end.map(fmt::china_time).unwrap_or_default()) }
                                    td.num { (end.map(|t| span(t - start)).unwrap_or_default()) }
                                    td { (st) }
                                }
                            }
                        }
                    }
                }
            }
            p.pager {
                @if after.is_some() { a href=(format!("/events/list?{query}")) { "« 第一页" } " " }
                @if let Some(n) = &next { a href=(n) id="next-page" { "下一页 »" } }
            }
        }))
    };
    let back = format!("/events?year={year}&region={}", urlencode(&here.code));
    let frame = Frame {
        crumbs: vec![
            ("网格事件".to_string(), Some(back)),
            ("事件清单".to_string(), None),
        ],
        ..Frame::simple(c, "事件清单", "/events")
    };
    Ok(layout::page(frame, body))
}

const HEADER: [&str; 12] = [
    "事件编号",
    "类型",
    "地区代码",
    "乡镇（街道）",
    "类别",
    "紧急程度",
    "协同部门数",
    "上报 / 出警时间",
    "处置 / 到场时间",
    "用时（分钟）",
    "状态",
    "最后更新",
];

fn write(
    tree: &pingan_core::RegionTree,
    caller: &Caller,
    mut pages: mpsc::Receiver<Result<Vec<EventRecord>, String>>,
    out: xlsx::ByteSink,
    now: f64,
    written: &AtomicU64,
) -> Result<(), String> {
    let e = |e: XlsxError| e.to_string();
    let mut book = xlsx::streamed_book();
    let mut ws = book.new_worksheet_with_constant_memory().map_err(e)?;
    ws.set_name("事件清单").map_err(e)?;
    let bold = Format::new().set_bold();
    for (j, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold)
            .map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    let mut row = 0u32;
    while let Some(page) = pages.blocking_recv() {
        for r in page? {
            row += 1;
            let (start, end, st) = row_texts(&r, now);
            let name = tree
                .find(&r.region)
                .map_or(String::new(), |i| tree.get(i).name.clone());
            let texts = [
                r.event_id.as_str(),
                kind_label(&r.kind),
                r.region.as_str(),
                name.as_str(),
                r.category.as_str(),
                r.urgency.as_deref().unwrap_or(""),
            ];
            for (j, t) in texts.iter().enumerate() {
                ws.write_string(row, j as u16, *t).map_err(e)?;
            }
            ws.write_number(row, 6, r.departments as f64).map_err(e)?;
            ws.write_string(row, 7, fmt::china_time(start)).map_err(e)?;
            if let Some(t) = end {
                ws.write_string(row, 8, fmt::china_time(t)).map_err(e)?;
                ws.write_number(row, 9, ((t - start) / 60.0).round())
                    .map_err(e)?;
            }
            ws.write_string(row, 10, st).map_err(e)?;
            ws.write_string(row, 11, fmt::china_time(r.updated_at))
                .map_err(e)?;
        }
        written.store(u64::from(row), Ordering::Relaxed);
    }
    book.push_worksheet(ws);
    xlsx::describe(&mut book, caller, "事件清单", row as usize).map_err(e)?;
    book.save_to_writer(out).map_err(e)
}

/// What an export of `q` reads: the list's filter, its file name, whether
/// it is empty and how long it is.
struct Selection {
    tree: std::sync::Arc<pingan_core::RegionTree>,
    filter: EventFilter,
    name: String,
    query: String,
    total: i64,
    now: f64,
}

async fn select_rows(state: &AppState, c: &Caller, q: &ListQuery) -> Result<Selection, PageError> {
    let who = c.authorize::<cap::Scores>()?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let year = pick_year(&state.ctx, q.year).await;
    let now = now_seconds();
    let p = q.params(year);
    let filter = events_list::filter(&tree, root, &p, now);
    let total = events_list::count(&state.ctx, &who, &filter).await?;
    let name = format!("events-{}-{year}.xlsx", tree.get(root).code);
    let query = query_of(year, &tree.get(root).code, &p);
    Ok(Selection {
        tree,
        filter,
        name,
        query,
        total,
        now,
    })
}

/// The selection's rows, a page at a time, read by another task while the
/// workbook is written.
fn read_rows(
    ctx: &pingan_service::Ctx,
    c: &Caller,
    sel: &Selection,
) -> mpsc::Receiver<Result<Vec<EventRecord>, String>> {
    let (page_tx, page_rx) = mpsc::channel(2);
    let (ctx, reader_c, f) = (ctx.clone(), c.clone(), sel.filter.clone());
    // Nothing to read: the sheet has its header only (and no walk
    // through the year's index looking for rows that are not there).
    let empty = sel.total == 0;
    tokio::spawn(async move {
        let Ok(who) = reader_c.authorize::<cap::Scores>() else {
            return;
        };
        if empty {
            return;
        }
        let mut after: Option<EventCursor> = None;
        let mut sent = 0;
        while sent < EXPORT_MAX {
            let want = 5_000.min(EXPORT_MAX - sent) as i64;
            match events_list::rows_after(&ctx, &who, &f, after.as_ref(), want).await {
                Ok(rows) => {
                    let Some(last) = rows.last() else { return };
                    after = Some(events_list::cursor(last));
                    sent += rows.len();
                    let full = rows.len() as i64 == want;
                    if page_tx.send(Ok(rows)).await.is_err() || !full {
                        return;
                    }
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

/// The list as a workbook, written as it is read.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let c: Caller = v.0;
    let sel = select_rows(&state, &c, &q).await?;
    let pages = read_rows(&state.ctx, &c, &sel);
    let (tree, now) = (sel.tree.clone(), sel.now);
    Ok(xlsx::streamed(&sel.name, move |out| {
        write(&tree, &c, pages, out, now, &AtomicU64::new(0))
    }))
}

/// The list as a workbook made in the background (download centre).
async fn prepare(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let c: Caller = v.0;
    let sel = select_rows(&state, &c, &q).await?;
    let who = c.authorize::<cap::Scores>()?;
    let id = exports::start(&state.ctx, &who, "events", &sel.name, &sel.query).await?;
    let pages = read_rows(&state.ctx, &c, &sel);
    let (tree, now) = (sel.tree.clone(), sel.now);
    let what = format!("{}（{} 条）", sel.name, sel.total);
    Ok(prepared::start(
        state.ctx.clone(),
        id,
        &what,
        move |out, rows| write(&tree, &c, pages, out, now, rows),
    ))
}

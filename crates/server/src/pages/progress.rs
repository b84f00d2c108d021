//! 报送进度: which department has reported for which base regions and
//! periods, and who is missing or late — the seed's "周调度、月通报" view.

use crate::AppState;
use crate::kit::forms::urlencode;
use crate::kit::xlsx::{self, Cell as XCell};
use crate::kit::{Frame, PageResult, Viewer, card, layout, pick_year};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::html;
use pingan_core::period::Period;
use pingan_service::cap;
use pingan_service::progress::{self, Cell};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/progress", get(page))
        .route("/export/progress.xlsx", get(export))
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct ProgressQuery {
    pub year: Option<i32>,
    pub department: Option<String>,
    pub period: Option<String>,
}

/// A column of the board: 1月 … 12月, 全年.
fn column(p: Period) -> String {
    match p {
        Period::Month(_, m) => format!("{m}月"),
        Period::Quarter(_, q) => format!("第{q}季度"),
        Period::Year(_) => "全年".into(),
    }
}

fn class(cell: &Cell) -> &'static str {
    if cell.expected == 0 || cell.submitted == 0 {
        "tag danger"
    } else if cell.submitted < cell.expected || !cell.late.is_empty() {
        "tag warn"
    } else {
        "tag ok"
    }
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ProgressQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Progress>()?;
    let years = state
        .ctx
        .years()
        .await
        .map(|y| y.as_ref().clone())
        .unwrap_or_default();
    let year = q.year.or(years.last().copied()).unwrap_or(2024);
    let b = progress::board(&state.ctx, &who, year).await?;
    let picked = match (&q.department, q.period.as_deref().map(str::parse::<Period>)) {
        (Some(d), Some(Ok(p))) => b
            .cells
            .get(&(d.clone(), p))
            .map(|cell| (d.clone(), p, cell)),
        _ => None,
    };
    let mut totals: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for ((d, _), cell) in &b.cells {
        let t = totals.entry(d.as_str()).or_default();
        t.0 += cell.expected;
        t.1 += cell.submitted;
        t.2 += cell.late.len();
    }
    let region_label = |i: usize| {
        let r = b.tree.get(i);
        let parent = r
            .parent
            .map(|p| b.tree.get(p).name.clone())
            .unwrap_or_default();
        format!("{} {}（{}）", parent, r.name, r.code)
    };
    let body = html! {
        (card("年度", None, html! {
            form.inline method="get" action="/progress" {
                label for="p-year" { "年度" }
                select id="p-year" name="year" {
                    @for y in &years { option value=(y) selected[*y == year] { (y) } }
                }
                button.btn.primary type="submit" { "查看" }
                a.btn.small.export href=(format!("/export/progress.xlsx?year={year}")) download { "导出 Excel" }
            }
            p.muted { "每格为已报送的基层地区数 / 应报送数，按各数据项的报送频次（按月、按年）计，“—”表示该部门此期间无需报送；橙色表示有缺报或逾期，红色表示尚未报送。逾期按期末后 15 天计（数据校验规则中的报送时限）。有数据在审核时，下方注明：审＝已审核（含测评办直接导入），中＝三级审核中，退＝已退回或解锁待重报。" }
        }))
        (card(&format!("{year} 年报送进度（部门 × 期间）"), None, html! {
            @if b.departments.is_empty() {
                div.empty { "没有可显示的部门" }
            } @else {
                div.table-wrap {
                    table.data id="progress" {
                        thead { tr {
                            th { "部门" }
                            @for p in &b.periods { th.num title=(p.label()) { (column(*p)) } }
                            th.num { "合计" }
                        } }
                        tbody {
                            @for d in &b.departments {
                                tr {
                                    td {
                                        (d)
                                        @if let Some(f) = b.frequencies.get(d) {
                                            " " span.muted.freq { (f.iter().map(|f| f.label()).collect::<Vec<_>>().join("、")) }
                                        }
                                    }
                                    @for p in &b.periods {
                                        @if let Some(cell) = b.cells.get(&(d.clone(), *p)) {
                                        td.num {
                                            a class=(class(cell)) href=(format!("/progress?year={year}&department={}&period={p}", urlencode(d))) {
                                                (cell.submitted) "/" (cell.expected)
                                                @if !cell.late.is_empty() { " 逾期" (cell.late.len()) }
                                            }
                                            @if !cell.in_review.is_empty() || !cell.returned.is_empty() {
                                                br;
                                                span.muted.review-count {
                                                    "审" (cell.approved())
                                                    @if !cell.in_review.is_empty() { " 中" (cell.in_review.len()) }
                                                    @if !cell.returned.is_empty() { " 退" (cell.returned.len()) }
                                                }
                                            }
                                        }
                                        } @else {
                                            td.num.muted title="该部门此期间无需报送" { "—" }
                                        }
                                    }
                                    @let t = totals.get(d.as_str()).copied().unwrap_or_default();
                                    td.num { (t.1) "/" (t.0) }
                                }
                            }
                        }
                    }
                }
            }
        }))
        @if let Some((d, p, cell)) = picked {
            (card(&format!("{d} {}：缺报 {} 个，逾期 {} 个，已审核 {} 个，审核中 {} 个，退回 {} 个", p.label(), cell.missing.len(), cell.late.len(), cell.approved(), cell.in_review.len(), cell.returned.len()), None, html! {
                div.grid {
                    div {
                        h4 { "未报送" }
                        @if cell.missing.is_empty() { div.empty { "无" } }
                        ul id="missing" { @for i in cell.missing.iter().take(500) { li { (region_label(*i)) } } }
                        @if cell.missing.len() > 500 { p.muted { "（仅列前 500 个，完整名单请导出）" } }
                    }
                    div {
                        h4 { "逾期报送" }
                        @if cell.late.is_empty() { div.empty { "无" } }
                        ul id="late" { @for (i, at) in &cell.late { li { (region_label(*i)) "，" (at) } } }
                    }
                    div {
                        h4 { "审核中 / 已退回" }
                        @if cell.in_review.is_empty() && cell.returned.is_empty() { div.empty { "无" } }
                        ul id="in-review" {
                            @for i in cell.in_review.iter().take(500) { li { (region_label(*i)) "，审核中" } }
                            @for i in cell.returned.iter().take(500) { li { (region_label(*i)) "，待重新报送" } }
                        }
                        @if !cell.in_review.is_empty() || !cell.returned.is_empty() {
                            a href=(format!("/review?state=all&year={year}&department={}&period={p}", urlencode(&d))) { "到数据审核查看" }
                        }
                    }
                }
            }))
        }
    };
    Ok(layout::page(
        Frame::simple(c, "报送进度", "/progress"),
        body,
    ))
}

/// The board, one row per department and period, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ProgressQuery>,
) -> PageResult {
    let who = v.0.authorize::<cap::Progress>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let b = progress::board(&state.ctx, &who, year).await?;
    let mut rows = Vec::new();
    for d in &b.departments {
        for p in &b.periods {
            let Some(cell) = b.cells.get(&(d.clone(), *p)) else {
                continue;
            };
            let names = |v: &mut dyn Iterator<Item = usize>| {
                v.map(|i| b.tree.get(i).name.clone())
                    .collect::<Vec<_>>()
                    .join("、")
            };
            rows.push(vec![
                XCell::from(d.as_str()),
                p.to_string().into(),
                cell.expected.into(),
                cell.submitted.into(),
                cell.missing.len().into(),
                cell.late.len().into(),
                names(&mut cell.missing.iter().copied()).into(),
                names(&mut cell.late.iter().map(|x| x.0)).into(),
                cell.approved().into(),
                cell.in_review.len().into(),
                cell.returned.len().into(),
            ]);
        }
    }
    let headers = [
        "部门",
        "期间",
        "应报地区数",
        "已报地区数",
        "缺报数",
        "逾期数",
        "缺报地区",
        "逾期地区",
        "已审核数",
        "审核中数",
        "退回待重报数",
    ];
    let bytes = xlsx::workbook(&v.0, "报送进度", &headers, rows)?;
    Ok(xlsx::download(&format!("{year}年报送进度.xlsx"), bytes))
}

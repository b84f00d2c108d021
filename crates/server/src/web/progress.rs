//! 报送进度: which department has reported for which base regions and
//! periods, and who is missing or late — the seed's "周调度、月通报" view.

use super::audit::urlencode;
use super::layout::{self, Frame, Viewer, card};
use crate::AppState;
use crate::auth::{Caller, Cap};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use pingan_core::access::Role;
use pingan_core::period::{Date, Period};
use pingan_core::quality::days_late;
use pingan_core::region::RegionTree;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(serde::Deserialize, Default, Clone)]
pub struct ProgressQuery {
    pub year: Option<i32>,
    pub department: Option<String>,
    pub period: Option<String>,
}

/// One department × period cell of the board.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub expected: usize,
    pub submitted: usize,
    pub late: Vec<(usize, String)>,
    pub missing: Vec<usize>,
    /// Submitted sets still moving through the three levels.
    pub in_review: Vec<usize>,
    /// Sets sent back (returned, or unlocked for a correction).
    pub returned: Vec<usize>,
}

impl Cell {
    /// Reported and counting: approved by the review or imported by the office.
    pub fn approved(&self) -> usize {
        self.submitted
            .saturating_sub(self.in_review.len() + self.returned.len())
    }
}

pub struct Board {
    pub departments: Vec<String>,
    pub periods: Vec<Period>,
    pub cells: HashMap<(String, Period), Cell>,
    pub tree: std::sync::Arc<RegionTree>,
}

fn may_see(c: &Caller) -> bool {
    c.can(Cap::Quality) || c.can(Cap::Submit)
}

pub async fn board(state: &AppState, c: &Caller, year: i32) -> Result<Board, crate::ApiError> {
    let tree = state.tree().await?;
    let fw = state
        .store
        .framework_for_year(year)
        .await?
        .unwrap_or_else(pingan_core::default_framework);
    let deadline_days = pingan_core::quality::rules::RuleSet::default_for(&fw).deadline_days;
    let mut departments: Vec<String> = fw
        .elements
        .iter()
        .map(|e| e.department.clone())
        .filter(|d| !d.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let only_department = c.roles.iter().all(|r| *r == Role::Department);
    if only_department {
        departments.retain(|d| c.department.as_deref() == Some(d.as_str()));
    }
    let mut periods: Vec<Period> = Period::months(year).collect();
    periods.push(Period::Year(year));
    let base: Vec<usize> = (0..tree.len())
        .filter(|&i| tree.children(i).is_empty() && c.sees(&tree, i))
        .collect();
    // (department, period) → region → first submission
    let mut got: HashMap<(String, Period), HashMap<usize, String>> = HashMap::new();
    for s in state.submissions(year).await?.iter() {
        let (Some(r), Ok(p)) = (tree.find(&s.region), s.period.parse::<Period>()) else {
            continue;
        };
        if !tree.children(r).is_empty() || !c.sees(&tree, r) {
            continue;
        }
        got.entry((s.department.clone(), p))
            .or_default()
            .insert(r, s.first_at.clone());
    }
    // (department, period) → the base regions whose set is in review / back.
    let mut review: HashMap<(String, Period), (Vec<usize>, Vec<usize>)> = HashMap::new();
    let sets = state
        .store
        .data_sets(&pingan_store::SetFilter {
            year: Some(year),
            ..Default::default()
        })
        .await?;
    for s in sets {
        let (Some(r), Ok(p)) = (tree.find(&s.key.region), s.key.period.parse::<Period>()) else {
            continue;
        };
        if !tree.children(r).is_empty() || !c.sees(&tree, r) {
            continue;
        }
        let e = review.entry((s.key.department, p)).or_default();
        if s.state.in_review() {
            e.0.push(r);
        } else if s.state != pingan_core::review::State::Approved {
            e.1.push(r);
        }
    }
    let mut cells = HashMap::new();
    for d in &departments {
        for &p in &periods {
            let expected: Vec<usize> = base
                .iter()
                .copied()
                .filter(|&i| tree.get(i).valid_in(p))
                .collect();
            let sub = got.remove(&(d.clone(), p)).unwrap_or_default();
            let first = sub.values().filter_map(|a| Date::of_timestamp(a)).min();
            let mut late: Vec<(usize, String)> = sub
                .iter()
                .filter(|(_, at)| {
                    first
                        .zip(Date::of_timestamp(at))
                        .is_some_and(|(f, at)| days_late(p, deadline_days, at, f).is_some())
                })
                .map(|(r, at)| (*r, at.clone()))
                .collect();
            late.sort();
            let missing: Vec<usize> = expected
                .iter()
                .copied()
                .filter(|i| !sub.contains_key(i))
                .collect();
            let (mut in_review, mut returned) = review.remove(&(d.clone(), p)).unwrap_or_default();
            in_review.retain(|i| sub.contains_key(i));
            returned.retain(|i| sub.contains_key(i));
            cells.insert(
                (d.clone(), p),
                Cell {
                    expected: expected.len(),
                    submitted: expected.iter().filter(|i| sub.contains_key(i)).count(),
                    late,
                    missing,
                    in_review,
                    returned,
                },
            );
        }
    }
    Ok(Board {
        departments,
        periods,
        cells,
        tree,
    })
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

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ProgressQuery>,
) -> Response {
    let c = &v.0;
    if !may_see(c) {
        return layout::error_page(StatusCode::FORBIDDEN, "当前角色无权查看报送进度");
    }
    let years = state
        .years()
        .await
        .map(|y| y.as_ref().clone())
        .unwrap_or_default();
    let year = q.year.or(years.last().copied()).unwrap_or(2024);
    let b = match board(&state, c, year).await {
        Ok(b) => b,
        Err(e) => {
            return layout::error_page(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                &e.message,
            );
        }
    };
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
            p.muted { "每格为已报送的基层地区数 / 应报送数；橙色表示有缺报或逾期，红色表示尚未报送。逾期按期末后 15 天计（规则文件 [timeliness]）。有数据在审核时，下方注明：审＝已审核（含测评办直接导入），中＝三级审核中，退＝已退回或解锁待重报。" }
        }))
        (card(&format!("{year} 年报送进度（部门 × 期间）"), None, html! {
            @if b.departments.is_empty() {
                div.empty { "没有可显示的部门" }
            } @else {
                div.table-wrap {
                    table.data id="progress" {
                        thead { tr {
                            th { "部门" }
                            @for p in &b.periods { th.num { (p.to_string()) } }
                            th.num { "合计" }
                        } }
                        tbody {
                            @for d in &b.departments {
                                tr {
                                    td { (d) }
                                    @for p in &b.periods {
                                        @let cell = &b.cells[&(d.clone(), *p)];
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
    layout::page(
        Frame {
            caller: c,
            title: "报送进度",
            active: "/progress",
            crumbs: vec![("报送进度".into(), None)],
            pickers: None,
            banner: None,
        },
        body,
    )
}

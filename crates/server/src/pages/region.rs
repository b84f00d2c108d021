//! 地区详情: every indicator of one region with value, points, rank among
//! peers and the Chinese deduction reasons; strongest and weakest five;
//! the trend; the veto status; and the indicators' Excel export.

use super::place::{Place, pickers, scope, trend};
use crate::AppState;
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, data_script, fmt, layout};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::html;
use pingan_core::report::{by_share, share};
use pingan_core::score::{IndicatorResult, RegionResult};
use pingan_service::{callbacks, cap, scores};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/region/{code}", get(page))
        .route("/export/region.xlsx", get(export))
}

#[derive(serde::Deserialize, Default)]
pub struct PeriodOnly {
    pub period: Option<String>,
}

/// Competition ranks ("1224") of each indicator's points among peers:
/// indicator code → (rank of `me`, number ranked).
pub fn indicator_ranks(me: &RegionResult, peers: &[RegionResult]) -> Vec<Option<(usize, usize)>> {
    me.indicators
        .iter()
        .map(|ind| {
            if ind.not_applicable {
                return None;
            }
            let pts: Vec<f64> = peers
                .iter()
                .filter_map(|p| p.indicators.iter().find(|x| x.code == ind.code))
                .filter(|x| !x.not_applicable)
                .map(|x| x.points)
                .collect();
            if pts.is_empty() {
                return None;
            }
            let better = pts.iter().filter(|p| **p > ind.points + 1e-9).count();
            Some((better + 1, pts.len()))
        })
        .collect()
}

pub fn status(i: &IndicatorResult) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    if i.missing {
        v.push(("danger", "未报送"));
    }
    if i.not_applicable {
        v.push(("info", "不适用"));
    }
    if i.provisional {
        v.push(("warn", "待定"));
    }
    if i.veto {
        v.push(("danger", "一票否决"));
    }
    v
}

/// One region's result with its peers' (for the indicator ranks).
async fn result(
    state: &AppState,
    v: &Viewer,
    place: &Place,
) -> Result<(super::place::Scope, RegionResult, Vec<RegionResult>), PageError> {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let s = scope(state, c, place).await?;
    let me = scores::region(&state.ctx, &who, s.period(), s.code())
        .await?
        .ok_or_else(|| {
            PageError::not_found(format!("{} 在 {} 年没有测评结果", s.code(), s.year))
        })?;
    let peers = scores::peers(&state.ctx, &who, s.period(), s.code())
        .await
        .unwrap_or_default();
    Ok((s, me, peers))
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    Query(q): Query<PeriodOnly>,
) -> PageResult {
    let place = Place {
        region: Some(code),
        period: q.period,
        preview: None,
    };
    let (s, me, peers) = result(&state, &v, &place).await?;
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let trend = trend(&scores::history(&state.ctx, &who, s.code()).await?);
    let ranks = indicator_ranks(&me, &peers);
    // Callback sampling is evidence on 矛盾纠纷化解成功率: shown beside it
    // to the roles that may read draws.
    let callbacks = match c.authorize::<cap::Callbacks>() {
        Ok(reader) => callbacks::evidence(&state.ctx, &reader, s.code(), s.year)
            .await
            .ok()
            .filter(|e| e.drawn > 0),
        Err(_) => None,
    };
    let by_share = by_share(&me);
    let strongest: Vec<&IndicatorResult> = by_share.iter().take(5).copied().collect();
    let weakest: Vec<&IndicatorResult> = by_share.iter().rev().take(5).copied().collect();
    let vetoes: Vec<&IndicatorResult> = me.indicators.iter().filter(|i| i.veto).collect();
    let missing = me.indicators.iter().filter(|i| i.missing).count();
    let provisional = me.indicators.iter().filter(|i| i.provisional).count();
    let export = format!("/export/region.xlsx?region={}&period={}", me.region, s.year);
    let short = |list: &[&IndicatorResult]| {
        html! {
            table.data { tbody {
                @for i in list {
                    tr {
                        td { span.tree-code { (i.code) } " " (i.name) }
                        td.num { (fmt::num(i.points, 2)) " / " (fmt::points(i.max)) }
                        td.num { (fmt::percent(share(i).unwrap_or(0.0) * 100.0)) }
                    }
                }
            } }
        }
    };
    let body = html! {
        div.actions.no-print {
            a.btn.primary id="report-link" href=(format!("/report/{}?year={}", me.region, s.year)) { "测评报告（打印 / PDF）" }
            " "
            a.btn id="notice-link" href=(format!("/report/{}?year={}&kind=notice", me.region, s.year)) { "整改通知书" }
            @if v.0.can(pingan_core::access::Cap::Rectify) {
                " "
                a.btn id="rectify-list-link" href=(format!("/rectify/{}?year={}", me.region, s.year)) { "整改清单" }
            }
        }
        div.stats {
            div.stat { div.n id="region-total" { (fmt::fixed(me.total)) } div.l { "总分（满分 " (fmt::num(me.max, 2)) "）" } }
            div.stat { div.n { span class={"tag " (fmt::grade_class(&me.grade))} { (me.grade) } } div.l { "等级" } }
            div.stat { div.n { @if me.peers > 0 { (me.rank) " / " (me.peers) } @else { "—" } } div.l { "同级排名" } }
            div.stat { div.n { (missing) } div.l { "未报送指标" } }
            div.stat { div.n { (provisional) } div.l { "规则待定指标" } }
        }
        div style="height:12px" {}
        @if !me.deductions.is_empty() {
            div.banner.error id="deductions" {
                "总分已扣减："
                @for d in &me.deductions { (fmt::num(d.points, 2)) " 分（" (d.reason) "） " }
            }
        }
        @if vetoes.is_empty() {
            div.banner.ok id="veto-status" { "未触发一票否决。" }
        } @else {
            div.banner.error id="veto-status" {
                "触发一票否决，等级为不合格："
                @for i in &vetoes { (i.code) " " (i.name) "（" (i.reasons.join("；")) "） " }
            }
        }
        @if me.bottom {
            div.banner.warn { "位列同级后三位，按方案须约谈。" }
        }
        div.grid {
            (card("得分率最高的五项指标", None, short(&strongest)))
            (card("得分率最低的五项指标", None, short(&weakest)))
        }
        div.grid {
            (card("五个维度", None, html! {
                table.data { thead { tr { th { "维度" } th.num { "得分" } th.num { "满分" } th.num { "得分率" } } }
                tbody { @for d in &me.dimensions { tr { td { (d.code) " " (d.name) } td.num { (fmt::fixed(d.points)) } td.num { (fmt::num(d.max, 2)) } td.num { (fmt::percent(d.percent)) } } } } }
            }))
            (card(&format!("{}历年得分趋势", me.name), None, html! {
                (data_script("trend-data", &trend))
                div.chart data-chart="trend" data-source="trend-data" {}
            }))
        }
        (card(&format!("全部 {} 项指标（{}年）", me.indicators.len(), s.year),
            Some(html! { a.btn.small.export href=(export) download { "导出 Excel" } }),
            html! {
            div.table-wrap {
                table.data id="indicators" data-page-size="50" data-filter="true" {
                    thead { tr {
                        th data-sort="text" { "代码" }
                        th data-sort="text" { "指标" }
                        th.num data-sort="num" { "数值" }
                        th.num data-sort="num" { "得分 / 满分" }
                        th.num data-sort="num" { "同级排名" }
                        th { "扣分原因" }
                        th data-sort="text" { "状态" }
                    } }
                    tbody {
                        @for (k, i) in me.indicators.iter().enumerate() {
                            tr data-indicator=(i.code) {
                                td.tree-code { (i.code) }
                                td { (i.name) }
                                td.num data-value=[i.value] { (fmt::value(i.value, &i.unit)) }
                                td.num data-value=(i.points) { (fmt::num(i.points, 2)) " / " (fmt::num(i.max, 2)) }
                                td.num data-value=[ranks[k].map(|r| r.0)] {
                                    @if let Some((r, n)) = ranks[k] { (r) " / " (n) } @else { "—" }
                                }
                                td {
                                    @if i.reasons.is_empty() { span.muted { "—" } } @else {
                                        ul.reasons { @for r in &i.reasons { li { (r) } } }
                                    }
                                    @if let Some(e) = callbacks.as_ref().filter(|_| i.code == callbacks::SUCCESS_INDICATOR) {
                                        p.callback-evidence {
                                            a href=(format!("/callbacks?region={}&year={}", me.region, s.year)) {
                                                "回访核实：抽取 " (e.drawn) " 件，已回访 " (e.called) " 件，确认属实 " (e.confirmed) " 件"
                                                @if let Some(x) = e.confirmed_share { "（" (fmt::num(x, 1)) "%）" }
                                            }
                                        }
                                    }
                                }
                                td { @for (cls, t) in status(i) { span class={"tag " (cls)} { (t) } " " } }
                            }
                        }
                    }
                }
            }
        }))
    };
    let mut crumbs = s.crumbs(c, true);
    crumbs.push(("地区详情".into(), None));
    Ok(layout::page(
        Frame {
            caller: c,
            title: &format!("{} 地区详情", me.name),
            active: "/",
            crumbs,
            pickers: Some(pickers(&s, &format!("/region/{}", me.region))),
            banner: None,
        },
        body,
    ))
}

/// A region's indicators, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(place): Query<Place>,
) -> PageResult {
    let (s, me, peers) = result(&state, &v, &place).await?;
    let region = s.tree.get(s.region).name.clone();
    let ranks = indicator_ranks(&me, &peers);
    let rows = me
        .indicators
        .iter()
        .enumerate()
        .map(|(k, i)| {
            vec![
                i.code.as_str().into(),
                i.name.as_str().into(),
                i.value.into(),
                i.unit.as_str().into(),
                i.points.into(),
                i.max.into(),
                ranks[k].map(|r| r.0 as f64).into(),
                i.reasons.join("；").into(),
                status(i)
                    .iter()
                    .map(|s| s.1)
                    .collect::<Vec<_>>()
                    .join("、")
                    .into(),
            ]
        })
        .collect::<Vec<Vec<Cell>>>();
    let headers = [
        "代码",
        "指标",
        "数值",
        "单位",
        "得分",
        "满分",
        "同级排名",
        "扣分原因",
        "状态",
    ];
    let bytes = xlsx::workbook(&v.0, "指标得分", &headers, rows)?;
    Ok(xlsx::download(
        &format!("{region}{}年指标得分.xlsx", s.year),
        bytes,
    ))
}

//! 测评总览: for the selected region, the ranking of the level below (click
//! to drill down), grade counts with the bottom three marked, a radar of
//! the five dimensions against the peers' average, a region × dimension
//! heat map and the trend over the years.

use super::fmt;
use super::layout::{self, Frame, Viewer, card, data_script};
use crate::AppState;
use crate::auth::{Caller, Cap};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use pingan_core::score::RegionResult;
use pingan_core::{Period, RegionTree};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct Place {
    pub region: Option<String>,
    pub period: Option<String>,
    /// `1`: score the values still in review too (a preview, never official).
    #[serde(default)]
    pub preview: Option<String>,
}

/// Where a page looks: the region (within the caller's scope) and year.
pub struct Scope {
    pub tree: Arc<RegionTree>,
    pub years: Arc<Vec<i32>>,
    pub year: i32,
    pub region: usize,
}

impl Scope {
    pub fn period(&self) -> Period {
        Period::Year(self.year)
    }

    pub fn code(&self) -> &str {
        &self.tree.get(self.region).code
    }

    /// Breadcrumb from the caller's scope root down to the region.
    pub fn crumbs(&self, caller: &Caller, last_link: bool) -> Vec<(String, Option<String>)> {
        let mut path = Vec::new();
        let mut i = Some(self.region);
        while let Some(n) = i {
            path.push(n);
            if caller
                .region
                .as_deref()
                .is_some_and(|r| self.tree.get(n).code == r)
            {
                break;
            }
            i = self.tree.get(n).parent;
        }
        path.reverse();
        let mut out = vec![(
            "测评总览".to_string(),
            Some(format!("/?period={}", self.year)),
        )];
        for (k, n) in path.iter().enumerate() {
            let r = self.tree.get(*n);
            let link = (k + 1 < path.len() || last_link)
                .then(|| format!("/?region={}&period={}", r.code, self.year));
            out.push((r.name.clone(), link));
        }
        out
    }
}

/// Resolve `?region=&period=` for a caller: 403 outside the scope, 404
/// unknown, the latest year with values by default.
pub async fn scope(state: &AppState, caller: &Caller, place: &Place) -> Result<Scope, Response> {
    let err = |e: crate::ApiError| {
        layout::error_page(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &e.message,
        )
    };
    let tree = state.tree().await.map_err(err)?;
    let years = state.years().await.map_err(err)?;
    if tree.is_empty() || years.is_empty() {
        return Err(layout::error_page(
            StatusCode::NOT_FOUND,
            "数据库中还没有地区或数据：请先导入（pingan import）或运行 pingan demo",
        ));
    }
    let year = match place.period.as_deref().filter(|p| !p.is_empty()) {
        None => *years.last().unwrap_or(&2024),
        Some(p) => match p.parse::<Period>() {
            Ok(per) => per.year(),
            Err(e) => {
                return Err(layout::error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("参数 period：{e}"),
                ));
            }
        },
    };
    let code = match place.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        None => match &caller.region {
            Some(r) => r.clone(),
            None => tree
                .regions()
                .iter()
                .find(|r| r.parent.is_none())
                .map(|r| r.code.clone())
                .unwrap_or_default(),
        },
    };
    let region = caller.region_in_scope(&tree, &code).map_err(err)?;
    Ok(Scope {
        tree,
        years,
        year,
        region,
    })
}

/// The year picker (and the region's own name), as a GET form.
pub fn pickers(s: &Scope, action: &str) -> Markup {
    let r = s.tree.get(s.region);
    html! {
        form.inline method="get" action=(action) id="pickers" {
            label for="period" { "测评年度" }
            select id="period" name="period" onchange="this.form.submit()" {
                @for y in s.years.iter().rev() {
                    option value=(y) selected[*y == s.year] { (y) "年" }
                }
            }
            @if action == "/" { input type="hidden" name="region" value=(r.code); }
            label for="region-picker" { "地区" }
            select id="region-picker" onchange="location.href=this.value" {
                option value=(format!("/?region={}&period={}", r.code, s.year)) selected { (r.name) "（" (r.level.label()) "）" }
                @if let Some(p) = r.parent {
                    @let pr = s.tree.get(p);
                    option value=(format!("/?region={}&period={}", pr.code, s.year)) { "↑ 上级：" (pr.name) }
                }
                @for c in s.tree.children(s.region) {
                    @let cr = s.tree.get(*c);
                    option value=(format!("/?region={}&period={}", cr.code, s.year)) { "↓ " (cr.name) }
                }
            }
            noscript { button.btn.small type="submit" { "查看" } }
        }
    }
}

pub fn scores_error(e: pingan_store::StoreError) -> Response {
    let e = crate::ApiError::from(e);
    layout::error_page(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.message,
    )
}

/// Results of the regions directly under `region` in `period`, in the
/// framework's region order.
pub async fn children_results(
    state: &AppState,
    caller: &Caller,
    s: &Scope,
    region: usize,
) -> Result<Vec<RegionResult>, Response> {
    let codes: Vec<String> = s
        .tree
        .children(region)
        .iter()
        .map(|i| s.tree.get(*i).code.clone())
        .collect();
    state
        .store
        .region_scores(s.period(), &codes, &caller.actor())
        .await
        .map_err(scores_error)
}

/// The region's total and dimensions in each year that has values.
pub async fn trend(
    state: &AppState,
    caller: &Caller,
    s: &Scope,
    code: &str,
) -> Result<serde_json::Value, Response> {
    let mut years = Vec::new();
    let mut totals = Vec::new();
    let mut dims: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    for y in s.years.iter() {
        let r = state
            .store
            .region_score(Period::Year(*y), code, &caller.actor())
            .await
            .ok()
            .flatten();
        years.push(format!("{y}年"));
        totals.push(r.as_ref().map(|r| r.total));
        if let Some(r) = &r {
            for d in &r.dimensions {
                if !dims.iter().any(|(n, _)| *n == d.name) {
                    dims.push((d.name.clone(), Vec::new()));
                }
            }
        }
        for (name, v) in dims.iter_mut() {
            v.resize(years.len() - 1, None);
            v.push(
                r.as_ref()
                    .and_then(|r| r.dimensions.iter().find(|d| d.name == *name))
                    .map(|d| d.percent),
            );
        }
    }
    Ok(json!({"years": years, "total": totals,
        "dimensions": dims.into_iter().map(|(n, v)| json!({"name": n, "percent": v})).collect::<Vec<_>>()}))
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(place): Query<Place>,
) -> Response {
    let c = &v.0;
    if !c.can(Cap::Scores) {
        // Roles that do not read scores start at their own page.
        let home = layout::nav(c)
            .first()
            .map(|(p, _)| *p)
            .unwrap_or("/password");
        if home == "/" {
            return layout::error_page(StatusCode::FORBIDDEN, "当前角色无权查看测评结果");
        }
        return Redirect::to(home).into_response();
    }
    let s = match scope(&state, c, &place).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let preview = place.preview.as_deref() == Some("1");
    let pending = crate::review::pending_in_scope(&state, c, s.year)
        .await
        .unwrap_or(0);
    let (me, kids, peers) = if preview {
        // One unstored scoring of everything; the page picks its regions.
        let report = match state.preview(s.period()).await {
            Ok(r) => r,
            Err(e) => {
                return layout::error_page(
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    &e.message,
                );
            }
        };
        let of = |parent: Option<usize>| -> Vec<RegionResult> {
            let Some(p) = parent else { return Vec::new() };
            let codes: Vec<&str> = s
                .tree
                .children(p)
                .iter()
                .map(|i| s.tree.get(*i).code.as_str())
                .collect();
            report
                .results
                .iter()
                .filter(|r| codes.contains(&r.region.as_str()))
                .cloned()
                .collect()
        };
        let me = report
            .results
            .iter()
            .find(|r| r.region == s.code())
            .cloned();
        (me, of(Some(s.region)), of(s.tree.get(s.region).parent))
    } else {
        let me = match state
            .store
            .region_score(s.period(), s.code(), &c.actor())
            .await
        {
            Ok(r) => r,
            Err(e) => return scores_error(e),
        };
        let kids = match children_results(&state, c, &s, s.region).await {
            Ok(k) => k,
            Err(r) => return r,
        };
        // Peers: the region's siblings. A county official may not open the
        // siblings' pages, but their average is what the seed compares with.
        let peers = match s.tree.get(s.region).parent {
            Some(p) => children_results(&state, c, &s, p).await.unwrap_or_default(),
            None => Vec::new(),
        };
        (me, kids, peers)
    };
    let here = format!("/?region={}&period={}", s.code(), s.year);
    let banner = if preview {
        Some((
            "warn",
            format!(
                "预览：本页得分计入了 {pending} 个尚未通过三级审核的数据，仅供内部核对，不是正式结果，不得发布。"
            ),
        ))
    } else if pending > 0 {
        Some((
            "info",
            format!(
                "{} 年有 {pending} 个数据尚在三级审核中，未计入下列正式得分。",
                s.year
            ),
        ))
    } else {
        None
    };
    let trend = match trend(&state, c, &s, s.code()).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let region = s.tree.get(s.region);
    let child_level = s
        .tree
        .children(s.region)
        .first()
        .map(|i| s.tree.get(*i).level.label())
        .unwrap_or("");

    // Radar: this region against its peers' average (the root: against the
    // average of the level below).
    let (compare_label, compare) = if peers.len() > 1 {
        ("同级平均", &peers)
    } else {
        ("下级平均", &kids)
    };
    let radar = me.as_ref().map(|m| {
        let avg: Vec<f64> = m
            .dimensions
            .iter()
            .map(|d| {
                let xs: Vec<f64> = compare
                    .iter()
                    .filter_map(|r| r.dimensions.iter().find(|x| x.code == d.code))
                    .map(|x| x.percent)
                    .collect();
                if xs.is_empty() {
                    0.0
                } else {
                    xs.iter().sum::<f64>() / xs.len() as f64
                }
            })
            .collect();
        json!({
            "indicators": m.dimensions.iter().map(|d| json!({"name": d.name, "max": 100})).collect::<Vec<_>>(),
            "series": [
                {"name": region.name, "value": m.dimensions.iter().map(|d| d.percent).collect::<Vec<_>>()},
                {"name": compare_label, "value": avg}
            ]
        })
    });
    let heat = json!({
        "regions": kids.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "dimensions": kids.first().map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "cells": kids.iter().enumerate().flat_map(|(i, r)| r.dimensions.iter().enumerate()
            .map(move |(j, d)| json!([j, i, (d.percent * 10.0).round() / 10.0]))).collect::<Vec<_>>(),
    });
    let mut grades: Vec<(String, usize)> = Vec::new();
    for g in ["优秀", "良好", "合格", "不合格"] {
        grades.push((g.into(), kids.iter().filter(|r| r.grade == g).count()));
    }
    let vetoed = kids.iter().filter(|r| r.veto).count();
    let mut ranked: Vec<&RegionResult> = kids.iter().collect();
    ranked.sort_by_key(|r| r.rank);
    let export = format!(
        "/export/ranking.xlsx?region={}&period={}",
        region.code, s.year
    );

    let body = html! {
        div.stats {
            div.stat { div.n id="my-total" { @if let Some(m) = &me { (fmt::fixed(m.total)) } @else { "—" } } div.l { (region.name) "总分" } }
            div.stat { div.n { @if let Some(m) = &me { span class={"tag " (fmt::grade_class(&m.grade))} { (m.grade) } } @else { "—" } } div.l { "等级" } }
            div.stat { div.n { @if let Some(m) = &me { @if m.peers > 0 { (m.rank) " / " (m.peers) } @else { "—" } } @else { "—" } } div.l { "同级排名" } }
            @for (g, n) in &grades {
                div.stat { div.n { (n) } div.l { (child_level) (g) } }
            }
            div.stat { div.n { (vetoed) } div.l { "一票否决" } }
        }
        @if me.as_ref().is_some_and(|m| m.veto) {
            div.banner.error style="margin-top:12px" { (region.name) "本年度触发一票否决，等级为不合格。" a href=(format!("/region/{}?period={}", region.code, s.year)) { "查看原因" } }
        }
        div style="height:16px" {}
        @if !kids.is_empty() {
            (card(&format!("{}{}排名（{}年）", region.name, child_level, s.year),
                Some(html! { a.btn.small.export href=(export) download { "导出 Excel" } }),
                html! {
                div.table-wrap {
                    table.data id="ranking" data-page-size="20" data-filter="true" {
                        thead { tr {
                            th.num data-sort="num" { "排名" }
                            th data-sort="text" { "地区" }
                            th.num data-sort="num" { "总分" }
                            th data-sort="text" { "等级" }
                            @for d in kids[0].dimensions.iter() { th.num data-sort="num" title=(d.code) { (d.name) } }
                            th { "说明" }
                        } }
                        tbody {
                            @for r in &ranked {
                                tr data-region=(r.region) class=[r.bottom.then_some("bottom")] {
                                    td.num.rank { (r.rank) }
                                    td { a.drill href=(format!("/?region={}&period={}", r.region, s.year)) { (r.name) } " "
                                         a.muted href=(format!("/region/{}?period={}", r.region, s.year)) title="地区详情" { "详情" } }
                                    td.num.total data-value=(r.total) { (fmt::fixed(r.total)) }
                                    td { span class={"tag " (fmt::grade_class(&r.grade))} { (r.grade) } }
                                    @for d in &r.dimensions { td.num data-value=(d.points) title=(fmt::percent(d.percent)) { (fmt::fixed(d.points)) } }
                                    td {
                                        @if r.veto { span.tag.danger { "一票否决" } " " }
                                        @if r.bottom { span.tag.warn { "后三位" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        } @else {
            (card("下级排名", None, html! { div.empty { (region.name) "没有下级地区；请查看" a href=(format!("/region/{}?period={}", region.code, s.year)) { "地区详情" } "。" } }))
        }
        div.grid {
            @if let Some(r) = &radar {
                (card(&format!("五个维度得分率：{}与{}", region.name, compare_label), None, html! {
                    (data_script("radar-data", r))
                    div.chart data-chart="radar" data-source="radar-data" {}
                }))
            }
            @if !kids.is_empty() {
                (card(&format!("{}×维度得分率热力图", child_level), None, html! {
                    (data_script("heat-data", &heat))
                    div.chart.tall data-chart="heatmap" data-source="heat-data" {}
                }))
            }
            (card(&format!("{}历年得分趋势", region.name), None, html! {
                (data_script("trend-data", &trend))
                div.chart data-chart="trend" data-source="trend-data" {}
            }))
        }
    };
    layout::page(
        Frame {
            caller: c,
            title: "测评总览",
            active: "/",
            crumbs: s.crumbs(c, false),
            pickers: Some(pickers(&s, "/")),
            banner,
        },
        html! {
            @if preview {
                p.preview-switch { a id="official-link" href=(here) { "返回正式得分" } }
            } @else if pending > 0 {
                p.preview-switch { a id="preview-link" href=(format!("{here}&preview=1")) { "查看含未审核数据的预览" } }
            }
            (body)
        },
    )
}

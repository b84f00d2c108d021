//! 测评总览: for the selected region, the ranking of the level below (click
//! to drill down), grade counts with the bottom three marked, a radar of
//! the five dimensions against the peers' average, a region × dimension
//! heat map and the trend over the years; and the ranking's Excel export.

use super::place::{Place, pickers, scope, trend};
use crate::AppState;
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, data_script, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::html;
use pingan_core::access::Cap;
use pingan_core::score::RegionResult;
use pingan_service::{cap, review, scores};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/export/ranking.xlsx", get(export))
}

async fn page(State(state): State<AppState>, v: Viewer, Query(place): Query<Place>) -> PageResult {
    let c = &v.0;
    if !c.can(Cap::Scores) {
        // Roles that do not read scores start at their own page.
        // Their 工作台 when it counts anything for them, else their first page.
        let home = layout::nav(c)
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| *p != "/work" || pingan_service::work::has_work(c))
            .unwrap_or("/password");
        if home == "/" {
            return Err(PageError::new(StatusCode::FORBIDDEN, Cap::Scores.refusal()));
        }
        return Ok(Redirect::to(home).into_response());
    }
    let who = c.authorize::<cap::Scores>()?;
    let s = scope(&state, c, &place).await?;
    let ctx = &state.ctx;
    // 整改事项 late today in the caller's scope (issue 21).
    let late: Vec<(String, String)> = match c.authorize::<cap::Rectify>() {
        Ok(r) => {
            let tree = ctx.tree().await?;
            pingan_service::rectify::overdue(ctx, &r, s.year)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|(i, why)| {
                    (
                        format!("/rectify/{}?year={}#item-{}", i.region, i.year, i.id),
                        format!("{} {why}", layout::region_name(&tree, &i.region)),
                    )
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let preview = place.preview.as_deref() == Some("1");
    let pending = review::pending_in_scope(ctx, c, s.year, Some(s.code()))
        .await
        .unwrap_or(0);
    let (me, kids, peers) = if preview {
        // One unstored scoring of everything; the page picks its regions.
        let report = scores::preview_all(ctx, &who, s.period()).await?;
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
        let me = scores::region(ctx, &who, s.period(), s.code()).await?;
        let kids = scores::children(ctx, &who, s.period(), s.code()).await?;
        // Peers: the region's siblings, whose average the seed compares with.
        let peers = scores::peers(ctx, &who, s.period(), s.code())
            .await
            .unwrap_or_default();
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
    let trend = trend(&scores::history(ctx, &who, s.code()).await?);
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
    // Rows in the ranking's order, as the table beside it.
    let mut by_rank: Vec<&RegionResult> = kids.iter().collect();
    by_rank.sort_by_key(|r| r.rank);
    let heat = json!({
        "regions": by_rank.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "dimensions": kids.first().map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "cells": by_rank.iter().enumerate().flat_map(|(i, r)| r.dimensions.iter().enumerate()
            .map(move |(j, d)| json!([j, i, (d.percent * 10.0).round() / 10.0]))).collect::<Vec<_>>(),
    });
    // 平安热力图 of the level below, by total (issue 22); none without outlines.
    let year = s.year;
    let score_map = if kids.is_empty() {
        None
    } else {
        super::map::chart(
            &state,
            "map-overview",
            &super::map::by_score(&kids),
            |code| format!("/?region={code}&period={year}"),
        )
        .await?
        .map(|(data, _)| data)
    };
    // Risk warnings the office sent to this region (its home page's notice).
    let warned = pingan_service::risk::sent_to(ctx, &who, s.code())
        .await
        .unwrap_or_default();
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
        @if !late.is_empty() {
            div.banner.error id="rectify-overdue" style="margin-top:12px" {
                "整改事项逾期 " (late.len()) " 项："
                @for (k, (href, text)) in late.iter().take(5).enumerate() {
                    @if k > 0 { "；" }
                    a href=(href) { (text) }
                }
                @if late.len() > 5 { " 等" }
            }
        }
        @if !warned.is_empty() {
            div.banner.warn id="risk-warned" style="margin-top:12px" {
                "风险预警 " (warned.len()) " 条："
                @for (k, w) in warned.iter().take(3).enumerate() {
                    @if k > 0 { "；" }
                    (w.message)
                    @if let Some(t) = w.field_task { "（实地核查任务 " a href=(format!("/verify/{t}")) { (t) } "）" }
                }
                " " a href=(format!("/risk?region={}", region.code)) { "查看风险预警" }
            }
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
            @if let Some(m) = &score_map {
                (card(&format!("{}{}得分地图", region.name, child_level),
                    Some(html! { a.btn.small href=(format!("/map?region={}&period={}", region.code, s.year)) { "平安热力图" } }),
                    html! {
                    (data_script("overview-map-data", m))
                    div.chart.map data-chart="map" data-source="overview-map-data" role="img"
                        aria-label=(format!("{}{}总分地图", region.name, child_level)) {}
                }))
            }
            @if !kids.is_empty() {
                (card(&format!("{}×维度得分率热力图", child_level), None, html! {
                    (data_script("heat-data", &heat))
                    div.chart.tall data-chart="heatmap" data-source="heat-data" {}
                }))
            }
            div.wide {
                (card(&format!("{}历年得分趋势", region.name), None, html! {
                    (data_script("trend-data", &trend))
                    div.chart data-chart="trend" data-source="trend-data" {}
                }))
            }
        }
    };
    Ok(layout::page(
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
    ))
}

/// The ranking of the level below a region, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(place): Query<Place>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let s = scope(&state, c, &place).await?;
    let region = s.tree.get(s.region).name.clone();
    let mut kids = scores::children(&state.ctx, &who, s.period(), s.code()).await?;
    kids.sort_by_key(|r| r.rank);
    let dims: Vec<String> = kids
        .first()
        .map(|r| r.dimensions.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    let mut headers = vec![
        "排名",
        "地区代码",
        "地区",
        "总分",
        "等级",
        "一票否决",
        "后三位",
    ];
    headers.extend(dims.iter().map(String::as_str));
    let rows = kids
        .iter()
        .map(|r| {
            let mut row: Vec<Cell> = vec![
                r.rank.into(),
                r.region.as_str().into(),
                r.name.as_str().into(),
                r.total.into(),
                r.grade.as_str().into(),
                (if r.veto { "是" } else { "否" }).into(),
                (if r.bottom { "是" } else { "否" }).into(),
            ];
            row.extend(r.dimensions.iter().map(|d| Cell::Num(d.points)));
            row
        })
        .collect();
    let bytes = xlsx::workbook(&v.0, "排名", &headers, rows)?;
    Ok(xlsx::download(
        &format!("{region}{}年排名.xlsx", s.year),
        bytes,
    ))
}

//! 调查进度 (issue 18): the fieldwork board a 数据采集组 watches — answers
//! per day in the region's subtree, and each weighting county's valid
//! answers by sex and by age group against its margins (over or under
//! the share each category should have, which raking then corrects at
//! the cost of a larger design effect). Excel export of the quotas.

use crate::AppState;
use crate::kit::forms::urlencode;
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::RegionTree;
use pingan_core::survey::fieldwork::{Quota, quotas};
use pingan_service::surveys::fieldwork::{Fieldwork, fieldwork};
use pingan_service::{Caller, cap};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys/fieldwork", get(page))
        .route("/surveys/fieldwork/quotas.xlsx", get(export))
}

#[derive(Deserialize)]
pub struct FieldQuery {
    pub year: i32,
    pub region: Option<String>,
}

/// A gap this many points from the target share is worth steering for.
const GAP: f64 = 5.0;

fn root(c: &Caller, tree: &RegionTree, asked: &Option<String>) -> Result<usize, PageError> {
    super::pick_region(c, tree, asked)
}

/// Each weighting county in the subtree with its quotas.
fn county_quotas(
    f: &Fieldwork,
    tree: &RegionTree,
    c: &Caller,
    root: usize,
) -> Vec<(usize, u64, Vec<Quota>)> {
    f.margins
        .iter()
        .filter(|(county, _)| tree.is_within(**county, root) && c.sees(tree, **county))
        .map(|(county, m)| {
            let valid = f.valid.get(county).copied().unwrap_or(0);
            let rows: Vec<(&str, &str, f64)> = m
                .iter()
                .map(|(v, k, p)| (v.as_str(), k.as_str(), *p))
                .collect();
            let q = quotas(&rows, valid, |v, k| {
                f.counts
                    .get(&(*county, v.to_string(), k.to_string()))
                    .copied()
                    .unwrap_or(0)
            });
            (*county, valid, q)
        })
        .collect()
}

fn gap_tag(points: f64) -> Markup {
    let text = format!(
        "{}{} 个百分点",
        if points > 0.0 { "+" } else { "" },
        fmt::num(points, 1)
    );
    match points {
        p if p >= GAP => html! { span.tag.warn { "偏多 " (text) } },
        p if p <= -GAP => html! { span.tag.danger { "偏少 " (text) } },
        _ => html! { span.tag.ok { (text) } },
    }
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<FieldQuery>) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Surveys>()?;
    let tree = state.ctx.tree().await?;
    let r = root(c, &tree, &q.region)?;
    let f = fieldwork(&state.ctx, &who, q.year).await?;
    let mut daily: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for ((region, day), (n, ok)) in &f.days {
        if tree.is_within(*region, r) {
            let e = daily.entry(day.as_str()).or_default();
            e.0 += n;
            e.1 += ok;
        }
    }
    let chart = json!({
        "days": daily.keys().collect::<Vec<_>>(),
        "received": daily.values().map(|x| x.0).collect::<Vec<_>>(),
        "valid": daily.values().map(|x| x.1).collect::<Vec<_>>(),
    });
    let counties = county_quotas(&f, &tree, c, r);
    let here = tree.get(r);
    let code = &here.code;
    let export = format!(
        "/surveys/fieldwork/quotas.xlsx?year={}&region={}",
        q.year,
        urlencode(code)
    );
    let body = html! {
        (card(&format!("{} {} 年每日答卷（北京时间）", here.name, q.year), None, html! {
            @if daily.is_empty() {
                div.empty { "尚无答卷" }
            } @else {
                (layout::data_script("daily-data", &chart))
                div.chart data-chart="daily" data-source="daily-data" role="img" aria-label="每日收到与有效答卷" {}
                p.muted { "共 " (daily.len()) " 天，收到 " (daily.values().map(|x| x.0).sum::<u64>()) " 份，有效 " (daily.values().map(|x| x.1).sum::<u64>()) " 份。" }
            }
        }))
        (card("配额：各县有效答卷的性别、年龄构成与加权边际对比",
            Some(html! { a.btn.small.export href=(export) download { "导出 Excel" } }),
            html! {
            @if counties.is_empty() {
                div.empty { "该地区没有导入加权边际" }
            } @else {
                div.table-wrap {
                    table.data id="quotas" data-page-size="60" data-filter="true" {
                        thead { tr {
                            th { "县（区）" } th.num { "有效答卷" } th { "变量" } th { "类别" }
                            th.num { "目标占比" } th.num { "实际占比" } th.num { "应有" } th.num { "实有" } th { "偏差" }
                        } }
                        tbody {
                            @for (county, valid, rows) in &counties {
                                @for qr in rows {
                                    @let (vl, cl) = f.label(&qr.variable, &qr.category);
                                    tr {
                                        td { a href=(format!("/surveys/fieldwork?year={}&region={}", q.year, urlencode(&tree.get(*county).code))) { (tree.get(*county).name) } }
                                        td.num { (valid) }
                                        td { (vl) }
                                        td { (cl) }
                                        td.num { (fmt::percent(qr.target_share * 100.0)) }
                                        td.num { (fmt::percent(qr.actual_share(*valid) * 100.0)) }
                                        td.num { (fmt::num(qr.expected, 1)) }
                                        td.num { (qr.actual) }
                                        td { (gap_tag(qr.gap_points(*valid))) }
                                    }
                                }
                            }
                        }
                    }
                }
                p.muted { "偏差超过 ±" (GAP) " 个百分点的类别请调查机构在后续入户和推送中补足；加权会校正构成，但偏差越大，设计效应越大、置信区间越宽。" }
            }
        }))
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "调查进度",
            active: "/surveys",
            crumbs: vec![
                (
                    "群众调查".into(),
                    Some(format!(
                        "/surveys?year={}&region={}",
                        q.year,
                        urlencode(code)
                    )),
                ),
                (format!("{} 调查进度", here.name), None),
            ],
            pickers: None,
            banner: None,
        },
        body,
    ))
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<FieldQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Surveys>()?;
    let tree = state.ctx.tree().await?;
    let r = root(c, &tree, &q.region)?;
    let f = fieldwork(&state.ctx, &who, q.year).await?;
    let mut rows = Vec::new();
    for (county, valid, qs) in county_quotas(&f, &tree, c, r) {
        let reg = tree.get(county);
        for x in qs {
            let (vl, cl) = f.label(&x.variable, &x.category);
            rows.push(vec![
                Cell::from(reg.code.as_str()),
                reg.name.as_str().into(),
                Cell::Num(valid as f64),
                vl.into(),
                cl.into(),
                Cell::Num(x.target_share * 100.0),
                Cell::Num(x.actual_share(valid) * 100.0),
                Cell::Num(x.expected),
                Cell::Num(x.actual as f64),
                Cell::Num(x.gap_points(valid)),
            ]);
        }
    }
    let headers = [
        "县（区）代码",
        "县（区）",
        "有效答卷",
        "变量",
        "类别",
        "目标占比%",
        "实际占比%",
        "应有",
        "实有",
        "偏差（百分点）",
    ];
    let bytes = xlsx::workbook(c, &format!("调查配额{}", q.year), &headers, rows)?;
    Ok(xlsx::download(
        &format!("survey-quotas-{}.xlsx", q.year),
        bytes,
    ))
}

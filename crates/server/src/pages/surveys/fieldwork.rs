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
use pingan_service::surveys::fieldwork::{Fieldwork, Interviewer, fieldwork};
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
    crate::kit::pick_region(c, tree, asked)
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

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Each interviewer's answers in the subtree: how many, how many valid,
/// how many helped one to one, and the median time per questionnaire —
/// an interviewer much faster than the others is the first thing a
/// supervisor checks (a questionnaire filled in without the respondent).
fn interviewers(f: &Fieldwork, tree: &RegionTree, c: &Caller, root: usize) -> Markup {
    let mut by: BTreeMap<&str, Interviewer> = BTreeMap::new();
    for ((region, who), t) in &f.interviewers {
        if tree.is_within(*region, root) && c.sees(tree, *region) {
            by.entry(who.as_str()).or_default().add(t);
        }
    }
    if by.is_empty() {
        return html! { div.empty { "该地区还没有访问员提交的答卷（问卷采集页面或接口的 interviewer 字段）。" } };
    }
    let mut all: Vec<f64> = by
        .values()
        .flat_map(|t| t.seconds.iter().copied())
        .collect();
    let overall = median(&mut all).unwrap_or(0.0);
    html! {
        div.table-wrap {
            table.data id="interviewers" data-page-size="30" data-filter="true" {
                thead { tr {
                    th { "访问员" } th.num { "答卷" } th.num { "有效" } th.num { "有效率" }
                    th.num { "一对一协助" } th.num { "用时中位数（分钟）" } th { "提示" }
                } }
                tbody {
                    @for (who, t) in &by {
                        @let m = median(&mut t.seconds.clone()).unwrap_or(0.0);
                        tr {
                            td { (who) }
                            td.num { (t.answers) }
                            td.num { (t.valid) }
                            td.num { (fmt::percent(t.valid as f64 * 100.0 / t.answers.max(1) as f64)) }
                            td.num { (t.assisted) }
                            td.num { (fmt::num(m / 60.0, 1)) }
                            td {
                                @if t.answers >= 5 && m < overall / 2.0 {
                                    span.tag.warn { "用时明显偏短，建议回访核实" }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.muted { "全部访问员答卷用时中位数 " (fmt::num(overall / 60.0, 1)) " 分钟；不足其一半且答卷 5 份以上的访问员标为偏短。" }
    }
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
        (card("访问员（入户、纸质、热线答卷）", None, interviewers(&f, &tree, c, r)))
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

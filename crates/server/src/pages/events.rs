//! 网格事件 (issue 19): a region's year of grid events and call-outs —
//! months with the share handled within the deadline, categories and
//! urgencies, handling times, the open events past their deadline (oldest
//! first, the 综治中心's morning list), the fire and medical response
//! times, and the lower regions to drill into.

use crate::AppState;
use crate::kit::forms::urlencode;
use crate::kit::{
    Frame, PageResult, Viewer, card, fmt, layout, now_seconds, pick_region, pick_year,
};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::events::HANDLING_EDGES;
use pingan_service::cap;
use pingan_service::events_board::{Counts, EventsBoard, OVERDUE_SHOWN, board};
use pingan_service::events_list::{self, ListParams};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(page))
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    year: Option<i32>,
    region: Option<String>,
}

fn rate(c: &Counts) -> String {
    c.timely_rate().map_or("—".into(), fmt::percent)
}

fn minutes(c: &Counts) -> String {
    c.mean_minutes().map_or("—".into(), |m| fmt::num(m, 1))
}

/// A handling-time class as people say it.
fn class_label(i: usize) -> String {
    let edge = |m: i64| {
        if m < 60 {
            format!("{m} 分钟")
        } else if m < 1440 {
            format!("{} 小时", m / 60)
        } else {
            format!("{} 天", m / 1440)
        }
    };
    match i {
        0 => format!("≤ {}", edge(HANDLING_EDGES[0])),
        i if i + 1 == HANDLING_EDGES.len() => format!("> {}", edge(HANDLING_EDGES[i - 1])),
        i => format!(
            "{}–{}",
            edge(HANDLING_EDGES[i - 1]),
            edge(HANDLING_EDGES[i])
        ),
    }
}

/// Time past the deadline: hours for a day or two, days beyond.
fn overdue_text(hours: f64) -> String {
    if hours < 48.0 {
        format!("{} 小时", fmt::num(hours, 1))
    } else {
        format!("{} 天", fmt::num(hours / 24.0, 1))
    }
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<EventsQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let year = pick_year(&state.ctx, q.year).await;
    let now = now_seconds();
    let b = board(&state.ctx, &who, &tree, root, year, now).await?;
    let overdue_params = ListParams {
        year,
        state: "overdue".into(),
        ..ListParams::default()
    };
    let overdue_total = events_list::count(
        &state.ctx,
        &who,
        &events_list::filter(&tree, root, &overdue_params, now),
    )
    .await?;
    let here = tree.get(root);
    let link = |r: &str| format!("/events?year={year}&region={}", urlencode(r));
    // The event list of this region and year, narrowed by `more`.
    let list = |more: &str| {
        format!(
            "/events/list?year={year}&region={}{more}",
            urlencode(&here.code)
        )
    };
    let total = b.months.values().fold([Counts::default(); 3], |mut a, m| {
        for k in 0..3 {
            a[k].events += m[k].events;
            a[k].timely += m[k].timely;
            a[k].handled += m[k].handled;
            a[k].response_seconds += m[k].response_seconds;
        }
        a
    });
    let chart = json!({
        "months": b.months.keys().map(|m| format!("{m}月")).collect::<Vec<_>>(),
        "events": b.months.values().map(|m| m[0].events).collect::<Vec<_>>(),
        "rates": b.months.values().map(|m| m[0].timely_rate().map(|r| (r * 10.0).round() / 10.0)).collect::<Vec<_>>(),
    });
    let body = html! {
        (card(&format!("{} {} 年网格事件", here.name, year), None, html! {
            @if b.months.is_empty() {
                div.empty id="no-events" { "该地区该年度还没有事件记录（pingan import events 或 POST /api/v1/events）。" }
            } @else {
                div.stats {
                    div.stat { div.n id="grid-total" { a href=(list("&kind=grid")) { (total[0].events) } } div.l { "网格事件" } }
                    div.stat { div.n { (rate(&total[0])) } div.l { "按时处置率" } }
                    div.stat { div.n id="overdue-count" { a href=(list("&state=overdue")) { (overdue_total) } } div.l { "超时未处置" } }
                    div.stat { div.n { (total[1].events) " · " (minutes(&total[1])) } div.l { "火警出警 · 平均到场（分钟）" } }
                    div.stat { div.n { (total[2].events) " · " (minutes(&total[2])) } div.l { "急救出车 · 平均到场（分钟）" } }
                }
                (layout::data_script("events-data", &chart))
                div.chart data-chart="events" data-source="events-data" role="img" aria-label="每月网格事件与按时处置率" {}
                p.muted { "时限：一般 24 小时，紧急 2 小时，特急 30 分钟（以上报到处置完成计）；未处置的事件不计为按时。" }
            }
        }))
        @if !b.months.is_empty() {
            (card("超时未处置（最早的在前）", None, html! {
                (overdue(&b, &tree))
                @if overdue_total as usize > b.overdue.len() {
                    p { "此处列出最早的 " (OVERDUE_SHOWN) " 件，" a href=(list("&state=overdue")) { "查看全部 " (overdue_total) " 件并导出" } "。" }
                }
            }))
            (card("按类别与紧急程度", None, breakdown(&b, &list)))
            (card("处置用时", None, handling(&b)))
            (card("应急响应（按月）", None, emergency(&b, &list)))
            (card("下级地区", None, children(&b, &tree, c, &link)))
        }
    };
    Ok(layout::page(Frame::simple(c, "网格事件", "/events"), body))
}

fn overdue(b: &EventsBoard, tree: &pingan_core::RegionTree) -> Markup {
    if b.overdue.is_empty() {
        return html! { div.empty { "没有超过时限仍未处置的事件。" } };
    }
    html! {
        div.table-wrap {
            table.data id="overdue" data-page-size="30" data-filter="true" {
                thead { tr { th { "事件编号" } th { "乡镇（街道）" } th { "类别" } th { "紧急程度" } th { "上报时间" } th.num { "已超时" } } }
                tbody {
                    @for o in &b.overdue {
                        tr {
                            td { (o.event_id) }
                            td { (tree.get(o.region).name) }
                            td { (o.category) }
                            td { (o.urgency) }
                            td { (fmt::china_time(o.reported_at)) }
                            td.num { (overdue_text(o.hours_over)) }
                        }
                    }
                }
            }
        }
    }
}

fn breakdown(b: &EventsBoard, list: &dyn Fn(&str) -> String) -> Markup {
    let rows = |m: &std::collections::BTreeMap<String, Counts>, key: &str| {
        html! {
            @for (k, c) in m {
                tr {
                    td { a href=(list(&format!("&kind=grid&{key}={}", urlencode(super::events_list::query_value(k))))) { (super::events_list::value_label(k)) } }
                    td.num { (c.events) } td.num { (c.handled) } td.num { (rate(c)) }
                }
            }
        }
    };
    html! {
        div.table-wrap {
            table.data id="by-category" {
                thead { tr { th { "类别" } th.num { "事件" } th.num { "已处置" } th.num { "按时处置率" } } }
                tbody { (rows(&b.categories, "category")) }
            }
        }
        div.table-wrap {
            table.data id="by-urgency" {
                thead { tr { th { "紧急程度" } th.num { "事件" } th.num { "已处置" } th.num { "按时处置率" } } }
                tbody { (rows(&b.urgencies, "urgency")) }
            }
        }
    }
}

fn handling(b: &EventsBoard) -> Markup {
    let n: u64 = b.classes.iter().sum();
    let at = |q: f64| {
        b.class_of(q).map_or("—".to_string(), |m| {
            let i = HANDLING_EDGES.iter().position(|e| *e == m).unwrap_or(0);
            class_label(i)
        })
    };
    html! {
        p { "已处置 " (n) " 件；中位数落在 " strong id="median-class" { (at(0.5)) } "，90% 分位落在 " strong { (at(0.9)) } "。" }
        div.table-wrap {
            table.data id="handling" {
                thead { tr { th { "处置用时" } th.num { "事件" } th.num { "占比" } } }
                tbody {
                    @for (i, c) in b.classes.iter().enumerate() {
                        tr {
                            td { (class_label(i)) }
                            td.num { (c) }
                            td.num { (fmt::percent(*c as f64 * 100.0 / n.max(1) as f64)) }
                        }
                    }
                }
            }
        }
    }
}

fn emergency(b: &EventsBoard, list: &dyn Fn(&str) -> String) -> Markup {
    html! {
        div.table-wrap {
            table.data id="emergency" {
                thead { tr { th { "月份" } th.num { "火警出警" } th.num { "平均到场（分钟）" } th.num { "急救出车" } th.num { "平均到场（分钟）" } } }
                tbody {
                    @for (m, c) in &b.months {
                        tr {
                            td { (m) "月" }
                            td.num { a href=(list(&format!("&kind=fire&month={m}"))) { (c[1].events) } }
                            td.num { (minutes(&c[1])) }
                            td.num { a href=(list(&format!("&kind=medical&month={m}"))) { (c[2].events) } }
                            td.num { (minutes(&c[2])) }
                        }
                    }
                }
            }
        }
    }
}

fn children(
    b: &EventsBoard,
    tree: &pingan_core::RegionTree,
    c: &pingan_service::Caller,
    link: &dyn Fn(&str) -> String,
) -> Markup {
    let kids: Vec<&(usize, [Counts; 3])> = b
        .children
        .iter()
        .filter(|(r, _)| c.sees(tree, *r))
        .collect();
    if kids.is_empty() {
        return html! { div.empty { "没有下级地区。" } };
    }
    html! {
        div.table-wrap {
            table.data id="children" data-page-size="30" {
                thead { tr { th { "地区" } th.num { "网格事件" } th.num { "按时处置率" } th.num { "火警出警" } th.num { "急救出车" } } }
                tbody {
                    @for (r, k) in kids {
                        tr {
                            td { a href=(link(&tree.get(*r).code)) { (tree.get(*r).name) } }
                            td.num { (k[0].events) } td.num { (rate(&k[0])) }
                            td.num { (k[1].events) } td.num { (k[2].events) }
                        }
                    }
                }
            }
        }
    }
}

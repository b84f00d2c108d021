//! 回访抽查 (issue 8): pick a region and year, draw the cases to call back,
//! record each callback, and read the confirmed share beside the reported
//! 矛盾纠纷化解成功率. The same store calls and role rules as the API.

use crate::AppState;
use crate::kit::fmt::local_time;
use crate::kit::forms::{Fields, Flash, back, some, urlencode};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::labels::CallbackResult;
use pingan_core::region::{Level, RegionTree};
use pingan_service::callbacks::{self, CallbackEvidence, DEFAULT_CALLBACK_RATE, parse_result};
use pingan_service::{Caller, ServiceError, cap};
use pingan_store::Draw;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/callbacks", get(page).post(action))
        .route("/callbacks/{id}/export.xlsx", get(export))
}

#[derive(Deserialize, Default)]
pub struct CallbacksQuery {
    pub region: Option<String>,
    pub year: Option<i32>,
    pub draw: Option<i64>,
}

/// A gap this large between the reported rate and the confirmed share is
/// worth a reviewer's look.
const GAP_POINTS: f64 = 10.0;

fn result_tag(r: Option<CallbackResult>) -> Markup {
    match r {
        None => html! { span.tag { "待回访" } },
        Some(CallbackResult::Confirmed) => html! { span.tag.ok { "属实" } },
        Some(CallbackResult::NotConfirmed) => html! { span.tag.danger { "不属实" } },
        Some(CallbackResult::Unreachable) => html! { span.tag.warn { "未接通" } },
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), fmt::percent)
}

fn evidence_card(e: &CallbackEvidence) -> Markup {
    let gap = match (e.reported_rate, e.confirmed_share) {
        (Some(r), Some(c)) if r - c >= GAP_POINTS => Some(r - c),
        _ => None,
    };
    card(
        "回访证据（矛盾纠纷化解成功率 D3.2.1）",
        None,
        html! {
            div.stats id="evidence" {
                div.stat { div.n { (e.cases) } div.l { "台账案件" } }
                div.stat { div.n { (e.successful) } div.l { "其中调解成功" } }
                div.stat { div.n { (e.drawn) } div.l { "抽中回访" } }
                div.stat { div.n { (e.called) } div.l { "已回访" } }
                div.stat { div.n { (e.confirmed) " / " (e.not_confirmed) " / " (e.unreachable) } div.l { "属实 / 不属实 / 未接通" } }
                div.stat { div.n id="confirmed-share" { (pct(e.confirmed_share)) } div.l { "回访确认比例" } }
                div.stat { div.n { (pct(e.register_rate)) } div.l { "台账调解成功率" } }
                div.stat { div.n id="reported-rate" { (pct(e.reported_rate)) } div.l { "上报的化解成功率" } }
            }
            p.muted {
                "回访确认比例 = 属实 ÷（属实 + 不属实），未接通不计入。"
                @if let Some(n) = &e.reported_note { " 上报成功率：" (n) "。" }
            }
            @if let Some(g) = gap {
                div.banner.error { "回访确认比例低于上报的化解成功率 " (fmt::num(g, 1)) " 个百分点，建议核查上报数据。" }
            }
        },
    )
}

fn draw_card(c: &Caller, d: &Draw, tree: &RegionTree, back: &str) -> Markup {
    let may = c.can(Cap::Callback);
    let title = format!(
        "第 {} 号抽取：{} {} 年，比例 {}，种子 {}（可抽 {} 件，抽中 {} 件）",
        d.id,
        layout::region_name(tree, &d.region),
        d.year,
        fmt::percent(d.rate * 100.0),
        d.seed,
        d.eligible,
        d.items.len()
    );
    card(
        &title,
        Some(html! {
            a.btn.small.export href=(format!("/callbacks/{}/export.xlsx", d.id)) download { "导出 Excel" }
        }),
        html! {
            p.muted { "抽取人 " (d.drawn_by) "，" (local_time(&d.drawn_at)) "。复核方法：对每个案件计算 SHA-256(“种子:案件编号”)，按结果排序取前 " (d.items.len()) " 件。" }
            div.table-wrap {
                table.data id="drawn" {
                    thead { tr {
                        th.num { "序号" } th { "案件编号" } th { "地区" } th { "受理日期" } th { "纠纷类型" }
                        th { "协议 / 履行" } th { "回访结果" } th { "说明" } th { "回访人" }
                        @if may { th { "登记" } }
                    } }
                    tbody {
                        @for i in &d.items {
                            tr {
                                td.num { (i.ord + 1) }
                                td { (i.case.case_id) }
                                td { (layout::region_name(tree, &i.case.region)) }
                                td { (i.case.date) }
                                td { (i.case.kind) }
                                td { (if i.case.agreement { "是" } else { "否" }) " / " (if i.case.fulfilled { "是" } else { "否" }) }
                                td { (result_tag(i.result)) }
                                td { (i.note) }
                                td { (i.called_by.clone().unwrap_or_default()) br; span.muted { (i.called_at.clone().unwrap_or_default()) } }
                                @if may {
                                    td {
                                        form.inline method="post" action="/callbacks" id=(format!("record-{}", i.ord)) {
                                            input type="hidden" name="op" value="record";
                                            input type="hidden" name="draw" value=(d.id);
                                            input type="hidden" name="case" value=(i.case.case_id);
                                            input type="hidden" name="back" value=(back);
                                            select name="result" aria-label="回访结果" {
                                                @for r in CallbackResult::ALL {
                                                    option value=(r.code()) selected[i.result == Some(*r)] { (r.label()) }
                                                }
                                            }
                                            input type="text" name="note" size="14" placeholder="说明（不属实必填）" value=(i.note) aria-label="说明";
                                            button.btn.small type="submit" { "登记" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<CallbacksQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Callbacks>()?;
    let tree = state.ctx.tree().await?;
    let years = state
        .ctx
        .years()
        .await
        .map(|y| y.as_ref().clone())
        .unwrap_or_default();
    let year = q.year.or(years.last().copied()).unwrap_or(2024);
    let Some(region) = some(&q.region)
        .or(c.region.clone())
        .or_else(|| tree.root().map(|r| r.code.clone()))
    else {
        return Err(PageError::not_found("数据库中还没有地区"));
    };
    let root = c.region_in_scope(&tree, &region)?;
    let draws: Vec<Draw> = callbacks::draws(&state.ctx, &who, Some(year))
        .await?
        .into_iter()
        .filter(|d| {
            tree.find(&d.region)
                .is_some_and(|i| tree.is_within(i, root))
        })
        .collect();
    // The draw asked for, else the region's own.
    let shown = match q
        .draw
        .or_else(|| draws.iter().find(|d| d.region == region).map(|d| d.id))
    {
        Some(id) => Some(callbacks::one(&state.ctx, &who, id).await?),
        None => None,
    };
    let evidence = callbacks::evidence(&state.ctx, &who, &region, year).await?;
    // The regions one would draw for: the scope's root and the cities and
    // counties under it.
    let choices: Vec<usize> = (0..tree.len())
        .filter(|&i| {
            let r = tree.get(i);
            c.sees(&tree, i) && !matches!(r.level, Level::Township)
        })
        .collect();
    let back = format!("/callbacks?region={}&year={year}", urlencode(&region));
    let banner = flash.0;
    let pickers = html! {
        form.inline method="get" action="/callbacks" id="pickers" {
            label for="cb-year" { "年度" }
            select id="cb-year" name="year" {
                @for y in years.iter().rev() {
                    option value=(y) selected[*y == year] { (y) "年" }
                }
                @if !years.contains(&year) { option value=(year) selected { (year) "年" } }
            }
            label for="cb-region" { "地区" }
            select id="cb-region" name="region" {
                @for &i in &choices {
                    @let r = tree.get(i);
                    option value=(r.code) selected[r.code == region] { (r.name) "（" (r.level.label()) "）" }
                }
            }
            button.btn.small type="submit" { "查看" }
        }
    };
    let here = tree.get(root);
    let body = html! {
        @if c.can(Cap::Callback) {
            (card("抽取回访案件", None, html! {
                form.inline method="post" action="/callbacks" id="draw" {
                    input type="hidden" name="op" value="draw";
                    input type="hidden" name="region" value=(region);
                    input type="hidden" name="year" value=(year);
                    span { (here.name) " " (year) " 年" }
                    label for="d-rate" { "比例（%）" }
                    input type="number" id="d-rate" name="rate" min="1" max="100" step="any" size="4" value=(fmt::num(DEFAULT_CALLBACK_RATE * 100.0, 2));
                    label for="d-seed" { "随机种子" }
                    input type="number" id="d-seed" name="seed" min="0" size="10" placeholder="留空则随机生成";
                    button.btn.primary type="submit" { "抽取" }
                    span.muted { "从该地区（含下级）当年“调解成功”的案件中抽取，向上取整；同一地区、年度只抽一次，种子记录在案，可复核" }
                }
            }))
        }
        (evidence_card(&evidence))
        (card(&format!("{} {} 年的抽取（含下级地区）", here.name, year), None, html! {
            @if draws.is_empty() {
                div.empty { "尚未抽取" }
            } @else {
                table.data id="draws" {
                    thead { tr { th.num { "编号" } th { "地区" } th { "比例" } th { "种子" } th.num { "可抽案件" } th { "抽取人" } th { "时间" } } }
                    tbody {
                        @for d in &draws {
                            tr {
                                td.num { a href=(format!("/callbacks?region={}&year={}&draw={}", urlencode(&region), year, d.id)) { (d.id) } }
                                td { (layout::region_name(&tree, &d.region)) }
                                td { (fmt::percent(d.rate * 100.0)) }
                                td { (d.seed) }
                                td.num { (d.eligible) }
                                td { (d.drawn_by) }
                                td { (local_time(&d.drawn_at)) }
                            }
                        }
                    }
                }
            }
        }))
        @if let Some(d) = &shown {
            (draw_card(c, d, &tree, &format!("{back}&draw={}", d.id)))
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "回访抽查",
            active: "/callbacks",
            crumbs: vec![("回访抽查".into(), None)],
            pickers: Some(pickers),
            banner,
        },
        body,
    ))
}

/// POST /callbacks: draw (op=draw) or record a callback (op=record), then
/// back to the page with the outcome.
async fn action(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Callback>()?;
    let f = Fields::parse(&body);
    let region = f.get("region");
    let year = f.get("year");
    // Only our own page's address goes back; anything else is ignored.
    let mut back_to = f.get("back");
    if !back_to.starts_with("/callbacks?") {
        back_to = format!(
            "/callbacks?region={}&year={}",
            urlencode(&region),
            urlencode(&year)
        );
    }
    let result = async {
        match f.get("op").as_str() {
            "draw" => {
                let year: i32 = year
                    .parse()
                    .map_err(|_| ServiceError::invalid("年度应为数字"))?;
                let rate = match f.get("rate").as_str() {
                    "" => None,
                    s => Some(
                        s.parse::<f64>()
                            .map_err(|_| ServiceError::invalid("比例应为数字（如 30）"))?
                            / 100.0,
                    ),
                };
                let seed = match f.get("seed").as_str() {
                    "" => None,
                    s => Some(
                        s.parse::<i64>()
                            .map_err(|_| ServiceError::invalid("随机种子应为非负整数"))?,
                    ),
                };
                let (d, created) =
                    callbacks::draw(&state.ctx, &who, &region, year, rate, seed).await?;
                back_to = format!("{back_to}&draw={}", d.id);
                Ok(if created {
                    format!(
                        "已抽取 {} 件（第 {} 号，种子 {}）",
                        d.items.len(),
                        d.id,
                        d.seed
                    )
                } else {
                    format!("该地区、年度已抽取过，显示第 {} 号抽取", d.id)
                })
            }
            "record" => {
                let draw: i64 = f
                    .get("draw")
                    .parse()
                    .map_err(|_| ServiceError::invalid("抽取编号无效"))?;
                let r = parse_result(&f.get("result"))?;
                let case = f.get("case");
                callbacks::record(&state.ctx, &who, draw, &case, r, &f.get("note")).await?;
                Ok(format!("已登记：案件 {case} 回访结果 {}", r.label()))
            }
            _ => Err(ServiceError::BadRequest("未知的操作".into())),
        }
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&back_to, result))
}

/// The drawn list as Excel, for the callback team's worksheet.
async fn export(State(state): State<AppState>, v: Viewer, Path(id): Path<i64>) -> PageResult {
    let who = v.0.authorize::<cap::Callbacks>()?;
    let d = callbacks::one(&state.ctx, &who, id).await?;
    let tree = state.ctx.tree().await?;
    let yes = |b: bool| if b { "是" } else { "否" };
    let rows = d
        .items
        .iter()
        .map(|item| {
            vec![
                Cell::Num((item.ord + 1) as f64),
                item.case.case_id.as_str().into(),
                item.case.region.as_str().into(),
                layout::region_name(&tree, &item.case.region).into(),
                item.case.date.as_str().into(),
                item.case.kind.as_str().into(),
                item.case.outcome.as_str().into(),
                yes(item.case.agreement).into(),
                yes(item.case.fulfilled).into(),
                item.result.map_or("待回访", |x| x.label()).into(),
                item.note.as_str().into(),
                item.called_by.clone().unwrap_or_default().into(),
                item.called_at.clone().unwrap_or_default().into(),
            ]
        })
        .collect();
    let headers = [
        "序号",
        "案件编号",
        "地区代码",
        "地区",
        "受理日期",
        "纠纷类型",
        "调解结果",
        "达成协议",
        "履行",
        "回访结果",
        "说明",
        "回访人",
        "回访时间",
    ];
    let bytes = xlsx::workbook(&v.0, "回访抽查", &headers, rows)?;
    Ok(xlsx::download(&format!("callbacks-{id}.xlsx"), bytes))
}

//! 整改清单 (issue 21): a region's problems of a year under 销号管理 —
//! opened from its 问题整改通知书, each with its plan, its steps and what is
//! late. The region files plans, progress and 销号 requests; the office
//! closes after its re-inspection or refuses with a reason.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back, urlencode};
use crate::kit::layout::{self, Frame};
use crate::kit::{PageResult, Viewer, fmt, pick_year};
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::rectify::{Action, Actor, State};
use pingan_service::rectify::{self, ItemView, StepInput};
use pingan_service::{ServiceError, cap};

pub fn routes() -> Router<AppState> {
    Router::new().route("/rectify/{code}", get(page).post(act))
}

#[derive(serde::Deserialize)]
struct RectifyQuery {
    year: Option<i32>,
}

fn step_form(code: &str, year: i32, id: i64, action: Action, fields: Markup) -> Markup {
    html! {
        form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) {
            input type="hidden" name="year" value=(year);
            input type="hidden" name="item" value=(id);
            input type="hidden" name="action" value=(action.code());
            (fields)
            button.btn.small.primary type="submit" { (action.label()) }
        }
    }
}

/// The forms the caller may use on an item in its state.
fn forms(code: &str, year: i32, v: &ItemView, actor: Actor) -> Markup {
    let i = &v.item;
    let text = |name: &str, label: &str, value: &str| {
        html! { label { (label) " " input type="text" name=(name) value=(value) maxlength="2000"; } }
    };
    html! {
        @match (actor, i.state) {
            (Actor::Region, State::Open | State::Planned) => {
                (step_form(code, year, i.id, Action::Plan, html! {
                    (text("unit", "责任单位", &i.unit))
                    (text("person", "责任人", &i.person))
                    (text("measures", "整改措施", &i.measures))
                    (text("target", "整改目标", &i.target))
                }))
                @if i.state == State::Planned {
                    (step_form(code, year, i.id, Action::Progress, text("note", "进展", "")))
                    (step_form(code, year, i.id, Action::Request, text("note", "整改情况", "")))
                }
            }
            (Actor::Office, State::Open | State::Planned) => {
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="item" value=(i.id);
                    input type="hidden" name="action" value="edit";
                    label { "问题 " input type="text" name="problem" value=(i.problem) maxlength="2000" style="width: min(40em, 100%)"; }
                    button.btn.small type="submit" { "修改问题" }
                }
            }
            (Actor::Office, State::Requested) => {
                (step_form(code, year, i.id, Action::Approve, html! {
                    label { "复查方式 "
                        select name="recheck" {
                            option value="document" { "书面复查" }
                            option value="on_site" { "实地复查" }
                            option value="indicator" { "指标达标" }
                        }
                    }
                    (text("note", "复查意见", ""))
                }))
                (step_form(code, year, i.id, Action::Refuse, text("note", "驳回理由", "")))
            }
            _ => {}
        }
    }
}

async fn page(
    AxState(state): AxState<AppState>,
    v: Viewer,
    flash: Flash,
    Path(code): Path<String>,
    Query(q): Query<RectifyQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Rectify>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let items = rectify::list(&state.ctx, &who, year, &code).await?;
    let tree = state.ctx.tree().await?;
    let name = tree
        .find(&code)
        .map_or(code.clone(), |i| tree.get(i).name.clone());
    let actor = rectify::acts_as(c);
    let counts = rectify::state_counts(&items);
    let body = html! {
        p.muted {
            "问题清单来自" a href=(format!("/report/{}?year={year}&kind=notice", urlencode(&code))) { "问题整改通知书" }
            "。被测评地区在 30 日内报送整改方案（责任单位、责任人、整改措施、整改目标），按期报告进展并申请销号；"
            "测评办复查后销号或驳回。每一步都记入审计日志。"
        }
        @if items.is_empty() {
            section.card {
                p { "本年度尚无问题清单。" }
                @if c.can(Cap::Notices) {
                    form method="post" action=(format!("/rectify/{}", urlencode(&code))) {
                        input type="hidden" name="year" value=(year);
                        input type="hidden" name="action" value="open";
                        button.btn.primary type="submit" id="rectify-open" { "从整改通知书生成问题清单" }
                    }
                }
            }
        } @else {
            p id="rectify-counts" {
                @for (k, (s, n)) in counts.iter().enumerate() {
                    @if k > 0 { "，" }
                    (s.label()) " " strong { (n) } " 项"
                }
            }
        }
        @for (k, it) in items.iter().enumerate() {
            section.card id=(format!("item-{}", it.item.id)) data-state=(it.item.state.code()) {
                h2 { (k + 1) ". " (it.item.problem) }
                p {
                    span class={"tag " (match it.item.state { State::Closed => "ok", State::Requested => "primary", State::Planned => "warn", State::Open => "info" })} { (it.item.state.label()) }
                    " 方案报送期限 " (it.item.plan_due) "，整改期限 " (it.item.deadline)
                    @if let Some(late) = it.overdue { " " span.tag.danger.overdue { (late) } }
                }
                @if !it.item.unit.is_empty() {
                    p { "责任单位：" (it.item.unit) "；责任人：" (it.item.person) "；整改措施：" (it.item.measures) "；整改目标：" (it.item.target) }
                }
                @if !it.steps.is_empty() {
                    table.data.compact {
                        thead { tr { th { "时间" } th { "办理" } th { "办理人" } th { "说明" } } }
                        tbody {
                            @for s in &it.steps {
                                tr {
                                    td { (fmt::local_time(&s.done_at)) }
                                    td { (s.action.parse::<Action>().map_or(s.action.as_str(), |a| a.label())) }
                                    td { (s.done_by) }
                                    td { (s.note) }
                                }
                            }
                        }
                    }
                }
                (forms(&code, year, it, actor))
            }
        }
        @if c.can(Cap::Notices) {
            section.card id="rectify-add" {
                h2 { "添加问题" }
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(&code))) {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="action" value="add";
                    label { "问题 " input type="text" name="problem" maxlength="2000" style="width: min(40em, 100%)" required; }
                    button.btn.small.primary type="submit" { "添加到问题清单" }
                }
            }
        }
    };
    let title = format!("{name}{year}年整改清单");
    Ok(layout::page(
        Frame {
            caller: c,
            title: &title,
            active: "/",
            crumbs: vec![
                (
                    name.clone(),
                    Some(format!("/region/{}?period={year}", urlencode(&code))),
                ),
                ("整改清单".into(), None),
            ],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

async fn act(
    AxState(state): AxState<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    body: String,
) -> PageResult {
    let who = v.0.authorize::<cap::Rectify>()?;
    let f = Fields::parse(&body);
    // Opening the list is the office's.
    let office = match f.get("action").as_str() {
        "open" | "add" | "edit" => Some(v.0.authorize::<cap::Notices>()?),
        _ => None,
    };
    let (shown, year) = super::report::form_year(&f.get("year"));
    let to = format!(
        "/rectify/{}?{}",
        urlencode(&code),
        shown.trim_end_matches('&')
    );
    let result = async {
        let year = year?;
        if let Some(office) = &office {
            return match f.get("action").as_str() {
                "open" => {
                    let n = rectify::open_from_notice(&state.ctx, office, year, &code).await?;
                    Ok(format!("已生成问题清单 {n} 项"))
                }
                "add" => {
                    rectify::add_manual(&state.ctx, office, year, &code, &f.get("problem")).await?;
                    Ok("已添加问题".into())
                }
                _ => {
                    let id: i64 = f
                        .get("item")
                        .parse()
                        .map_err(|_| ServiceError::invalid("整改事项编号无效"))?;
                    rectify::edit_problem(&state.ctx, office, id, &f.get("problem")).await?;
                    Ok("已修改问题".into())
                }
            };
        }
        let id: i64 = f
            .get("item")
            .parse()
            .map_err(|_| ServiceError::invalid("整改事项编号无效"))?;
        let input = StepInput {
            note: f.get("note"),
            recheck: f.get("recheck"),
            unit: f.get("unit"),
            person: f.get("person"),
            measures: f.get("measures"),
            target: f.get("target"),
        };
        let action = f.get("action");
        let step = rectify::act(&state.ctx, &who, id, &action, &input).await?;
        let label = action.parse::<Action>().map_or("办理", |a| a.label());
        Ok(format!(
            "已{label}（{}）",
            step.state.parse::<State>().map_or("", |s| s.label())
        ))
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

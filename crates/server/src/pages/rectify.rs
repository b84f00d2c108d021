//! 整改清单 (issue 21): a region's problems of a year under 销号管理 —
//! opened from its 问题整改通知书, each with its plan, its steps and what is
//! late. The region files plans, progress and 销号 requests; the office
//! closes after its re-inspection or refuses with a reason.

use crate::AppState;
use crate::kit::forms::{Flash, back, urlencode};
use crate::kit::layout::{self, Frame};
use crate::kit::upload::AnyForm;
use crate::kit::{PageResult, Viewer, fmt, pick_year, xlsx};
use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::rectify::{Action, Actor, Recheck, State};
use pingan_service::rectify::{self, ItemView, StepInput};
use pingan_service::rectify_checks;
use pingan_service::{ServiceError, cap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rectify/{code}", get(page).post(act))
        .route("/rectify/file/{id}", get(file))
}

#[derive(serde::Deserialize)]
struct RectifyQuery {
    year: Option<i32>,
}

fn step_form(code: &str, year: i32, id: i64, action: Action, fields: Markup) -> Markup {
    html! {
        form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) enctype="multipart/form-data" {
            input type="hidden" name="year" value=(year);
            input type="hidden" name="item" value=(id);
            input type="hidden" name="action" value=(action.code());
            (fields)
            button.btn.small.primary type="submit" { (action.label()) }
        }
    }
}

fn evidence() -> Markup {
    html! {
        label { "佐证材料（图片、PDF、Word、Excel，每个不超过 10 MB，最多 5 个） "
            input type="file" name="evidence" multiple accept=".jpg,.jpeg,.png,.webp,.pdf,.docx,.xlsx"; }
    }
}

/// The forms the caller may use on an item in its state; `others` are the
/// items it may take in by merging (number, label).
fn forms(code: &str, year: i32, v: &ItemView, actor: Actor, others: &[(i64, String)]) -> Markup {
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
                    @if !i.indicator.is_empty() {
                        label { "指标目标值（达到即自动销号） " input type="text" name="target_value" inputmode="decimal" size="8"
                            value=(i.target_value.map(|v| v.to_string()).unwrap_or_default()); }
                    }
                }))
                @if i.state == State::Planned {
                    (step_form(code, year, i.id, Action::Progress, html! { (text("note", "进展", "")) (evidence()) }))
                    (step_form(code, year, i.id, Action::Request, html! { (text("note", "整改情况", "")) (evidence()) }))
                }
            }
            (Actor::Office, State::Open | State::Planned) => {
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) enctype="multipart/form-data" {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="item" value=(i.id);
                    input type="hidden" name="action" value="edit";
                    label { "问题 " input type="text" name="problem" value=(i.problem) maxlength="2000" style="width: min(40em, 100%)"; }
                    button.btn.small type="submit" { "修改问题" }
                }
                @if !others.is_empty() {
                    form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) enctype="multipart/form-data" {
                        input type="hidden" name="year" value=(year);
                        input type="hidden" name="item" value=(i.id);
                        input type="hidden" name="action" value="merge";
                        label { "将问题 " select name="from" { @for (id, n) in others { option value=(id) { (n) } } } " 并入本问题" }
                        button.btn.small type="submit" { "合并" }
                    }
                }
            }
            (Actor::Office, State::Requested) => {
                (step_form(code, year, i.id, Action::Approve, html! {
                    label { "复查方式 "
                        select name="recheck" {
                            option value="document" { "书面复查" }
                            option value="on_site" { "实地复查" }
                        }
                    }
                    label { "实地核查任务编号（实地复查时填） " input type="text" name="field_task" inputmode="numeric" size="6"; }
                    (text("note", "复查意见", ""))
                }))
                (step_form(code, year, i.id, Action::Refuse, text("note", "驳回理由", "")))
                @if !i.indicator.is_empty() {
                    form.inline-form method="post" action=(format!("/rectify/{}", urlencode(code))) {
                        input type="hidden" name="year" value=(year);
                        input type="hidden" name="item" value=(i.id);
                        input type="hidden" name="action" value="field";
                        button.btn.small type="submit" { "发起实地复查（生成核查任务）" }
                    }
                }
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
                    form method="post" action=(format!("/rectify/{}", urlencode(&code))) enctype="multipart/form-data" {
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
                                    td {
                                        (s.action.parse::<Action>().map_or(s.action.as_str(), |a| a.label()))
                                        @if let Ok(r) = s.recheck.parse::<Recheck>() {
                                            "（" (r.label())
                                            @if let Some(t) = s.field_task { "，核查任务 " (t) }
                                            "）"
                                        }
                                    }
                                    td { (s.done_by) }
                                    td { (s.note) }
                                }
                            }
                        }
                    }
                }
                @if !it.files.is_empty() {
                    p.evidence-files { "佐证材料："
                        @for (k, f) in it.files.iter().enumerate() {
                            @if k > 0 { "、" }
                            a href=(format!("/rectify/file/{}", f.id)) { (f.file_name) } " (" (format!("{:.0} KB", (f.size as f64 / 1024.0).ceil())) ")"
                        }
                    }
                }
                @let others: Vec<(i64, String)> = items.iter().enumerate()
                    .filter(|(_, o)| o.item.id != it.item.id && o.item.state != State::Closed)
                    .map(|(n, o)| (o.item.id, format!("{}. {}", n + 1, o.item.problem.chars().take(24).collect::<String>())))
                    .collect();
                (forms(&code, year, it, actor, &others))
            }
        }
        @if c.can(Cap::Notices) {
            section.card id="rectify-add" {
                h2 { "添加问题" }
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(&code))) enctype="multipart/form-data" {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="action" value="checks";
                    button.btn.small type="submit" id="rectify-checks" { "从数据质量、实地核查和群众调查补充问题" }
                }
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(&code))) enctype="multipart/form-data" {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="action" value="auto";
                    button.btn.small type="submit" id="rectify-auto" { "按后续年度指标自动复查" }
                }
                form.inline-form method="post" action=(format!("/rectify/{}", urlencode(&code))) enctype="multipart/form-data" {
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
    form: AnyForm,
) -> PageResult {
    let who = v.0.authorize::<cap::Rectify>()?;
    let files = form.files("evidence");
    let f = form.fields;
    // Opening, adding, rewording and merging are the office's.
    let office = match f.get("action").as_str() {
        "open" | "add" | "edit" | "merge" | "checks" | "auto" | "field" => {
            Some(v.0.authorize::<cap::Notices>()?)
        }
        _ => None,
    };
    let (shown, year) = super::report::form_year(&f.get("year"));
    let to = format!(
        "/rectify/{}?{}",
        urlencode(&code),
        shown.trim_end_matches('&')
    );
    let item_id = || -> Result<i64, ServiceError> {
        f.get("item")
            .parse()
            .map_err(|_| ServiceError::invalid("整改事项编号无效"))
    };
    let result = async {
        let year = year?;
        if let Some(office) = &office {
            let ctx = &state.ctx;
            return match f.get("action").as_str() {
                "open" => {
                    let n = rectify::open_from_notice(ctx, office, year, &code).await?;
                    Ok(format!("已生成问题清单 {n} 项"))
                }
                "add" => {
                    rectify::add_manual(ctx, office, year, &code, &f.get("problem")).await?;
                    Ok("已添加问题".into())
                }
                "checks" => {
                    let n = rectify_checks::add_from_checks(ctx, office, year, &code).await?;
                    Ok(if n == 0 {
                        "数据质量、实地核查和群众调查没有发现清单以外的问题".into()
                    } else {
                        format!("已从数据质量、实地核查和群众调查补充问题 {n} 项")
                    })
                }
                "auto" => {
                    let done = rectify_checks::auto_recheck(ctx, office, year).await?;
                    Ok(format!("按后续年度指标复查：自动销号 {} 项", done.len()))
                }
                "field" => {
                    let t = rectify_checks::field_recheck(ctx, office, item_id()?).await?;
                    Ok(format!(
                        "已生成实地核查任务 {}：核查组完成并关闭任务后，选择“实地复查”并填写任务编号 {} 同意销号",
                        t.id, t.id
                    ))
                }
                "merge" => {
                    let from: i64 = f
                        .get("from")
                        .parse()
                        .map_err(|_| ServiceError::invalid("请选择要合并的问题"))?;
                    rectify::merge(ctx, office, item_id()?, from, &f.get("problem")).await?;
                    Ok("已合并问题".into())
                }
                _ => {
                    rectify::edit_problem(ctx, office, item_id()?, &f.get("problem")).await?;
                    Ok("已修改问题".into())
                }
            };
        }
        let input = StepInput {
            note: f.get("note"),
            recheck: f.get("recheck"),
            unit: f.get("unit"),
            person: f.get("person"),
            measures: f.get("measures"),
            target: f.get("target"),
            target_value: f.get("target_value"),
            field_task: f.get("field_task"),
            files,
        };
        let action = f.get("action");
        let step = rectify::act(&state.ctx, &who, item_id()?, &action, &input).await?;
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

/// An evidence file, to those who may see its item.
async fn file(AxState(state): AxState<AppState>, v: Viewer, Path(id): Path<i64>) -> PageResult {
    let who = v.0.authorize::<cap::Rectify>()?;
    let (meta, bytes) = rectify::file(&state.ctx, &who, id).await?;
    // The type was judged from the content when kept; judge it again.
    let mime = pingan_core::rectify::evidence_type(&bytes).unwrap_or("application/octet-stream");
    Ok(xlsx::download_as(&meta.file_name, mime, bytes))
}

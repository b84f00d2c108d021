//! 数据审核 (seed §3.3 三级审核): the data sets waiting for the caller's
//! level, batch pass or return, one set's values and history, and the
//! office's unlock. The rules and the scope are the API's (`crate::review`).

use crate::AppState;
use crate::kit::fmt::local_time;
use crate::kit::forms::{Fields, Flash, back, some, urlencode};
use crate::kit::{Frame, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::labels::ValueState;
use pingan_core::review::{ALL_STATES, Action, EventKind, SetKey, State as SetState};
use pingan_service::review::{self, SetQuery, actions_for, default_state};
use pingan_service::{Caller, cap, structure};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(page).post(action))
        .route("/review/set", get(set_page))
}

const PAGE: usize = 100;

/// A state as a coloured tag.
pub fn state_tag(s: SetState) -> Markup {
    let class = match s {
        SetState::Approved => "tag ok",
        SetState::Returned | SetState::Unlocked => "tag warn",
        _ => "tag primary",
    };
    html! { span class=(class) { (s.label()) } }
}

#[derive(serde::Deserialize, Default)]
pub struct ReviewQuery {
    pub state: Option<String>,
    pub department: Option<String>,
    pub period: Option<String>,
    pub year: Option<i32>,
    pub region: Option<String>,
    pub page: Option<usize>,
}

fn key_value(k: &SetKey) -> String {
    format!("{}|{}|{}", k.department, k.region, k.period)
}

fn set_link(k: &SetKey) -> String {
    format!(
        "/review/set?department={}&region={}&period={}",
        urlencode(&k.department),
        urlencode(&k.region),
        urlencode(&k.period)
    )
}

fn action_form(c: &Caller, actions: &[Action], back: &str, hidden: Markup) -> Markup {
    html! {
        @if !actions.is_empty() {
            div.inline id="review-actions" {
                (hidden)
                input type="hidden" name="back" value=(back);
                label for="r-reason" { "原因" }
                input type="text" id="r-reason" name="reason" size="30" placeholder="退回、解锁时必填";
                @for a in actions {
                    button class={"btn" @if *a == Action::Pass { " primary" } @if *a == Action::Unlock { " danger" }}
                        type="submit" name="action" value=(a.code()) { (a.label()) }
                }
            }
            @if c.can(Cap::Unlock) {
                p.muted { "测评办管理员不参与三级审核；可解锁已锁定的数据集（须注明原因；解锁记入操作日志，由审计管理员和监督小组查阅），或代部门重新报送。" }
            }
        }
    }
}

/// GET /review: the sets in scope, filtered, with batch actions.
async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<ReviewQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Values>()?;
    // `state=all` shows every state; no parameter means the caller's level.
    let chosen = match some(&q.state).as_deref() {
        Some("all") => None,
        Some(s) => Some(
            s.parse::<SetState>()
                .map_err(pingan_service::ServiceError::Invalid)?,
        ),
        None => default_state(c),
    };
    let years = state
        .ctx
        .years()
        .await
        .map(|y| y.as_ref().clone())
        .unwrap_or_default();
    let sq = SetQuery::parse(
        q.year,
        some(&q.period).as_deref(),
        some(&q.department).as_deref(),
        chosen.map(|s| s.code()),
        some(&q.region).as_deref(),
    )?;
    let sets = review::list(&state.ctx, &who, &sq).await?;
    let tree = state.ctx.tree().await?;
    let fw = structure::known_codes(&state.ctx).await?;
    let mut departments: Vec<String> = fw
        .elements
        .iter()
        .map(|e| e.department.clone())
        .filter(|d| !d.is_empty() && c.element_allowed(d))
        .collect();
    departments.sort();
    departments.dedup();
    let link = |p: usize| {
        let mut s = format!(
            "/review?page={p}&state={}",
            chosen.map(|s| s.code()).unwrap_or("all")
        );
        for (k, v) in [
            ("department", some(&q.department)),
            ("period", some(&q.period)),
            ("region", some(&q.region)),
            ("year", q.year.map(|y| y.to_string())),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("&{k}={}", urlencode(&v)));
            }
        }
        s
    };
    let pages = sets.len().div_ceil(PAGE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    let shown = &sets[(page_no - 1) * PAGE..(page_no * PAGE).min(sets.len())];
    let actions = actions_for(c, chosen);
    let here = link(page_no);
    let banner = flash.0;
    let body = html! {
        (card("筛选", None, html! {
            form.inline method="get" action="/review" id="set-filter" {
                label for="s-state" { "状态" }
                select id="s-state" name="state" {
                    option value="all" selected[chosen.is_none()] { "全部" }
                    @for s in ALL_STATES {
                        option value=(s.code()) selected[chosen == Some(s)] { (s.label()) }
                    }
                }
                label for="s-dept" { "部门" }
                select id="s-dept" name="department" {
                    option value="" { "全部" }
                    @for d in &departments {
                        option value=(d) selected[some(&q.department).as_deref() == Some(d.as_str())] { (d) }
                    }
                }
                label for="s-period" { "期间" }
                input type="text" id="s-period" name="period" size="8" value=[some(&q.period)] placeholder="如 2024-06";
                label for="s-year" { "年度" }
                select id="s-year" name="year" {
                    option value="" { "全部" }
                    @for y in years.iter().rev() {
                        option value=(y) selected[q.year == Some(*y)] { (y) }
                    }
                }
                label for="s-region" { "地区代码" }
                input type="text" id="s-region" name="region" size="10" value=[some(&q.region)];
                button.btn.primary type="submit" { "查询" }
            }
            p.muted {
                "报送的数据按“部门 × 地区 × 期间”成为一个数据集，依次经过一级审核（数据采集组）、二级审核（实地核查组）、三级审核（专家评审组），通过后锁定并计入正式得分；任何一级都可以注明原因退回报送部门。同一人不能审核同一数据集的两个级别。"
            }
        }))
        (card(&format!("数据集（共 {} 个）", sets.len()), None, html! {
            @if sets.is_empty() {
                div.empty { "没有符合条件的数据集" }
            } @else {
                form method="post" action="/review" id="review-batch" data-confirm="对所选数据集执行所选审核操作？审核通过的数据集将锁定并计入正式得分。" {
                    div.table-wrap {
                        table.data id="sets" {
                            thead { tr {
                                @if !actions.is_empty() { th { input type="checkbox" id="select-all" title="全选本页"; } }
                                th { "部门" } th { "地区" } th { "期间" } th { "状态" } th { "报送" } th { "最近操作" } th { "原因" } th { "" }
                            } }
                            tbody {
                                @for d in shown {
                                    tr data-state=(d.state.code()) {
                                        @if !actions.is_empty() {
                                            td { input type="checkbox" name="set" value=(key_value(&d.key)); }
                                        }
                                        td { (d.key.department) }
                                        td { (layout::region_name(&tree, &d.key.region)) br; span.muted { (d.key.region) } }
                                        td { (d.key.period) }
                                        td { (state_tag(d.state)) }
                                        td { (d.submitted_by) br; span.muted { (local_time(&d.submitted_at)) } }
                                        td { (d.updated_by) br; span.muted { (fmt::local_time(&d.updated_at)) } }
                                        td.reason { (d.reason) }
                                        td { a href=(set_link(&d.key)) { "查看" } }
                                    }
                                }
                            }
                        }
                    }
                    @if !actions.is_empty() {
                        (action_form(c, &actions, &here, html! {}))
                        p.muted { "对勾选的数据集执行同一操作；任何一个不能执行时，全部不执行并列出原因。" }
                    }
                }
                @if pages > 1 {
                    div.pager {
                        "第 " (page_no) " / " (pages) " 页"
                        @if page_no > 1 { a.btn.small href=(link(page_no - 1)) { "上一页" } }
                        @if page_no < pages { a.btn.small href=(link(page_no + 1)) { "下一页" } }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "数据审核", "/review").banner(banner),
        body,
    ))
}

#[derive(serde::Deserialize)]
pub struct SetPath {
    pub department: String,
    pub region: String,
    pub period: String,
}

/// GET /review/set: one set, its values with their review state, its
/// history, and the actions the caller may take.
async fn set_page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<SetPath>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Values>()?;
    let key = SetKey {
        department: q.department.clone(),
        region: q.region.clone(),
        period: q.period.clone(),
    };
    let d = review::detail(&state.ctx, &who, &key).await?;
    let tree = state.ctx.tree().await?;
    let fw = structure::known_codes(&state.ctx).await?;
    let element = |code: &str| {
        fw.element_index(code)
            .map(|e| fw.elements[e].name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let actions = actions_for(c, Some(d.set.state));
    let here = set_link(&key);
    let banner = flash.0;
    let s = &d.set;
    let body = html! {
        (card("数据集", None, html! {
            dl.kv {
                dt { "部门" } dd { (s.key.department) }
                dt { "地区" } dd { (layout::region_name(&tree, &s.key.region)) "（" (s.key.region) "）" }
                dt { "期间" } dd { (s.key.period.parse::<pingan_core::Period>().map_or(s.key.period.clone(), |p| p.label())) }
                dt { "状态" } dd id="set-state" { (state_tag(s.state)) }
                @if s.state == SetState::Approved {
                    dt { "锁定" } dd id="lock-reason" {
                        "经一级 " (s.level1_by.clone().unwrap_or_default())
                        "、二级 " (s.level2_by.clone().unwrap_or_default())
                        "、三级 " (s.level3_by.clone().unwrap_or_default())
                        " 审核，于 " (fmt::local_time(&s.updated_at)) " 确认并锁定；数据已计入正式得分，修改须由测评办管理员解锁（注明原因）。"
                    }
                }
                @if !s.reason.is_empty() {
                    dt { "原因" } dd.reason { (s.reason) }
                }
                dt { "报送" } dd { (s.submitted_by) "，" (local_time(&s.submitted_at)) }
            }
            @if !actions.is_empty() {
                form method="post" action="/review" id="review-one" {
                    (action_form(c, &actions, &here, html! {
                        input type="hidden" name="set" value=(key_value(&s.key));
                    }))
                }
            }
        }))
        (card("数据", None, html! {
            @if d.values.is_empty() {
                div.empty { "没有数据" }
            } @else {
                div.table-wrap {
                    table.data id="set-values" {
                        thead { tr { th { "数据项" } th { "来源" } th.num { "数值" } th { "审核" } th { "报送人" } th { "时间" } th { "备注" } } }
                        tbody {
                            @for x in &d.values {
                                tr {
                                    td { (element(&x.element)) br; span.muted { (x.element) } }
                                    td { @if x.source.is_empty() { "（未注明）" } @else { (x.source) } }
                                    td.num { (pingan_core::num::fmt_num(x.value, 6)) }
                                    td { @if x.review == ValueState::Approved.code() { span.tag.ok { (ValueState::Approved.label()) } } @else { span.tag.primary { (ValueState::Pending.label()) } } }
                                    td { (x.submitted_by) }
                                    td { (local_time(&x.submitted_at)) }
                                    td { (x.note) }
                                }
                            }
                        }
                    }
                }
            }
        }))
        @if !d.field.is_empty() {
            (card("实地核查", None, html! {
                table.data id="set-field" {
                    thead { tr { th { "数据项" } th.num { "报送值" } th { "核查值" } th { "差异" } } }
                    tbody {
                        @for f in &d.field {
                            tr {
                                td { (f.element_name) }
                                td.num { (f.reported.map(|v| pingan_core::num::fmt_num(v, 6)).unwrap_or_else(|| "—".into())) }
                                td { @for (team, v) in &f.observed { (team) "：" (pingan_core::num::fmt_num(*v, 6)) " " } }
                                td {
                                    @if let Some(x) = f.difference { (format!("{:.1}%", x * 100.0)) }
                                    @if f.over_tolerance { " " span.tag.danger { "超过 10%，请核实" } }
                                }
                            }
                        }
                    }
                }
            }))
        }
        (card("审核记录", None, html! {
            table.data id="set-history" {
                thead { tr { th { "时间" } th { "操作人" } th { "操作" } th { "状态变化" } th { "原因" } } }
                tbody {
                    @for e in &d.events {
                        tr {
                            td { (fmt::local_time(&e.at)) }
                            td { (e.user) }
                            td { (e.action.parse::<EventKind>().map(EventKind::label).unwrap_or("其他")) }
                            td {
                                (e.from_state.parse::<SetState>().map(|s| s.label()).unwrap_or("—"))
                                " → "
                                (e.to_state.parse::<SetState>().map(|s| s.label()).unwrap_or(""))
                            }
                            td.reason { (e.reason) }
                        }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "数据集审核",
            active: "/review",
            crumbs: vec![
                ("数据审核".into(), Some("/review".into())),
                (
                    format!(
                        "{} {} {}",
                        s.key.department,
                        layout::region_name(&tree, &s.key.region),
                        s.key.period
                    ),
                    None,
                ),
            ],
            pickers: None,
            banner,
        },
        body,
    ))
}

/// POST /review: one action over the checked sets; back to the page it
/// came from with the outcome.
async fn action(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let f = Fields::parse(&body);
    // Only our own pages: never redirect elsewhere.
    let back_to = f.get("back");
    let back_to = if back_to.starts_with("/review") && !back_to.starts_with("//") {
        back_to
    } else {
        "/review".to_string()
    };
    let keys: Vec<SetKey> = f
        .all("set")
        .iter()
        .filter_map(|v| {
            let mut parts = v.splitn(3, '|');
            Some(SetKey {
                department: parts.next()?.to_string(),
                region: parts.next()?.to_string(),
                period: parts.next()?.to_string(),
            })
        })
        .collect();
    let outcome = match f.get("action").parse::<Action>() {
        Err(e) => Err(e),
        Ok(_) if keys.is_empty() => Err("请先勾选数据集".to_string()),
        Ok(a) => match c.authorize::<cap::Review>() {
            Err(e) => Err(e.to_string()),
            Ok(who) => review::apply(&state.ctx, &who, &keys, a, &f.get("reason"))
                .await
                .map(|s| {
                    let mut m = format!("已{} {} 个数据集", a.label(), s.sets);
                    if s.approved_values > 0 {
                        m.push_str(&format!(
                            "，{} 个数据已计入正式得分（重算 {}）",
                            s.approved_values,
                            s.rescored.join("、")
                        ));
                    }
                    m
                })
                .map_err(|e| e.to_string()),
        },
    };
    Ok(back(&back_to, outcome))
}

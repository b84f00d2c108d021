//! 实地核查 (§5.3): the task list with the forms that create tasks by hand
//! or by a random draw, and one task's page where the verification group
//! records a visit (two verifiers, checklist, observed values, position,
//! photos) and sees reported beside observed values.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back, some};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::labels::{TaskOrigin, TaskStatus};
use pingan_service::field::{self, DrawInput, TaskInput};
use pingan_service::{cap, structure};

mod task;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verify", get(page).post(action))
        .route("/verify/{id}", get(task::detail).post(task::submit))
}

pub(super) fn status_tag(s: TaskStatus) -> Markup {
    let class = match s {
        TaskStatus::Open => "tag warn",
        TaskStatus::Recorded => "tag primary",
        TaskStatus::Closed => "tag ok",
    };
    html! { span class=(class) { (s.label()) } }
}

#[derive(serde::Deserialize, Default)]
pub struct VerifyQuery {
    pub status: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub origin: Option<String>,
}

fn elements_of(s: &str) -> Vec<String> {
    s.split([',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// (department, code, name) of an element, for the task forms.
type ElementOption = (String, String, String);

/// A multiple choice of elements, one group per department.
fn element_select(id: &str, options: &[ElementOption]) -> Markup {
    let mut groups: Vec<(&str, Vec<&ElementOption>)> = Vec::new();
    for o in options {
        match groups.last_mut() {
            Some((d, v)) if *d == o.0.as_str() => v.push(o),
            _ => groups.push((o.0.as_str(), vec![o])),
        }
    }
    // Checkboxes by department in a scrolling box: ~80 elements are not
    // usable as a multi-select that needs Ctrl.
    html! {
        div.element-picker id=(id) {
            @for (dept, items) in &groups {
                fieldset {
                    legend { (if dept.is_empty() { "（未指定部门）" } else { dept }) }
                    @for (_, code, name) in items {
                        label { input type="checkbox" name="elements" value=(code); " " (name) }
                    }
                }
            }
        }
    }
}

/// GET /verify
async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<VerifyQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::FieldRead>()?;
    let tq = crate::api::task_query(
        some(&q.status).as_deref(),
        some(&q.period).as_deref(),
        some(&q.region).as_deref(),
        some(&q.origin).as_deref(),
    )
    .map_err(|e| PageError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.message))?;
    let tasks = field::list(&state.ctx, &who, &tq).await?;
    let tree = state.ctx.tree().await?;
    let latest = state
        .ctx
        .latest_year()
        .await
        .map(|y| y.to_string())
        .unwrap_or_default();
    // Every element, grouped by department, for the task forms.
    let fw = structure::known_codes(&state.ctx).await?;
    let mut options: Vec<ElementOption> = fw
        .elements
        .iter()
        .map(|e| (e.department.clone(), e.code.clone(), e.name.clone()))
        .collect();
    options.sort();
    let name = |code: &str| {
        tree.find(code)
            .map(|i| tree.get(i).name.clone())
            .unwrap_or_default()
    };
    let body = html! {
        @if c.can(Cap::Field) {
            div.grid {
                (card("新建核查任务", None, html! {
                    form.stack method="post" action="/verify" id="new-task" {
                        input type="hidden" name="op" value="create";
                        label for="n-region" { "地区代码" }
                        (crate::kit::forms::period_options("period-options", latest.parse().ok()))
                        (crate::kit::forms::region_options("region-options", &tree, c))
                        input type="text" id="n-region" name="region" required list="region-options" value=[c.region.clone()] placeholder="地区代码（可输入名称查找）";
                        label for="n-period" { "期间" }
                        input type="text" id="n-period" name="period" required list="period-options" value=(latest) placeholder="2024 或 2024-06";
                        label for="n-elements" { "核查数据项（按部门分组，可勾选多项）" }
                        (element_select("n-elements", &options))
                        label for="n-note" { "说明" }
                        input type="text" id="n-note" name="note";
                        button.btn.primary type="submit" { "创建" }
                    }
                }))
                (card("随机抽取", None, html! {
                    form.stack method="post" action="/verify" id="draw-tasks" {
                        input type="hidden" name="op" value="draw";
                        label for="d-period" { "期间" }
                        input type="text" id="d-period" name="period" required list="period-options" value=(latest);
                        label for="d-count" { "抽取基层地区数" }
                        input type="number" id="d-count" name="count" min="1" max="1000" value="5" required;
                        label for="d-elements" { "核查数据项（可多选）" }
                        (element_select("d-elements", &options))
                        label for="d-seed" { "随机种子（相同种子抽取结果相同，默认为年度）" }
                        input type="number" id="d-seed" name="seed" min="0";
                        label for="d-region" { "在此地区内抽取（默认本账户范围）" }
                        input type="text" id="d-region" name="region" list="region-options" value=[c.region.clone()];
                        button.btn.primary type="submit" { "抽取并生成任务" }
                    }
                }))
            }
        }
        (card("筛选", None, html! {
            form.inline method="get" action="/verify" id="task-filter" {
                label for="f-status" { "状态" }
                select id="f-status" name="status" {
                    option value="" { "全部" }
                    @for st in TaskStatus::ALL {
                        option value=(st.code()) selected[some(&q.status).as_deref() == Some(st.code())] { (st.label()) }
                    }
                }
                label for="f-origin" { "来源" }
                select id="f-origin" name="origin" {
                    option value="" { "全部" }
                    @for o in TaskOrigin::ALL {
                        option value=(o.code()) selected[some(&q.origin).as_deref() == Some(o.code())] { (o.label()) }
                    }
                }
                label for="f-period" { "期间" }
                input type="text" id="f-period" name="period" size="8" value=[some(&q.period)];
                label for="f-region" { "地区代码" }
                input type="text" id="f-region" name="region" size="10" value=[some(&q.region)];
                button.btn.primary type="submit" { "查询" }
            }
            p.muted { "每个任务须由两名实地核查组成员共同完成（双人核查），逐项填写核查清单、实地核查值和现场位置，并上传照片。不同核查组对同一地区同一数据项的核查值相差超过 10% 时，自动生成复核任务。" }
        }))
        (card(&format!("核查任务（共 {} 个）", tasks.len()), None, html! {
            @if tasks.is_empty() {
                div.empty { "没有核查任务" }
            } @else {
                div.table-wrap {
                    table.data id="tasks" data-page-size="50" {
                        thead { tr { th { "编号" } th { "地区" } th { "期间" } th { "数据项" } th { "来源" } th { "状态" } th { "创建" } th { "" } } }
                        tbody {
                            @for t in &tasks {
                                tr data-origin=(t.origin.code()) {
                                    td { (t.id) }
                                    td { (name(&t.region)) br; span.muted { (t.region) } }
                                    td { (t.period.parse::<pingan_core::Period>().map_or(t.period.clone(), |p| p.label())) }
                                    td { (t.elements.iter().map(|e| fw.element_index(e).map_or(e.as_str(), |i| fw.elements[i].name.as_str())).collect::<Vec<_>>().join("、")) }
                                    td { (t.origin.label()) }
                                    td { (status_tag(t.status)) }
                                    td { (t.created_by) br; span.muted { (fmt::local_time(&t.created_at)) } }
                                    td { a href=(format!("/verify/{}", t.id)) { "查看" } }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "实地核查", "/verify").banner(flash.0),
        body,
    ))
}

/// POST /verify: create a task, draw tasks, or make one from a flag.
async fn action(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Field>()?;
    let f = Fields::parse(&body);
    // A multiple choice sends `elements` once per element chosen.
    let chosen: Vec<String> = f
        .all("elements")
        .iter()
        .flat_map(|v| elements_of(v))
        .collect();
    let get = |k: &str| f.get(k);
    Ok(match get("op").as_str() {
        "create" => {
            let r = field::create(
                &state.ctx,
                &who,
                TaskInput {
                    region: get("region"),
                    period: get("period"),
                    elements: chosen.clone(),
                    checklist: Vec::new(),
                    note: get("note"),
                },
            )
            .await;
            match r {
                Ok(t) => back(
                    &format!("/verify/{}", t.id),
                    Ok(format!("已创建核查任务 {}", t.id)),
                ),
                Err(e) => back("/verify", Err(e.to_string())),
            }
        }
        "draw" => {
            let count = get("count").parse::<usize>().unwrap_or(0);
            let seed = match get("seed").as_str() {
                "" => None,
                s => match s.parse::<u64>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        return Ok(back("/verify", Err(format!("随机种子“{s}”不是非负整数"))));
                    }
                },
            };
            let r = field::draw(
                &state.ctx,
                &who,
                DrawInput {
                    period: get("period"),
                    count,
                    elements: chosen.clone(),
                    seed,
                    region: Some(get("region")).filter(|r| !r.is_empty()),
                    checklist: Vec::new(),
                },
            )
            .await;
            back(
                "/verify",
                r.map(|d| {
                    format!(
                        "种子 {}：从 {} 个基层地区中抽取 {} 个，生成核查任务 {}",
                        d.seed,
                        d.candidates,
                        d.regions.len(),
                        d.tasks
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join("、")
                    )
                })
                .map_err(|e| e.to_string()),
            )
        }
        "from_flag" => {
            let id = get("flag").parse::<i64>().unwrap_or(0);
            match field::from_flag(&state.ctx, &who, id, "").await {
                Ok(t) if t.created => back(
                    &format!("/verify/{}", t.task.id),
                    Ok(format!("已根据问题 {id} 生成核查任务 {}", t.task.id)),
                ),
                Ok(t) => back(
                    &format!("/verify/{}", t.task.id),
                    Ok(format!("问题 {id} 已有未关闭的核查任务 {}", t.task.id)),
                ),
                Err(e) => back(&format!("/quality/{id}"), Err(e.to_string())),
            }
        }
        _ => return Err(PageError::bad_request("未知的操作")),
    })
}

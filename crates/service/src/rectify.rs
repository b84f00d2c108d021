//! The 整改清单 of a region's year (issue 21): opened from its 问题整改通知书
//! — one item per problem the notice names — and worked under 销号管理 by
//! the state machine of `pingan_core::rectify`: the region plans, reports
//! progress and asks for 销号; the office closes after its re-inspection or
//! refuses. Each step is stored with its ledger entry.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, Caller, cap, report};
use pingan_core::access::Cap;
use pingan_core::rectify::{self, Action, Actor, Recheck, State};
use pingan_core::report::notice::{PROBLEMS, problem_items};
use pingan_store::{FileMeta, Item, NewItem, NewStep, Plan, Step};

/// The longest text of a field (characters).
const MAX_FIELD: usize = 2_000;

/// An item with its steps and whether it is late today.
pub struct ItemView {
    pub item: Item,
    pub overdue: Option<&'static str>,
    pub steps: Vec<Step>,
    pub files: Vec<FileMeta>,
}

/// Who the caller acts as on items: the office, or the region's officials.
pub fn acts_as(c: &Caller) -> Actor {
    if c.can(Cap::Notices) {
        Actor::Office
    } else {
        Actor::Region
    }
}

fn today() -> String {
    report::beijing(&pingan_store::now()).0
}

/// The items of `code`'s year, in the caller's scope.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Rectify>,
    year: i32,
    code: &str,
) -> Result<Vec<ItemView>> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    let today = today();
    let mut out = Vec::new();
    for item in ctx.store.rectify_items(year, Some(code)).await? {
        // A problem merged into another lives on in that one's words.
        if item.merged_into.is_some() {
            continue;
        }
        let steps = ctx.store.rectify_steps(item.id).await?;
        let files = ctx.store.rectify_files(item.id).await?;
        out.push(ItemView {
            overdue: rectify::overdue(item.state, &today, &item.plan_due, &item.deadline),
            item,
            steps,
            files,
        });
    }
    Ok(out)
}

/// Open the list from the region's issued notice: one item per problem it
/// names, due as the notice says. Once per region and year.
pub async fn open_from_notice(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
) -> Result<usize> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let notice = ctx.store.notice(year, code).await?.ok_or_else(|| {
        ServiceError::invalid("该地区本年度尚未印发整改通知书：请先印发，再生成问题清单")
    })?;
    if ctx
        .store
        .rectify_items(year, Some(code))
        .await?
        .iter()
        .any(|i| i.source == "notice")
    {
        return Err(ServiceError::Conflict(
            "该地区本年度的问题清单已生成".into(),
        ));
    }
    let made = report::region(ctx, &reader, year, code).await?;
    let problems = problem_items(&made.report, PROBLEMS);
    let items: Vec<NewItem> = problems
        .iter()
        .map(|(indicator, text)| NewItem {
            source: "notice",
            indicator,
            problem: text,
            plan_due: &notice.plan_due,
            deadline: &notice.deadline,
        })
        .collect();
    Ok(ctx
        .store
        .add_rectify_items(year, code, &items, &who.actor())
        .await?)
}

/// A problem the office lists by hand, due as the region's notice says
/// (or 30 and 90 days from today without one).
pub async fn add_manual(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
    problem: &str,
) -> Result<usize> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    field("问题", problem, true)?;
    let today = today();
    let (plan_due, deadline) = match ctx.store.notice(year, code).await? {
        Some(n) => (n.plan_due, n.deadline),
        None => (
            report::add_days(&today, report::PLAN_DAYS).unwrap_or_default(),
            report::add_days(&today, report::DEADLINE_DAYS).unwrap_or_default(),
        ),
    };
    let item = NewItem {
        source: "manual",
        indicator: "",
        problem: problem.trim(),
        plan_due: &plan_due,
        deadline: &deadline,
    };
    Ok(ctx
        .store
        .add_rectify_items(year, code, &[item], &who.actor())
        .await?)
}

/// The office's new words for a problem not yet closed.
pub async fn edit_problem(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    id: i64,
    problem: &str,
) -> Result<()> {
    field("问题", problem, true)?;
    item_in_scope(ctx, who, id).await?;
    Ok(ctx
        .store
        .edit_rectify_problem(id, problem.trim(), &who.actor())
        .await?)
}

/// What a step carries from the form.
#[derive(Default)]
pub struct StepInput {
    pub note: String,
    pub recheck: String,
    pub unit: String,
    pub person: String,
    pub measures: String,
    pub target: String,
    /// The indicator value the plan promises ('' for none).
    pub target_value: String,
    /// The closed field task of an on-site 复查.
    pub field_task: String,
    /// Evidence files (name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

fn field(name: &str, v: &str, required: bool) -> Result<()> {
    if required && v.trim().is_empty() {
        return Err(ServiceError::invalid(format!("请填写{name}")));
    }
    if v.chars().count() > MAX_FIELD {
        return Err(ServiceError::invalid(format!(
            "{name}过长：最多 {MAX_FIELD} 字"
        )));
    }
    Ok(())
}

/// Take `action` on item `id` as the caller.
pub async fn act(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Rectify>,
    id: i64,
    action: &str,
    input: &StepInput,
) -> Result<Step> {
    let action: Action = action.parse().map_err(ServiceError::invalid)?;
    let item = item_in_scope(ctx, who, id).await?;
    let actor = acts_as(who.caller());
    let to = rectify::next(item.state, action, actor).map_err(ServiceError::invalid)?;
    field(
        "说明",
        &input.note,
        action.needs_reason() || action == Action::Progress,
    )?;
    let target_value = match input.target_value.trim() {
        "" => None,
        t if action == Action::Plan => {
            if item.indicator.is_empty() {
                return Err(ServiceError::invalid(
                    "该问题不对应指标，不能填写目标值；请用文字写明整改目标",
                ));
            }
            Some(
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| ServiceError::invalid(format!("目标值“{t}”不是数字")))?,
            )
        }
        _ => None,
    };
    let plan = if action == Action::Plan {
        field("责任单位", &input.unit, true)?;
        field("责任人", &input.person, true)?;
        field("整改措施", &input.measures, true)?;
        field("整改目标", &input.target, true)?;
        Some(Plan {
            unit: input.unit.trim(),
            person: input.person.trim(),
            measures: input.measures.trim(),
            target: input.target.trim(),
            target_value,
        })
    } else {
        None
    };
    let recheck = if action == Action::Approve {
        let r: Recheck = input.recheck.parse().map_err(ServiceError::invalid)?;
        r
    } else {
        Recheck::Document
    };
    let field_task = if action == Action::Approve && recheck == Recheck::OnSite {
        Some(on_site_task(ctx, &item, &input.field_task).await?)
    } else {
        None
    };
    if action == Action::Approve && recheck == Recheck::Indicator {
        return Err(ServiceError::invalid(
            "指标达标销号由系统在后续数据达到目标值时自动办理（pingan rectify --recheck）",
        ));
    }
    let files = evidence(&input.files, action)?;
    Ok(ctx
        .store
        .rectify_step(
            id,
            &NewStep {
                from: item.state,
                to,
                action: action.code(),
                note: input.note.trim(),
                recheck: if action == Action::Approve {
                    recheck.code()
                } else {
                    ""
                },
                plan,
                field_task,
                files: &files,
            },
            &who.actor(),
        )
        .await?)
}

/// Items late today in the caller's scope, for the home page's warning.
pub async fn overdue(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Rectify>,
    year: i32,
) -> Result<Vec<(Item, &'static str)>> {
    let tree = ctx.tree().await?;
    let today = today();
    Ok(ctx
        .store
        .rectify_items(year, None)
        .await?
        .into_iter()
        .filter(|i| i.merged_into.is_none())
        .filter(|i| tree.find(&i.region).is_some_and(|k| who.sees(&tree, k)))
        .filter_map(|i| {
            let late = rectify::overdue(i.state, &today, &i.plan_due, &i.deadline)?;
            Some((i, late))
        })
        .collect())
}

/// The closed share of items due by today, and how many: the on-time
/// rectification rate's parts (issue 21's effect evaluation).
pub fn state_counts(items: &[ItemView]) -> [(State, usize); 4] {
    rectify::ALL_STATES.map(|s| (s, items.iter().filter(|i| i.item.state == s).count()))
}

/// The closed field task an on-site 复查 rests on: of the item's region
/// (or within it), closed, and named by its number.
async fn on_site_task(ctx: &Ctx, item: &Item, raw: &str) -> Result<i64> {
    let id: i64 = raw.trim().parse().map_err(|_| {
        ServiceError::invalid(
            "实地复查请填写已关闭的实地核查任务编号（在“实地核查”中为该地区创建并完成）",
        )
    })?;
    let task = ctx
        .store
        .task(id)
        .await?
        .ok_or_else(|| ServiceError::invalid(format!("实地核查任务 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    let within = match (tree.find(&task.region), tree.find(&item.region)) {
        (Some(t), Some(r)) => tree.is_within(t, r),
        _ => false,
    };
    if !within {
        return Err(ServiceError::invalid(format!(
            "实地核查任务 {id} 不是该地区的任务"
        )));
    }
    if task.status != pingan_core::labels::TaskStatus::Closed {
        return Err(ServiceError::invalid(format!(
            "实地核查任务 {id} 尚未完成：完成并关闭后再据此销号"
        )));
    }
    Ok(id)
}

/// The evidence files of a step, checked: only with progress reports and
/// 销号 requests, at most `EVIDENCE_FILES`, each within `EVIDENCE_LIMIT`
/// and a picture, PDF, Word or Excel file by its content.
fn evidence(
    files: &[(String, Vec<u8>)],
    action: Action,
) -> Result<Vec<(String, &'static str, Vec<u8>)>> {
    let files: Vec<&(String, Vec<u8>)> = files.iter().filter(|(_, b)| !b.is_empty()).collect();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    if !matches!(action, Action::Progress | Action::Request) {
        return Err(ServiceError::invalid("佐证材料随整改进展或销号申请上传"));
    }
    if files.len() > rectify::EVIDENCE_FILES {
        return Err(ServiceError::invalid(format!(
            "每次最多上传 {} 个佐证材料",
            rectify::EVIDENCE_FILES
        )));
    }
    let mut out = Vec::new();
    for (name, bytes) in files {
        if bytes.len() > rectify::EVIDENCE_LIMIT {
            return Err(ServiceError::invalid(format!(
                "佐证材料 {name} 为 {:.1} MB，超过 {} MB 的上限，未保存任何内容",
                bytes.len() as f64 / 1048576.0,
                rectify::EVIDENCE_LIMIT >> 20
            )));
        }
        let Some(mime) = rectify::evidence_type(bytes) else {
            return Err(ServiceError::invalid(format!(
                "{name} 不是图片（JPEG、PNG、WebP）、PDF、Word 或 Excel 文件，未保存任何内容"
            )));
        };
        let clean: String = name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
            .take(120)
            .collect();
        let clean = if clean.trim().is_empty() {
            "佐证材料".to_string()
        } else {
            clean
        };
        out.push((clean, mime, bytes.clone()));
    }
    Ok(out)
}

/// An evidence file, if its item is in the caller's scope.
pub async fn file(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Rectify>,
    id: i64,
) -> Result<(FileMeta, Vec<u8>)> {
    let (meta, bytes) = ctx
        .store
        .rectify_file(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("佐证材料 {id} 不存在")))?;
    let item = ctx
        .store
        .rectify_item(meta.item_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("佐证材料 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &item.region)?;
    Ok((meta, bytes))
}

/// Merge problem `from` into `into` (the office): one problem in the
/// words given (both problems' words joined when none are).
pub async fn merge(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    into: i64,
    from: i64,
    problem: &str,
) -> Result<()> {
    if into == from {
        return Err(ServiceError::invalid("请选择另一个问题合并"));
    }
    let get = |id: i64| async move {
        ctx.store
            .rectify_item(id)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("整改事项 {id} 不存在")))
    };
    let (a, b) = (get(into).await?, get(from).await?);
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &a.region)?;
    let words = if problem.trim().is_empty() {
        format!("{}；{}", a.problem, b.problem)
    } else {
        problem.trim().to_string()
    };
    field("问题", &words, true)?;
    Ok(ctx
        .store
        .merge_rectify_items(into, from, &words, &who.actor())
        .await?)
}

/// Item `id`, if it is in the caller's scope.
pub(crate) async fn item_in_scope<C: crate::access::Capability>(
    ctx: &Ctx,
    who: &Authorized<'_, C>,
    id: i64,
) -> Result<Item> {
    let item = ctx
        .store
        .rectify_item(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("整改事项 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &item.region)?;
    Ok(item)
}

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
use pingan_store::{Item, NewItem, NewStep, Plan, Step};

/// The longest text of a field (characters).
const MAX_FIELD: usize = 2_000;

/// An item with its steps and whether it is late today.
pub struct ItemView {
    pub item: Item,
    pub overdue: Option<&'static str>,
    pub steps: Vec<Step>,
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
        let steps = ctx.store.rectify_steps(item.id).await?;
        out.push(ItemView {
            overdue: rectify::overdue(item.state, &today, &item.plan_due, &item.deadline),
            item,
            steps,
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
    let item = ctx
        .store
        .rectify_item(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("整改事项 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &item.region)?;
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
    let item = ctx
        .store
        .rectify_item(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("整改事项 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &item.region)?;
    let actor = acts_as(who.caller());
    let to = rectify::next(item.state, action, actor).map_err(ServiceError::invalid)?;
    field(
        "说明",
        &input.note,
        action.needs_reason() || action == Action::Progress,
    )?;
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
        })
    } else {
        None
    };
    let recheck = if action == Action::Approve {
        let r: Recheck = input.recheck.parse().map_err(ServiceError::invalid)?;
        r.code()
    } else {
        ""
    };
    Ok(ctx
        .store
        .rectify_step(
            id,
            &NewStep {
                from: item.state,
                to,
                action: action.code(),
                note: input.note.trim(),
                recheck,
                plan,
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

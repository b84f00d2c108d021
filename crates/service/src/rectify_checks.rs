//! The 问题清单 beyond the notice (issue 21): problems from what the checks
//! found — quality flags still open, field verification beyond the
//! tolerance, the survey's free-text problems — and the automatic 复查 that
//! closes an item when its indicator reaches the plan's target value in a
//! later year's official result; and the weekly list of late items.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{Authorized, cap, report, scores};
use pingan_core::Period;
use pingan_core::rectify::{self, Action, Actor, Recheck, State};
use pingan_store::{Item, NewItem, NewStep};

/// Problems a region's checks found, as (source, words): one for the open
/// quality flags of its subtree, one per field difference beyond the
/// tolerance, one per survey problem listed for a region within it.
async fn found(ctx: &Ctx, year: i32, code: &str) -> Result<Vec<(&'static str, String)>> {
    let tree = ctx.tree().await?;
    let sources = crate::report_findings::Sources::read(ctx, year).await?;
    let f = sources.findings(ctx, &tree, code).await?;
    let mut out = Vec::new();
    if f.flags_open > 0 {
        out.push((
            "quality",
            format!(
                "数据质量：{} 条数据质量问题尚未更正或说明（如{}），请核实原始记录并更正或书面说明",
                f.flags_open,
                f.open_examples.join("、")
            ),
        ));
    }
    for d in &f.over_tolerance {
        out.push((
            "field",
            format!("实地核查：{d}，超过 10% 的容差，请查明原因并更正上报数据"),
        ));
    }
    let root = tree.find(code);
    for p in ctx
        .store
        .problems(year, Some(crate::surveys::comments::ORIGIN))
        .await?
    {
        let within = match (tree.find(&p.region), root) {
            (Some(i), Some(r)) => tree.is_within(i, r),
            _ => false,
        };
        if within {
            let place = tree
                .find(&p.region)
                .map_or(p.region.clone(), |i| tree.get(i).name.clone());
            out.push(("survey", format!("群众调查（{place}）：{}", p.title)));
        }
    }
    Ok(out)
}

/// Add to a region's list the problems its checks found that it does not
/// list yet (by their words), due as its notice says; how many.
pub async fn add_from_checks(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
) -> Result<usize> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    let listed: Vec<String> = ctx
        .store
        .rectify_items(year, Some(code))
        .await?
        .into_iter()
        .map(|i| i.problem)
        .collect();
    let today = report::beijing(&pingan_store::now()).0;
    let (plan_due, deadline) = match ctx.store.notice(year, code).await? {
        Some(n) => (n.plan_due, n.deadline),
        None => (
            report::add_days(&today, report::PLAN_DAYS).unwrap_or_default(),
            report::add_days(&today, report::DEADLINE_DAYS).unwrap_or_default(),
        ),
    };
    let found: Vec<(&str, String)> = found(ctx, year, code)
        .await?
        .into_iter()
        .filter(|(_, p)| !listed.contains(p))
        .collect();
    if found.is_empty() {
        return Ok(0);
    }
    let items: Vec<NewItem> = found
        .iter()
        .map(|(source, problem)| NewItem {
            source,
            indicator: "",
            problem,
            plan_due: &plan_due,
            deadline: &deadline,
        })
        .collect();
    Ok(ctx
        .store
        .add_rectify_items(year, code, &items, &who.actor())
        .await?)
}

/// An item the automatic 复查 closed, with the value that did it.
pub struct Rechecked {
    pub item: Item,
    pub year: i32,
    pub value: f64,
}

/// The automatic 复查: close every item in the caller's scope, planned or
/// asked for 销号, whose plan names a target value for its indicator that
/// a later year's official result reaches (in the indicator's better
/// direction). Each closing is a step with its ledger entry.
pub async fn auto_recheck(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
) -> Result<Vec<Rechecked>> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let tree = ctx.tree().await?;
    // Each later year's framework once: the indicators' better direction.
    let mut later = Vec::new();
    for &y in ctx.years().await?.iter().filter(|&&y| y > year) {
        let fw = scores::version(ctx, y).await?.framework;
        let polarity: std::collections::HashMap<String, pingan_core::rules::Better> = fw
            .indicators()
            .iter()
            .map(|p| (p.indicator.code.clone(), p.indicator.polarity))
            .collect();
        later.push((y, polarity));
    }
    let mut out = Vec::new();
    for item in ctx.store.rectify_items(year, None).await? {
        let (Some(target), false, None) = (
            item.target_value,
            item.indicator.is_empty(),
            item.merged_into,
        ) else {
            continue;
        };
        if !matches!(item.state, State::Planned | State::Requested)
            || !tree.find(&item.region).is_some_and(|k| who.sees(&tree, k))
        {
            continue;
        }
        for (y, polarities) in &later {
            let (y, Some(&polarity)) = (*y, polarities.get(&item.indicator)) else {
                continue;
            };
            let value = scores::region(ctx, &reader, Period::Year(y), &item.region)
                .await?
                .and_then(|r| r.indicators.into_iter().find(|i| i.code == item.indicator))
                .and_then(|i| i.value);
            let Some(value) = value else { continue };
            if !rectify::target_reached(value, target, polarity) {
                continue;
            }
            let to = rectify::next(item.state, Action::Approve, Actor::System)
                .map_err(crate::error::ServiceError::invalid)?;
            let note = format!(
                "{y} 年该指标为 {}，达到整改目标值 {}，系统自动销号",
                pingan_core::num::fmt_num(value, 2),
                pingan_core::num::fmt_num(target, 2)
            );
            ctx.store
                .rectify_step(
                    item.id,
                    &NewStep {
                        from: item.state,
                        to,
                        action: Action::Approve.code(),
                        note: &note,
                        recheck: Recheck::Indicator.code(),
                        plan: None,
                        field_task: None,
                        files: &[],
                    },
                    &who.actor(),
                )
                .await?;
            out.push(Rechecked {
                item,
                year: y,
                value,
            });
            break;
        }
    }
    Ok(out)
}

/// The weekly list: every late item in the caller's scope across the
/// years that have lists, by region, with why it is late.
pub async fn late(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Rectify>,
) -> Result<Vec<(Item, &'static str)>> {
    let mut out = Vec::new();
    for y in ctx.years().await?.iter() {
        out.extend(crate::rectify::overdue(ctx, who, *y).await?);
    }
    out.sort_by(|a, b| {
        (a.0.region.as_str(), a.0.year, a.0.ord).cmp(&(b.0.region.as_str(), b.0.year, b.0.ord))
    });
    Ok(out)
}

/// One region's list at a glance: items by state and how many are late.
pub struct Board {
    pub region: String,
    pub counts: [usize; 4],
    pub late: usize,
}

/// Every list of `year` in the caller's scope, by region.
pub async fn board(ctx: &Ctx, who: &Authorized<'_, cap::Rectify>, year: i32) -> Result<Vec<Board>> {
    let tree = ctx.tree().await?;
    let today = report::beijing(&pingan_store::now()).0;
    let mut out: Vec<Board> = Vec::new();
    for i in ctx.store.rectify_items(year, None).await? {
        if i.merged_into.is_some() || !tree.find(&i.region).is_some_and(|k| who.sees(&tree, k)) {
            continue;
        }
        if out.last().is_none_or(|b| b.region != i.region) {
            out.push(Board {
                region: i.region.clone(),
                counts: [0; 4],
                late: 0,
            });
        }
        let b = out.last_mut().expect("pushed above");
        let k = rectify::ALL_STATES
            .iter()
            .position(|s| *s == i.state)
            .unwrap_or(0);
        b.counts[k] += 1;
        if rectify::overdue(i.state, &today, &i.plan_due, &i.deadline).is_some() {
            b.late += 1;
        }
    }
    Ok(out)
}

/// An on-site 复查 of an item: a field verification task for the item's
/// region, over the elements of its indicator in the newest year, noted
/// with the problem. When the task is closed, the office approves the 销号
/// with it (`Recheck::OnSite`).
pub async fn field_recheck(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    id: i64,
) -> Result<pingan_store::Task> {
    use crate::error::ServiceError;
    let field = who.caller().authorize::<cap::Field>()?;
    let item = crate::rectify::item_in_scope(ctx, who, id).await?;
    if item.state == State::Closed {
        return Err(ServiceError::invalid("该问题已销号"));
    }
    if item.indicator.is_empty() {
        return Err(ServiceError::invalid(
            "该问题不对应指标：请在“实地核查”中按需创建任务，完成后以任务编号实地复查",
        ));
    }
    let year = ctx
        .latest_year()
        .await
        .ok_or_else(|| ServiceError::invalid("还没有任何年度的数据"))?;
    let fw = scores::version(ctx, year).await?.framework;
    let elements: Vec<String> = fw
        .indicators()
        .iter()
        .find(|p| p.indicator.code == item.indicator)
        .map(|p| {
            p.indicator
                .formula
                .elements()
                .into_iter()
                .map(|e| fw.elements[e].code.clone())
                .collect()
        })
        .unwrap_or_default();
    if elements.is_empty() {
        return Err(ServiceError::invalid(format!(
            "{year} 年的指标体系中没有指标 {}",
            item.indicator
        )));
    }
    let problem: String = item.problem.chars().take(200).collect();
    crate::field::create(
        ctx,
        &field,
        crate::field::TaskInput {
            region: item.region.clone(),
            period: year.to_string(),
            elements,
            checklist: Vec::new(),
            note: format!("整改复查（整改事项 {id}）：{problem}"),
        },
    )
    .await
}

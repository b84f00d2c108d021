//! Field verification (§5.3 实地核查, §3.4 交叉核验): tasks by hand, from a
//! quality flag or by a seeded random draw; records by two verifiers with
//! a checklist, observed values and a position; photos; observed values
//! beside the reported ones.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::text;
use crate::{Authorized, cap};
mod visits;

pub use visits::{PHOTO_LIMIT, RecordOutcome, add_photo, close, confirm, photo, record};

use pingan_core::Period;
use pingan_core::field::relative_difference;
use pingan_core::labels::{TaskOrigin, TaskStatus};
use pingan_store::{NewTask, Record, Task, TaskFilter};
use serde::Serialize;

/// Which tasks; a region means its whole subtree.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub origin: Option<TaskOrigin>,
}

/// Tasks in the caller's scope matching the query.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRead>,
    q: &TaskQuery,
) -> Result<Vec<Task>> {
    let tree = ctx.tree().await?;
    let root = match &q.region {
        Some(r) => Some(who.region_in_scope(&tree, r)?),
        None => None,
    };
    let tasks = ctx
        .store
        .tasks(&TaskFilter {
            status: q.status,
            period: q.period.clone(),
            origin: q.origin,
            region: None,
        })
        .await?;
    Ok(tasks
        .into_iter()
        .filter(|t| match tree.find(&t.region) {
            Some(i) => who.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)),
            None => false,
        })
        .collect())
}

/// A task as a request describes it.
#[derive(Clone, Debug, Default)]
pub struct TaskInput {
    pub region: String,
    pub period: String,
    pub elements: Vec<String>,
    /// Empty: the default checklist.
    pub checklist: Vec<String>,
    pub note: String,
}

/// A task checked against the framework and the regions, with the default
/// checklist where none was given.
async fn checked(
    ctx: &Ctx,
    t: TaskInput,
    origin: TaskOrigin,
    flag_id: Option<i64>,
) -> Result<NewTask> {
    let period: Period = t
        .period
        .trim()
        .parse()
        .map_err(|e| ServiceError::invalid(format!("期间：{e}")))?;
    let tree = ctx.tree().await?;
    if tree.find(&t.region).is_none() {
        return Err(ServiceError::invalid(format!(
            "未知的地区代码：{}",
            t.region
        )));
    }
    if t.elements.is_empty() {
        return Err(ServiceError::invalid("请至少选择一个要核查的数据项"));
    }
    let fw = ctx.store.known_codes().await?;
    let unknown: Vec<&str> = t
        .elements
        .iter()
        .filter(|e| fw.element_index(e).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ServiceError::invalid(format!(
            "未知的数据项：{}",
            unknown.join("、")
        )));
    }
    let checklist: Vec<String> = if t.checklist.iter().all(|c| c.trim().is_empty()) {
        pingan_core::field::DEFAULT_CHECKLIST
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        let item = text::SHORT.named("核查清单项");
        t.checklist
            .iter()
            .filter(|c| !c.trim().is_empty())
            .map(|c| text::clean(item, c))
            .collect::<Result<_>>()?
    };
    let note = text::clean(text::NOTE.named("任务说明"), &t.note)?;
    Ok(NewTask {
        region: t.region,
        period: t.period.trim().to_string(),
        year: period.year(),
        elements: t.elements,
        checklist,
        origin,
        flag_id,
        parent_id: None,
        note,
    })
}

async fn create_one(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Field>,
    t: TaskInput,
    origin: TaskOrigin,
    flag_id: Option<i64>,
) -> Result<Task> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &t.region)?;
    let task = checked(ctx, t, origin, flag_id).await?;
    let ids = ctx.store.insert_tasks(&[task], &who.actor()).await?;
    let id = ids.first().copied().unwrap_or_default();
    ctx.store
        .task(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("核查任务 {id} 不存在")))
}

/// One task by hand. Refused while an open task of the same region and
/// period already covers one of its elements (say which, so the user goes
/// there instead).
pub async fn create(ctx: &Ctx, who: &Authorized<'_, cap::Field>, t: TaskInput) -> Result<Task> {
    for status in [TaskStatus::Open, TaskStatus::Recorded] {
        let open = ctx
            .store
            .tasks(&TaskFilter {
                status: Some(status),
                period: Some(t.period.trim().to_string()),
                region: Some(t.region.clone()),
                origin: None,
            })
            .await?;
        if let Some(o) = open
            .iter()
            .find(|o| o.elements.iter().any(|e| t.elements.contains(e)))
        {
            let fw = ctx.store.known_codes().await?;
            let names: Vec<String> = o
                .elements
                .iter()
                .map(|c| {
                    fw.element_index(c)
                        .map_or(c.clone(), |i| fw.elements[i].name.clone())
                })
                .collect();
            return Err(ServiceError::conflict(format!(
                "该地区本期间已有未关闭的核查任务 {}（{}），请在该任务中核查",
                o.id,
                names.join("、")
            )));
        }
    }
    create_one(ctx, who, t, TaskOrigin::Manual, None).await
}

/// A task for the region, period and element of a quality flag: one open
/// task per flag; asked again, the open one is returned.
pub async fn from_flag(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Field>,
    id: i64,
    note: &str,
) -> Result<FlagTask> {
    let flag = ctx
        .store
        .flag(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("待核查问题 {id} 不存在")))?;
    let note = text::clean(text::NOTE.named("任务说明"), note)?;
    let note = if note.is_empty() {
        format!("来自数据质量问题 {id}：{}", flag.message)
    } else {
        note
    };
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &flag.region)?;
    let input = TaskInput {
        region: flag.region,
        period: flag.period,
        elements: vec![flag.element],
        checklist: Vec::new(),
        note,
    };
    let task = checked(ctx, input, TaskOrigin::Flag, Some(id)).await?;
    let (tid, created) = ctx.store.insert_flag_task(&task, &who.actor()).await?;
    let task = ctx
        .store
        .task(tid)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("核查任务 {tid} 不存在")))?;
    Ok(FlagTask { task, created })
}

/// The task of a flag, and whether this call made it (a repeat returns
/// the open one).
#[derive(Serialize)]
pub struct FlagTask {
    #[serde(flatten)]
    pub task: Task,
    pub created: bool,
}

/// A random draw of base regions, one task each.
#[derive(Clone, Debug, Default)]
pub struct DrawInput {
    pub period: String,
    pub count: usize,
    pub elements: Vec<String>,
    /// The same seed over the same regions draws the same ones; the year by default.
    pub seed: Option<u64>,
    /// Draw under this region (the caller's scope by default).
    pub region: Option<String>,
    pub checklist: Vec<String>,
}

#[derive(Serialize)]
pub struct DrawResult {
    pub seed: u64,
    pub candidates: usize,
    pub regions: Vec<String>,
    pub tasks: Vec<i64>,
}

pub async fn draw(ctx: &Ctx, who: &Authorized<'_, cap::Field>, b: DrawInput) -> Result<DrawResult> {
    let period: Period = b
        .period
        .trim()
        .parse()
        .map_err(|e| ServiceError::invalid(format!("参数 period：{e}")))?;
    if b.count == 0 || b.count > 1000 {
        return Err(ServiceError::invalid("抽取数量应在 1 到 1000 之间"));
    }
    let tree = ctx.tree().await?;
    let root = match b.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(who.region_in_scope(&tree, r)?),
        None => None,
    };
    // Base regions valid in the period, in the tree's order: the same
    // tree, count and seed always give the same draw.
    let candidates: Vec<usize> = (0..tree.len())
        .filter(|&i| tree.children(i).is_empty() && tree.get(i).valid_in(period))
        .filter(|&i| who.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)))
        .collect();
    if candidates.is_empty() {
        return Err(ServiceError::invalid("所选范围内没有可抽取的基层地区"));
    }
    let seed = b.seed.unwrap_or(period.year() as u64);
    let picked = pingan_core::field::draw(candidates.len(), b.count, seed);
    let regions: Vec<String> = picked
        .iter()
        .map(|&k| tree.get(candidates[k]).code.clone())
        .collect();
    let mut tasks = Vec::with_capacity(regions.len());
    for r in &regions {
        let t = TaskInput {
            region: r.clone(),
            period: period.to_string(),
            elements: b.elements.clone(),
            checklist: b.checklist.clone(),
            note: format!(
                "随机抽取（种子 {seed}，{} 个中抽 {}）",
                candidates.len(),
                regions.len()
            ),
        };
        tasks.push(checked(ctx, t, TaskOrigin::Draw, None).await?);
    }
    let ids = ctx.store.insert_tasks(&tasks, &who.actor()).await?;
    Ok(DrawResult {
        seed,
        candidates: candidates.len(),
        regions,
        tasks: ids,
    })
}

/// A task by id, if its region is in the caller's scope.
pub(super) async fn task_in_scope(ctx: &Ctx, who: &crate::Caller, id: i64) -> Result<Task> {
    let task = ctx
        .store
        .task(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("核查任务 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &task.region)?;
    Ok(task)
}

/// A record's task, if its region is in the caller's scope.
pub(super) async fn record_in_scope(
    ctx: &Ctx,
    who: &crate::Caller,
    record_id: i64,
) -> Result<Task> {
    let (_, task) = ctx
        .store
        .record_task(record_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("核查记录 {record_id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &task.region)?;
    Ok(task)
}

/// One element of a task: the reported value beside each team's observation.
#[derive(Serialize, Clone, Debug)]
pub struct Comparison {
    pub element: String,
    pub element_name: String,
    /// The value that counts now (latest submission), if any.
    pub reported: Option<f64>,
    pub observed: Vec<(String, f64)>,
    /// The largest observed-vs-reported difference, as a share.
    pub difference: Option<f64>,
    /// Over 10 %: the review should look at it.
    pub over_tolerance: bool,
}

#[derive(Serialize)]
pub struct TaskDetail {
    pub task: Task,
    pub records: Vec<Record>,
    pub comparisons: Vec<Comparison>,
}

/// Reported vs observed for `elements` of a region and period.
pub async fn compare(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::FieldRead>,
    region: &str,
    period: &str,
    elements: &[String],
) -> Result<Vec<Comparison>> {
    comparisons(ctx, region, period, elements).await
}

/// Reported vs observed, for callers that print outcomes only (a report's
/// findings, of closed tasks).
pub(crate) async fn comparisons(
    ctx: &Ctx,
    region: &str,
    period: &str,
    elements: &[String],
) -> Result<Vec<Comparison>> {
    let fw = ctx.store.known_codes().await?;
    let values = ctx.store.values(Some(region), Some(period), None).await?;
    let observed = ctx.store.field_observations(region, period).await?;
    Ok(elements
        .iter()
        .map(|e| {
            let reported = values
                .iter()
                .filter(|v| v.element == *e)
                .max_by(|a, b| a.submitted_at.cmp(&b.submitted_at))
                .map(|v| v.value);
            let obs: Vec<(String, f64)> = observed
                .iter()
                .filter(|(_, el, _)| el == e)
                .map(|(t, _, v)| (t.clone(), *v))
                .collect();
            let difference = reported.and_then(|r| {
                obs.iter()
                    .map(|(_, v)| relative_difference(r, *v))
                    .max_by(|a, b| a.total_cmp(b))
            });
            Comparison {
                element: e.clone(),
                element_name: fw
                    .element_index(e)
                    .map(|i| fw.elements[i].name.clone())
                    .unwrap_or_else(|| e.clone()),
                reported,
                observed: obs,
                difference,
                over_tolerance: difference
                    .is_some_and(|d| d > pingan_core::field::CROSS_TEAM_TOLERANCE),
            }
        })
        .collect())
}

/// A task, its records and the comparisons.
pub async fn detail(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRead>,
    id: i64,
) -> Result<TaskDetail> {
    let task = task_in_scope(ctx, who, id).await?;
    let records = ctx.store.records(id).await?;
    let comparisons = compare(ctx, who, &task.region, &task.period, &task.elements).await?;
    Ok(TaskDetail {
        task,
        records,
        comparisons,
    })
}

//! The three-level review of data sets (seed §3.3, §6.1): sets in the
//! caller's scope, one set with its history, values and field evidence,
//! and batch steps through the levels. The rules are
//! `pingan_core::review`'s.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::access::Cap;
use pingan_core::review::{self, Action, Level, ReviewError, SetKey, State as SetState};
use pingan_store::{DataSet, ReviewStep, SetEvent, SetFilter, StoredValue};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Which sets; a region means its whole subtree.
#[derive(Clone, Debug, Default)]
pub struct SetQuery {
    pub year: Option<i32>,
    pub period: Option<String>,
    pub department: Option<String>,
    pub state: Option<SetState>,
    pub region: Option<String>,
}

impl SetQuery {
    /// Parses the text filters of a request (empty means none).
    pub fn parse(
        year: Option<i32>,
        period: Option<&str>,
        department: Option<&str>,
        state: Option<&str>,
        region: Option<&str>,
    ) -> Result<SetQuery> {
        let some = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let state = some(state)
            .map(|s| s.parse::<SetState>().map_err(ServiceError::Invalid))
            .transpose()?;
        let period = some(period);
        if let Some(p) = &period {
            p.parse::<pingan_core::Period>()
                .map_err(|e| ServiceError::invalid(format!("参数 period：{e}")))?;
        }
        Ok(SetQuery {
            year,
            period,
            department: some(department),
            state,
            region: some(region),
        })
    }
}

/// Sets matching the query that the caller may see: its region scope, and
/// a department account its own department only.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Values>,
    q: &SetQuery,
) -> Result<Vec<DataSet>> {
    let tree = ctx.tree().await?;
    let root = match &q.region {
        Some(r) => Some(who.region_in_scope(&tree, r)?),
        None => None,
    };
    let sets = ctx
        .store
        .data_sets(&SetFilter {
            year: q.year,
            period: q.period.clone(),
            department: q.department.clone(),
            state: q.state,
        })
        .await?;
    Ok(sets
        .into_iter()
        .filter(|s| who.element_allowed(&s.key.department))
        .filter(|s| match tree.find(&s.key.region) {
            Some(i) => who.sees(&tree, i) && root.is_none_or(|r| tree.is_within(i, r)),
            None => false,
        })
        .collect())
}

#[derive(Serialize)]
pub struct SetDetail {
    pub set: DataSet,
    pub events: Vec<SetEvent>,
    /// The set's stored values (every source), with their review state.
    pub values: Vec<StoredValue>,
    /// Field verification of the set's elements: reported beside observed,
    /// marked where they differ by over 10 %.
    pub field: Vec<crate::field::Comparison>,
}

/// One set, its history and its values, if the caller may see it.
pub async fn detail(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Values>,
    key: &SetKey,
) -> Result<SetDetail> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &key.region)?;
    if !who.element_allowed(&key.department) {
        return Err(ServiceError::forbidden("无权查看其他部门的数据"));
    }
    let (set, events) =
        ctx.store.data_set(key).await?.ok_or_else(|| {
            ServiceError::not_found(format!("没有数据集 {}", key.describe(&tree)))
        })?;
    let fw = ctx.store.known_codes().await?;
    let values = ctx
        .store
        .values(Some(&key.region), Some(&key.period), None)
        .await?
        .into_iter()
        .filter(|v| {
            fw.element_index(&v.element)
                .is_some_and(|e| fw.elements[e].department == key.department)
        })
        .collect();
    let elements: Vec<String> = fw
        .elements
        .iter()
        .filter(|e| e.department == key.department)
        .map(|e| e.code.clone())
        .collect();
    // Field observations only for those who may read field verification.
    let field = match who.authorize::<cap::FieldRead>() {
        Ok(reader) => crate::field::compare(ctx, &reader, &key.region, &key.period, &elements)
            .await?
            .into_iter()
            .filter(|c| !c.observed.is_empty())
            .collect(),
        Err(_) => Vec::new(),
    };
    Ok(SetDetail {
        set,
        events,
        values,
        field,
    })
}

/// At most this many sets in one step.
pub const MAX_BATCH: usize = 10_000;

/// What a batch step did.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewSummary {
    pub action: &'static str,
    pub sets: usize,
    /// Values that became approved (and now count).
    pub approved_values: u64,
    pub rescored: Vec<String>,
    pub notes: Vec<String>,
}

/// Move sets one step, all or nothing: any set that may not move fails the
/// batch with every reason listed. The batch shares one reason.
pub async fn apply(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Review>,
    keys: &[SetKey],
    action: Action,
    reason: &str,
) -> Result<ReviewSummary> {
    let reason = &crate::text::clean(crate::text::NOTE.named("审核意见"), reason)?;
    if keys.len() > MAX_BATCH {
        return Err(ServiceError::invalid(format!(
            "一次最多审核 {MAX_BATCH} 个数据集"
        )));
    }
    let tree = ctx.tree().await?;
    for k in keys {
        who.region_in_scope(&tree, &k.region)?;
        if !who.element_allowed(&k.department) {
            return Err(ServiceError::forbidden("无权操作其他部门的数据"));
        }
    }
    if keys.is_empty() {
        return Err(ServiceError::invalid("请至少选择一个数据集"));
    }
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let me = who.name();
    let mut sets: Vec<(DataSet, SetState)> = Vec::with_capacity(keys.len());
    let mut refused: Vec<(String, ReviewError)> = Vec::new();
    let mut missing = Vec::new();
    for k in &keys {
        let Some(set) = ctx.store.set_row(k).await? else {
            missing.push(k.describe(&tree));
            continue;
        };
        let mut passed = Vec::new();
        if set.level1_by.as_deref() == Some(me.as_str()) {
            passed.push(Level::First);
        }
        if set.level2_by.as_deref() == Some(me.as_str()) {
            passed.push(Level::Second);
        }
        let actor = review::Actor {
            grants: who.grants(),
            is_submitter_side: who.submitter_department() == Some(set.key.department.as_str()),
            passed_levels: &passed,
            submitted_it: set.submitted_by == me,
        };
        match review::transition(set.state, action, &actor, reason) {
            Ok(next) => sets.push((set, next)),
            Err(e) => refused.push((k.describe(&tree), e)),
        }
    }
    if !missing.is_empty() {
        return Err(ServiceError::not_found(format!(
            "没有这些待审核的数据集：{}",
            missing.join("；")
        )));
    }
    if let Some((_, first)) = refused.first() {
        let listed: Vec<String> = refused
            .iter()
            .take(10)
            .map(|(k, e)| format!("{k}：{e}"))
            .collect();
        let message = format!(
            "未做任何更改（{} 个数据集不能{}）：{}",
            refused.len(),
            action.label(),
            listed.join("；")
        );
        return Err(match first {
            ReviewError::State(_) => ServiceError::Conflict(message),
            ReviewError::Role(_) => ServiceError::Forbidden(message),
            ReviewError::Reason(_) => ServiceError::Invalid(message),
        });
    }
    let fw = ctx.store.known_codes().await?;
    let mut elements: FxHashMap<String, Vec<String>> = FxHashMap::default();
    for e in &fw.elements {
        elements
            .entry(e.department.clone())
            .or_default()
            .push(e.code.clone());
    }
    let steps: Vec<ReviewStep> = sets
        .iter()
        .map(|(set, next)| ReviewStep { set, next: *next })
        .collect();
    let describe = |k: &SetKey| k.describe(&tree);
    let done = ctx
        .store
        .apply_review_steps(
            &steps,
            action,
            reason.trim(),
            &elements,
            &describe,
            &who.actor(),
        )
        .await?;
    let mut summary = ReviewSummary {
        action: action.code(),
        sets: steps.len(),
        approved_values: done.approved_values,
        rescored: Vec::new(),
        notes: Vec::new(),
    };
    crate::scores::rescore(
        ctx,
        &done.years,
        &who.actor(),
        &mut summary.rescored,
        &mut summary.notes,
    )
    .await;
    Ok(summary)
}

/// The state a caller most likely wants to see first: the one its level
/// acts on. A department and the office see every state of their sets.
pub fn default_state(who: &crate::Caller) -> Option<SetState> {
    if who.can(Cap::ReviewFirst) {
        Some(SetState::Submitted)
    } else if who.can(Cap::ReviewSecond) {
        Some(SetState::Level1)
    } else if who.can(Cap::ReviewThird) {
        Some(SetState::Level2)
    } else {
        None
    }
}

/// The actions a caller may take on sets in state `s` (any state when
/// None), in the order a page shows them.
pub fn actions_for(who: &crate::Caller, s: Option<SetState>) -> Vec<Action> {
    let mut v = Vec::new();
    let level = s.and_then(|s| s.level());
    let any_level = [Cap::ReviewFirst, Cap::ReviewSecond, Cap::ReviewThird]
        .iter()
        .any(|c| who.can(*c));
    if level.is_none_or(|l| who.can(l.cap())) && any_level && s.is_none_or(|s| s.in_review()) {
        v.push(Action::Pass);
        v.push(Action::Return);
    }
    if (who.can(Cap::ResubmitAny) || who.submitter_department().is_some())
        && s.is_none_or(|s| matches!(s, SetState::Returned | SetState::Unlocked))
    {
        v.push(Action::Resubmit);
    }
    if who.can(Cap::Unlock) && s.is_none_or(|s| s == SetState::Approved) {
        v.push(Action::Unlock);
    }
    v
}

/// Values of `year` still in review that the caller may know about: all of
/// them for an unscoped caller, else those of its regions.
/// Values in review within the caller's scope — under `region` (its
/// subtree) when given: what a page about that region leaves out of its
/// scores.
pub async fn pending_in_scope(
    ctx: &Ctx,
    who: &crate::Caller,
    year: i32,
    region: Option<&str>,
) -> Result<i64> {
    let tree = ctx.tree().await?;
    let root = match region {
        Some(r) => match tree.find(r) {
            Some(i) => Some(i).filter(|&i| tree.get(i).parent.is_some()),
            None => return Ok(0),
        },
        None => None,
    };
    if who.region.is_none() && root.is_none() {
        return Ok(ctx.store.pending_values(year).await?);
    }
    Ok(ctx
        .store
        .pending_by_region(year)
        .await?
        .into_iter()
        .filter(|(r, _)| {
            tree.find(r).is_some_and(|i| {
                who.sees(&tree, i) && root.is_none_or(|root| tree.is_within(i, root))
            })
        })
        .map(|(_, n)| n)
        .sum())
}

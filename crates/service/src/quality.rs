//! Quality checks and the follow-up queue (seed §3.4, §6.1): run the
//! checks over the stored values, keep the flags the caller may see, list
//! the queue in scope, resolve one flag.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::labels::{FlagStatus, LedgerAction, ValueState};
use pingan_core::quality::rules::RuleSet;
use pingan_core::quality::{FlagKind, FlagView, Report, Summary};
use pingan_core::review::{SetKey, State as SetState};
use pingan_core::{Framework, Period, RegionTree};
use pingan_store::{Correction, FlagFilter, Resolution, SaveSummary, StoredFlag};
use std::sync::Arc;

pub fn parse_period(s: &str) -> Result<Period> {
    s.trim()
        .parse::<Period>()
        .map_err(|e| ServiceError::invalid(format!("参数 period：{e}")))
}

/// What a check found within the caller's scope.
pub struct CheckOutcome {
    pub period: Period,
    pub flags: Vec<FlagView>,
    pub summary: Summary,
    pub saved: Option<SaveSummary>,
}

/// Run the checks over the stored values and keep the flags the caller
/// may see, saving them to the queue when asked.
pub async fn check(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
    period: Period,
    save: bool,
) -> Result<CheckOutcome> {
    let (fw, tree, report) = run(ctx, who, None, period).await?;
    let flags: Vec<FlagView> = report
        .flags
        .iter()
        .filter(|f| who.sees(&tree, f.region))
        .map(|f| f.view(&fw, &tree))
        .collect();
    let saved = if save {
        let in_scope = |code: &str| tree.find(code).is_some_and(|i| who.sees(&tree, i));
        Some(
            ctx.store
                .save_flags(period, &flags, in_scope, &who.actor())
                .await?,
        )
    } else {
        None
    };
    Ok(CheckOutcome {
        period,
        flags,
        summary: report.summary,
        saved,
    })
}

/// The last check saved to the queue, from its ledger entry.
pub struct LastCheck {
    /// When it finished (the ledger's time, UTC).
    pub at: String,
    pub user: String,
    /// The period checked, as given ("2024", "2024-06").
    pub period: String,
    pub found: i64,
    pub new: i64,
    pub cleared: i64,
}

/// The last saved check, by anyone: a check of a whole year takes seconds
/// and the page does not wait for it, so this is how its result is seen.
pub async fn last_check(ctx: &Ctx, _who: &Authorized<'_, cap::Check>) -> Result<Option<LastCheck>> {
    let Some(e) = ctx
        .store
        .last_audit_entry(LedgerAction::QualityCheck)
        .await?
    else {
        return Ok(None);
    };
    let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
    let n = |k: &str| d.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
    Ok(Some(LastCheck {
        period: period_of(&e),
        found: n("found"),
        new: n("new"),
        cleared: n("cleared"),
        at: e.at,
        user: e.user,
    }))
}

/// The period a check's ledger entry names ("period:2024" → "2024").
fn period_of(e: &pingan_store::Entry) -> String {
    e.object
        .strip_prefix("period:")
        .unwrap_or(&e.object)
        .to_string()
}

/// A check left to run on in the background whose end is not yet in the
/// ledger.
pub struct RunningCheck {
    /// When it started (the ledger's time, UTC).
    pub at: String,
    pub user: String,
    pub period: String,
}

/// How long a started check counts as running without its end in the
/// ledger: a province's year takes seconds, and a check whose instance
/// stopped never writes its end.
const RUNNING_FOR_SECONDS: i64 = 600;

/// Note in the ledger that the caller's check of `period` starts, so that
/// every instance's page can say so until it ends.
pub async fn check_started(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
    period: Period,
) -> Result<()> {
    let detail = serde_json::json!({});
    note(ctx, who, LedgerAction::QualityCheckStart, period, detail).await
}

/// Note in the ledger that the caller's started check stopped without its
/// result.
pub async fn check_failed(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
    period: Period,
    error: &str,
) -> Result<()> {
    let detail = serde_json::json!({ "error": error });
    note(ctx, who, LedgerAction::QualityCheckFail, period, detail).await
}

async fn note(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
    action: LedgerAction,
    period: Period,
    detail: serde_json::Value,
) -> Result<()> {
    let entry = pingan_store::NewEntry::new(action, &format!("period:{period}"), detail);
    ctx.store.audit(&who.actor(), &entry).await?;
    Ok(())
}

/// The caller's newest check started in the last ten minutes whose result
/// (`quality_check`, written as it saves) or failure is not yet in the
/// ledger. Checks are the caller's own: another user's check of the same
/// period saves the flags of other regions.
pub async fn running_check(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
) -> Result<Option<RunningCheck>> {
    let since = pingan_store::time_from_now(-RUNNING_FOR_SECONDS);
    let of = |action: LedgerAction| pingan_store::AuditFilter {
        from: Some(since.clone()),
        to: None,
        user: Some(who.actor().user),
        action: Some(action.code().to_string()),
    };
    let starts = ctx
        .store
        .audit_entries(&of(LedgerAction::QualityCheckStart), None)
        .await?;
    if starts.is_empty() {
        return Ok(None);
    }
    let mut ends = ctx
        .store
        .audit_entries(&of(LedgerAction::QualityCheck), None)
        .await?;
    ends.extend(
        ctx.store
            .audit_entries(&of(LedgerAction::QualityCheckFail), None)
            .await?,
    );
    let ended = |s: &pingan_store::Entry| ends.iter().any(|e| e.object == s.object && e.id > s.id);
    Ok(starts
        .into_iter()
        .rev()
        .find(|s| !ended(s))
        .map(|s| RunningCheck {
            period: period_of(&s),
            at: s.at,
            user: s.user,
        }))
}

/// Run the checks for `period` over every stored value (the whole
/// province: peers and trends need it), with the given rules or the
/// framework's default ones.
pub async fn run(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Check>,
    rules: Option<&RuleSet>,
    period: Period,
) -> Result<(Arc<Framework>, RegionTree, Report)> {
    let fw = ctx
        .store
        .framework_version(period.year())
        .await?
        .map(|v| v.framework)
        .ok_or_else(|| {
            ServiceError::invalid(format!(
                "没有适用于 {} 年的指标体系：请先导入（pingan import framework）",
                period.year()
            ))
        })?;
    let tree = ctx.store.region_tree().await?;
    let rules = match rules {
        Some(r) => r.clone(),
        None => RuleSet::default_for(&fw),
    };
    // A year of observations and every check over them: seconds of work,
    // bounded like scoring and run off the async workers.
    let _permit = ctx.heavy_permit().await?;
    let obs = ctx.store.observations(&fw, &tree, period.year()).await?;
    tokio::task::spawn_blocking(move || {
        let report = pingan_core::quality::check(&fw, &tree, &rules, &obs, period);
        (fw, tree, report)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("quality check task: {e}")))
}

/// Which flags; a region means its whole subtree.
#[derive(Clone, Debug, Default)]
pub struct FlagQuery {
    pub status: Option<FlagStatus>,
    pub kind: Option<FlagKind>,
    pub period: Option<String>,
    pub year: Option<i32>,
    pub region: Option<String>,
    pub element: Option<String>,
}

impl FlagQuery {
    /// Parses the text filters of a request.
    pub fn parse(
        status: Option<&str>,
        kind: Option<&str>,
        period: Option<&str>,
        year: Option<i32>,
        region: Option<&str>,
        element: Option<&str>,
    ) -> Result<FlagQuery> {
        let status = status
            .map(|s| {
                s.parse::<FlagStatus>().map_err(|_| {
                    ServiceError::invalid("参数 status 应为 open、corrected 或 explained")
                })
            })
            .transpose()?;
        let kind = kind.map(parse_kind).transpose()?;
        if let Some(p) = period {
            parse_period(p)?;
        }
        Ok(FlagQuery {
            status,
            kind,
            period: period.map(str::to_string),
            year,
            region: region.map(str::to_string),
            element: element.map(str::to_string),
        })
    }
}

pub fn parse_kind(s: &str) -> Result<FlagKind> {
    FlagKind::parse(s).ok_or_else(|| {
        ServiceError::invalid(format!(
            "参数 kind：未知的类型“{s}”，应为 {}",
            FlagKind::ALL.map(|k| k.code()).join("、")
        ))
    })
}

/// The queue filtered by the query, within the caller's scope, with the
/// tree it was read against.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Quality>,
    q: &FlagQuery,
) -> Result<(Arc<RegionTree>, Vec<StoredFlag>)> {
    let tree = ctx.tree().await?;
    let mut regions = who.scope_codes(&tree);
    if let Some(r) = &q.region {
        let root = who.region_in_scope(&tree, r)?;
        regions = Some(
            (0..tree.len())
                .filter(|&i| tree.is_within(i, root))
                .map(|i| tree.get(i).code.clone())
                .collect(),
        );
    }
    let flags = ctx
        .store
        .flags(&FlagFilter {
            status: q.status,
            kind: q.kind,
            year: q.year,
            period: q.period.clone(),
            element: q.element.clone(),
            regions,
        })
        .await?;
    Ok((tree, flags))
}

/// One flag, if its region is in the caller's scope.
pub async fn one(ctx: &Ctx, who: &Authorized<'_, cap::Quality>, id: i64) -> Result<StoredFlag> {
    flag_in_scope(ctx, who, id).await
}

/// One flag with the stored values of its region, period and element,
/// newest first (every source: what the reviewer compares).
pub async fn detail(ctx: &Ctx, who: &Authorized<'_, cap::Quality>, id: i64) -> Result<FlagDetail> {
    let f = flag_in_scope(ctx, who, id).await?;
    let mut all = ctx
        .store
        .values(Some(&f.region), None, Some(&f.element))
        .await?;
    all.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at));
    let series = series_of(&f.period, &all);
    let values = all.into_iter().filter(|v| v.period == f.period).collect();
    Ok(FlagDetail {
        flag: f,
        values,
        series,
    })
}

/// A flag with every stored value of its key (newest first) and its
/// series for the chart.
pub struct FlagDetail {
    pub flag: StoredFlag,
    pub values: Vec<pingan_store::StoredValue>,
    /// (period, value) at the flag's granularity, oldest first: per period
    /// the value the check reads (the newest approved submission, else the
    /// newest pending one).
    pub series: Vec<(String, f64)>,
}

/// `newest_first` must be sorted by submission time, newest first.
fn series_of(period: &str, newest_first: &[pingan_store::StoredValue]) -> Vec<(String, f64)> {
    let kind = |p: &str| p.parse::<Period>().ok().map(|p| std::mem::discriminant(&p));
    let want = kind(period);
    let mut by: std::collections::BTreeMap<&str, (bool, f64)> = Default::default();
    for v in newest_first.iter().filter(|v| kind(&v.period) == want) {
        let approved = v.review == ValueState::Approved.code();
        match by.get(v.period.as_str()) {
            Some((true, _)) => {}
            Some((false, _)) if !approved => {}
            _ => {
                by.insert(&v.period, (approved, v.value));
            }
        }
    }
    by.into_iter()
        .map(|(p, (_, v))| (p.to_string(), v))
        .collect()
}

pub(crate) async fn flag_in_scope(ctx: &Ctx, who: &crate::Caller, id: i64) -> Result<StoredFlag> {
    let flag = ctx
        .store
        .flag(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("待核查问题 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &flag.region)?;
    Ok(flag)
}

/// How a reviewer closes a flag, as a request gives it.
pub struct ResolveInput {
    /// `corrected` or `explained`.
    pub resolution: String,
    pub value: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

pub fn resolution(b: &ResolveInput) -> Result<Resolution> {
    match b.resolution.as_str() {
        "corrected" => {
            let value = match &b.value {
                Some(serde_json::Value::Number(n)) => n.as_f64(),
                Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|v| v.is_finite())
            .ok_or_else(|| ServiceError::invalid("更正后的数值（value）应为有限数"))?;
            Ok(Resolution::Corrected {
                value: value + 0.0,
                reason: b.reason.clone().unwrap_or_default(),
            })
        }
        "explained" => Ok(Resolution::Explained {
            note: b.note.clone().unwrap_or_default(),
        }),
        other => Err(ServiceError::invalid(format!(
            "resolution“{other}”无效：应为 corrected（确认有误并更正）或 explained（情况说明）"
        ))),
    }
}

/// Close an open flag: a corrected value (kept under source 核查更正, the
/// year rescored) or an explanation. A correction joins the value's data
/// set: refused while the set is approved and locked, pending while it is
/// in review. Conflict when the flag was already closed.
pub async fn resolve(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Check>,
    id: i64,
    input: &ResolveInput,
) -> Result<StoredFlag> {
    let r = resolution(input)?;
    let flag = flag_in_scope(ctx, who, id).await?;
    let (text, value) = match &r {
        Resolution::Corrected { value, reason } => (
            crate::text::clean(crate::text::NOTE.named("更正原因"), reason)?,
            Some(*value),
        ),
        Resolution::Explained { note } => (
            crate::text::clean(crate::text::NOTE.named("情况说明"), note)?,
            None,
        ),
    };
    if text.is_empty() {
        return Err(ServiceError::invalid(match r {
            Resolution::Corrected { .. } => "请填写更正原因",
            Resolution::Explained { .. } => "请填写情况说明",
        }));
    }
    let r = match r {
        Resolution::Corrected { value, .. } => Resolution::Corrected {
            value,
            reason: text,
        },
        Resolution::Explained { .. } => Resolution::Explained { note: text },
    };
    let year = flag
        .period
        .parse::<Period>()
        .map(Period::year)
        .unwrap_or_default();
    let key;
    let correction = match value {
        None => None,
        Some(v) => {
            let fw = ctx.store.known_codes().await?;
            if let Some(e) = fw.element_index(&flag.element) {
                pingan_core::bounds::check_value(&fw.elements[e], v)
                    .map_err(ServiceError::Invalid)?;
            }
            key = SetKey::of(&fw, &flag.region, &flag.period, &flag.element);
            let review = match ctx.store.set_row(&key).await? {
                Some(set) if set.state == SetState::Approved => {
                    let tree = ctx.tree().await?;
                    return Err(ServiceError::conflict(format!(
                        "数据集 {} 已审核锁定（{} 于 {} 确认），不能更正；请测评办管理员先解锁",
                        key.describe(&tree),
                        set.level3_by.unwrap_or_default(),
                        set.updated_at
                    )));
                }
                Some(_) => ValueState::Pending,
                None => ValueState::Approved,
            };
            Some(Correction {
                value: v,
                year,
                review,
                set: &key,
            })
        }
    };
    ctx.store
        .resolve_flag(&flag, &r, correction.as_ref(), &who.actor())
        .await?;
    if value.is_some() {
        // The correction is kept either way; a year that cannot be scored
        // yet is scored when its data is complete.
        if let Err(e) = crate::scores::compute(ctx, Period::Year(year), &who.actor()).await {
            tracing::info!(year, error = %e, "not rescored after a correction");
        }
    }
    ctx.store
        .flag(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("待核查问题 {id} 不存在")))
}

/// Broken rules, disagreeing sources and late data first (each is a
/// definite problem), then the statistical flags by how far past their
/// threshold they are, so reviewers meet the strongest evidence first. A
/// flag the model of normal judged is ranked by that evidence (how
/// improbable the value is), not by the seed method's own score: a jump
/// from 0 to 88 is 2933 % but hardly improbable in a small series.
pub fn sort_by_severity(flags: &mut [StoredFlag]) {
    let p = pingan_core::quality::Params::default();
    let weight = |f: &StoredFlag| -> (u8, f64) {
        let over = |t: f64| f.score.abs() / t;
        if let Some(s) = f.numbers.get("surprise").filter(|_| f.kind.statistical()) {
            // Beside the seed's scores (which are 1 or more at their
            // threshold) the evidence reads as −log10 p over 3.
            return (3, -(s / 3.0));
        }
        match f.kind {
            FlagKind::Rule => (0, 0.0),
            FlagKind::CrossSource => (1, -f.score.abs()),
            FlagKind::Timeliness => (2, -f.score.abs()),
            FlagKind::Zscore => (3, -over(p.z)),
            FlagKind::ModZscore => (3, -over(p.mod_z)),
            FlagKind::Peer => (3, -over(p.peer_mod_z)),
            FlagKind::Jump => (3, -over(p.jump_pct * 2.0)),
            FlagKind::RunAboveMean => (3, -over(p.run_sd * 2.0)),
            // Percentage points the share moved; 20 is a clear departure.
            FlagKind::Share => (3, -over(20.0)),
        }
    };
    flags.sort_by(|a, b| {
        let (x, y) = (weight(a), weight(b));
        x.0.cmp(&y.0)
            .then(x.1.total_cmp(&y.1))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingan_core::quality::Numbers;

    fn flag(id: i64, kind: FlagKind, score: f64, surprise: Option<f64>) -> StoredFlag {
        StoredFlag {
            id,
            region: "r".into(),
            element: "e".into(),
            period: "2024-06".into(),
            kind,
            rule: String::new(),
            score,
            message: String::new(),
            numbers: Numbers(
                surprise
                    .map(|s| ("surprise".into(), s))
                    .into_iter()
                    .collect(),
            ),
            sources: Vec::new(),
            status: FlagStatus::Open,
            found_at: String::new(),
            found_by: String::new(),
            resolved_at: None,
            resolved_by: None,
            resolution: String::new(),
            corrected_value: None,
        }
    }

    #[test]
    fn the_strongest_evidence_comes_first() {
        let mut flags = vec![
            // 0 → 88 in a small series: a huge percentage, p ≈ 10^-3.2.
            flag(1, FlagKind::Jump, 2933.0, Some(3.2)),
            flag(2, FlagKind::RunAboveMean, 1.5, Some(2.4)),
            // 264 → 498: a modest percentage, p ≈ 10^-6.4.
            flag(3, FlagKind::Jump, 88.6, Some(6.4)),
            flag(4, FlagKind::Rule, 0.0, None),
        ];
        sort_by_severity(&mut flags);
        let ids: Vec<i64> = flags.iter().map(|f| f.id).collect();
        assert_eq!(ids, [4, 3, 1, 2]);
    }
}

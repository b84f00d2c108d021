//! Consequences of a year's results (issue 21): the 约谈 of the bottom
//! three's leaders with their minutes, the deduction from a later year's
//! total for rectification not done (通报批评; the year is rescored, so the
//! deduction shows in its breakdown with its reason), and the 先进 rule.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, scores};
use pingan_core::Period;
use pingan_core::consequence::{MAX_DEDUCTION, advanced_eligible};
use pingan_core::rectify::{EVIDENCE_LIMIT, evidence_type};
use pingan_core::score::RegionResult;
use pingan_store::{Deduction, Interview, NewInterview};

/// What the consequences page shows of a year.
pub struct Consequences {
    pub year: i32,
    /// Cities and counties in the province's bottom three of their level
    /// this year, with
    /// whether they were last year too (then they may not be 先进).
    pub bottom: Vec<(RegionResult, Option<bool>)>,
    /// Every evaluated city and county: may it be named 先进?
    pub eligible: Vec<(RegionResult, bool)>,
    pub interviews: Vec<Interview>,
    /// Deductions taken from this year's totals.
    pub deductions: Vec<Deduction>,
    /// Cities and counties with items of this year's lists past their
    /// deadline and not closed (整改不力): region and how many.
    pub late: Vec<(String, usize)>,
}

async fn results(ctx: &Ctx, who: &Authorized<'_, cap::Scores>, year: i32) -> Vec<RegionResult> {
    let q = scores::ScoreQuery {
        period: Period::Year(year),
        level: None,
        parent: None,
    };
    scores::official(ctx, who, &q)
        .await
        .map(|r| r.results)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.level == "city" || r.level == "county")
        .collect()
}

pub async fn year(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
) -> Result<Consequences> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let this = results(ctx, &reader, year).await;
    let last = results(ctx, &reader, year - 1).await;
    // The province's office 约谈s the last three cities and the last three
    // counties of the province (the seed's 排名后三位的市县), not each city's.
    let was_bottom = |code: &str| {
        last.iter()
            .find(|r| r.region == code)
            .map(|r| r.level_bottom)
    };
    let mut bottom = Vec::new();
    let mut eligible = Vec::new();
    for r in this {
        let before = was_bottom(&r.region);
        if let Some(ok) = advanced_eligible(Some(r.level_bottom), before) {
            if r.level_bottom {
                bottom.push((r.clone(), before));
            }
            eligible.push((r, ok));
        }
    }
    Ok(Consequences {
        year,
        bottom,
        eligible,
        interviews: ctx.store.interviews(year).await?,
        deductions: ctx.store.deductions(year).await?,
        late: late_regions(ctx, year).await?,
    })
}

fn text(name: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(format!("请填写{name}")));
    }
    if v.chars().count() > max {
        return Err(ServiceError::invalid(format!("{name}过长：最多 {max} 字")));
    }
    Ok(v.to_string())
}

/// What a 约谈 form carries.
pub struct InterviewInput {
    pub region: String,
    pub held_on: String,
    pub interviewer: String,
    pub interviewee: String,
    pub summary: String,
    pub minutes: Option<(String, Vec<u8>)>,
}

/// Record a 约谈 of `year`'s results with its minutes (a PDF, Word file or
/// picture of the signed minutes).
pub async fn add_interview(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    i: &InterviewInput,
) -> Result<i64> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &i.region)?;
    let held_on = i.held_on.trim();
    if crate::report::add_days(held_on, 0).as_deref() != Some(held_on) {
        return Err(ServiceError::invalid(format!(
            "约谈日期“{held_on}”无效：应为 YYYY-MM-DD"
        )));
    }
    let interviewer = text("约谈人", &i.interviewer, 200)?;
    let interviewee = text("被约谈人", &i.interviewee, 200)?;
    let summary = text("约谈要点", &i.summary, 2000)?;
    let Some((name, bytes)) = i.minutes.as_ref().filter(|(_, b)| !b.is_empty()) else {
        return Err(ServiceError::invalid("请上传约谈纪要（PDF、Word 或图片）"));
    };
    if bytes.len() > EVIDENCE_LIMIT {
        return Err(ServiceError::invalid(format!(
            "约谈纪要超过 {} MB 的上限",
            EVIDENCE_LIMIT >> 20
        )));
    }
    let mime = evidence_type(bytes)
        .ok_or_else(|| ServiceError::invalid(format!("{name} 不是 PDF、Word、Excel 或图片文件")))?;
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .take(120)
        .collect();
    Ok(ctx
        .store
        .add_interview(
            &NewInterview {
                year,
                region: &i.region,
                held_on,
                interviewer: &interviewer,
                interviewee: &interviewee,
                summary: &summary,
                minutes: (&name, mime, bytes),
            },
            &who.actor(),
        )
        .await?)
}

/// A 约谈's minutes.
pub async fn minutes(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    id: i64,
) -> Result<(Interview, Vec<u8>)> {
    let (meta, bytes) = ctx
        .store
        .interview_minutes(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("约谈记录 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &meta.region)?;
    Ok((meta, bytes))
}

/// 通报批评: take `points` from `region`'s total of `year` because its
/// rectification of `from_year` was not done, then rescore `year` so the
/// deduction is in its results; what the rescoring said.
pub async fn deduct(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    region: &str,
    points: f64,
    reason: &str,
    from_year: i32,
) -> Result<Vec<String>> {
    let tree = ctx.tree().await?;
    let i = who.region_in_scope(&tree, region)?;
    if !matches!(tree.get(i).level.code(), "city" | "county") {
        return Err(ServiceError::invalid("扣分只适用于市、县两级"));
    }
    if !(points.is_finite() && points > 0.0 && points <= MAX_DEDUCTION) {
        return Err(ServiceError::invalid(format!(
            "扣分应大于 0、不超过 {MAX_DEDUCTION} 分"
        )));
    }
    if from_year >= year {
        return Err(ServiceError::invalid("扣分从整改年度之后的年度总分中扣减"));
    }
    let reason = text("扣分理由", reason, 500)?;
    ctx.store
        .add_deduction(year, region, points, &reason, from_year, &who.actor())
        .await?;
    let (mut rescored, mut notes) = (Vec::new(), Vec::new());
    scores::rescore(ctx, &[year], &who.actor(), &mut rescored, &mut notes).await;
    Ok(notes)
}

async fn late_regions(ctx: &Ctx, year: i32) -> Result<Vec<(String, usize)>> {
    let today = crate::report::beijing(&pingan_store::now()).0;
    let mut out: Vec<(String, usize)> = Vec::new();
    for i in ctx.store.rectify_items(year, None).await? {
        // Past its deadline, whatever the plan's state (a late plan alone is
        // not yet rectification left undone).
        let late = i.merged_into.is_none()
            && pingan_core::rectify::overdue(i.state, &today, &today, &i.deadline).is_some();
        if !late {
            continue;
        }
        match out.last_mut() {
            Some((r, n)) if *r == i.region => *n += 1,
            _ => out.push((i.region, 1)),
        }
    }
    Ok(out)
}

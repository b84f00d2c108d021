//! What the 群众调查 pages show: a year's plan (targets and invitations
//! per frame region, from its parameters and frame), the responses
//! counted per region and verdict, and the estimates, kept until the next
//! survey write so a page does not re-weight 100,000 answers.

use super::{YearForm, estimates, year_form, year_frame};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::RegionTree;
use pingan_core::survey::plan::{self, Allocation, Rate};
use pingan_core::survey::run::Estimates;
use pingan_store::SurveyPlan;
use std::sync::Arc;

/// A year's plan: its parameters and, per frame region in frame order,
/// (region, population, target, invitations).
pub struct Plan {
    pub params: SurveyPlan,
    pub rows: Vec<PlanRow>,
}

pub struct PlanRow {
    pub region: usize,
    pub population: u64,
    pub target: u64,
    pub invitations: u64,
}

fn allocation(s: &str) -> Result<Allocation> {
    match s {
        "proportional" => Ok(Allocation::Proportional),
        "equal" => Ok(Allocation::Equal),
        _ => Err(ServiceError::invalid(format!(
            "分配方式应为 proportional（按人口比例）或 equal（平均），而不是“{s}”"
        ))),
    }
}

fn allocate(tree: &RegionTree, frame: &[(usize, u64)], p: &SurveyPlan) -> Result<Vec<PlanRow>> {
    let rate = Rate::parse(&p.response_rate).map_err(ServiceError::invalid)?;
    let codes: Vec<(&str, u64)> = frame
        .iter()
        .map(|(r, pop)| (tree.get(*r).code.as_str(), *pop))
        .collect();
    let size = u64::try_from(p.size).map_err(|_| ServiceError::invalid("样本量应为正整数"))?;
    let min =
        u64::try_from(p.min_per).map_err(|_| ServiceError::invalid("最少样本应为非负整数"))?;
    let planned = plan::allocate(&codes, size, allocation(&p.allocation)?, min, rate)
        .map_err(ServiceError::invalid)?;
    Ok(frame
        .iter()
        .zip(planned)
        .map(|((region, population), p)| PlanRow {
            region: *region,
            population: *population,
            target: p.target,
            invitations: p.invitations,
        })
        .collect())
}

/// Set the year's plan: checked against its frame first (a size below the
/// minimums or above the population is refused), then kept and logged.
pub async fn set_plan(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    params: SurveyPlan,
) -> Result<Plan> {
    let tree = ctx.tree().await?;
    let frame = year_frame(ctx, &tree, params.year).await?;
    let rows = allocate(&tree, &frame, &params)?;
    ctx.store.save_survey_plan(&params, &who.actor()).await?;
    Ok(Plan { params, rows })
}

/// The year's plan, or None before one is set (kept as the form is).
pub async fn year_plan(ctx: &Ctx, year: i32) -> Result<Arc<Option<Plan>>> {
    ctx.versioned(
        &format!("survey-plan:{year}"),
        &super::SETUP,
        read_plan(ctx, year),
    )
    .await
}

async fn read_plan(ctx: &Ctx, year: i32) -> Result<Option<Plan>> {
    let Some(params) = ctx.store.survey_plan(year).await? else {
        return Ok(None);
    };
    let tree = ctx.tree().await?;
    let frame = year_frame(ctx, &tree, year).await?;
    let rows = allocate(&tree, &frame, &params)?;
    Ok(Some(Plan { params, rows }))
}

/// Responses of a region's subtree by what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct responses stored.
    pub received: u64,
    pub valid: u64,
    pub too_fast: u64,
    pub incomplete: u64,
    pub constraint: u64,
    pub straightlining: u64,
    /// The plan's target and invitations (0 without a plan).
    pub target: u64,
    pub invitations: u64,
}

impl Tally {
    /// 有效回收率: valid of received, in percent.
    pub fn valid_rate(&self) -> Option<f64> {
        (self.received > 0).then(|| self.valid as f64 * 100.0 / self.received as f64)
    }

    /// Valid answers of the target, in percent.
    pub fn completion(&self) -> Option<f64> {
        (self.target > 0).then(|| self.valid as f64 * 100.0 / self.target as f64)
    }

    fn add(&mut self, o: &Tally) {
        self.received += o.received;
        self.valid += o.valid;
        self.too_fast += o.too_fast;
        self.incomplete += o.incomplete;
        self.constraint += o.constraint;
        self.straightlining += o.straightlining;
        self.target += o.target;
        self.invitations += o.invitations;
    }
}

/// Everything the 群众调查 page shows of a year.
pub struct Board {
    pub year: i32,
    pub form: Arc<YearForm>,
    /// Per region of the tree (its order), its subtree's tally.
    pub tallies: Vec<Tally>,
    pub plan: Arc<Option<Plan>>,
    pub estimates: Arc<Estimates>,
    /// Last year's, when it had a survey.
    pub before: Option<Arc<Estimates>>,
    pub min_n: usize,
    /// (code, name) of the form's elements, in the estimates' order.
    pub elements: Vec<(String, String)>,
}

/// The years with a questionnaire, newest first.
pub async fn survey_years(ctx: &Ctx) -> Result<Vec<i32>> {
    let mut y: Vec<i32> = ctx
        .store
        .survey_forms(None)
        .await?
        .iter()
        .map(|f| f.year)
        .collect();
    y.dedup();
    Ok(y)
}

/// The estimates of `year`, kept per instance until the next survey write.
pub async fn kept_estimates(ctx: &Ctx, year: i32, min_n: usize) -> Result<Arc<Estimates>> {
    let version = ctx.store.survey_version(year).await?;
    let key = (year, min_n);
    if let Some((v, e)) = ctx.kept_surveys.lock().await.get(&key)
        && *v == version
    {
        return Ok(e.clone());
    }
    let _one = ctx.flight(&format!("survey:{year}:{min_n}")).await;
    if let Some((v, e)) = ctx.kept_surveys.lock().await.get(&key)
        && *v == version
    {
        return Ok(e.clone());
    }
    let e = Arc::new(estimates(ctx, year, min_n).await?);
    let mut kept = ctx.kept_surveys.lock().await;
    kept.retain(|(y, _), (v, _)| *y != year || *v == version);
    kept.insert(key, (version, e.clone()));
    Ok(e)
}

/// The page's data for `year`; the caller's scope is applied by the page
/// (every region's tally is here, the page shows the ones it may).
pub async fn board(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Surveys>,
    year: i32,
    min_n: usize,
) -> Result<Board> {
    let tree = ctx.tree().await?;
    let form = year_form(ctx, year).await?;
    let plan = year_plan(ctx, year).await?;
    let mut own = vec![Tally::default(); tree.len()];
    for t in ctx.store.response_tallies(form.stored.id).await? {
        let Some(r) = tree.find(&t.region) else {
            continue;
        };
        let n = t.responses.max(0) as u64;
        let x = &mut own[r];
        x.received += n;
        x.straightlining += t.straightlining.max(0) as u64;
        match t.verdict.as_deref() {
            None => x.valid += n,
            Some("too_fast") => x.too_fast += n,
            Some("incomplete") => x.incomplete += n,
            Some(_) => x.constraint += n,
        }
    }
    for p in plan.iter().flat_map(|p| &p.rows) {
        own[p.region].target += p.target;
        own[p.region].invitations += p.invitations;
    }
    // Children before parents: add each region into its parent, deepest first.
    let mut order: Vec<usize> = (0..tree.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(depth(&tree, i)));
    let mut tallies = own;
    for i in order {
        if let Some(p) = tree.get(i).parent {
            let t = tallies[i];
            tallies[p].add(&t);
        }
    }
    let estimates = kept_estimates(ctx, year, min_n).await?;
    let before = match ctx.store.survey_forms(Some(year - 1)).await?.is_empty() {
        true => None,
        false => kept_estimates(ctx, year - 1, min_n).await.ok(),
    };
    let fw = super::framework(ctx, year).await?;
    let elements = form
        .form
        .elements()
        .iter()
        .map(|e| {
            let name = fw
                .element_index(e)
                .map_or_else(|| e.clone(), |i| fw.elements[i].name.clone());
            (e.clone(), name)
        })
        .collect();
    Ok(Board {
        year,
        elements,
        form,
        tallies,
        plan,
        estimates,
        before,
        min_n,
    })
}

fn depth(tree: &RegionTree, mut i: usize) -> usize {
    let mut d = 0;
    while let Some(p) = tree.get(i).parent {
        i = p;
        d += 1;
    }
    d
}

/// Weight the newest two survey years (the 群众调查 page compares them), so
/// the first reader after a start finds them kept; failures are only logged.
pub async fn warm_up(ctx: Ctx) {
    let Ok(years) = survey_years(&ctx).await else {
        return;
    };
    for y in years.into_iter().take(2) {
        let started = std::time::Instant::now();
        match kept_estimates(&ctx, y, 30).await {
            Ok(_) => tracing::info!(
                year = y,
                ms = started.elapsed().as_millis() as u64,
                "survey estimates ready"
            ),
            Err(e) => tracing::info!(year = y, "no survey estimates kept at start: {e}"),
        }
    }
}

/// Up to `limit` stored answers after arrival number `after` (−1: from
/// the first), in the caller's scope, and where the next page starts (an
/// export pages through them).
pub async fn answers_after(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Surveys>,
    form: &YearForm,
    after: i64,
    limit: i64,
) -> Result<(Option<i64>, Vec<pingan_store::StoredResponse>)> {
    let tree = ctx.tree().await?;
    let rows = ctx
        .store
        .survey_responses_after(form.stored.id, after, limit)
        .await?;
    // Where the next page starts; None after the last.
    let next = (rows.len() as i64 >= limit)
        .then(|| rows.last().map(|(o, _)| *o))
        .flatten();
    let kept = rows
        .into_iter()
        .filter(|(_, r)| tree.find(&r.region).is_some_and(|i| who.sees(&tree, i)))
        .map(|(_, r)| r)
        .collect();
    Ok((next, kept))
}

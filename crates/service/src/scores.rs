//! Scores: the stored official results within the caller's scope, the
//! marked preview that counts values still in review, and rescoring after
//! a write.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::consequence::Deducted;
use pingan_core::score::{RegionResult, ScoreReport, evaluate_all};
use pingan_core::{Level, Period, RegionTree};
use pingan_store::{Actor, FrameworkVersion, NewScoreRun};
use serde_json::json;

/// Which results: a period, optionally one level and one parent's children.
#[derive(Clone, Debug)]
pub struct ScoreQuery {
    pub period: Period,
    pub level: Option<Level>,
    pub parent: Option<String>,
}

fn keep(who: &crate::Caller, tree: &RegionTree, q: &ScoreQuery, r: &RegionResult) -> bool {
    q.level.is_none_or(|l| r.level == l.code())
        && tree.find(&r.region).is_some_and(|i| who.sees(tree, i))
        && q.parent
            .as_ref()
            .is_none_or(|p| r.parent.as_ref() == Some(p))
}

/// The official results (computed and kept first if missing), as `pingan
/// score` prints them, for the regions in the caller's scope.
pub async fn official(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    q: &ScoreQuery,
) -> Result<ScoreReport> {
    let tree = ctx.tree().await?;
    if let Some(p) = &q.parent {
        who.region_in_scope(&tree, p)?;
    }
    stored_where(ctx, q.period, q.level, None, &who.actor(), |r| {
        keep(who, &tree, q, r)
    })
    .await
}

/// A preview: every value scored, the ones in review included, nothing
/// stored; never the official result (`review::pending_in_scope` says how
/// many values it adds).
pub async fn preview(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    q: &ScoreQuery,
) -> Result<ScoreReport> {
    let tree = ctx.tree().await?;
    if let Some(p) = &q.parent {
        who.region_in_scope(&tree, p)?;
    }
    let full = ctx.preview(q.period, preview_report(ctx, q.period)).await?;
    let report = ScoreReport {
        framework: full.framework.clone(),
        period: full.period,
        results: full
            .results
            .iter()
            .filter(|r| keep(who, &tree, q, r))
            .cloned()
            .collect(),
    };
    Ok(report)
}

/// The whole preview of a period (every region), for a page that picks
/// the regions it shows from it.
pub async fn preview_all(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    period: Period,
) -> Result<std::sync::Arc<ScoreReport>> {
    ctx.preview(period, preview_report(ctx, period)).await
}

/// One region's official result, if it has one.
pub async fn region(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    period: Period,
    code: &str,
) -> Result<Option<RegionResult>> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    region_score(ctx, period, code, &who.actor()).await
}

/// The official results of the regions directly under `code`, in the
/// tree's order.
pub async fn children(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    period: Period,
    code: &str,
) -> Result<Vec<RegionResult>> {
    let tree = ctx.tree().await?;
    let i = who.region_in_scope(&tree, code)?;
    results_under(ctx, who, &tree, period, i).await
}

/// The official results of a region's peers (its parent's children, the
/// region included). A county official may not open a sibling's page,
/// but the seed compares each region with its peers' average.
pub async fn peers(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    period: Period,
    code: &str,
) -> Result<Vec<RegionResult>> {
    let tree = ctx.tree().await?;
    let i = who.region_in_scope(&tree, code)?;
    match tree.get(i).parent {
        Some(p) => results_under(ctx, who, &tree, period, p).await,
        None => Ok(Vec::new()),
    }
}

async fn results_under(
    ctx: &Ctx,
    who: &crate::Caller,
    tree: &RegionTree,
    period: Period,
    parent: usize,
) -> Result<Vec<RegionResult>> {
    let codes: Vec<String> = tree
        .children(parent)
        .iter()
        .map(|i| tree.get(*i).code.clone())
        .collect();
    region_scores(ctx, period, &codes, &who.actor()).await
}

/// A region's official result in each year that has values, oldest first.
pub async fn history(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    code: &str,
) -> Result<Vec<(i32, Option<RegionResult>)>> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    let mut out = Vec::new();
    for y in ctx.years().await?.iter() {
        let r = region_score(ctx, Period::Year(*y), code, &who.actor())
            .await
            .ok()
            .flatten();
        out.push((*y, r));
    }
    Ok(out)
}

/// Recompute the yearly scores a write touched; a year that cannot be
/// scored yet (no benchmark, no framework) is noted, not an error.
pub(crate) async fn rescore(
    ctx: &Ctx,
    years: &[i32],
    actor: &Actor,
    rescored: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    for &y in years {
        let period = Period::Year(y);
        match compute(ctx, period, actor).await {
            Ok(_) => rescored.push(period.to_string()),
            Err(e) => notes.push(format!("{y} 年暂未计分：{e}")),
        }
    }
}

pub(crate) async fn version(ctx: &Ctx, year: i32) -> Result<FrameworkVersion> {
    ctx.store.framework_version(year).await?.ok_or_else(|| {
        ServiceError::invalid(format!(
            "没有适用于 {year} 年的指标体系：请先导入（pingan import framework）"
        ))
    })
}

/// Read the newest year's values, score its preview and group its
/// 报送进度, so that the first reader after a start finds them kept (a server calls this in the
/// background when it starts; failures are only logged).
pub async fn warm_up(ctx: Ctx) {
    let Some(year) = ctx.latest_year().await else {
        return;
    };
    let started = std::time::Instant::now();
    let period = Period::Year(year);
    match ctx.preview(period, preview_report(&ctx, period)).await {
        Ok(_) => tracing::info!(
            year,
            ms = started.elapsed().as_millis() as u64,
            "preview ready"
        ),
        Err(e) => tracing::info!(year, "no preview kept at start: {e}"),
    }
    // The approved values too: the rescoring after an office import reads them.
    if let (Ok(Some(v)), Ok(tree)) = (ctx.store.framework_version(year).await, ctx.tree().await)
        && let Ok(_permit) = ctx.heavy_permit().await
        && let Err(e) = ctx
            .scoring_values(v.id, &v.framework, &tree, period, false)
            .await
    {
        tracing::info!(year, "approved values not kept at start: {e}");
    }
    let started = std::time::Instant::now();
    match ctx.submissions(year).await {
        Ok(_) => tracing::info!(
            year,
            ms = started.elapsed().as_millis() as u64,
            "报送进度 ready"
        ),
        Err(e) => tracing::info!(year, "no 报送进度 kept at start: {e}"),
    }
}

/// Score `period` over every value, pending ones included, without
/// storing anything: a preview, never the official result.
pub(crate) async fn preview_report(ctx: &Ctx, period: Period) -> Result<ScoreReport> {
    let v = version(ctx, period.year()).await?;
    let tree = ctx.store.region_tree().await?;
    evaluate(ctx, &v, tree, period, true).await
}

/// Score `period` as cheaply refused as possible: a period whose
/// benchmarks are missing (most months and quarters) is refused before a
/// value is read; the reading and the evaluation hold a heavy permit; the
/// evaluation runs on a blocking thread, holding no pool connection and
/// no async worker.
async fn evaluate(
    ctx: &Ctx,
    v: &FrameworkVersion,
    tree: RegionTree,
    period: Period,
    preview: bool,
) -> Result<ScoreReport> {
    let fw = v.framework.clone();
    if tree.is_empty() {
        return Err(ServiceError::invalid(
            "数据库中还没有地区：请先导入（pingan import regions）",
        ));
    }
    let benchmarks = ctx.store.scoring_benchmarks(&fw, &tree, period).await?;
    pingan_core::score::check_benchmarks(&fw, &benchmarks, period)
        .map_err(|e| ServiceError::invalid(e.to_string()))?;
    let _permit = ctx.heavy_permit().await?;
    let (mut data, _) = ctx
        .scoring_values(v.id, &fw, &tree, period, preview)
        .await?;
    data.set_benchmarks_from(&benchmarks);
    let mut report = tokio::task::spawn_blocking(move || {
        evaluate_all(&fw, &tree, &data, period, None)
            .map(|e| e.score())
            .map_err(|e| ServiceError::invalid(e.to_string()))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("scoring task: {e}")))??;
    // 通报批评: points an earlier year's rectification lost come off this year's totals.
    if let Period::Year(y) = period {
        let list: Vec<(String, Deducted)> = ctx
            .store
            .deductions(y)
            .await?
            .into_iter()
            .map(|d| {
                let reason = d.reason;
                (
                    d.region,
                    Deducted {
                        points: d.points,
                        reason,
                    },
                )
            })
            .collect();
        pingan_core::consequence::deduct(&mut report, &v.framework, &list);
    }
    Ok(report)
}

/// Score `period` from the approved values and keep the result.
pub(crate) async fn compute(ctx: &Ctx, period: Period, actor: &Actor) -> Result<ScoreReport> {
    let v = version(ctx, period.year()).await?;
    let tree = ctx.store.region_tree().await?;
    let report = evaluate(ctx, &v, tree, period, false).await?;
    let rows: Vec<(String, String, String)> = report
        .results
        .iter()
        .map(|r| Ok((r.region.clone(), r.level.clone(), serde_json::to_string(r)?)))
        .collect::<Result<_, serde_json::Error>>()
        .map_err(|e| ServiceError::invalid(e.to_string()))?;
    let digest = pingan_store::sha256_hex(
        rows.iter()
            .map(|r| r.2.as_str())
            .collect::<String>()
            .as_bytes(),
    );
    let detail = json!({"period": period.to_string(), "framework_version": v.id,
                        "framework": v.framework.code, "regions": rows.len(), "sha256": digest});
    ctx.store
        .save_score_run(
            &NewScoreRun {
                version: v.id,
                period,
                rows: &rows,
            },
            detail,
            actor,
        )
        .await?;
    Ok(report)
}

/// The stored scores of `period` (computed and kept first if missing or
/// stale), as `pingan score` prints them; `level` and `regions` filter the
/// output only. Crate-private: it may write a score run, so callers
/// outside reach it through an operation that takes a capability proof.
pub(crate) async fn stored(
    ctx: &Ctx,
    period: Period,
    level: Option<Level>,
    regions: Option<&[String]>,
    actor: &Actor,
) -> Result<ScoreReport> {
    stored_where(ctx, period, level, regions, actor, |_| true).await
}

/// `stored`, keeping only the results `wanted` accepts (cloned from the
/// instance's parsed copy of the run, not parsed again).
async fn stored_where(
    ctx: &Ctx,
    period: Period,
    level: Option<Level>,
    regions: Option<&[String]>,
    actor: &Actor,
    wanted: impl Fn(&RegionResult) -> bool,
) -> Result<ScoreReport> {
    let v = version(ctx, period.year()).await?;
    let mut run = ctx.store.score_run(v.id, period).await?;
    let mut computed = None;
    if run.is_none() {
        // One request computes a period; the others wait, then read it.
        let _one = ctx.flight(&format!("score:{}:{period}", v.id)).await;
        run = ctx.store.score_run(v.id, period).await?;
        if run.is_none() {
            computed = Some(compute(ctx, period, actor).await?.results);
        }
    }
    let fits = |r: &RegionResult| {
        level.is_none_or(|l| r.level == l.code())
            && regions.is_none_or(|codes| codes.contains(&r.region))
            && wanted(r)
    };
    let results = match (computed, run) {
        (Some(results), _) => results.into_iter().filter(|r| fits(r)).collect(),
        (None, Some(run)) if regions.is_none() => ctx
            .run_results(run, level)
            .await?
            .iter()
            .filter(|r| fits(r))
            .cloned()
            .collect(),
        (None, Some(run)) => ctx
            .store
            .score_results(run, level, regions)
            .await?
            .into_iter()
            .filter(|r| fits(r))
            .collect(),
        (None, None) => Vec::new(),
    };
    Ok(ScoreReport {
        framework: v.framework.code.clone(),
        period,
        results,
    })
}

/// One region's stored result of `period` (computed now if missing).
pub(crate) async fn region_score(
    ctx: &Ctx,
    period: Period,
    region: &str,
    actor: &Actor,
) -> Result<Option<RegionResult>> {
    Ok(region_scores(ctx, period, &[region.to_string()], actor)
        .await?
        .into_iter()
        .next())
}

/// The stored results of these regions, in the stored order: a page about
/// one region and its children reads only those rows.
pub(crate) async fn region_scores(
    ctx: &Ctx,
    period: Period,
    regions: &[String],
    actor: &Actor,
) -> Result<Vec<RegionResult>> {
    if regions.is_empty() {
        return Ok(Vec::new());
    }
    Ok(stored(ctx, period, None, Some(regions), actor)
        .await?
        .results)
}

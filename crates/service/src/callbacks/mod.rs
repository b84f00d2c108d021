//! Callback sampling of mediation cases (回访抽查): the register in,
//! seeded draws, recorded callbacks, and the confirmed share beside the
//! reported 矛盾纠纷化解成功率 (D3.2.1).
//!
//! Only cases recorded as 调解成功 are drawn: a callback asks a party
//! whether a dispute counted as resolved really was, which is what the
//! numerator `disputes_resolved` claims. The draw is reproducible by anyone
//! holding the register: each eligible case gets the key
//! SHA-256("{seed}:{case_id}") (lowercase hex), the cases are sorted by
//! key, and the first ⌈rate × eligible⌉ are taken.

use crate::ctx::Ctx;
use crate::{Authorized, cap};
mod register;

pub use register::{CaseBatch, CaseIntake, csv, import, list};

use crate::error::{Result, ServiceError};
use pingan_core::labels::CallbackResult;
use pingan_core::{Period, RegionTree};
use pingan_input::Outcome;
use pingan_store::{Draw, DrawnCase, NewDraw, sha256_hex};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use serde_json::json;

/// The share of a region's successful cases called back unless another is
/// given (the evaluation plan's 30 %).
pub const DEFAULT_CALLBACK_RATE: f64 = 0.30;

/// The indicator the callbacks give evidence on.
pub const SUCCESS_INDICATOR: &str = "D3.2.1";

/// Seeds stay below 2^53 so that a browser's JSON numbers carry them exactly.
pub const MAX_SEED: i64 = (1 << 53) - 1;

/// ⌈rate × n⌉, at least one when there is any; the small tolerance keeps
/// 0.3 × 10 at 3 (it is 3.0000000000000004 in floating point).
pub fn sample_size(rate: f64, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let k = (rate * n as f64 - 1e-9).ceil();
    (k.max(1.0) as usize).min(n)
}

/// The draw's order: SHA-256("{seed}:{case_id}"), as hex.
pub fn draw_key(seed: i64, case_id: &str) -> String {
    sha256_hex(format!("{seed}:{case_id}").as_bytes())
}

/// The first ⌈rate × n⌉ of `ids` by key: the whole draw rule.
pub fn choose(ids: &[String], rate: f64, seed: i64) -> Vec<String> {
    let mut keyed: Vec<(String, &String)> = ids.iter().map(|id| (draw_key(seed, id), id)).collect();
    keyed.sort();
    keyed
        .into_iter()
        .take(sample_size(rate, ids.len()))
        .map(|(_, id)| id.clone())
        .collect()
}

pub fn check_rate(rate: f64) -> Result<f64> {
    if rate.is_finite() && rate > 0.0 && rate <= 1.0 {
        Ok(rate)
    } else {
        Err(ServiceError::invalid(format!(
            "抽取比例 {rate} 无效：应大于 0 且不超过 1（如 0.3 表示 30%）"
        )))
    }
}

fn check_seed(seed: i64) -> Result<i64> {
    if (0..=MAX_SEED).contains(&seed) {
        Ok(seed)
    } else {
        Err(ServiceError::invalid(format!(
            "随机种子 {seed} 无效：应为 0 到 {MAX_SEED} 之间的整数"
        )))
    }
}

/// Codes of `root` and every region below it.
pub(super) fn subtree(tree: &RegionTree, root: usize) -> FxHashSet<String> {
    (0..tree.len())
        .filter(|&i| tree.is_within(i, root))
        .map(|i| tree.get(i).code.clone())
        .collect()
}

/// Draw ⌈rate × n⌉ of the n successful cases of `year` under `region` for
/// a callback. One draw per region and year: asking again with the same
/// (or no) rate and seed returns the draw already made, with `false`;
/// other parameters are a conflict, so nobody can redraw until the sample
/// looks good.
pub async fn draw(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Callback>,
    region: &str,
    year: i32,
    rate: Option<f64>,
    seed: Option<i64>,
) -> Result<(Draw, bool)> {
    let tree = ctx.tree().await?;
    let root = who.region_in_scope(&tree, region)?;
    let rate = check_rate(rate.unwrap_or(DEFAULT_CALLBACK_RATE))?;
    if let Some(s) = seed {
        check_seed(s)?;
    }
    if let Some(d) = ctx.store.draw_for(region, year).await? {
        let same_seed = seed.is_none_or(|s| s == d.seed);
        if same_seed && (rate - d.rate).abs() < 1e-12 {
            return Ok((d, false));
        }
        return Err(ServiceError::conflict(format!(
            "{region} {year} 年已抽取过（第 {} 号，比例 {}，种子 {}）：同一地区、年度只能抽取一次",
            d.id, d.rate, d.seed
        )));
    }
    let seed = seed.unwrap_or_else(random_seed);
    let keep = subtree(&tree, root);
    let ids: Vec<String> = ctx
        .store
        .cases_with_outcome(year, Outcome::Success.label())
        .await?
        .into_iter()
        .filter(|(_, r)| keep.contains(r))
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Err(ServiceError::invalid(format!(
            "{} {year} 年没有“调解成功”的案件可供抽取：请先导入调解案件（pingan import cases）",
            tree.get(root).name
        )));
    }
    let chosen = choose(&ids, rate, seed);
    let detail = json!({"region": region, "year": year, "rate": rate, "seed": seed,
                        "eligible": ids.len(), "drawn": chosen.len(), "cases": chosen});
    let id = ctx
        .store
        .insert_draw(
            &NewDraw {
                region,
                year,
                rate,
                seed,
                eligible: ids.len() as i64,
                cases: &chosen,
            },
            detail,
            &who.actor(),
        )
        .await?;
    let d = ctx
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("抽取 {id} 不存在")))?;
    Ok((d, true))
}

fn random_seed() -> i64 {
    // 32 random bits: plenty for a sample, and exact in any JSON number.
    let t = pingan_store::random_token();
    i64::from(u32::from_str_radix(&t[..8], 16).unwrap_or(0))
}

/// The draws within the caller's scope, newest first (without their cases).
pub async fn draws(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Callbacks>,
    year: Option<i32>,
) -> Result<Vec<Draw>> {
    let tree = ctx.tree().await?;
    Ok(ctx
        .store
        .draws(year)
        .await?
        .into_iter()
        .filter(|d| tree.find(&d.region).is_some_and(|i| who.sees(&tree, i)))
        .collect())
}

/// A draw by id with its cases; not found, or forbidden outside the scope.
pub async fn one(ctx: &Ctx, who: &Authorized<'_, cap::Callbacks>, id: i64) -> Result<Draw> {
    draw_in_scope(ctx, who, id).await
}

async fn draw_in_scope(ctx: &Ctx, who: &crate::Caller, id: i64) -> Result<Draw> {
    let d = ctx
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("第 {id} 号抽取不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &d.region)?;
    Ok(d)
}

pub fn parse_result(s: &str) -> Result<CallbackResult> {
    CallbackResult::parse(s).ok_or_else(|| {
        ServiceError::invalid(format!(
            "回访结果“{s}”无效：应为 confirmed（属实）、not_confirmed（不属实）或 unreachable（未接通）"
        ))
    })
}

/// Record (or correct) the answer of one drawn case. 不属实 needs a note
/// saying what the party said; the earlier answer stays in the ledger.
pub async fn record(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Callback>,
    draw_id: i64,
    case_id: &str,
    result: CallbackResult,
    note: &str,
) -> Result<DrawnCase> {
    draw_in_scope(ctx, who, draw_id).await?;
    // A callback's note is a sentence or two of what the party said.
    let field = crate::text::Field {
        max_chars: 1000,
        ..crate::text::NOTE.named("回访说明")
    };
    let note = &crate::text::clean(field, note)?;
    if result == CallbackResult::NotConfirmed && note.is_empty() {
        return Err(ServiceError::invalid(
            "回访结果为“不属实”时请填写说明（当事人反映的情况）",
        ));
    }
    let Some(before) = ctx.store.callback(draw_id, case_id).await? else {
        return Err(ServiceError::not_found(format!(
            "案件 {case_id} 不在第 {draw_id} 号抽取中"
        )));
    };
    let detail = json!({"draw": draw_id, "case": case_id,
                        "before": {"result": before.0, "note": before.1},
                        "after": {"result": result.code(), "note": note}});
    ctx.store
        .record_callback(draw_id, case_id, result, note, detail, &who.actor())
        .await?;
    let d = ctx
        .store
        .draw(draw_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("抽取 {draw_id} 不存在")))?;
    d.items
        .into_iter()
        .find(|i| i.case.case_id == case_id)
        .ok_or_else(|| ServiceError::not_found(format!("案件 {case_id} 不存在")))
}

/// What the callbacks show for a region and year, beside what was reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallbackEvidence {
    pub region: String,
    pub year: i32,
    /// Cases in the register for the region's subtree that year.
    pub cases: usize,
    /// Of them recorded as 调解成功 (the ones that can be drawn).
    pub successful: usize,
    /// successful / cases × 100: the register's own success rate.
    pub register_rate: Option<f64>,
    /// Draws within the region (its own and its subregions').
    pub draws: Vec<i64>,
    /// Distinct cases drawn.
    pub drawn: usize,
    /// Drawn cases with an answer recorded (未接通 included).
    pub called: usize,
    pub confirmed: usize,
    pub not_confirmed: usize,
    pub unreachable: usize,
    /// confirmed / (confirmed + not_confirmed) × 100; 未接通 is no answer.
    pub confirmed_share: Option<f64>,
    /// The 矛盾纠纷化解成功率 of the stored scores for the region and year.
    pub reported_rate: Option<f64>,
    /// Why there is no reported rate, when there is none.
    pub reported_note: Option<String>,
}

/// The callbacks of every draw within `region` for `year` (a case drawn
/// twice, by a city's and a county's draw, counts once with its latest
/// answer), the register's counts, and the reported success rate from the
/// stored scores (computed now if missing, as a scores read is).
pub async fn evidence(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Callbacks>,
    region: &str,
    year: i32,
) -> Result<CallbackEvidence> {
    let tree = ctx.tree().await?;
    let root = who.region_in_scope(&tree, region)?;
    let keep = subtree(&tree, root);
    let outcomes = ctx.store.case_outcomes(year).await?;
    let in_scope: Vec<&(String, String)> =
        outcomes.iter().filter(|r| keep.contains(&r.0)).collect();
    let cases = in_scope.len();
    let successful = in_scope
        .iter()
        .filter(|r| r.1 == Outcome::Success.label())
        .count();
    let mut draws: Vec<i64> = Vec::new();
    let mut latest: FxHashMap<String, (Option<String>, Option<CallbackResult>)> =
        FxHashMap::default();
    for c in ctx.store.callbacks_of_year(year).await? {
        if !keep.contains(&c.region) {
            continue;
        }
        if draws.last() != Some(&c.draw_id) {
            draws.push(c.draw_id);
        }
        let result = c.result.as_deref().and_then(CallbackResult::parse);
        let e = latest.entry(c.case_id).or_insert((None, None));
        if result.is_some() && c.called_at > e.0 {
            *e = (c.called_at, result);
        }
    }
    let count = |want: CallbackResult| latest.values().filter(|v| v.1 == Some(want)).count();
    let confirmed = count(CallbackResult::Confirmed);
    let not_confirmed = count(CallbackResult::NotConfirmed);
    let unreachable = count(CallbackResult::Unreachable);
    let pct = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64 * 100.0);
    let (reported_rate, reported_note) =
        match crate::scores::region_score(ctx, Period::Year(year), region, &who.actor()).await {
            Ok(Some(r)) => match r.indicators.iter().find(|i| i.code == SUCCESS_INDICATOR) {
                Some(i) if i.value.is_some() => (i.value, None),
                Some(_) => (
                    None,
                    Some(format!("{year} 年 {SUCCESS_INDICATOR} 缺少数据")),
                ),
                None => (
                    None,
                    Some(format!("{year} 年的指标体系中没有 {SUCCESS_INDICATOR}")),
                ),
            },
            Ok(None) => (None, Some(format!("{year} 年没有该地区的得分"))),
            Err(e) => (None, Some(format!("{year} 年暂未计分：{e}"))),
        };
    Ok(CallbackEvidence {
        region: region.to_string(),
        year,
        cases,
        successful,
        register_rate: pct(successful, cases),
        draws,
        drawn: latest.len(),
        called: confirmed + not_confirmed + unreachable,
        confirmed,
        not_confirmed,
        unreachable,
        confirmed_share: pct(confirmed, confirmed + not_confirmed),
        reported_rate,
        reported_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_sizes_round_up() {
        assert_eq!(sample_size(0.3, 10), 3);
        assert_eq!(sample_size(0.3, 11), 4);
        assert_eq!(sample_size(0.3, 1), 1);
        assert_eq!(sample_size(0.01, 5), 1);
        assert_eq!(sample_size(1.0, 7), 7);
        assert_eq!(sample_size(0.3, 0), 0);
    }

    #[test]
    fn the_draw_depends_on_the_seed_not_the_order() {
        let ids: Vec<String> = (0..40).map(|i| format!("C{i:03}")).collect();
        let mut reversed = ids.clone();
        reversed.reverse();
        let a = choose(&ids, 0.3, 7);
        assert_eq!(a.len(), 12);
        assert_eq!(a, choose(&reversed, 0.3, 7));
        assert_ne!(a, choose(&ids, 0.3, 8));
        // A larger rate keeps the smaller draw as its prefix.
        assert_eq!(choose(&ids, 0.5, 7)[..12], a[..]);
        assert_eq!(
            draw_key(7, "C000"),
            sha256_hex(b"7:C000"),
            "the key anyone can recompute"
        );
    }

    #[test]
    fn rates_and_seeds_are_checked() {
        assert!(
            check_rate(0.0).is_err() && check_rate(1.5).is_err() && check_rate(f64::NAN).is_err()
        );
        assert!(check_seed(-1).is_err() && check_seed(MAX_SEED + 1).is_err());
    }
}

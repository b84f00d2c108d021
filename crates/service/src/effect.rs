//! 效果评估 (issue 21): the three rates of `pingan_core::effect` from the
//! system's own records — recorded uses of the results, the 整改清单's
//! closing dates, and the survey's indices this year and last.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, report, scores};
use pingan_core::Period;
use pingan_core::effect::{self, Due, Rate};
use pingan_store::ResultUse;
use std::collections::HashSet;

/// The kinds of use the seed names.
pub const KINDS: [(&str, &str); 3] = [
    ("policy", "政策制定"),
    ("resources", "资源配置"),
    ("assessment", "考核评价"),
];

/// Respondents a region needs for its estimates (as the survey page).
const SURVEY_MIN_N: usize = 30;

pub struct Effect {
    pub year: i32,
    pub application: Rate,
    pub on_time: Rate,
    /// The province's survey index (the first survey element, 1–5, as
    /// 百分制) this year against last year, and its name.
    pub satisfaction: Rate,
    pub satisfaction_index: String,
    pub uses: Vec<ResultUse>,
}

pub async fn effect(ctx: &Ctx, who: &Authorized<'_, cap::Publish>, year: i32) -> Result<Effect> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let q = scores::ScoreQuery {
        period: Period::Year(year),
        level: None,
        parent: None,
    };
    let evaluated: HashSet<String> = scores::official(ctx, &reader, &q)
        .await?
        .results
        .into_iter()
        .filter(|r| r.level == "city" || r.level == "county")
        .map(|r| r.region)
        .collect();
    let uses = ctx.store.result_uses(year).await?;
    let used = uses
        .iter()
        .map(|u| u.region.as_str())
        .filter(|r| evaluated.contains(*r))
        .collect::<HashSet<_>>()
        .len();
    let due = ctx.store.rectify_due(year).await?;
    let items: Vec<Due> = due
        .iter()
        .map(|(deadline, closed)| Due {
            deadline,
            closed_on: closed.as_deref(),
        })
        .collect();
    let today = report::beijing(&pingan_store::now()).0;
    // The province's first survey index, this year and last.
    let tree = ctx.tree().await?;
    let root = tree.root().map(|r| r.code.clone()).unwrap_or_default();
    let index = |y: i32| {
        let root = root.clone();
        async move {
            let est = crate::surveys::kept_estimates(ctx, y, SURVEY_MIN_N)
                .await
                .ok()?;
            let r = est.regions.iter().find(|r| r.region == root)?;
            let e = r.elements.first()?;
            Some((e.element.clone(), e.estimate?))
        }
    };
    let (this, last) = (index(year).await, index(year - 1).await);
    let fw = scores::version(ctx, year).await?.framework;
    let name = this
        .as_ref()
        .map(|(e, _)| {
            fw.element_index(e)
                .map_or_else(|| e.clone(), |i| fw.elements[i].name.clone())
        })
        .unwrap_or_default();
    Ok(Effect {
        year,
        application: effect::application(evaluated.len(), used),
        on_time: effect::on_time(&items, &today),
        satisfaction: effect::satisfaction(
            this.map(|t| effect::hundred(t.1)),
            last.map(|t| effect::hundred(t.1)),
        ),
        satisfaction_index: name,
        uses,
    })
}

/// Record what a region's results were used for.
pub async fn record_use(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Publish>,
    year: i32,
    region: &str,
    kind: &str,
    note: &str,
) -> Result<i64> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, region)?;
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ServiceError::invalid(format!(
            "用途“{kind}”无效：可选 policy（政策制定）、resources（资源配置）、assessment（考核评价）"
        )));
    }
    if note.trim().is_empty() || note.chars().count() > 2_000 {
        return Err(ServiceError::invalid("请填写运用情况（最多 2000 字）"));
    }
    Ok(ctx
        .store
        .record_use(year, region, kind, note.trim(), &who.actor())
        .await?)
}

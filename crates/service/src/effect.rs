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
pub const KINDS: [(&str, &str); 4] = [
    ("policy", "政策制定"),
    ("resources", "资源配置"),
    ("assessment", "考核评价"),
    ("funding", "专项经费倾斜（80分以下地区）"),
];

/// The seed's 考核 rule: the score weighs at least this share of the
/// assessment's total (percent).
pub const MIN_WEIGHT: f64 = 20.0;
/// The seed's funding rule: regions under this total get 10 % more 平安建设
/// 专项经费.
pub const FUNDING_BELOW: f64 = 80.0;

/// A survey index of the province, this year and last, with the 95 %
/// intervals (1–5 means).
pub struct IndexGain {
    pub name: String,
    pub this: Option<(f64, Option<f64>, Option<f64>)>,
    pub last: Option<(f64, Option<f64>, Option<f64>)>,
}

/// A region under `FUNDING_BELOW`, and what was recorded of the funding
/// rule for it: Some(applied) or None (nothing recorded).
pub struct FundingCase {
    pub region: String,
    pub total: f64,
    pub applied: Option<bool>,
}

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
    /// Every survey index of the province, this year against last.
    pub indices: Vec<IndexGain>,
    /// Assessment uses with the weight recorded, and how many reach the rule.
    pub weighted: (usize, usize),
    pub funding: Vec<FundingCase>,
}

pub async fn effect(ctx: &Ctx, who: &Authorized<'_, cap::Publish>, year: i32) -> Result<Effect> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let q = scores::ScoreQuery {
        period: Period::Year(year),
        level: None,
        parent: None,
    };
    let results: Vec<_> = scores::official(ctx, &reader, &q)
        .await?
        .results
        .into_iter()
        .filter(|r| r.level == "city" || r.level == "county")
        .collect();
    let evaluated: HashSet<String> = results.iter().map(|r| r.region.clone()).collect();
    let uses = ctx.store.result_uses(year).await?;
    let funding = results
        .iter()
        .filter(|r| r.total < FUNDING_BELOW)
        .map(|r| FundingCase {
            region: r.region.clone(),
            total: r.total,
            applied: uses
                .iter()
                .rev()
                .find(|u| u.kind == "funding" && u.region == r.region)
                .map(|u| u.applied != 0),
        })
        .collect();
    let with_weight: Vec<f64> = uses
        .iter()
        .filter(|u| u.kind == "assessment")
        .filter_map(|u| u.weight)
        .collect();
    let weighted = (
        with_weight.iter().filter(|w| **w >= MIN_WEIGHT).count(),
        with_weight.len(),
    );
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
    // The province's survey indices, this year and last.
    let tree = ctx.tree().await?;
    let root = tree.root().map(|r| r.code.clone()).unwrap_or_default();
    type Est = (f64, Option<f64>, Option<f64>);
    let all = |y: i32| {
        let root = root.clone();
        async move {
            let est = crate::surveys::kept_estimates(ctx, y, SURVEY_MIN_N)
                .await
                .ok()?;
            let r = est.regions.iter().find(|r| r.region == root)?;
            Some(
                r.elements
                    .iter()
                    .filter_map(|e| Some((e.element.clone(), (e.estimate?, e.ci_low, e.ci_high))))
                    .collect::<Vec<(String, Est)>>(),
            )
        }
    };
    let (now_all, before_all) = (
        all(year).await.unwrap_or_default(),
        all(year - 1).await.unwrap_or_default(),
    );
    // The satisfaction gain is the province's first index, against the
    // same index last year.
    let this = now_all.first().map(|(e, est)| (e.clone(), est.0));
    let last = this.as_ref().and_then(|(e, _)| {
        before_all
            .iter()
            .find(|(x, _)| x == e)
            .map(|(_, v)| (e.clone(), v.0))
    });
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
        indices: now_all
            .iter()
            .map(|(e, est)| IndexGain {
                name: fw
                    .element_index(e)
                    .map_or_else(|| e.clone(), |i| fw.elements[i].name.clone()),
                this: Some(*est),
                last: before_all.iter().find(|(x, _)| x == e).map(|(_, v)| *v),
            })
            .collect(),
        weighted,
        funding,
    })
}

/// Record what a region's results were used for.
/// A use as the form gives it.
#[derive(Clone, Copy)]
pub struct UseInput<'a> {
    pub region: &'a str,
    pub kind: &'a str,
    pub note: &'a str,
    /// The 考核 weight in percent ('' for none).
    pub weight: &'a str,
    pub applied: bool,
}

pub async fn record_use(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Publish>,
    year: i32,
    u: &UseInput<'_>,
) -> Result<i64> {
    let UseInput {
        region,
        kind,
        note,
        weight,
        applied,
    } = *u;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, region)?;
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ServiceError::invalid(format!(
            "用途“{kind}”无效：可选 policy（政策制定）、resources（资源配置）、assessment（考核评价）、funding（专项经费倾斜）"
        )));
    }
    if note.trim().is_empty() || note.chars().count() > 2_000 {
        return Err(ServiceError::invalid("请填写运用情况（最多 2000 字）"));
    }
    let weight = match weight.trim() {
        "" => None,
        w => Some(
            w.trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=100.0).contains(v))
                .ok_or_else(|| {
                    ServiceError::invalid(format!("考核权重“{w}”应为 0–100 的百分数"))
                })?,
        ),
    };
    if weight.is_some() && kind != "assessment" {
        return Err(ServiceError::invalid("考核权重只随“考核评价”登记"));
    }
    Ok(ctx
        .store
        .record_use(
            &pingan_store::NewUse {
                year,
                region,
                kind,
                note: note.trim(),
                weight,
                applied,
            },
            &who.actor(),
        )
        .await?)
}

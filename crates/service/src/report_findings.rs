//! What the checks found in a region's subtree in a year, for its report:
//! quality flags, field verification and the survey's estimates. Counts
//! and outcomes only — never an open task's place or date, which the
//! region must not learn before the visit (see `cap::FieldRead`).

use crate::ctx::Ctx;
use crate::error::Result;
use pingan_core::labels::{FlagStatus, TaskStatus};
use pingan_core::region::RegionTree;
use pingan_core::report::findings::{Findings, Survey, SurveyIndex};
use pingan_store::{FlagFilter, TaskFilter};
use std::collections::{BTreeMap, HashSet};

/// Examples of open flags and of differences named at most.
const NAMED: usize = 5;
/// Respondents a region needs for its estimates (as the survey page).
const SURVEY_MIN_N: usize = 30;

pub(crate) async fn findings(
    ctx: &Ctx,
    tree: &RegionTree,
    year: i32,
    code: &str,
) -> Result<Findings> {
    let Some(root) = tree.find(code) else {
        return Ok(Findings::default());
    };
    let within: HashSet<&str> = (0..tree.len())
        .filter(|&i| tree.is_within(i, root))
        .map(|i| tree.get(i).code.as_str())
        .collect();
    let fw = ctx.store.known_codes().await?;
    let element = |e: &str| {
        fw.element_index(e)
            .map_or_else(|| e.to_string(), |i| fw.elements[i].name.clone())
    };
    let place = |r: &str| {
        tree.find(r)
            .map_or_else(|| r.to_string(), |i| tree.get(i).name.clone())
    };
    let mut f = Findings::default();

    let flags = ctx
        .store
        .flags(&FlagFilter {
            status: None,
            kind: None,
            year: Some(year),
            period: None,
            element: None,
            regions: Some(within.iter().map(|s| s.to_string()).collect()),
        })
        .await?;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for fl in &flags {
        *kinds.entry(fl.kind.label()).or_default() += 1;
        match fl.status {
            FlagStatus::Open => f.flags_open += 1,
            FlagStatus::Corrected => f.flags_corrected += 1,
            FlagStatus::Explained => f.flags_explained += 1,
        }
    }
    f.by_kind = kinds.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    f.by_kind.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut open: Vec<_> = flags
        .iter()
        .filter(|fl| fl.status == FlagStatus::Open)
        .collect();
    open.sort_by(|a, b| b.score.total_cmp(&a.score));
    f.open_examples = open
        .iter()
        .take(NAMED)
        .map(|fl| {
            format!(
                "{}{}（{}）",
                place(&fl.region),
                element(&fl.element),
                fl.period
            )
        })
        .collect();

    let prefix = year.to_string();
    let tasks: Vec<_> = ctx
        .store
        .tasks(&TaskFilter {
            status: None,
            period: None,
            region: None,
            origin: None,
        })
        .await?
        .into_iter()
        .filter(|t| within.contains(t.region.as_str()) && t.period.starts_with(&prefix))
        .collect();
    f.tasks = tasks.len();
    f.tasks_closed = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Closed)
        .count();
    // Differences of visits already made (closed tasks only).
    for t in tasks.iter().filter(|t| t.status == TaskStatus::Closed) {
        for c in crate::field::comparisons(ctx, &t.region, &t.period, &t.elements).await? {
            if c.over_tolerance && f.over_tolerance.len() < NAMED {
                f.over_tolerance.push(format!(
                    "{}{}（{}）上报 {}、核查 {}，相差 {}%",
                    place(&t.region),
                    c.element_name,
                    t.period,
                    c.reported
                        .map_or("—".into(), |v| pingan_core::num::fmt_num(v, 2)),
                    c.observed
                        .first()
                        .map_or("—".into(), |(_, v)| pingan_core::num::fmt_num(*v, 2)),
                    pingan_core::num::fmt_num(c.difference.unwrap_or(0.0) * 100.0, 1)
                ));
            }
        }
    }

    // No questionnaire that year: no survey section.
    if let Ok(est) = crate::surveys::kept_estimates(ctx, year, SURVEY_MIN_N).await
        && let Some(r) = est.regions.iter().find(|r| r.region == code)
        && r.n_valid > 0
    {
        f.survey = Some(Survey {
            n_valid: r.n_valid,
            indices: r
                .elements
                .iter()
                .map(|e| SurveyIndex {
                    name: element(&e.element),
                    n: e.n,
                    estimate: e.estimate,
                    ci_low: e.ci_low,
                    ci_high: e.ci_high,
                })
                .collect(),
        });
    }
    Ok(f)
}

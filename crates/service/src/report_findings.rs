//! What the checks found in a region's subtree in a year, for its report:
//! quality flags, field verification and the survey's estimates. Counts
//! and outcomes only — never an open task's place or date, which the
//! region must not learn before the visit (see `cap::FieldRead`).

use crate::ctx::Ctx;
use crate::error::Result;
use pingan_core::Framework;
use pingan_core::labels::{FlagStatus, TaskStatus};
use pingan_core::num::fmt_num;
use pingan_core::region::RegionTree;
use pingan_core::report::findings::{Findings, Survey, SurveyIndex};
use pingan_core::survey::run::Estimates;
use pingan_store::{FlagTally, Task, TaskFilter};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Examples of open flags and of differences named at most.
const NAMED: usize = 5;
/// Respondents a region needs for its estimates (as the survey page).
const SURVEY_MIN_N: usize = 30;

/// A year's flags, tasks and estimates, read once for any number of
/// reports.
pub(crate) struct Sources {
    fw: Arc<Framework>,
    flags: Vec<FlagTally>,
    tasks: Vec<Task>,
    estimates: Option<Arc<Estimates>>,
}

impl Sources {
    pub(crate) async fn read(ctx: &Ctx, year: i32) -> Result<Sources> {
        let prefix = year.to_string();
        let tasks = ctx
            .store
            .tasks(&TaskFilter {
                status: None,
                period: None,
                region: None,
                origin: None,
            })
            .await?
            .into_iter()
            .filter(|t| t.period.starts_with(&prefix))
            .collect();
        Ok(Sources {
            fw: crate::scores::version(ctx, year).await?.framework,
            flags: ctx.store.flag_tally(year).await?,
            tasks,
            // No questionnaire that year: no survey section.
            estimates: crate::surveys::kept_estimates(ctx, year, SURVEY_MIN_N)
                .await
                .ok(),
        })
    }

    fn element(&self, e: &str) -> String {
        self.fw
            .element_index(e)
            .map_or_else(|| e.to_string(), |i| self.fw.elements[i].name.clone())
    }

    /// The findings of `code`'s subtree.
    pub(crate) async fn findings(
        &self,
        ctx: &Ctx,
        tree: &RegionTree,
        code: &str,
    ) -> Result<Findings> {
        let Some(root) = tree.find(code) else {
            return Ok(Findings::default());
        };
        let within: HashSet<&str> = (0..tree.len())
            .filter(|&i| tree.is_within(i, root))
            .map(|i| tree.get(i).code.as_str())
            .collect();
        let place = |r: &str| {
            tree.find(r)
                .map_or_else(|| r.to_string(), |i| tree.get(i).name.clone())
        };
        let mut f = Findings::default();
        let flags: Vec<&FlagTally> = self
            .flags
            .iter()
            .filter(|fl| within.contains(fl.region.as_str()))
            .collect();
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
        let mut open: Vec<&&FlagTally> = flags
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
                    self.element(&fl.element),
                    fl.period
                )
            })
            .collect();
        let tasks: Vec<&Task> = self
            .tasks
            .iter()
            .filter(|t| within.contains(t.region.as_str()))
            .collect();
        f.tasks = tasks.len();
        // Differences of visits already made (closed tasks only).
        for t in tasks.iter().filter(|t| t.status == TaskStatus::Closed) {
            f.tasks_closed += 1;
            for c in crate::field::comparisons(ctx, &t.region, &t.period, &t.elements).await? {
                if c.over_tolerance && f.over_tolerance.len() < NAMED {
                    f.over_tolerance.push(format!(
                        "{}{}（{}）上报 {}、核查 {}，相差 {}%",
                        place(&t.region),
                        c.element_name,
                        t.period,
                        c.reported.map_or("—".into(), |v| fmt_num(v, 2)),
                        c.observed
                            .first()
                            .map_or("—".into(), |(_, v)| fmt_num(*v, 2)),
                        fmt_num(c.difference.unwrap_or(0.0) * 100.0, 1)
                    ));
                }
            }
        }
        if let Some(est) = &self.estimates
            && let Some(r) = est.regions.iter().find(|r| r.region == code)
            && r.n_valid > 0
        {
            f.survey = Some(Survey {
                n_valid: r.n_valid,
                indices: r
                    .elements
                    .iter()
                    .map(|e| SurveyIndex {
                        name: self.element(&e.element),
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
}

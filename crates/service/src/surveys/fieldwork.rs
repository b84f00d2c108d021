//! The live fieldwork board's data (issue 18): answers per China-time day
//! per base region, and each margin county's valid answers by category of
//! each weighting variable, from one pass over the stored responses.

use super::year_form;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::{Authorized, cap};
use pingan_core::labels::LedgerAction;
use pingan_core::survey::fieldwork::china_day;
use pingan_core::survey::response::parse_time;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A year's fieldwork so far.
pub struct Fieldwork {
    /// (base region, day) → (received, valid).
    pub days: HashMap<(usize, String), (u64, u64)>,
    /// Margin county → its margins (variable, category, population).
    pub margins: BTreeMap<usize, Vec<(String, String, f64)>>,
    /// (county, variable, category) → valid answers.
    pub counts: HashMap<(usize, String, String), u64>,
    /// Margin county → valid answers.
    pub valid: HashMap<usize, u64>,
    /// (variable, category) → their labels in the questionnaire.
    pub labels: HashMap<(String, String), (String, String)>,
    /// (base region, interviewer) → what that interviewer brought there.
    pub interviewers: BTreeMap<(usize, String), Interviewer>,
}

/// An interviewer's answers (from the paradata of 问卷采集 and the API).
#[derive(Clone, Debug, Default)]
pub struct Interviewer {
    pub answers: u64,
    pub valid: u64,
    pub assisted: u64,
    /// Each answer's duration in seconds.
    pub seconds: Vec<f64>,
}

impl Interviewer {
    pub fn add(&mut self, o: &Interviewer) {
        self.answers += o.answers;
        self.valid += o.valid;
        self.assisted += o.assisted;
        self.seconds.extend_from_slice(&o.seconds);
    }
}

impl Fieldwork {
    /// A variable's and a category's labels (their names when unknown).
    pub fn label(&self, variable: &str, category: &str) -> (String, String) {
        self.labels
            .get(&(variable.to_string(), category.to_string()))
            .cloned()
            .unwrap_or_else(|| (variable.to_string(), category.to_string()))
    }
}

/// A year's fieldwork, kept until the next survey write or regions import
/// (one pass over every stored answer: about a second for 100,000).
pub async fn fieldwork(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Surveys>,
    year: i32,
) -> Result<Arc<Fieldwork>> {
    let version = ctx.store.survey_version(year).await?.max(
        ctx.store
            .last_entry_of(&[LedgerAction::ImportRegions])
            .await?,
    );
    ctx.versioned_at(&format!("fieldwork:{year}"), version, read(ctx, year))
        .await
}

async fn read(ctx: &Ctx, year: i32) -> Result<Fieldwork> {
    let tree = ctx.tree().await?;
    let f = year_form(ctx, year).await?;
    let mut margins: BTreeMap<usize, Vec<(String, String, f64)>> = BTreeMap::new();
    for (c, v, cat, p) in ctx.store.survey_margins(year).await? {
        if let Some(i) = tree.find(&c) {
            margins.entry(i).or_default().push((v, cat, p));
        }
    }
    // The weighting variables' questions, and each region's margin county.
    let mut variables: Vec<(String, usize)> = Vec::new();
    for (v, _, _) in margins.values().flatten() {
        if let Some(q) = f.form.question(v)
            && !variables.iter().any(|(x, _)| x == v)
        {
            variables.push((v.clone(), q));
        }
    }
    let county_of = |mut r: usize| -> Option<usize> {
        loop {
            if margins.contains_key(&r) {
                return Some(r);
            }
            r = tree.get(r).parent?;
        }
    };
    let mut labels = HashMap::new();
    for (v, q) in &variables {
        let question = &f.form.questions[*q];
        if let pingan_core::survey::Kind::SelectOne(l) = question.kind {
            for c in &f.form.lists[l].choices {
                labels.insert(
                    (v.clone(), c.name.clone()),
                    (question.label.clone(), c.label.clone()),
                );
            }
        }
    }
    let mut out = Fieldwork {
        days: HashMap::new(),
        margins: BTreeMap::new(),
        counts: HashMap::new(),
        valid: HashMap::new(),
        labels,
        interviewers: BTreeMap::new(),
    };
    ctx.store
        .each_survey_response(f.stored.id, |r| {
            let Some(region) = tree.find(&r.region) else {
                return;
            };
            let valid = r.verdict.is_none();
            if let Some(who) = r.interviewer.as_deref().filter(|w| !w.is_empty()) {
                let e = out
                    .interviewers
                    .entry((region, who.to_string()))
                    .or_default();
                e.answers += 1;
                e.valid += u64::from(valid);
                e.assisted += u64::from(r.assisted == Some(true));
                e.seconds.push(r.seconds);
            }
            if let Some(t) = parse_time(&r.submitted) {
                let e = out.days.entry((region, china_day(t))).or_default();
                e.0 += 1;
                e.1 += u64::from(valid);
            }
            let Some(county) = valid.then(|| county_of(region)).flatten() else {
                return;
            };
            *out.valid.entry(county).or_default() += 1;
            let Ok(answers) = serde_json::from_str::<Vec<String>>(&r.answers) else {
                return;
            };
            for (v, q) in &variables {
                if let Some(a) = answers.get(*q).filter(|a| !a.is_empty()) {
                    *out.counts
                        .entry((county, v.clone(), a.clone()))
                        .or_default() += 1;
                }
            }
        })
        .await?;
    out.margins = margins;
    Ok(out)
}

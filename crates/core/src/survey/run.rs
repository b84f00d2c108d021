//! From read responses to the estimates of survey.md §6: validity, base
//! weights, raking, estimates and the counts that go with them — one
//! function for the command line, the store and the pages.

use super::estimate::{RegionEstimate, Respondent, Stratum, estimate};
use super::form::{Form, Kind};
use super::response::{AnswerList, AnswerSet, Channel, Invalid};
use super::weights::{CountyMargins, rake};
use crate::region::RegionTree;
use std::collections::HashMap;

/// One distinct response as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub line: usize,
    pub instance_id: String,
    pub region: usize,
    pub channel: Channel,
    pub started: String,
    pub submitted: String,
    /// submitted − started, in seconds.
    pub seconds: f64,
    /// One per question of the form ("" = no answer; groups and notes "").
    pub answers: AnswerSet,
}

/// A county's known population in one category of one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Margin {
    pub county: usize,
    pub variable: String,
    pub category: String,
    pub population: f64,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct InvalidCounts {
    pub too_fast: usize,
    pub incomplete: usize,
    pub constraint: usize,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Counts {
    pub received: usize,
    pub duplicates: usize,
    pub valid: usize,
    pub invalid: InvalidCounts,
    pub straightlining: usize,
    pub empty_strata: usize,
    pub singleton_strata: usize,
    pub raking_sweeps: usize,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Estimates {
    pub form: String,
    pub version: String,
    pub responses: Counts,
    pub regions: Vec<RegionEstimate>,
}

/// Each response's verdict (None = valid), in the order given.
pub fn verdicts(form: &Form, responses: &[Response]) -> Vec<Option<Invalid>> {
    crate::par::map(responses, |r| form.invalid(r.seconds, &r.answers))
}

/// Everything survey.md §6 prints, from distinct responses (`duplicates`
/// identical repeats were dropped while reading).
pub fn run(
    form: &Form,
    tree: &RegionTree,
    frame: &[(usize, u64)],
    responses: &[Response],
    duplicates: usize,
    margins: &[Margin],
    min_n: usize,
) -> Result<Estimates, String> {
    // Each response judged once, on every core.
    let judged = crate::par::map(responses, |r| {
        (
            form.invalid(r.seconds, &r.answers),
            form.straightlining(&r.answers),
        )
    });
    let verdicts: Vec<Option<Invalid>> = judged.iter().map(|(v, _)| *v).collect();
    let mut counts = Counts {
        received: responses.len() + duplicates,
        duplicates,
        ..Counts::default()
    };
    for v in &verdicts {
        match v {
            None => counts.valid += 1,
            Some(Invalid::TooFast) => counts.invalid.too_fast += 1,
            Some(Invalid::Incomplete) => counts.invalid.incomplete += 1,
            Some(Invalid::Constraint) => counts.invalid.constraint += 1,
        }
    }
    counts.straightlining = judged.iter().filter(|(_, s)| *s).count();

    let stratum_of: HashMap<usize, usize> = frame
        .iter()
        .enumerate()
        .map(|(h, (r, _))| (*r, h))
        .collect();
    let strata: Vec<Stratum> = frame
        .iter()
        .map(|(r, p)| Stratum {
            region: *r,
            population: *p as f64,
        })
        .collect();
    let valid: Vec<&Response> = responses
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.is_none())
        .map(|(r, _)| r)
        .collect();
    let mut n_h = vec![0usize; frame.len()];
    let mut stratum = Vec::with_capacity(valid.len());
    for r in &valid {
        let h = *stratum_of.get(&r.region).ok_or_else(|| {
            format!(
                "回答 {}（第 {} 行）的地区 {} 不在抽样框中",
                r.instance_id,
                r.line,
                tree.get(r.region).code
            )
        })?;
        n_h[h] += 1;
        stratum.push(h);
    }
    let mut weights: Vec<f64> = stratum
        .iter()
        .map(|&h| strata[h].population / n_h[h] as f64)
        .collect();
    counts.raking_sweeps = rake_all(form, tree, margins, &valid, &mut weights)?;

    let elements = form.elements();
    let values = crate::par::map(&valid, |r| form.values(&elements, &r.answers));
    let respondents: Vec<Respondent> = values
        .into_iter()
        .zip(&stratum)
        .zip(&weights)
        .map(|((values, &h), &w)| Respondent {
            stratum: h,
            weight: w,
            values,
        })
        .collect();
    let (regions, notes) = estimate(tree, &strata, &respondents, &elements, min_n);
    counts.empty_strata = notes.empty;
    counts.singleton_strata = notes.singleton;
    Ok(Estimates {
        form: form.id.clone(),
        version: form.version.clone(),
        responses: counts,
        regions,
    })
}

/// A margin variable: its categories and their populations.
type Variable = (String, Vec<(String, f64)>);

/// Rake within each county that has margins; the most sweeps any needed.
fn rake_all(
    form: &Form,
    tree: &RegionTree,
    margins: &[Margin],
    valid: &[&Response],
    weights: &mut [f64],
) -> Result<usize, String> {
    // Counties in file order, each with its variables in file order.
    let mut counties: Vec<(usize, Vec<Variable>)> = Vec::new();
    for m in margins {
        let c = match counties.iter().position(|(c, _)| *c == m.county) {
            Some(c) => c,
            None => {
                counties.push((m.county, Vec::new()));
                counties.len() - 1
            }
        };
        let vars = &mut counties[c].1;
        let v = match vars.iter().position(|(v, _)| *v == m.variable) {
            Some(v) => v,
            None => {
                vars.push((m.variable.clone(), Vec::new()));
                vars.len() - 1
            }
        };
        vars[v].1.push((m.category.clone(), m.population));
    }
    for (i, (a, _)) in counties.iter().enumerate() {
        for (b, _) in &counties[i + 1..] {
            if tree.is_within(*a, *b) || tree.is_within(*b, *a) {
                return Err(format!(
                    "边际文件中 {} 与 {} 相互包含：每个受访者只能属于一个加权地区",
                    tree.get(*a).code,
                    tree.get(*b).code
                ));
            }
        }
    }
    // Each respondent's weighting county, found by walking up from its
    // region once (not once per county).
    let mut slot: Vec<Option<usize>> = vec![None; tree.len()];
    for (k, (c, _)) in counties.iter().enumerate() {
        slot[*c] = Some(k);
    }
    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); counties.len()];
    for (i, r) in valid.iter().enumerate() {
        let mut at = Some(r.region);
        while let Some(x) = at {
            if let Some(k) = slot[x] {
                members_of[k].push(i);
                break;
            }
            at = tree.get(x).parent;
        }
    }
    let mut most = 0;
    for ((county, variables), members) in counties.into_iter().zip(members_of) {
        let name = &tree.get(county).name;
        let mut category = Vec::with_capacity(variables.len());
        for (var, cats) in &variables {
            let q = form
                .question(var)
                .filter(|&q| matches!(form.questions[q].kind, Kind::SelectOne(_)))
                .ok_or_else(|| format!("边际变量 {var} 不是问卷中的单选题"))?;
            let index: HashMap<&str, usize> = cats
                .iter()
                .enumerate()
                .map(|(c, (name, _))| (name.as_str(), c))
                .collect();
            let mut of = Vec::with_capacity(members.len());
            for &i in &members {
                let a = valid[i].answers.answer_at(q);
                if a.is_empty() {
                    return Err(format!(
                        "{name}：回答 {}（第 {} 行）没有回答加权变量 {var}，无法加权",
                        valid[i].instance_id, valid[i].line
                    ));
                }
                let c = index.get(a).copied().ok_or_else(|| {
                    format!(
                        "{name}：回答 {}（第 {} 行）的 {var} 为“{a}”，边际文件中该县没有这一类别",
                        valid[i].instance_id, valid[i].line
                    )
                })?;
                of.push(c);
            }
            category.push(of);
        }
        let m = CountyMargins {
            county: format!("{name}（{}）", tree.get(county).code),
            variables,
            members,
            category,
        };
        most = most.max(rake(weights, &m)?);
    }
    Ok(most)
}

//! Citizen surveys in the store (issue 17): a year's questionnaire, frame
//! and county margins, responses imported all-or-nothing and idempotent
//! on `instance_id`, estimates for every region (`pingan_core::survey`),
//! and applying them as the year's values of the survey elements.

mod answers;
mod board;
pub mod comments;
pub mod fieldwork;
mod gather;
pub mod invite;
mod judge;
mod open;

pub use answers::{Origin, answer_one, form_by_id, import_batch, import_items, import_responses};
pub use board::{
    Board, Plan, PlanRow, Tally, answers_after, board, kept_estimates, set_plan, survey_years,
    warm_up, year_plan,
};
pub use judge::{Paradata, ResponsesSummary};
pub use open::{OpenYear, open_year};

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::imports::ImportSummary;
use crate::values::ImportOptions;
use crate::{Authorized, cap};
use pingan_core::labels::LedgerAction;
use pingan_core::survey::form::{Form, Sheet};
use pingan_core::survey::response::Channel;
use pingan_core::survey::run::{self, Estimates, Margin, Response};
use pingan_store::{NewForm, StoredForm};
use serde_json::json;
use std::sync::Arc;

/// The source the survey's estimates are stored under.
pub const SOURCE: &str = "群众调查";

/// A stored questionnaire, read back.
pub struct YearForm {
    pub stored: StoredForm,
    pub form: Form,
}

fn known(fw: &pingan_core::Framework) -> impl Fn(&str) -> bool + '_ {
    |e: &str| fw.element_index(e).is_some()
}

async fn framework(ctx: &Ctx, year: i32) -> Result<std::sync::Arc<pingan_core::Framework>> {
    Ok(ctx
        .store
        .framework_version(year)
        .await?
        .ok_or_else(|| ServiceError::invalid(format!("没有适用于 {year} 年的指标体系")))?
        .framework)
}

/// Keep a questionnaire (`.xlsx`) for `year`.
pub async fn import_form(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    name: &str,
    bytes: &[u8],
) -> Result<(YearForm, bool)> {
    let fw = framework(ctx, year).await?;
    let sheets = pingan_input::survey::read_form_sheets(name, bytes).map_err(rejected)?;
    let [s, c, t] = &sheets;
    let form =
        pingan_input::survey::form_of(name, [s.as_ref(), c.as_ref(), t.as_ref()], &known(&fw))
            .map_err(rejected)?;
    let json = serde_json::to_string(&sheets.iter().flatten().collect::<Vec<&Sheet>>())
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let sha = pingan_store::sha256_hex(bytes);
    let (id, new) = ctx
        .store
        .save_survey_form(
            &NewForm {
                year,
                form_id: &form.id,
                version: &form.version,
                title: &form.title,
                sheets: &json,
                sha256: &sha,
                file: name,
            },
            &who.actor(),
        )
        .await?;
    let stored = ctx
        .store
        .survey_forms(Some(year))
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| ServiceError::Internal("问卷保存后未找到".into()))?;
    Ok((YearForm { stored, form }, new))
}

fn rejected(errs: Vec<String>) -> ServiceError {
    ServiceError::Rejected(
        errs.into_iter()
            .map(|m| crate::Problem::new(crate::Loc::Whole, m))
            .collect(),
    )
}

/// The writes a year's questionnaire, frame and plan as read depend on.
const SETUP: [LedgerAction; 5] = [
    LedgerAction::SurveyForm,
    LedgerAction::SurveyFrame,
    LedgerAction::SurveyPlan,
    LedgerAction::ImportFramework,
    LedgerAction::ImportRegions,
];

/// The newest questionnaire of `year`, kept until the next questionnaire,
/// frame, plan or framework (every answer reads it; answers do not
/// change it).
pub async fn year_form(ctx: &Ctx, year: i32) -> Result<Arc<YearForm>> {
    ctx.versioned(
        &format!("survey-form:{year}"),
        &SETUP,
        read_year_form(ctx, year),
    )
    .await
}

async fn read_year_form(ctx: &Ctx, year: i32) -> Result<YearForm> {
    let stored = ctx
        .store
        .survey_forms(Some(year))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ServiceError::invalid(format!(
                "{year} 年还没有调查问卷：请先导入（pingan import survey-form）"
            ))
        })?;
    let fw = framework(ctx, year).await?;
    let sheets: Vec<Sheet> = serde_json::from_str(&stored.sheets)
        .map_err(|e| ServiceError::Internal(format!("问卷 {} 无法读回：{e}", stored.id)))?;
    let get = |n: &str| sheets.iter().find(|s| s.name == n);
    let form = Form::from_sheets(get("survey"), get("choices"), get("settings"), &known(&fw))
        .map_err(|e| {
            ServiceError::invalid(format!(
                "{year} 年的问卷与当前指标体系不符：{}",
                e.first().map(|e| e.to_string()).unwrap_or_default()
            ))
        })?;
    Ok(YearForm { stored, form })
}

/// Replace the year's sampling frame.
pub async fn import_frame(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    name: &str,
    bytes: &[u8],
) -> Result<usize> {
    let tree = ctx.tree().await?;
    let rows = pingan_input::survey::read_frame(name, bytes, &tree)?;
    let coded: Vec<(String, u64)> = rows
        .iter()
        .map(|(r, p)| (tree.get(*r).code.clone(), *p))
        .collect();
    let detail = json!({"year": year, "file": name, "rows": coded.len(),
                        "sha256": pingan_store::sha256_hex(bytes)});
    ctx.store
        .save_survey_frame(year, &coded, detail, &who.actor())
        .await?;
    Ok(coded.len())
}

/// Replace the year's county margins (checked against its questionnaire).
pub async fn import_margins(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    name: &str,
    bytes: &[u8],
) -> Result<usize> {
    let tree = ctx.tree().await?;
    let f = year_form(ctx, year).await?;
    let rows = pingan_input::survey::read_margins(name, bytes, &tree, &f.form)?;
    let coded: Vec<(String, String, String, f64)> = rows
        .into_iter()
        .map(|m| {
            (
                tree.get(m.county).code.clone(),
                m.variable,
                m.category,
                m.population,
            )
        })
        .collect();
    let detail = json!({"year": year, "file": name, "rows": coded.len(),
                        "sha256": pingan_store::sha256_hex(bytes)});
    ctx.store
        .save_survey_margins(year, &coded, detail, &who.actor())
        .await?;
    Ok(coded.len())
}

/// The year's frame as (region, population), or why there is none.
pub async fn year_frame(
    ctx: &Ctx,
    tree: &pingan_core::RegionTree,
    year: i32,
) -> Result<Vec<(usize, u64)>> {
    let stored = ctx
        .versioned(&format!("survey-frame:{year}"), &SETUP, async {
            Ok(ctx.store.survey_frame(year).await?)
        })
        .await?;
    let frame: Vec<(usize, u64)> = stored
        .iter()
        .filter_map(|(c, p)| tree.find(c).map(|r| (r, *p)))
        .collect();
    if frame.is_empty() {
        return Err(ServiceError::invalid(format!(
            "{year} 年还没有抽样框：请先导入（pingan import frame）"
        )));
    }
    Ok(frame)
}

/// The estimates of survey.md §6 from what is stored for `year`.
pub async fn estimates(ctx: &Ctx, year: i32, min_n: usize) -> Result<Estimates> {
    let tree = ctx.tree().await?;
    let f = year_form(ctx, year).await?;
    let frame = year_frame(ctx, &tree, year).await?;
    let margins: Vec<Margin> = ctx
        .store
        .survey_margins(year)
        .await?
        .into_iter()
        .filter_map(|(c, variable, category, population)| {
            tree.find(&c).map(|county| Margin {
                county,
                variable,
                category,
                population,
            })
        })
        .collect();
    let mut responses: Vec<Response> = Vec::new();
    let duplicates = ctx
        .store
        .each_survey_response(f.stored.id, |r| {
            let answers = serde_json::from_str::<Vec<String>>(&r.answers).ok();
            if let (Some(region), Some(channel), Some(answers)) =
                (tree.find(&r.region), Channel::parse(&r.channel), answers)
            {
                responses.push(Response {
                    line: responses.len() + 1,
                    instance_id: r.instance_id,
                    region,
                    channel,
                    started: r.started,
                    submitted: r.submitted,
                    seconds: r.seconds,
                    answers: pingan_core::survey::response::AnswerSet::new(&answers),
                });
            }
        })
        .await?;
    let _permit = ctx.heavy_permit().await?;
    tokio::task::spawn_blocking(move || {
        run::run(
            &f.form, &tree, &frame, &responses, duplicates, &margins, min_n,
        )
        .map_err(ServiceError::invalid)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("survey task: {e}")))?
}

/// The estimates as `who` may read them: the regions of its scope.
pub async fn estimates_seen(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Surveys>,
    year: i32,
    min_n: usize,
) -> Result<Estimates> {
    let tree = ctx.tree().await?;
    let mut est = kept_estimates(ctx, year, min_n).await?.as_ref().clone();
    est.regions
        .retain(|r| tree.find(&r.region).is_some_and(|i| who.sees(&tree, i)));
    Ok(est)
}

/// Store the estimates of regions with enough respondents as the year's
/// values of the survey elements (source 群众调查), through the values
/// import: checked, in the ledger, rescored.
pub async fn apply(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    min_n: usize,
    dry_run: bool,
) -> Result<ImportSummary> {
    let est = estimates(ctx, year, min_n).await?;
    let margins = !ctx.store.survey_margins(year).await?.is_empty();
    let name = format!(
        "群众调查 {} 版本 {}（min_n={min_n}，{}）",
        est.form,
        est.version,
        if margins {
            "按县边际加权"
        } else {
            "基础权重"
        }
    );
    let caller = who.caller();
    let submit = caller.authorize::<cap::Submit>()?;
    // Straight into the values intake (its checks, its messages), with no
    // text file written and read back.
    let mut intake = crate::intake::Intake::open(
        ctx,
        caller,
        crate::intake::Channel::File { name: name.clone() },
    )
    .await?;
    let tree = ctx.tree().await?;
    let mut n = 0;
    let mut text = String::new();
    for r in &est.regions {
        for e in &r.elements {
            // Indices into the intake's own framework (every element any
            // version knows), not the year's.
            let element = intake.framework().element_index(&e.element);
            let (Some(v), Some(region), Some(element)) =
                (e.estimate, tree.find(&r.region), element)
            else {
                continue;
            };
            n += 1;
            text.push_str(&format!("{},{year},{},{v}\n", r.region, e.element));
            if let Err(m) = intake.push(
                crate::intake::At::Line(n),
                region,
                pingan_core::Period::Year(year),
                element,
                v,
                SOURCE,
                "",
            ) {
                intake.problem(crate::intake::At::Line(n), m);
            }
        }
    }
    let batch = intake.finish(&name, pingan_store::sha256_hex(text.as_bytes()))?;
    crate::values::import(
        ctx,
        &submit,
        batch,
        ImportOptions {
            dry_run,
            ..Default::default()
        },
    )
    .await
}

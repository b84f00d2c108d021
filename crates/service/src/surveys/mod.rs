//! Citizen surveys in the store (issue 17): a year's questionnaire, frame
//! and county margins, responses imported all-or-nothing and idempotent
//! on `instance_id`, estimates for every region (`pingan_core::survey`),
//! and applying them as the year's values of the survey elements.

mod board;
pub mod fieldwork;
pub mod invite;

pub use board::{
    Board, Plan, PlanRow, Tally, answers_after, board, kept_estimates, set_plan, survey_years,
    warm_up, year_plan,
};

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::imports::ImportSummary;
use crate::values::ImportOptions;
use crate::{Authorized, cap};
use pingan_core::survey::form::{Form, Sheet};
use pingan_core::survey::response::{Channel, Invalid};
use pingan_core::survey::run::{self, Estimates, Margin, Response};
use pingan_store::{NewForm, NewResponse, ResponsesWrite, StoredForm};
use serde_json::json;
use std::collections::HashSet;

/// The source the survey's estimates are stored under.
pub const SOURCE: &str = "群众调查";

/// What an import of responses did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ResponsesSummary {
    pub file: String,
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    /// New distinct responses stored (or that would be).
    pub imported: usize,
    /// Identical repeats: in the file, or already stored.
    pub duplicates: usize,
    pub valid: usize,
    pub too_fast: usize,
    pub incomplete: usize,
    pub constraint: usize,
    pub straightlining: usize,
    pub import_id: Option<i64>,
}

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

/// The newest questionnaire of `year`.
pub async fn year_form(ctx: &Ctx, year: i32) -> Result<YearForm> {
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
pub(crate) async fn year_frame(
    ctx: &Ctx,
    tree: &pingan_core::RegionTree,
    year: i32,
) -> Result<Vec<(usize, u64)>> {
    let frame: Vec<(usize, u64)> = ctx
        .store
        .survey_frame(year)
        .await?
        .into_iter()
        .filter_map(|(c, p)| tree.find(&c).map(|r| (r, p)))
        .collect();
    if frame.is_empty() {
        return Err(ServiceError::invalid(format!(
            "{year} 年还没有抽样框：请先导入（pingan import frame）"
        )));
    }
    Ok(frame)
}

fn digest(r: &Response) -> String {
    let text = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        r.region,
        r.channel.code(),
        r.started,
        r.submitted,
        r.answers.iter().collect::<Vec<_>>().join("\u{1e}")
    );
    pingan_store::sha256_hex(text.as_bytes())
}

/// Where the responses of an import came from: its name for the record
/// and the ledger, the digest of what was sent, and how a row is placed
/// in a message (a file's line, or a batch's item).
pub struct Origin<'a> {
    pub name: &'a str,
    pub sha256: String,
    pub batch: bool,
}

impl Origin<'_> {
    fn at(&self, row: usize) -> crate::Loc {
        if self.batch {
            crate::Loc::Index { index: row }
        } else {
            crate::Loc::File {
                file: self.name.to_string(),
                line: Some(row),
            }
        }
    }
}

/// Import `responses.csv` for the year's questionnaire: every error named
/// and nothing stored, or every new response stored in one transaction
/// with its verdict. A response already stored with the same content is a
/// duplicate; with other content, a conflict naming it.
pub async fn import_responses(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyAnswers>,
    year: i32,
    name: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ResponsesSummary> {
    let tree = ctx.tree().await?;
    let f = year_form(ctx, year).await?;
    let frame = year_frame(ctx, &tree, year).await?;
    let in_frame: HashSet<usize> = frame.iter().map(|(r, _)| *r).collect();
    let read = pingan_input::survey::read_responses(name, bytes, &f.form, &tree, &|r| {
        in_frame.contains(&r)
    })?;
    let origin = Origin {
        name,
        sha256: pingan_store::sha256_hex(bytes),
        batch: false,
    };
    store_read(ctx, who, &tree, &f, read, &origin, dry_run).await
}

/// The stored questionnaire `form_id` (its newest year and version).
pub async fn form_by_id(ctx: &Ctx, form_id: &str) -> Result<YearForm> {
    let year = ctx
        .store
        .survey_forms(None)
        .await?
        .into_iter()
        .find(|f| f.form_id == form_id)
        .map(|f| f.year)
        .ok_or_else(|| ServiceError::not_found(format!("调查问卷 {form_id} 不存在")))?;
    let f = year_form(ctx, year).await?;
    if f.form.id != form_id {
        return Err(ServiceError::not_found(format!(
            "调查问卷 {form_id} 已不是 {year} 年的问卷（现为 {}）",
            f.form.id
        )));
    }
    Ok(f)
}

/// A batch of responses to questionnaire `form_id` (the API's JSON):
/// checked as a file is, errors by item, all or nothing.
pub async fn import_batch(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyAnswers>,
    form_id: &str,
    items: &[pingan_input::survey::Item<'_>],
    sha256: String,
    dry_run: bool,
) -> Result<ResponsesSummary> {
    let tree = ctx.tree().await?;
    let f = form_by_id(ctx, form_id).await?;
    if items.is_empty() {
        return Err(ServiceError::invalid("responses 为空：至少提交一份答卷"));
    }
    let frame = year_frame(ctx, &tree, f.stored.year).await?;
    let in_frame: HashSet<usize> = frame.iter().map(|(r, _)| *r).collect();
    let read = pingan_input::survey::check_items(items, &f.form, &tree, &|r| in_frame.contains(&r))
        .map_err(|errs| {
            ServiceError::Rejected(
                errs.into_iter()
                    .map(|(index, m)| crate::Problem::new(crate::Loc::Index { index }, m))
                    .collect(),
            )
        })?;
    let name = format!("API 批次（{} 份）", items.len());
    let origin = Origin {
        name: &name,
        sha256,
        batch: true,
    };
    store_read(ctx, who, &tree, &f, read, &origin, dry_run).await
}

/// Judge and store responses already read: those outside the caller's
/// scope refused, stored ones told apart as duplicates or conflicts.
async fn store_read(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyAnswers>,
    tree: &pingan_core::RegionTree,
    f: &YearForm,
    read: pingan_input::survey::Responses,
    origin: &Origin<'_>,
    dry_run: bool,
) -> Result<ResponsesSummary> {
    let outside: Vec<crate::Problem> = read
        .rows
        .iter()
        .filter(|r| !who.sees(tree, r.region))
        .take(pingan_input::MAX_ERRORS)
        .map(|r| {
            crate::Problem::new(
                origin.at(r.line),
                format!("地区“{}”不在您的数据范围内", tree.get(r.region).code),
            )
        })
        .collect();
    if !outside.is_empty() {
        return Err(ServiceError::Rejected(outside));
    }
    // A small batch asks for its own ids; a big file reads them all once.
    let stored = if read.rows.len() > 5000 {
        ctx.store.response_digests(f.stored.id).await?
    } else {
        let ids: Vec<&str> = read.rows.iter().map(|r| r.instance_id.as_str()).collect();
        ctx.store.response_digests_of(f.stored.id, &ids).await?
    };
    let mut duplicates = read.duplicates;
    let mut new = Vec::new();
    let mut conflicts = Vec::new();
    let mut s = ResponsesSummary {
        file: origin.name.to_string(),
        dry_run,
        rows: read.rows.len() + read.duplicates,
        imported: 0,
        duplicates: 0,
        valid: 0,
        too_fast: 0,
        incomplete: 0,
        constraint: 0,
        straightlining: 0,
        import_id: None,
    };
    for r in &read.rows {
        let d = digest(r);
        match stored.get(&r.instance_id) {
            Some(old) if *old == d => {
                duplicates += 1;
                continue;
            }
            Some(_) => {
                if conflicts.len() < pingan_input::MAX_ERRORS {
                    conflicts.push(crate::Problem::new(
                        origin.at(r.line),
                        format!("instance_id“{}”已存在且内容不同", r.instance_id),
                    ));
                }
                continue;
            }
            None => {}
        }
        let verdict = f.form.invalid(r.seconds, &r.answers);
        match verdict {
            None => s.valid += 1,
            Some(Invalid::TooFast) => s.too_fast += 1,
            Some(Invalid::Incomplete) => s.incomplete += 1,
            Some(Invalid::Constraint) => s.constraint += 1,
        }
        let straight = f.form.straightlining(&r.answers);
        s.straightlining += usize::from(straight);
        new.push(NewResponse {
            instance_id: r.instance_id.clone(),
            region: tree.get(r.region).code.clone(),
            channel: r.channel.code().to_string(),
            started: r.started.clone(),
            submitted: r.submitted.clone(),
            seconds: r.seconds,
            answers: serde_json::to_string(&r.answers)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            digest: d,
            verdict: verdict.map(|v| v.code().to_string()),
            straightlining: straight,
        });
    }
    if !conflicts.is_empty() {
        return Err(ServiceError::Conflict(
            conflicts
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    s.imported = new.len();
    s.duplicates = duplicates;
    // Nothing new: nothing written (importing a file again changes nothing).
    if dry_run || new.is_empty() {
        return Ok(s);
    }
    let detail = json!({"year": f.stored.year, "form": f.form.id, "version": f.form.version,
        "rows": s.rows, "new": s.imported, "duplicates": s.duplicates, "valid": s.valid,
        "invalid": {"too_fast": s.too_fast, "incomplete": s.incomplete, "constraint": s.constraint}});
    let id = ctx
        .store
        .write_responses(
            &ResponsesWrite {
                form: f.stored.id,
                year: f.stored.year,
                file: origin.name,
                sha256: &origin.sha256,
                rows: s.rows,
                duplicates,
                responses: &new,
                detail,
            },
            &who.actor(),
        )
        .await?;
    s.import_id = Some(id);
    Ok(s)
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

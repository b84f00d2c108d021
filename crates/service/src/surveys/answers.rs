//! Answers coming in (survey.md §3): a file, an API batch or one answer
//! from the answering pages, each checked by the same row checker, judged
//! against what is stored (a repeat with the same content is a duplicate,
//! other content under the same `instance_id` a conflict) and written in
//! one transaction with its ledger entry.

use super::judge::{Judged, judge};
use super::{Paradata, ResponsesSummary, YearForm, year_form, year_frame};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_store::ResponsesWrite;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// Where the responses of an import came from: its name for the record
/// and the ledger, the digest of what was sent, and how a row is placed
/// in a message (a file's line, or a batch's item).
pub struct Origin<'a> {
    pub name: &'a str,
    pub sha256: String,
    pub batch: bool,
    /// A batch's paradata by item (a file has none).
    pub paradata: &'a [Paradata],
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
        paradata: &[],
    };
    store_read(ctx, who, &tree, &f, read, &origin, dry_run).await
}

/// The stored questionnaire `form_id` (its newest year and version).
pub async fn form_by_id(ctx: &Ctx, form_id: &str) -> Result<Arc<YearForm>> {
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
    paradata: &[Paradata],
    sha256: String,
    dry_run: bool,
) -> Result<ResponsesSummary> {
    let f = form_by_id(ctx, form_id).await?;
    import_items(ctx, who, &f, items, paradata, sha256, dry_run).await
}

/// `import_batch` for a questionnaire already at hand (the answering
/// pages hold the year's).
pub async fn import_items(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyAnswers>,
    f: &YearForm,
    items: &[pingan_input::survey::Item<'_>],
    paradata: &[Paradata],
    sha256: String,
    dry_run: bool,
) -> Result<ResponsesSummary> {
    let tree = ctx.tree().await?;
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
        paradata,
    };
    store_read(ctx, who, &tree, f, read, &origin, dry_run).await
}

/// One answer from an answering page (open link, invitation, an
/// interviewer's device): checked here, then written with the others
/// arriving at the same time (`gather`).
pub async fn answer_one(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyAnswers>,
    open: &super::OpenYear,
    item: &pingan_input::survey::Item<'_>,
    para: Paradata,
    sha256: String,
) -> Result<ResponsesSummary> {
    let tree = &open.tree;
    let mut read = pingan_input::survey::check_items(
        std::slice::from_ref(item),
        &open.form.form,
        tree,
        &|r| open.in_frame(r),
    )
    .map_err(|errs| {
        ServiceError::Rejected(
            errs.into_iter()
                .map(|(_, m)| crate::Problem::new(crate::Loc::Whole, m))
                .collect(),
        )
    })?;
    let row = read
        .rows
        .pop()
        .ok_or_else(|| ServiceError::Internal("答卷检查后为空".into()))?;
    if !who.sees(tree, row.region) {
        return Err(ServiceError::forbidden(format!(
            "地区“{}”不在您的数据范围内",
            tree.get(row.region).code
        )));
    }
    super::gather::submit(ctx, open.form.clone(), row, para, who.actor(), sha256).await
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
        ..Default::default()
    };
    for r in &read.rows {
        // An item's line is its index; files carry no paradata.
        let para = origin.paradata.get(r.line).cloned().unwrap_or_default();
        match judge(f, tree, r, stored.get(&r.instance_id), para)? {
            Judged::Duplicate => duplicates += 1,
            Judged::Conflict => {
                if conflicts.len() < pingan_input::MAX_ERRORS {
                    conflicts.push(crate::Problem::new(
                        origin.at(r.line),
                        format!("instance_id“{}”已存在且内容不同", r.instance_id),
                    ));
                }
            }
            Judged::New(row) => {
                s.count(&row);
                new.push(*row);
            }
        }
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

//! The office's edits of a document's sections before it is issued (issue
//! 20): every save a new version in the store and the ledger; the newest
//! non-empty version of each section replaces the generated words wherever
//! the document is made (page, Word, Excel, PDF, batch, API).

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, report};
use pingan_core::report::doc::Doc;
use pingan_core::report::edits::MAX_CHARS;
use pingan_store::ReportEdit;

/// A document's sections as generated and as they will print, with every
/// saved version.
pub struct Editing {
    pub title: String,
    /// (section, heading, words) as generated.
    pub generated: Vec<(String, String, String)>,
    /// The same with the saved edits.
    pub current: Vec<(String, String, String)>,
    pub history: Vec<ReportEdit>,
}

async fn generated(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
    notice: bool,
) -> Result<Doc> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    if notice {
        report::generated_notice(ctx, &reader, year, code)
            .await?
            .ok_or_else(|| {
                ServiceError::invalid("该地区本年度尚未印发整改通知书：请先印发，再修改")
            })
    } else {
        report::generated_report(ctx, &reader, year, code).await
    }
}

pub async fn editing(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
    notice: bool,
) -> Result<Editing> {
    let doc = generated(ctx, who, year, code, notice).await?;
    let mut edited = doc.clone();
    report::apply_saved(ctx, year, code, notice, &mut edited).await?;
    let history = ctx
        .store
        .report_edits(&report::edit_key(year, code, notice))
        .await?;
    // A section emptied by an edit still shows (with no words).
    let generated = doc.editable();
    let current_words = edited.editable();
    let current = generated
        .iter()
        .map(|(k, h, _)| {
            let words = current_words
                .iter()
                .find(|(c, _, _)| c == k)
                .map(|(_, _, w)| w.clone())
                .unwrap_or_default();
            (k.clone(), h.clone(), words)
        })
        .collect();
    Ok(Editing {
        title: doc.title,
        generated,
        current,
        history,
    })
}

/// Save `text` as the newest words of `section` ('' puts the generated
/// words back).
pub async fn save(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
    notice: bool,
    section: &str,
    text: &str,
) -> Result<ReportEdit> {
    if text.chars().count() > MAX_CHARS {
        return Err(ServiceError::invalid(format!(
            "段落文字过长：最多 {MAX_CHARS} 字"
        )));
    }
    let doc = generated(ctx, who, year, code, notice).await?;
    if !doc.editable().iter().any(|(k, _, _)| k == section) {
        return Err(ServiceError::invalid(format!(
            "“{section}”不是该文档可修改的部分"
        )));
    }
    // Line ends as one kind, no trailing spaces: the same words save the same.
    let clean: String = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string();
    Ok(ctx
        .store
        .save_report_edit(
            &report::edit_key(year, code, notice),
            section,
            &clean,
            &who.actor(),
        )
        .await?)
}

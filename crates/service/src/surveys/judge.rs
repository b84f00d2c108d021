//! What becomes of one checked answer: its digest (the content an
//! `instance_id` stands for), whether it repeats or contradicts what is
//! stored, and the row stored when it is new with its verdict.

use super::YearForm;
use crate::error::{Result, ServiceError};
use pingan_core::survey::response::Invalid;
use pingan_core::survey::run::Response;
use pingan_store::NewResponse;

/// What an import of responses did.
#[derive(Clone, Debug, Default, serde::Serialize)]
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

/// Paradata an interviewer's device sends with an answer: who asked (the
/// firm's code for the interviewer) and whether the respondent was helped
/// one to one. The duration is the answer's own `submitted − started`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paradata {
    pub interviewer: Option<String>,
    pub assisted: Option<bool>,
}

impl Paradata {
    /// Why `self` cannot go with an answer on `channel`, if it cannot.
    pub fn problem(&self, channel: &str) -> Option<String> {
        if self == &Paradata::default() {
            return None;
        }
        if channel == "online" {
            return Some("自行作答（online）的答卷没有访问员和协助信息".into());
        }
        let i = self.interviewer.as_deref().unwrap_or_default();
        if i.chars().count() > 50 || i.chars().any(char::is_control) {
            return Some("访问员编号应为 50 字以内的文本".into());
        }
        None
    }
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

/// What one checked answer is, against the content stored under its id.
pub(crate) enum Judged {
    Duplicate,
    Conflict,
    New(Box<NewResponse>),
}

pub(crate) fn judge(
    f: &YearForm,
    tree: &pingan_core::RegionTree,
    r: &Response,
    stored: Option<&String>,
    para: Paradata,
) -> Result<Judged> {
    let d = digest(r);
    match stored {
        Some(old) if *old == d => return Ok(Judged::Duplicate),
        Some(_) => return Ok(Judged::Conflict),
        None => {}
    }
    let verdict = f.form.invalid(r.seconds, &r.answers);
    Ok(Judged::New(Box::new(NewResponse {
        interviewer: para.interviewer,
        assisted: para.assisted,
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
        straightlining: f.form.straightlining(&r.answers),
    })))
}

impl ResponsesSummary {
    /// Count a new answer by its verdict.
    pub(crate) fn count(&mut self, r: &NewResponse) {
        match Invalid::ALL
            .into_iter()
            .find(|v| r.verdict.as_deref() == Some(v.code()))
        {
            None => self.valid += 1,
            Some(Invalid::TooFast) => self.too_fast += 1,
            Some(Invalid::Incomplete) => self.incomplete += 1,
            Some(Invalid::Constraint) => self.constraint += 1,
        }
        self.straightlining += usize::from(r.straightlining);
    }
}

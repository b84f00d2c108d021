//! `/api/v1/surveys`: answers handed in by the office or the survey firm
//! (JSON batches, checked as `responses.csv` is), and the weighted
//! estimates of survey.md §6.

use super::{Api, ApiError, ImportError};
use crate::AppState;
use crate::http::{Body, Path, Query, Who};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingan_input::survey::{Head, Item};
use pingan_service::{ServiceError, cap, surveys};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(post_responses)).with(routes!(estimates))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseSet {
    pub responses: Vec<ResponseItem>,
}

/// One response, as a row of `responses.csv` (survey.md §3).
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseItem {
    pub instance_id: String,
    pub form_version: String,
    /// A base region of the year's frame.
    pub region: String,
    /// online, interview, paper or hotline.
    pub channel: String,
    /// RFC 3339, or `YYYY-MM-DD HH:MM:SS` (China time).
    pub started: String,
    pub submitted: String,
    /// Question name → answer: a choice name, choice names separated by
    /// spaces (or a list of them) for select_multiple, a number, or text;
    /// null or "" for no answer.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Paradata of an interviewer's answer (not for channel online): the
    /// firm's code for the interviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interviewer: Option<String>,
    /// Whether the respondent was helped one to one (一对一协助).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assisted: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    #[serde(rename = "dryRun", default)]
    pub dry_run: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Invalid {
    pub too_fast: usize,
    pub incomplete: usize,
    pub constraint: usize,
}

/// The import summary of `dataValueSets`, with the survey's counts.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResponsesResult {
    /// OK or ERROR.
    pub status: &'static str,
    /// New responses stored (or that would be, for a dry run).
    pub imported: usize,
    pub updated: usize,
    /// Identical repeats: the same as `duplicates`.
    pub ignored: usize,
    pub duplicates: usize,
    /// Of the new responses: valid, and invalid by reason (kept, not estimated).
    pub valid: usize,
    pub invalid: Invalid,
    pub straightlining: usize,
    pub errors: Vec<ImportError>,
}

fn answer_text(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as V;
    match v {
        V::Null => Some(String::new()),
        V::String(s) => Some(s.clone()),
        V::Number(n) => Some(n.to_string()),
        V::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(" ")),
        V::Bool(_) | V::Object(_) => None,
    }
}

/// Hand in responses to questionnaire `form_id`: checked whole (errors by
/// item index, 422), stored in one transaction, idempotent on
/// `instance_id` (identical = a duplicate; other content = 409 naming it).
#[utoipa::path(post, path = "/api/v1/surveys/{form_id}/responses", params(DryRun),
    request_body = ResponseSet,
    responses((status = 200, body = ResponsesResult), (status = 422, body = ResponsesResult),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn post_responses(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(form_id): Path<String>,
    Query(q): Query<DryRun>,
    Body(set): Body<ResponseSet>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::SurveyAnswers>()?;
    let mut texts: Vec<Vec<(&str, String)>> = Vec::with_capacity(set.responses.len());
    let mut shape: Vec<ImportError> = Vec::new();
    let mut paradata = Vec::with_capacity(set.responses.len());
    for (index, r) in set.responses.iter().enumerate() {
        let p = surveys::Paradata {
            interviewer: r
                .interviewer
                .as_deref()
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_string),
            assisted: r.assisted,
        };
        if let Some(message) = p.problem(r.channel.trim()) {
            shape.push(ImportError { index, message });
        }
        paradata.push(p);
        let mut answers = Vec::with_capacity(r.answers.len());
        for (name, v) in &r.answers {
            match answer_text(v) {
                Some(t) => answers.push((name.as_str(), t)),
                None => shape.push(ImportError {
                    index,
                    message: format!(
                        "题目“{name}”的答案应为文本、数字、文本列表或 null，实际是 {v}"
                    ),
                }),
            }
        }
        texts.push(answers);
    }
    if !shape.is_empty() {
        return Ok(rejected(shape));
    }
    let items: Vec<Item<'_>> = set
        .responses
        .iter()
        .zip(&texts)
        .map(|(r, answers)| Item {
            head: Head {
                instance_id: r.instance_id.trim(),
                form_version: r.form_version.trim(),
                region: r.region.trim(),
                channel: r.channel.trim(),
                started: r.started.trim(),
                submitted: r.submitted.trim(),
            },
            answers: answers.iter().map(|(n, t)| (*n, t.as_str())).collect(),
        })
        .collect();
    let body = serde_json::to_vec(&set).unwrap_or_default();
    let sha = pingan_store::sha256_hex(&body);
    match surveys::import_batch(
        &state.ctx, &who, &form_id, &items, &paradata, sha, q.dry_run,
    )
    .await
    {
        Ok(s) => Ok(Json(ResponsesResult {
            status: "OK",
            imported: s.imported,
            updated: 0,
            ignored: s.duplicates,
            duplicates: s.duplicates,
            valid: s.valid,
            invalid: Invalid {
                too_fast: s.too_fast,
                incomplete: s.incomplete,
                constraint: s.constraint,
            },
            straightlining: s.straightlining,
            errors: Vec::new(),
        })
        .into_response()),
        Err(ServiceError::Rejected(problems)) => Ok(rejected(
            problems.into_iter().map(ImportError::from).collect(),
        )),
        Err(e) => Err(e.into()),
    }
}

fn rejected(errors: Vec<ImportError>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(ResponsesResult {
            status: "ERROR",
            imported: 0,
            updated: 0,
            ignored: 0,
            duplicates: 0,
            valid: 0,
            invalid: Invalid {
                too_fast: 0,
                incomplete: 0,
                constraint: 0,
            },
            straightlining: 0,
            errors,
        }),
    )
        .into_response()
}

fn thirty() -> usize {
    30
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EstimateQuery {
    pub year: i32,
    /// Below this many respondents an estimate is 样本不足 (30 when omitted).
    #[serde(default = "thirty")]
    pub min_n: usize,
}

/// The weighted estimates of survey.md §6 from the stored responses of
/// questionnaire `form_id` in `year`, for the regions in the caller's scope.
#[utoipa::path(get, path = "/api/v1/surveys/{form_id}/estimates", params(EstimateQuery),
    responses((status = 200, description = "the JSON of survey.md §6"), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
async fn estimates(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(form_id): Path<String>,
    Query(q): Query<EstimateQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Surveys>()?;
    if !(1..=100_000).contains(&q.min_n) {
        return Err(ServiceError::invalid("min_n 应在 1 到 100000 之间").into());
    }
    let f = surveys::year_form(&state.ctx, q.year).await?;
    if f.form.id != form_id {
        return Err(ServiceError::not_found(format!(
            "{} 年的调查问卷是 {}，不是 {form_id}",
            q.year, f.form.id
        ))
        .into());
    }
    let est = surveys::estimates_seen(&state.ctx, &who, q.year, q.min_n).await?;
    Ok(Json(est).into_response())
}

//! `/api/v1/values` and `/api/v1/dataValueSets`: reported values, and a
//! department system's submission (DHIS2-style).

use super::{Api, ApiError, ImportResult};
use crate::AppState;
use crate::http::Query;
use crate::http::{Body, PageQuery, Who, fifty, one, page};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pingan_service::cap;
use pingan_service::intake::{At, Channel, Intake};
use pingan_service::values::{self, ImportOptions, ValueFilter};
use serde::Deserialize;
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(list)).with(routes!(data_value_sets))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ValuesQuery {
    pub region: Option<String>,
    pub period: Option<String>,
    pub element: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// Stored values with provenance, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/values", params(ValuesQuery),
    responses((status = 200, description = "a page of values"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn list(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<ValuesQuery>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Values>()?;
    let rows = values::list(
        &state.ctx,
        &who,
        &ValueFilter {
            region: q.region,
            period: q.period,
            element: q.element,
        },
    )
    .await?;
    let p = PageQuery {
        page: q.page,
        page_size: q.page_size,
    };
    Ok(Json(page(rows, p)?).into_response())
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValueSet {
    #[serde(rename = "dataValues")]
    pub data_values: Vec<DataValue>,
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValue {
    pub region: String,
    pub period: String,
    pub element: String,
    /// A number (a numeric string is accepted too).
    #[schema(value_type = f64)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    #[serde(rename = "dryRun", default)]
    pub dry_run: bool,
    /// For `office_admin`: store the values for the three-level review
    /// instead of approving them on import. Other callers' values always
    /// wait for review.
    #[serde(default)]
    pub review: bool,
}

/// Submit values: checked whole, stored in one transaction, idempotent on
/// (region, period, element, source). Also answers for a dry run.
#[utoipa::path(post, path = "/api/v1/dataValueSets", params(DryRun), request_body = DataValueSet,
    responses((status = 200, body = ImportResult), (status = 422, body = ImportResult), (status = 403, body = ApiError)))]
async fn data_value_sets(
    State(state): State<AppState>,
    Who(caller): Who,
    Query(q): Query<DryRun>,
    Body(set): Body<DataValueSet>,
) -> Result<Response, ApiError> {
    let who = caller.authorize::<cap::Submit>()?;
    let mut intake = Intake::open(&state.ctx, &who, Channel::Json).await?;
    // The default source of a department's values is its department.
    let default_source = caller.department.clone().unwrap_or_default();
    for (i, v) in set.data_values.iter().enumerate() {
        let at = At::Index(i);
        let value = match &v.value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => {
                intake.refuse(at, format!("value 应为数字，实际是 {other}"));
                String::new()
            }
        };
        intake.push_text(
            at,
            &v.region,
            &v.period,
            &v.element,
            &value,
            v.source.as_deref().unwrap_or(&default_source),
            v.comment.as_deref().unwrap_or_default(),
        );
    }
    let body = serde_json::to_vec(&set).unwrap_or_default();
    let result = match intake.finish("dataValueSets", pingan_store::sha256_hex(&body)) {
        Ok(batch) => {
            values::import(
                &state.ctx,
                &who,
                batch,
                ImportOptions {
                    dry_run: q.dry_run,
                    review: q.review,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    ImportResult::of(result)
}

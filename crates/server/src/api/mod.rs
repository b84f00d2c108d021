//! The JSON API under `/api/v1` (api.md). Each resource is a module with
//! its handlers and `routes`, which adds them through `Api`: a route can
//! only be added with its `#[utoipa::path]`, so every served path is in the
//! OpenAPI document.

mod audit;
mod callbacks;
mod doc;
mod error;
mod events;
mod field;
mod public;
mod quality;
mod rectify;
mod reports;
mod review;
mod risk;
mod scores;
mod session;
mod structure;
mod surveys;
mod values;
mod work;

pub use error::ApiError;
pub(crate) use field::task_query;

use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use pingan_service::{ServiceError, imports::ImportSummary};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// The routes of `/api/v1`: only documented handlers (`routes!`) go in.
pub(crate) struct Api(OpenApiRouter<AppState>);

impl Api {
    fn with(self, r: UtoipaMethodRouter<AppState>) -> Api {
        Api(self.0.routes(r))
    }
}

#[derive(OpenApi)]
#[openapi(info(
    title = "pingan 平安建设测评平台 API",
    description = "api.md; errors are {status, code, message}"
))]
struct ApiDoc;

/// Every resource, in the order the document lists them.
const RESOURCES: &[fn(Api) -> Api] = &[
    session::routes,
    structure::routes,
    values::routes,
    scores::routes,
    quality::routes,
    review::routes,
    field::routes,
    callbacks::routes,
    reports::routes,
    rectify::routes,
    risk::routes,
    public::routes,
    surveys::routes,
    events::routes,
    audit::routes,
    work::routes,
    document_routes,
];

/// The API's router and its OpenAPI document.
pub(crate) fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = RESOURCES.iter().fold(
        Api(OpenApiRouter::with_openapi(ApiDoc::openapi())),
        |api, add| add(api),
    );
    let (router, mut doc) = api.0.split_for_parts();
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .entry("ApiError".into())
        .or_insert_with(<ApiError as utoipa::PartialSchema>::schema);
    doc::finish(&mut doc);
    (router, doc)
}

fn document_routes(api: Api) -> Api {
    api.with(routes!(document))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, description = "the OpenAPI 3 document")))]
async fn document(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(state.openapi.as_ref().clone())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportError {
    pub index: usize,
    pub message: String,
}

/// A problem of an import as the API reports it: the index of its item
/// (a problem of the request as a whole is item 0).
impl From<pingan_service::Problem> for ImportError {
    fn from(p: pingan_service::Problem) -> Self {
        ImportError {
            index: match p.at {
                pingan_service::Loc::Index { index } => index,
                _ => 0,
            },
            message: p.message,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// OK, WARNING or ERROR.
    pub status: &'static str,
    pub imported: usize,
    pub updated: usize,
    pub ignored: usize,
    /// Values: `approved` (counted at once) or `pending` (waits for the review).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<&'static str>,
    /// Values: data sets (department × region × period) this submission changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sets: Option<usize>,
    pub errors: Vec<ImportError>,
}

impl ImportResult {
    /// An import's answer: the counts, or 422 with the index of each bad
    /// item (a problem of the request as a whole is item 0).
    pub(crate) fn of(result: Result<ImportSummary, ServiceError>) -> Result<Response, ApiError> {
        match result {
            Ok(s) => {
                let values = s.kind == pingan_service::imports::ImportKind::Values;
                Ok(Json(ImportResult {
                    status: if s.notes.is_empty() { "OK" } else { "WARNING" },
                    imported: s.imported,
                    updated: s.updated,
                    ignored: s.ignored,
                    review: values.then_some(s.review.code()),
                    data_sets: values.then_some(s.data_sets),
                    errors: Vec::new(),
                })
                .into_response())
            }
            Err(ServiceError::Rejected(problems)) => Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Json(ImportResult {
                    status: "ERROR",
                    imported: 0,
                    updated: 0,
                    ignored: 0,
                    review: None,
                    data_sets: None,
                    errors: problems.into_iter().map(ImportError::from).collect(),
                }),
            )
                .into_response()),
            Err(e) => Err(e.into()),
        }
    }
}

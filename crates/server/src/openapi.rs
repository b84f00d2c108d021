//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pingan 平安建设测评平台 API",
        description = "api.md; errors are {status, code, message}"
    ),
    paths(
        crate::routes::login,
        crate::routes::logout,
        crate::routes::change_password,
        crate::routes::regions,
        crate::routes::framework,
        crate::routes::values,
        crate::routes::data_value_sets,
        crate::routes::scores,
        crate::routes::audit_list,
        crate::routes::audit_verify,
        crate::quality::run_check,
        crate::quality::flags,
        crate::quality::flag,
        crate::quality::resolve,
        crate::review::data_sets,
        crate::review::data_set,
        crate::review::review,
        crate::field::tasks,
        crate::field::create,
        crate::field::draw,
        crate::field::task,
        crate::field::record,
        crate::field::close,
        crate::field::add_photo,
        crate::field::confirm,
        crate::field::photo,
        crate::field::from_flag,
        crate::cases::import,
        crate::cases::list,
        crate::cases::draw,
        crate::cases::draws,
        crate::cases::draw_one,
        crate::cases::record,
        crate::cases::evidence,
    ),
    components(schemas(
        crate::ApiError,
        crate::routes::LoginBody,
        crate::routes::SessionInfo,
        crate::routes::PasswordBody,
        crate::routes::RegionItem,
        crate::quality::CheckBody,
        crate::quality::CheckResult,
        crate::quality::ResolveBody,
        crate::review::ReviewBody,
        crate::field::TaskBody,
        crate::field::TaskDrawBody,
        crate::field::VisitBody,
        crate::field::CloseBody,
        crate::field::FromFlagBody,
        crate::cases::CaseSet,
        crate::cases::CaseItem,
        crate::cases::DrawBody,
        crate::cases::RecordBody
    ))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

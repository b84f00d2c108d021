//! Errors in the api.md shape: `{"status":403,"code":"forbidden","message":"…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingan_service::{Refusal, ServiceError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    pub status: u16,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Chinese, safe to show.
    pub message: String,
    /// Seconds to wait before trying again (429, 503): sent as the
    /// `Retry-After` header, not in the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: status.as_u16(),
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    pub fn unauthorized() -> Self {
        ServiceError::Unauthorized.into()
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let mut r = (status, Json(self)).into_response();
        if let Some(s) = retry {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        r
    }
}

/// The status and code of each kind of refusal; the message is the
/// service's (an internal failure was logged where it happened).
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let (status, code) = match &e {
            ServiceError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServiceError::Forbidden(_) | ServiceError::Denied(_) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServiceError::Invalid(_) | ServiceError::Rejected(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
            }
            ServiceError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::Refused { refusal, .. } => match refusal {
                Refusal::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
                Refusal::Locked => (StatusCode::LOCKED, "account_locked"),
                Refusal::Disabled => (StatusCode::UNAUTHORIZED, "account_disabled"),
                Refusal::TotpRequired => (StatusCode::UNAUTHORIZED, "totp_required"),
                Refusal::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            },
            ServiceError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ServiceError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unwritable"),
            ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let retry_after = match &e {
            ServiceError::Busy { retry_after } => Some(*retry_after),
            // The sign-in limit counts the last minute.
            ServiceError::Refused {
                refusal: Refusal::RateLimited,
                ..
            } => Some(60),
            _ => None,
        };
        ApiError {
            retry_after,
            ..ApiError::new(status, code, e.to_string())
        }
    }
}

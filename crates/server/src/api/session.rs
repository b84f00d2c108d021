//! `/api/v1/session`: log in and out, change one's own password.

use super::{Api, ApiError};
use crate::AppState;
use crate::http::{Body, ClientIp, Who, clear_cookie, session_cookie, session_token};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pingan_service::session;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

pub(super) fn routes(api: Api) -> Api {
    api.with(routes!(login, logout))
        .with(routes!(change_password))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
    /// TOTP code, for accounts with a second factor.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub user: String,
    pub roles: Vec<String>,
    pub region: Option<String>,
    pub must_change_password: bool,
}

/// Log in with a password; sets the `pingan_session` cookie.
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody,
    responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 423, body = ApiError), (status = 429, body = ApiError)))]
async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<LoginBody>,
) -> Result<Response, ApiError> {
    let (user, token) = session::sign_in(
        &state.ctx,
        &ip.text(),
        &body.username,
        &body.password,
        body.totp.as_deref(),
    )
    .await?;
    let info = SessionInfo {
        user: user.username,
        roles: user.roles.iter().map(|r| r.code().to_string()).collect(),
        region: user.region,
        must_change_password: user.must_change_password,
    };
    let mut resp = Json(info).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&token));
    Ok(resp)
}

/// Log out: the session ends here and in the database.
#[utoipa::path(delete, path = "/api/v1/session",
    responses((status = 204, description = "signed out"), (status = 403, body = ApiError, description = "another site's request")))]
async fn logout(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    // As for every unsafe method with a cookie: another site's page may
    // not sign our user out.
    if !crate::http::same_origin(&parts) {
        return Err(ApiError::forbidden("跨站请求被拒绝"));
    }
    if let Some(token) = session_token(&parts) {
        session::sign_out(&state.ctx, &token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub old: String,
    pub new: String,
}

/// Change one's own password (required at first login for new accounts).
#[utoipa::path(post, path = "/api/v1/session/password", request_body = PasswordBody,
    responses((status = 204), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
async fn change_password(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(body): Body<PasswordBody>,
) -> Result<Response, ApiError> {
    let token = session::change_own_password(&state.ctx, &caller, &body.old, &body.new).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&token));
    Ok(resp)
}

//! The `/api/v1` resources of api.md.

use crate::auth::{COOKIE, Caller, Cap, ClientIp, session_token};
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pingan_core::{Level, Period};
use pingan_store::LoginRefusal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/session/password", post(change_password))
        .route("/api/v1/regions", get(regions))
        .route("/api/v1/scores", get(scores))
        .route("/api/v1/audit", get(audit_list))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/openapi.json", get(crate::openapi::document))
}

/// JSON bodies with our error shape: an unknown field or a wrong type is a
/// 400 that names the field, in Chinese.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "请求体无效：{}",
                e.body_text()
            ))),
        }
    }
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

fn set_cookie(value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Log in with a password; sets the `pingan_session` cookie.
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginBody,
    responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 423, body = ApiError), (status = 429, body = ApiError)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(body): Body<LoginBody>,
) -> Result<Response, ApiError> {
    state.limiter.check(ip)?;
    let client = ip.map_or_else(|| "unknown".into(), |i| i.to_string());
    let _ = body.totp;
    match state
        .store
        .check_login(&body.username, &body.password, &client)
        .await?
    {
        Ok(user) => {
            let token = state.store.create_session(user.id, &client).await?;
            let info = SessionInfo {
                user: user.username,
                roles: user.roles.iter().map(|r| r.code().to_string()).collect(),
                region: user.region,
                must_change_password: user.must_change_password,
            };
            let mut resp = Json(info).into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(&token, 30 * 60));
            Ok(resp)
        }
        Err(LoginRefusal::Locked { until }) => Err(ApiError::new(
            StatusCode::LOCKED,
            "account_locked",
            format!("账户已锁定，请于 {until}（UTC）后再试或联系安全管理员"),
        )),
        Err(LoginRefusal::Disabled) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "account_disabled",
            "账户已停用",
        )),
        Err(LoginRefusal::BadCredentials) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "用户名或密码错误",
        )),
    }
}

/// Log out: the session ends here and in the database.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    if let Some(token) = session_token(&parts) {
        state.store.delete_session(&token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", 0));
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
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<PasswordBody>,
) -> Result<Response, ApiError> {
    if caller.name.starts_with("token:") {
        return Err(ApiError::forbidden("令牌不能修改密码"));
    }
    match state
        .store
        .check_login(&caller.name, &body.old, &caller.client)
        .await?
    {
        Ok(_) => {}
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "原密码错误",
            ));
        }
    }
    state
        .store
        .set_password(&caller.name, &body.new, false, &caller.actor())
        .await?;
    // The change ended every session, this one included: start a fresh one.
    let user = state
        .store
        .user(&caller.name)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let token = state.store.create_session(user.id, &caller.client).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&token, 30 * 60));
    Ok(resp)
}

fn one() -> usize {
    1
}
fn fifty() -> usize {
    50
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

fn page<T>(all: Vec<T>, page: usize, size: usize) -> Result<Page<T>, ApiError> {
    if page == 0 || !(1..=1000).contains(&size) {
        return Err(ApiError::invalid(
            "page 应从 1 开始，page_size 应在 1 到 1000 之间",
        ));
    }
    let total = all.len();
    let items = all.into_iter().skip((page - 1) * size).take(size).collect();
    Ok(Page {
        items,
        total,
        page,
        page_size: size,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    /// Parent region code; the top of the caller's scope when omitted.
    pub parent: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegionItem {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// Children of a region (the scope's top when `parent` is omitted).
#[utoipa::path(get, path = "/api/v1/regions", params(RegionQuery),
    responses((status = 200, body = Page<RegionItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn regions(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RegionQuery>,
) -> Result<Json<Page<RegionItem>>, ApiError> {
    caller.require(Cap::Structure)?;
    let tree = state.store.region_tree().await?;
    let list: Vec<usize> = match &q.parent {
        Some(code) => {
            let p = caller.region_in_scope(&tree, code)?;
            tree.children(p).to_vec()
        }
        None => match caller.region.as_deref().and_then(|r| tree.find(r)) {
            Some(root) => vec![root],
            None => (0..tree.len())
                .filter(|&i| tree.get(i).parent.is_none())
                .collect(),
        },
    };
    let items = list
        .into_iter()
        .map(|i| {
            let r = tree.get(i);
            RegionItem {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.map(|p| tree.get(p).code.clone()),
                level: r.level.code().to_string(),
                valid_from: r.valid_from.map(|d| d.to_string()),
                valid_to: r.valid_to.map(|d| d.to_string()),
            }
        })
        .collect();
    Ok(Json(page(items, q.page, q.page_size)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScoreQuery {
    /// 2024, 2024-03 or 2024Q1.
    pub period: String,
    pub level: Option<String>,
    /// Only regions with this parent.
    pub parent: Option<String>,
}

/// The stored `pingan score` JSON for the regions in scope.
#[utoipa::path(get, path = "/api/v1/scores", params(ScoreQuery),
    responses((status = 200, description = "scoring.md §7"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn scores(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ScoreQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Scores)?;
    let period: Period = q
        .period
        .parse()
        .map_err(|e: pingan_core::period::PeriodError| {
            ApiError::invalid(format!("参数 period：{e}"))
        })?;
    let level: Option<Level> = match &q.level {
        Some(l) => Some(
            l.parse()
                .map_err(|e: String| ApiError::invalid(format!("参数 level：{e}")))?,
        ),
        None => None,
    };
    let tree = state.store.region_tree().await?;
    if let Some(p) = &q.parent {
        caller.region_in_scope(&tree, p)?;
    }
    let mut report = state.store.scores(period, level, &caller.actor()).await?;
    report.results.retain(|r| {
        tree.find(&r.region).is_some_and(|i| caller.sees(&tree, i))
            && q.parent
                .as_ref()
                .is_none_or(|p| r.parent.as_ref() == Some(p))
    });
    let body = serde_json::to_vec(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
    #[serde(default = "one")]
    pub page: usize,
    #[serde(default = "fifty")]
    pub page_size: usize,
}

/// The ledger (supervisors and the audit administrator).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, description = "a page of ledger entries"), (status = 403, body = ApiError)))]
pub async fn audit_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Ledger)?;
    let f = pingan_store::AuditFilter {
        from: q.from,
        to: q.to,
        user: q.user,
        action: q.action,
    };
    let entries = state.store.audit_entries(&f, None).await?;
    Ok(Json(page(entries, q.page, q.page_size)?).into_response())
}

/// Recompute the ledger's hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, description = "the verification"), (status = 403, body = ApiError)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Cap::Ledger)?;
    Ok(Json(state.store.audit_verify(None).await?).into_response())
}

//! The `/api/v1` resources of api.md.

use crate::auth::{self, COOKIE, Caller, Cap, ClientIp, session_token};
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
        .route("/api/v1/framework", get(framework))
        .route("/api/v1/values", get(values))
        .route("/api/v1/dataValueSets", post(data_value_sets))
        .route("/api/v1/scores", get(scores))
        .route("/api/v1/checks", post(crate::quality::run_check))
        .route("/api/v1/flags", get(crate::quality::flags))
        .route("/api/v1/flags/{id}", get(crate::quality::flag))
        .route("/api/v1/flags/{id}/resolve", post(crate::quality::resolve))
        .route("/api/v1/dataSets", get(crate::review::data_sets))
        .route("/api/v1/dataSets/review", post(crate::review::review))
        .route(
            "/api/v1/dataSets/{department}/{region}/{period}",
            get(crate::review::data_set),
        )
        .route(
            "/api/v1/verifications",
            get(crate::field::tasks).post(crate::field::create),
        )
        .route("/api/v1/verifications/draw", post(crate::field::draw))
        .route("/api/v1/verifications/{id}", get(crate::field::task))
        .route(
            "/api/v1/verifications/{id}/records",
            post(crate::field::record),
        )
        .route(
            "/api/v1/verifications/{id}/close",
            post(crate::field::close),
        )
        .route(
            "/api/v1/verifications/records/{id}/photos",
            post(crate::field::add_photo),
        )
        .route(
            "/api/v1/verifications/records/{id}/confirm",
            post(crate::field::confirm),
        )
        .route(
            "/api/v1/verifications/photos/{id}",
            get(crate::field::photo),
        )
        .route(
            "/api/v1/flags/{id}/verification",
            post(crate::field::from_flag),
        )
        .route(
            "/api/v1/cases",
            get(crate::cases::list).post(crate::cases::import),
        )
        .route(
            "/api/v1/callbacks/draws",
            get(crate::cases::draws).post(crate::cases::draw),
        )
        .route("/api/v1/callbacks/draws/{id}", get(crate::cases::draw_one))
        .route("/api/v1/callbacks/evidence", get(crate::cases::evidence))
        .route(
            "/api/v1/callbacks/{draw_id}/{case_id}",
            post(crate::cases::record),
        )
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
    let (user, token) = sign_in(
        &state,
        ip,
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
        .insert(header::SET_COOKIE, set_cookie(&token, 30 * 60));
    Ok(resp)
}

/// Check the login limit and the credentials; a new session on success.
/// Shared by the API and the login page, so both refuse alike.
pub(crate) async fn sign_in(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> Result<(pingan_store::User, String), ApiError> {
    let client = ip.map_or_else(|| "unknown".into(), |i| i.to_string());
    auth::check_login_rate(&state.store, &client).await?;
    match state
        .store
        .check_login_totp(username, password, totp, &client)
        .await?
    {
        Ok(user) => {
            let token = state.store.create_session(user.id, &client).await?;
            Ok((user, token))
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
        Err(LoginRefusal::TotpRequired) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "totp_required",
            "请输入动态口令（TOTP）",
        )),
        Err(LoginRefusal::BadCredentials) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "用户名或密码错误",
        )),
    }
}

pub(crate) fn session_cookie(token: &str) -> HeaderValue {
    set_cookie(token, 30 * 60)
}

pub(crate) fn clear_cookie() -> HeaderValue {
    set_cookie("", 0)
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
    let token = change_own_password(&state, &caller, &body.old, &body.new).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&token, 30 * 60));
    Ok(resp)
}

/// Check the old password, set the new one, and open a fresh session (the
/// change ends every session, this one included). Returns its token.
pub(crate) async fn change_own_password(
    state: &AppState,
    caller: &Caller,
    old: &str,
    new: &str,
) -> Result<String, ApiError> {
    if caller.name.starts_with("token:") {
        return Err(ApiError::forbidden("令牌不能修改密码"));
    }
    if state
        .store
        .check_login(&caller.name, old, &caller.client)
        .await?
        .is_err()
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "原密码错误",
        ));
    }
    state
        .store
        .set_password(&caller.name, new, false, &caller.actor())
        .await?;
    let user = state
        .store
        .user(&caller.name)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(state.store.create_session(user.id, &caller.client).await?)
}

pub(crate) fn one() -> usize {
    1
}
pub(crate) fn fifty() -> usize {
    50
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

pub(crate) fn page<T>(all: Vec<T>, page: usize, size: usize) -> Result<Page<T>, ApiError> {
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
    let tree = state.tree().await?;
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
    /// Score every value, the ones still in review included, without
    /// storing anything; the answer carries `"preview": true`.
    #[serde(default)]
    pub preview: bool,
}

/// The stored `pingan score` JSON for the regions in scope.
#[utoipa::path(get, path = "/api/v1/scores", params(ScoreQuery),
    responses((status = 200, description = "scoring.md §7"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn scores(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
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
    if q.preview {
        let tree = state.tree().await?;
        if let Some(p) = &q.parent {
            caller.region_in_scope(&tree, p)?;
        }
        let full = state.preview(period).await?;
        let mut report = pingan_core::score::ScoreReport {
            framework: full.framework.clone(),
            period: full.period,
            results: full
                .results
                .iter()
                .filter(|r| level.is_none_or(|l| r.level == l.code()))
                .cloned()
                .collect(),
        };
        report.results.retain(|r| {
            tree.find(&r.region).is_some_and(|i| caller.sees(&tree, i))
                && q.parent
                    .as_ref()
                    .is_none_or(|p| r.parent.as_ref() == Some(p))
        });
        let mut v = serde_json::to_value(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
        v["preview"] = serde_json::json!(true);
        v["pending_values"] = serde_json::json!(
            crate::review::pending_in_scope(&state, &caller, period.year()).await?
        );
        return Ok(Json(v).into_response());
    }
    let key = (
        period.to_string(),
        level.map(|l| l.code().to_string()),
        q.parent.clone(),
    );
    let (tree, kept) = state.tree_and_scores(&key).await?;
    if let Some(p) = &q.parent {
        caller.region_in_scope(&tree, p)?;
    }
    // An unscoped caller gets the same bytes as every other: keep them.
    let unscoped = caller.region.is_none();
    let gzip = accepts_gzip(&headers);
    if unscoped && let Some(body) = kept {
        return Ok(json_body(&body, gzip));
    }
    // One request fills; the others wait for it (taking and dropping the
    // lock at once, so they do not queue behind each other) and then read
    // what it kept.
    let _filling = match unscoped.then(|| state.filling.try_lock()) {
        Some(Ok(guard)) => Some(guard),
        Some(Err(_)) => {
            drop(state.filling.lock().await);
            if let (_, Some(body)) = state.tree_and_scores(&key).await? {
                return Ok(json_body(&body, gzip));
            }
            None
        }
        None => None,
    };
    let mut report = state.store.scores(period, level, &caller.actor()).await?;
    report.results.retain(|r| {
        tree.find(&r.region).is_some_and(|i| caller.sees(&tree, i))
            && q.parent
                .as_ref()
                .is_none_or(|p| r.parent.as_ref() == Some(p))
    });
    let body = serde_json::to_vec(&report).map_err(|e| ApiError::invalid(e.to_string()))?;
    let body = axum::body::Bytes::from(body);
    if unscoped {
        let body = crate::cache::Body::new(body);
        state.keep_scores(key, body.clone()).await?;
        return Ok(json_body(&body, gzip));
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            parts.next().is_some_and(|n| n.trim() == "gzip")
                && parts.all(|p| p.trim().replace(' ', "") != "q=0")
        })
}

/// A kept JSON body, gzip'd for clients that accept it.
fn json_body(body: &crate::cache::Body, gzip: bool) -> Response {
    body_for(body, gzip, "application/json")
}

/// A kept body with its content type, gzip'd for clients that accept it.
pub(crate) fn body_for(body: &crate::cache::Body, gzip: bool, mime: &'static str) -> Response {
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    let kind = (header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if gzip && !body.gzip.is_empty() {
        (
            [
                kind,
                vary,
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            ],
            body.gzip.clone(),
        )
            .into_response()
    } else {
        ([kind, vary], body.raw.clone()).into_response()
    }
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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FrameworkQuery {
    /// The framework in force for this year (the latest version when omitted).
    pub year: Option<i32>,
}

/// The framework tree with effective weights and full points, and its lint.
#[utoipa::path(get, path = "/api/v1/framework", params(FrameworkQuery),
    responses((status = 200, description = "the tree and the lint"), (status = 404, body = ApiError)))]
pub async fn framework(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FrameworkQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Structure)?;
    let fw = state
        .store
        .framework_for_year(q.year.unwrap_or(i32::MAX))
        .await?
        .ok_or_else(|| ApiError::not_found("没有适用的指标体系"))?;
    let provisional: Vec<String> = fw
        .indicators()
        .iter()
        .filter(|p| p.indicator.provisional)
        .map(|p| p.indicator.code.clone())
        .collect();
    let mut body = serde_json::to_value(pingan_core::framework::view::tree(&fw))
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    body["lint"] = serde_json::json!({"public_opinion_share": fw.public_opinion_share(),
        "min_public_opinion_share": fw.min_public_opinion_share, "provisional": provisional});
    Ok(Json(body).into_response())
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
pub async fn values(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ValuesQuery>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Values)?;
    if let Some(p) = &q.period {
        p.parse::<Period>()
            .map_err(|e| ApiError::invalid(format!("参数 period：{e}")))?;
    }
    let tree = state.tree().await?;
    if let Some(r) = &q.region {
        caller.region_in_scope(&tree, r)?;
    }
    let fw = state.store.known_codes().await?;
    let dept = |code: &str| {
        fw.element_index(code)
            .map(|i| fw.elements[i].department.clone())
    };
    if let Some(e) = &q.element {
        let d =
            dept(e).ok_or_else(|| ApiError::invalid(format!("参数 element：未知的数据项 {e}")))?;
        if !caller.element_allowed(&d) {
            return Err(ApiError::forbidden("无权访问其他部门的数据项"));
        }
    }
    let rows = state
        .store
        .values(
            q.region.as_deref(),
            q.period.as_deref(),
            q.element.as_deref(),
        )
        .await?;
    let rows: Vec<pingan_store::StoredValue> = rows
        .into_iter()
        .filter(|v| tree.find(&v.region).is_some_and(|i| caller.sees(&tree, i)))
        .filter(|v| dept(&v.element).is_some_and(|d| caller.element_allowed(&d)))
        .collect();
    Ok(Json(page(rows, q.page, q.page_size)?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValueSet {
    #[serde(rename = "dataValues")]
    pub data_values: Vec<DataValue>,
}

#[derive(Deserialize, utoipa::ToSchema)]
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportError {
    pub index: usize,
    pub message: String,
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
    /// Refused before the store ran: 422 with the index of each bad item.
    pub(crate) fn refused(errors: Vec<ImportError>) -> Response {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ImportResult {
                status: "ERROR",
                imported: 0,
                updated: 0,
                ignored: 0,
                review: None,
                data_sets: None,
                errors,
            }),
        )
            .into_response()
    }

    /// The store's answer to an import sent as JSON and passed on as CSV:
    /// the counts, or the index of each bad item (line n of the CSV is
    /// item n − 2; a problem with no line is item 0).
    pub(crate) fn of(
        result: pingan_store::Result<pingan_store::ImportSummary>,
    ) -> Result<Response, ApiError> {
        match result {
            Ok(s) => {
                let values = s.kind == pingan_store::ImportKind::Values;
                Ok(Json(ImportResult {
                    status: if s.notes.is_empty() { "OK" } else { "WARNING" },
                    imported: s.imported,
                    updated: s.updated,
                    ignored: s.ignored,
                    review: values.then_some(s.review),
                    data_sets: values.then_some(s.data_sets),
                    errors: Vec::new(),
                })
                .into_response())
            }
            Err(pingan_store::StoreError::Input(e)) => Ok(Self::refused(
                e.0.into_iter()
                    .map(|x| ImportError {
                        index: x.line.unwrap_or(2).saturating_sub(2),
                        message: x.message,
                    })
                    .collect(),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// Submit values: checked whole, stored in one transaction, idempotent on
/// (region, period, element, source). Also answers for a dry run.
#[utoipa::path(post, path = "/api/v1/dataValueSets", params(DryRun), request_body = DataValueSet,
    responses((status = 200, body = ImportResult), (status = 422, body = ImportResult), (status = 403, body = ApiError)))]
pub async fn data_value_sets(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DryRun>,
    Body(set): Body<DataValueSet>,
) -> Result<Response, ApiError> {
    caller.require(Cap::Submit)?;
    let tree = state.tree().await?;
    let fw = state.store.known_codes().await?;
    let mut errors = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError::invalid(e.to_string());
    w.write_record(["region", "period", "element", "value", "source", "note"])
        .map_err(io)?;
    let default_source = caller.department.clone().unwrap_or_default();
    for (i, v) in set.data_values.iter().enumerate() {
        let value = match &v.value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => {
                errors.push(ImportError {
                    index: i,
                    message: format!("value 应为数字，实际是 {other}"),
                });
                String::new()
            }
        };
        if let Some(r) = tree.find(&v.region)
            && !caller.sees(&tree, r)
        {
            errors.push(ImportError {
                index: i,
                message: format!("无权报送地区 {} 的数据", v.region),
            });
        }
        if let Some(e) = fw.element_index(&v.element)
            && !caller.element_allowed(&fw.elements[e].department)
        {
            errors.push(ImportError {
                index: i,
                message: format!("数据项 {} 不属于本部门", v.element),
            });
        }
        let source = v.source.clone().unwrap_or_else(|| default_source.clone());
        w.write_record([
            &v.region,
            &v.period,
            &v.element,
            &value,
            &source,
            &v.comment.clone().unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    if !errors.is_empty() {
        return Ok(ImportResult::refused(errors));
    }
    let csv = w
        .into_inner()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    ImportResult::of(
        state
            .store
            .import_values_as(
                "dataValueSets",
                &csv,
                q.dry_run,
                caller.intake(q.review),
                &caller.actor(),
            )
            .await,
    )
}

//! Who is calling and what they may do. Handlers take a `Caller` (a cookie
//! session or a department token) and ask it for a capability, so no
//! handler can read data without passing through the role and scope rules.

use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use pingan_core::RegionTree;
use pingan_core::access::Role;
use pingan_store::{Actor, Store};
use std::net::{IpAddr, SocketAddr};

pub const COOKIE: &str = "pingan_session";

/// What a caller may read (api.md's role table); writes join as they arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// Regions and the framework: everyone signed in.
    Structure,
    Scores,
    Ledger,
    /// Reported values (a department only its own elements).
    Values,
    /// Submitting values (a department only its own elements).
    Submit,
    /// Reading the quality follow-up queue.
    Quality,
    /// Running checks and resolving flags (数据采集组 anomaly follow-up,
    /// 实地核查组, the office).
    Review,
    /// Field verification: creating tasks (the office, 实地核查组); the
    /// records themselves are the verifiers' alone.
    Field,
    /// Reading field verification tasks, records and photos. Not the
    /// evaluated regions' officials nor the departments: a task seen before
    /// the visit would tell them where and what will be checked.
    FieldRead,
    /// Reading the mediation register (回访抽查), and the departments that
    /// keep it reading what they sent.
    Cases,
    /// Importing the register: the office, or a department that keeps it.
    CaseImport,
    /// Reading callback draws and their evidence. Not the departments: a
    /// draw seen before the calls could be used to prepare the parties.
    Callbacks,
    /// Drawing cases and recording callbacks (实地核查组, the office).
    Callback,
}

/// The departments that keep mediation registers and may import them.
pub const CASE_DEPARTMENTS: [&str; 2] = ["政法委", "司法"];

#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub roles: Vec<Role>,
    /// Scope root; None = the whole tree.
    pub region: Option<String>,
    /// For department accounts and tokens: the elements they own.
    pub department: Option<String>,
    pub must_change_password: bool,
    pub client: String,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.name.clone(),
            client: self.client.clone(),
        }
    }

    fn has(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    pub fn require(&self, cap: Cap) -> Result<(), ApiError> {
        if self.must_change_password {
            return Err(ApiError::forbidden("首次登录请先修改密码"));
        }
        use Role::*;
        let ok = match cap {
            Cap::Structure => !self.roles.is_empty(),
            Cap::Scores => self.has(&[
                OfficeAdmin,
                RegionOfficial,
                Supervisor,
                Expert,
                Collector,
                Verifier,
            ]),
            Cap::Ledger => self.has(&[Supervisor, AuditAdmin]),
            Cap::Values => self.has(&[
                OfficeAdmin,
                Department,
                Collector,
                Verifier,
                Expert,
                RegionOfficial,
                Supervisor,
            ]),
            Cap::Submit => self.has(&[OfficeAdmin, Department]),
            Cap::Quality => self.has(&[
                OfficeAdmin,
                Collector,
                Verifier,
                Expert,
                Supervisor,
                RegionOfficial,
            ]),
            Cap::Review => self.has(&[OfficeAdmin, Collector, Verifier]),
            Cap::Field => self.has(&[OfficeAdmin, Verifier]),
            Cap::FieldRead => self.has(&[OfficeAdmin, Collector, Verifier, Expert, Supervisor]),
            Cap::Cases => {
                self.has(&[
                    OfficeAdmin,
                    Collector,
                    Verifier,
                    Expert,
                    Supervisor,
                    RegionOfficial,
                ]) || self.keeps_cases()
            }
            Cap::CaseImport => self.has(&[OfficeAdmin]) || self.keeps_cases(),
            Cap::Callbacks => self.has(&[
                OfficeAdmin,
                Collector,
                Verifier,
                Expert,
                Supervisor,
                RegionOfficial,
            ]),
            Cap::Callback => self.has(&[OfficeAdmin, Verifier]),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::forbidden("当前角色无权执行此操作"))
        }
    }

    /// How this caller's submissions enter: the office's are approved on
    /// import unless it asks for the review; everyone else's wait for it.
    pub fn intake(&self, review: bool) -> pingan_store::Intake {
        if self.roles.contains(&Role::OfficeAdmin) && !review {
            pingan_store::Intake::Direct
        } else {
            pingan_store::Intake::Pending
        }
    }

    pub fn is_verifier(&self) -> bool {
        self.roles.contains(&Role::Verifier)
    }

    /// A department account (or token) of a department that keeps a
    /// mediation register.
    fn keeps_cases(&self) -> bool {
        self.has(&[Role::Department])
            && self
                .department
                .as_deref()
                .is_some_and(|d| CASE_DEPARTMENTS.contains(&d))
    }

    /// A department-only caller sees its department's elements only; the
    /// other roles that read values see all of them.
    pub fn element_allowed(&self, department_of_element: &str) -> bool {
        let only_department = self.roles.iter().all(|r| *r == Role::Department);
        !only_department || self.department.as_deref() == Some(department_of_element)
    }

    /// Is region `i` of `tree` within this caller's scope?
    pub fn sees(&self, tree: &RegionTree, i: usize) -> bool {
        match self.region.as_deref().and_then(|r| tree.find(r)) {
            None if self.region.is_some() => false,
            None => true,
            Some(root) => tree.is_within(i, root),
        }
    }

    /// The region by code, or 403/404 when outside the scope or unknown.
    pub fn region_in_scope(&self, tree: &RegionTree, code: &str) -> Result<usize, ApiError> {
        let i = tree
            .find(code)
            .ok_or_else(|| ApiError::not_found(format!("地区 {code} 不存在")))?;
        if self.sees(tree, i) {
            Ok(i)
        } else {
            Err(ApiError::forbidden("无权访问该地区的数据"))
        }
    }
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn session_token(parts: &Parts) -> Option<String> {
    cookie(parts, COOKIE)
}

pub fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Unsafe methods with a cookie session must come from our own pages.
pub fn same_origin(parts: &Parts) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let h = &parts.headers;
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        // No Origin at all: not a browser form post (scripts, curl).
        (None, _) => true,
        _ => false,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = client_of(parts);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            && let Some(token) = auth.strip_prefix("Bearer ")
        {
            let t = state
                .store
                .token_scope(token.trim())
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            return Ok(Caller {
                name: format!("token:{}", t.id),
                roles: vec![Role::Department],
                region: t.region,
                department: Some(t.department),
                must_change_password: false,
                client,
            });
        }
        let token = session_token(parts).ok_or_else(ApiError::unauthorized)?;
        let user = state
            .store
            .session_user(&token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let now = pingan_store::now();
        if user.disabled
            || user
                .locked_until
                .as_deref()
                .is_some_and(|t| t > now.as_str())
        {
            return Err(ApiError::unauthorized());
        }
        if !same_origin(parts) {
            return Err(ApiError::forbidden("跨站请求被拒绝"));
        }
        Ok(Caller {
            name: user.username,
            roles: user.roles,
            region: user.region,
            department: user.department,
            must_change_password: user.must_change_password,
            client,
        })
    }
}

/// The peer address, when the server runs with connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// At most this many login attempts per client address per minute, counted
/// over the login history in the database so every instance sees the same.
pub const LOGIN_ATTEMPTS_PER_MINUTE: i64 = 10;

pub async fn check_login_rate(store: &Store, client: &str) -> Result<(), ApiError> {
    if store.recent_login_attempts(client, 60).await? >= LOGIN_ATTEMPTS_PER_MINUTE {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "登录尝试过于频繁，请一分钟后再试",
        ));
    }
    Ok(())
}

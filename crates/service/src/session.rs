//! Signing in and out, finding who a request comes from, and changing
//! one's own password (api.md §Sessions): argon2id passwords, lockout
//! after 5 failures for 10 minutes, sessions that expire after 30 idle
//! minutes. Every attempt is in the login history and the ledger.

use crate::caller::Caller;
use crate::ctx::Ctx;
use crate::error::{Refusal, Result, ServiceError};
use crate::passwords::{self, stamp_in};
use pingan_store::{LoginAttempt, User};
use time::Duration;

pub const MAX_FAILURES: i64 = 5;
pub const LOCKOUT: Duration = Duration::minutes(10);
pub const IDLE: Duration = Duration::minutes(30);

/// At most this many login attempts per client address per minute, counted
/// over the login history in the database so every instance sees the same.
pub const LOGIN_ATTEMPTS_PER_MINUTE: i64 = 10;

/// Why a login was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginRefusal {
    /// Wrong user name or password (never says which).
    BadCredentials,
    Locked {
        until: String,
    },
    Disabled,
    /// The account has a second factor and no code was given.
    TotpRequired,
}

/// Check a password (and the second factor, for accounts that have one)
/// with lockout: 5 failures lock the account for 10 minutes; a wrong code
/// counts as a failure. Every attempt goes to the login history and the
/// ledger.
pub async fn check_login(
    ctx: &Ctx,
    username: &str,
    password: &str,
    totp_code: Option<&str>,
    client: &str,
) -> Result<Result<User, LoginRefusal>> {
    check_password(ctx, username, password, totp_code, client, false).await
}

/// `check_login`, or (`password_change`) the check of the current password
/// before a change: it counts towards the lockout the same way but is
/// recorded as what it is, not as a sign-in.
async fn check_password(
    ctx: &Ctx,
    username: &str,
    password: &str,
    totp_code: Option<&str>,
    client: &str,
    password_change: bool,
) -> Result<Result<User, LoginRefusal>> {
    let creds = ctx.store.credentials(username).await?;
    let user = ctx.store.user(username).await?;
    let now = pingan_store::now();
    let verdict = match (&user, creds) {
        (None, _) | (_, None) => {
            // Spend the same time as a real check, and lock after as many
            // failures as an account would, so names cannot be probed.
            let _ = passwords::hash(password.to_string()).await;
            let (failed, locked) = ctx.store.login_guard(username).await?;
            if let Some(until) = locked.filter(|t| t.as_str() > now.as_str()) {
                Err(LoginRefusal::Locked { until })
            } else if failed + 1 >= MAX_FAILURES {
                let until = stamp_in(LOCKOUT);
                ctx.store.set_login_guard(username, 0, Some(&until)).await?;
                Err(LoginRefusal::Locked { until })
            } else {
                ctx.store
                    .set_login_guard(username, failed + 1, None)
                    .await?;
                Err(LoginRefusal::BadCredentials)
            }
        }
        (Some(u), _) if u.disabled => Err(LoginRefusal::Disabled),
        (Some(u), _) if u.locked_until.as_deref().is_some_and(|t| t > now.as_str()) => {
            Err(LoginRefusal::Locked {
                until: u.locked_until.clone().unwrap_or_default(),
            })
        }
        (Some(u), Some(c)) => {
            let password_ok = passwords::verify(password.to_string(), c.password_hash).await;
            let second = match (&c.totp_secret, totp_code) {
                (None, _) => Some(true),
                (Some(_), None) => None,
                (Some(secret), Some(code)) => {
                    Some(crate::totp::check(secret, code, crate::totp::now_unix()))
                }
            };
            if password_ok && second.is_none() {
                Err(LoginRefusal::TotpRequired)
            } else if password_ok && second == Some(true) {
                Ok(u.clone())
            } else if c.failed_logins + 1 >= MAX_FAILURES {
                Err(LoginRefusal::Locked {
                    until: stamp_in(LOCKOUT),
                })
            } else {
                Err(LoginRefusal::BadCredentials)
            }
        }
    };
    let (success, reason, update): (bool, String, Option<(i64, Option<String>)>) = match &verdict {
        Ok(_) => (true, String::new(), Some((0, None))),
        Err(LoginRefusal::BadCredentials) if user.is_some() => {
            let failed = ctx
                .store
                .credentials(username)
                .await?
                .map_or(0, |c| c.failed_logins);
            (false, "密码错误".into(), Some((failed + 1, None)))
        }
        Err(LoginRefusal::BadCredentials) => (false, "用户不存在".into(), None),
        Err(LoginRefusal::Locked { .. }) if user.is_none() => {
            (false, "用户不存在（按同样规则锁定）".into(), None)
        }
        Err(LoginRefusal::Locked { until }) => {
            let newly = user
                .as_ref()
                .is_some_and(|u| u.locked_until.as_deref().is_none_or(|t| t <= now.as_str()));
            if newly {
                (
                    false,
                    format!("连续 {MAX_FAILURES} 次密码错误，锁定至 {until}"),
                    Some((0, Some(until.clone()))),
                )
            } else {
                (false, "账户已锁定".into(), None)
            }
        }
        Err(LoginRefusal::Disabled) => (false, "账户已停用".into(), None),
        Err(LoginRefusal::TotpRequired) => (false, "需要动态口令".into(), None),
    };
    ctx.store
        .record_login(&LoginAttempt {
            username,
            client,
            success,
            reason: &reason,
            update: update.as_ref().map(|(n, lock)| (*n, lock.as_deref())),
            password_change,
        })
        .await?;
    Ok(verdict)
}

/// Check the login limit and the credentials; a new session on success,
/// as the user and the session's secret (the cookie value).
pub async fn sign_in(
    ctx: &Ctx,
    client: &str,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> Result<(User, String)> {
    let since = stamp_in(-Duration::seconds(60));
    if ctx.store.login_attempts_since(client, &since).await? >= LOGIN_ATTEMPTS_PER_MINUTE {
        return Err(ServiceError::Refused {
            refusal: Refusal::RateLimited,
            message: "登录尝试过于频繁，请一分钟后再试".into(),
        });
    }
    let refused = |refusal, message: String| ServiceError::Refused { refusal, message };
    match check_login(ctx, username, password, totp, client).await? {
        Ok(user) => {
            let token = ctx.store.create_session(user.id, client).await?;
            Ok((user, token))
        }
        Err(LoginRefusal::Locked { until }) => Err(refused(
            Refusal::Locked,
            format!("账户已锁定，请于 {until}（UTC）后再试或联系安全管理员"),
        )),
        Err(LoginRefusal::Disabled) => Err(refused(Refusal::Disabled, "账户已停用".into())),
        Err(LoginRefusal::TotpRequired) => Err(refused(
            Refusal::TotpRequired,
            "请输入动态口令（TOTP）".into(),
        )),
        Err(LoginRefusal::BadCredentials) => {
            Err(refused(Refusal::BadCredentials, "用户名或密码错误".into()))
        }
    }
}

/// How a request says who it is.
pub enum Credential<'a> {
    /// `Authorization: Bearer pa_…`
    Token(&'a str),
    /// The `pingan_session` cookie.
    Session(&'a str),
}

/// The caller behind a credential: a valid token, or a live session of an
/// account that is neither disabled nor locked.
pub async fn authenticate(ctx: &Ctx, credential: Credential<'_>, client: &str) -> Result<Caller> {
    match credential {
        Credential::Token(t) => {
            let t = ctx
                .store
                .token_scope(t.trim())
                .await?
                .ok_or(ServiceError::Unauthorized)?;
            Ok(Caller::token(&t, client))
        }
        Credential::Session(s) => {
            let user = session_user(ctx, s)
                .await?
                .ok_or(ServiceError::Unauthorized)?;
            let now = pingan_store::now();
            if user.disabled
                || user
                    .locked_until
                    .as_deref()
                    .is_some_and(|t| t > now.as_str())
            {
                return Err(ServiceError::Unauthorized);
            }
            Ok(Caller::user(&user, client))
        }
    }
}

/// The session's user, when it has been used within the idle limit; using
/// it extends it. An expired session is deleted.
pub async fn session_user(ctx: &Ctx, secret: &str) -> Result<Option<User>> {
    let Some((last_seen, user)) = ctx.store.session(secret).await? else {
        return Ok(None);
    };
    if last_seen < stamp_in(-IDLE) {
        ctx.store.delete_session(secret).await?;
        return Ok(None);
    }
    // Touch at most once a minute: a write per request would serialise
    // every reader on SQLite, and idle expiry needs no finer grain. The
    // claim makes one of many concurrent requests the writer.
    if last_seen < stamp_in(-Duration::minutes(1)) && ctx.claim_touch(secret) {
        ctx.store.touch_session(secret).await?;
    }
    Ok(Some(user))
}

/// End a session (here and in the database).
pub async fn sign_out(ctx: &Ctx, session: &str) -> Result<()> {
    Ok(ctx.store.delete_session(session).await?)
}

/// Check the old password, set the new one, and open a fresh session (the
/// change ends every session, this one included). Returns its secret.
pub async fn change_own_password(
    ctx: &Ctx,
    caller: &Caller,
    old: &str,
    new: &str,
) -> Result<String> {
    if caller.is_token() {
        return Err(ServiceError::forbidden("令牌不能修改密码"));
    }
    let name = caller.name();
    match check_password(ctx, &name, old, None, &caller.client, true).await? {
        Ok(_) | Err(LoginRefusal::TotpRequired) => {}
        Err(LoginRefusal::Locked { until }) => {
            return Err(ServiceError::Refused {
                refusal: Refusal::Locked,
                message: format!("原密码错误次数过多，账户已锁定至 {until}（UTC）"),
            });
        }
        Err(_) => {
            return Err(ServiceError::Refused {
                refusal: Refusal::BadCredentials,
                message: "原密码错误".into(),
            });
        }
    }
    if new == old {
        return Err(ServiceError::invalid("新密码不能与原密码相同"));
    }
    crate::users::set_password(ctx, &name, new, false, &caller.actor()).await?;
    let user = ctx
        .store
        .user(&name)
        .await?
        .ok_or(ServiceError::Unauthorized)?;
    Ok(ctx.store.create_session(user.id, &caller.client).await?)
}

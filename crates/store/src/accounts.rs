//! Accounts, sessions and API tokens (api.md): argon2id passwords, lockout
//! after 5 failures for 10 minutes, sessions that expire after 30 idle
//! minutes, department tokens stored hashed. Every change is in the ledger;
//! no password or token ever is.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::{Actor, Result, StoreError, sha256_hex};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use pingan_core::access::{Role, check_password, check_roles};
use serde::Serialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

pub const MAX_FAILURES: i64 = 5;
pub const LOCKOUT: Duration = Duration::minutes(10);
pub const IDLE: Duration = Duration::minutes(30);

fn stamp(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

fn now_plus(d: Duration) -> String {
    stamp(OffsetDateTime::now_utc() + d)
}

/// 32 random bytes, hex: session ids and API tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS random source failing is not something we can recover from.
    getrandom::fill(&mut b).expect("系统随机数不可用");
    hex::encode(b)
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub roles: Vec<Role>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub must_change_password: bool,
    pub locked_until: Option<String>,
    pub disabled: bool,
    pub totp: bool,
    pub created_at: String,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub must_change_password: bool,
}

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

#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub region: Option<String>,
    pub expires_at: String,
    pub revoked: bool,
}

type TokenRow = (i64, String, String, Option<String>, String, Option<String>);

fn token_of(r: TokenRow) -> TokenInfo {
    TokenInfo {
        id: r.0,
        name: r.1,
        department: r.2,
        region: r.3,
        expires_at: r.4,
        revoked: r.5.is_some(),
    }
}

type UserRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    bool,
    Option<String>,
    String,
);

/// A session's last use, then the user's columns.
type SessionRow = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    bool,
    Option<String>,
    String,
);

const USER_COLS: &str = "id, username, roles, region, department, must_change, locked_until, disabled, totp_secret, created_at";

fn user_of(r: UserRow) -> User {
    User {
        id: r.0,
        username: r.1,
        roles: r.2.split(',').filter_map(|s| s.parse().ok()).collect(),
        region: r.3,
        department: r.4,
        must_change_password: r.5,
        locked_until: r.6,
        disabled: r.7,
        totp: r.8.is_some(),
        created_at: r.9,
    }
}

async fn hash_password(pw: String) -> Result<String> {
    // ~50 ms of CPU: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Invalid(format!("密码哈希失败：{e}")))
    })
    .await
    .map_err(|e| StoreError::Invalid(e.to_string()))?
}

async fn verify_password(pw: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

impl Store {
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY id");
        let rows: Vec<UserRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
        Ok(rows.into_iter().map(user_of).collect())
    }

    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
        let row: Option<UserRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(p).await)?;
        Ok(row.map(user_of))
    }

    async fn region_exists(&self, code: &str) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM regions WHERE code = $1").bind(code).fetch_one(p).await)?;
        Ok(n > 0)
    }

    pub async fn add_user(&self, new: &NewUser, actor: &Actor) -> Result<User> {
        let invalid = |m: String| StoreError::Invalid(m);
        let name = new.username.trim();
        if name.is_empty()
            || name.chars().count() > 64
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "用户名不能为空、不能含空白字符，最长 64 个字符".into(),
            ));
        }
        check_roles(&new.roles).map_err(invalid)?;
        if new.roles.contains(&Role::Department)
            && new.department.as_deref().is_none_or(str::is_empty)
        {
            return Err(invalid("部门报送员必须指定部门（--department）".into()));
        }
        if let Some(r) = &new.region
            && !self.region_exists(r).await?
        {
            return Err(invalid(format!("地区 {r} 不存在")));
        }
        check_password(&new.password, name).map_err(invalid)?;
        if self.user(name).await?.is_some() {
            return Err(invalid(format!("用户 {name} 已存在")));
        }
        let hash = hash_password(new.password.clone()).await?;
        let roles: Vec<&str> = new.roles.iter().map(|r| r.code()).collect();
        let roles = roles.join(",");
        let at = crate::now();
        let algo = self.hash_algo().await?;
        let entry = NewEntry::new(
            "user_add",
            &format!("user:{name}"),
            json!({"roles": roles, "region": new.region, "department": new.department,
                   "must_change_password": new.must_change_password}),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO users (username, password_hash, roles, region, department, must_change, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(name).bind(&hash).bind(&roles).bind(&new.region).bind(&new.department)
            .bind(new.must_change_password).bind(&at)
            .execute(&mut *tx).await?;
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        self.user(name)
            .await?
            .ok_or_else(|| invalid("新用户未能保存".into()))
    }

    /// Change an account's roles and data scope (the security admin's job).
    /// 三员分立 and the department rule hold as for a new account; open
    /// sessions end so the new rights apply at once.
    pub async fn set_roles(
        &self,
        username: &str,
        roles: &[Role],
        region: Option<&str>,
        department: Option<&str>,
        actor: &Actor,
    ) -> Result<User> {
        let invalid = |m: String| StoreError::Invalid(m);
        let user = self
            .user(username)
            .await?
            .ok_or_else(|| invalid(format!("用户 {username} 不存在")))?;
        check_roles(roles).map_err(invalid)?;
        let department = department.filter(|d| !d.trim().is_empty());
        let region = region.filter(|r| !r.trim().is_empty());
        if roles.contains(&Role::Department) && department.is_none() {
            return Err(invalid("部门报送员必须指定部门".into()));
        }
        if let Some(r) = region
            && !self.region_exists(r).await?
        {
            return Err(invalid(format!("地区 {r} 不存在")));
        }
        let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        let codes = codes.join(",");
        let before: Vec<&str> = user.roles.iter().map(|r| r.code()).collect();
        let algo = self.hash_algo().await?;
        let entry = NewEntry::new(
            "user_roles",
            &format!("user:{username}"),
            json!({"before": {"roles": before.join(","), "region": user.region, "department": user.department},
                   "after": {"roles": codes, "region": region, "department": department}}),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET roles = $1, region = $2, department = $3 WHERE username = $4")
                .bind(&codes).bind(region).bind(department).bind(username).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.id).execute(&mut *tx).await?;
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        self.user(username)
            .await?
            .ok_or_else(|| invalid("用户未能保存".into()))
    }

    /// Lock (indefinitely, until unlocked) or unlock an account.
    pub async fn set_locked(
        &self,
        username: &str,
        locked: bool,
        reason: &str,
        actor: &Actor,
    ) -> Result<()> {
        let user = self
            .user(username)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("用户 {username} 不存在")))?;
        let until: Option<String> = locked.then(|| "9999-12-31T23:59:59.999Z".to_string());
        let algo = self.hash_algo().await?;
        let mut entry = NewEntry::new(
            if locked { "user_lock" } else { "user_unlock" },
            &format!("user:{username}"),
            json!({"before": user.locked_until, "after": until}),
        );
        entry.reason = reason.to_string();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET locked_until = $1, failed_logins = 0 WHERE username = $2")
                .bind(&until).bind(username).execute(&mut *tx).await?;
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Set a new password (checked against the rule); `must_change` forces
    /// another change at next login (an administrator's reset).
    pub async fn set_password(
        &self,
        username: &str,
        password: &str,
        must_change: bool,
        actor: &Actor,
    ) -> Result<()> {
        if self.user(username).await?.is_none() {
            return Err(StoreError::Invalid(format!("用户 {username} 不存在")));
        }
        check_password(password, username).map_err(StoreError::Invalid)?;
        let hash = hash_password(password.to_string()).await?;
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let entry = NewEntry::new(
            "user_password",
            &format!("user:{username}"),
            json!({"must_change_password": must_change}),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE users SET password_hash = $1, must_change = $2, password_changed_at = $3, failed_logins = 0 \
                 WHERE username = $4",
            )
            .bind(&hash).bind(must_change).bind(&at).bind(username).execute(&mut *tx).await?;
            // A new password ends every open session of the account.
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)")
                .bind(username).execute(&mut *tx).await?;
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Check a password with lockout: 5 failures lock the account for 10
    /// minutes. Every attempt goes to the login history and the ledger.
    pub async fn check_login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<Result<User, LoginRefusal>> {
        self.check_login_totp(username, password, None, client)
            .await
    }

    /// As `check_login`, with the TOTP code for accounts that have one; a
    /// wrong code counts as a failure like a wrong password.
    pub async fn check_login_totp(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        client: &str,
    ) -> Result<Result<User, LoginRefusal>> {
        let actor = Actor {
            user: username.to_string(),
            client: client.to_string(),
        };
        let row: Option<(String, i64, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT password_hash, failed_logins, totp_secret FROM users WHERE username = $1"
        ).bind(username).fetch_optional(p).await)?;
        let user = self.user(username).await?;
        let now = crate::now();
        let verdict = match (&user, row) {
            (None, _) | (_, None) => {
                // Spend the same time as a real check so names cannot be probed.
                let _ = hash_password(password.to_string()).await;
                Err(LoginRefusal::BadCredentials)
            }
            (Some(u), _) if u.disabled => Err(LoginRefusal::Disabled),
            (Some(u), _) if u.locked_until.as_deref().is_some_and(|t| t > now.as_str()) => {
                Err(LoginRefusal::Locked {
                    until: u.locked_until.clone().unwrap_or_default(),
                })
            }
            (Some(u), Some((hash, failed, totp))) => {
                let password_ok = verify_password(password.to_string(), hash).await;
                let second = match (&totp, totp_code) {
                    (None, _) => Some(true),
                    (Some(_), None) => None,
                    (Some(secret), Some(c)) => {
                        Some(crate::totp::check(secret, c, crate::totp::now_unix()))
                    }
                };
                if password_ok && second.is_none() {
                    Err(LoginRefusal::TotpRequired)
                } else if password_ok && second == Some(true) {
                    Ok(u.clone())
                } else if failed + 1 >= MAX_FAILURES {
                    Err(LoginRefusal::Locked {
                        until: now_plus(LOCKOUT),
                    })
                } else {
                    Err(LoginRefusal::BadCredentials)
                }
            }
        };
        let (success, reason, update): (bool, String, Option<(i64, Option<String>)>) =
            match &verdict {
                Ok(_) => (true, String::new(), Some((0, None))),
                Err(LoginRefusal::BadCredentials) if user.is_some() => {
                    let failed: (i64,) = on_pool!(self, p => sqlx::query_as(
                    "SELECT failed_logins FROM users WHERE username = $1"
                ).bind(username).fetch_one(p).await)?;
                    (false, "密码错误".into(), Some((failed.0 + 1, None)))
                }
                Err(LoginRefusal::BadCredentials) => (false, "用户不存在".into(), None),
                Err(LoginRefusal::Locked { until }) => {
                    let newly = user.as_ref().is_some_and(|u| {
                        u.locked_until.as_deref().is_none_or(|t| t <= now.as_str())
                    });
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
        let algo = self.hash_algo().await?;
        let entry = NewEntry::new(
            if success { "login" } else { "login_failed" },
            &format!("user:{username}"),
            json!({"reason": reason}),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if let Some((failed, lock)) = &update {
                if let Some(until) = lock {
                    sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE username = $3")
                        .bind(failed).bind(until).bind(username).execute(&mut *tx).await?;
                } else {
                    sqlx::query("UPDATE users SET failed_logins = $1 WHERE username = $2")
                        .bind(failed).bind(username).execute(&mut *tx).await?;
                }
            }
            sqlx::query("INSERT INTO login_history (username, at, client, success, reason) VALUES ($1, $2, $3, $4, $5)")
                .bind(username).bind(&now).bind(client).bind(success).bind(&reason).execute(&mut *tx).await?;
            append_in!(tx, algo, &actor, &entry);
            tx.commit().await?;
        });
        Ok(verdict)
    }

    /// Login attempts from one client address within the last `window_secs`,
    /// counted in the database so that the limit holds across instances.
    pub async fn recent_login_attempts(&self, client: &str, window_secs: i64) -> Result<i64> {
        let since = stamp(OffsetDateTime::now_utc() - Duration::seconds(window_secs));
        let n: (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM login_history WHERE client = $1 AND at > $2"
        ).bind(client).bind(&since).fetch_one(p).await)?;
        Ok(n.0)
    }

    /// Turn the second factor on (returns the new secret) or off.
    pub async fn set_totp(
        &self,
        username: &str,
        enable: bool,
        actor: &Actor,
    ) -> Result<Option<String>> {
        if self.user(username).await?.is_none() {
            return Err(StoreError::Invalid(format!("用户 {username} 不存在")));
        }
        let secret = enable.then(crate::totp::new_secret);
        let algo = self.hash_algo().await?;
        let entry = NewEntry::new(
            if enable {
                "totp_enable"
            } else {
                "totp_disable"
            },
            &format!("user:{username}"),
            json!({}),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET totp_secret = $1 WHERE username = $2")
                .bind(&secret).bind(username).execute(&mut *tx).await?;
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(secret)
    }

    /// Start a session; returns the cookie value (only its hash is stored).
    pub async fn create_session(&self, user_id: i64, client: &str) -> Result<String> {
        let token = random_token();
        let at = crate::now();
        on_pool!(self, p => sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, client) VALUES ($1, $2, $3, $3, $4)"
        ).bind(sha256_hex(token.as_bytes())).bind(user_id).bind(&at).bind(client).execute(p).await.map(|_| ()))?;
        Ok(token)
    }

    /// The session's user, when it has been used within the idle limit;
    /// using it extends it. An expired session is deleted.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let id = sha256_hex(token.as_bytes());
        // One query for the session and its user: this runs on every request.
        let sql = format!(
            "SELECT s.last_seen, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            USER_COLS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&id).fetch_optional(p).await)?;
        let Some((
            last_seen,
            uid,
            name,
            roles,
            region,
            dept,
            must,
            locked,
            disabled,
            totp,
            created,
        )) = row
        else {
            return Ok(None);
        };
        let cutoff = stamp(OffsetDateTime::now_utc() - IDLE);
        if last_seen < cutoff {
            self.delete_session(token).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a write per request would serialise
        // every reader on SQLite, and idle expiry needs no finer grain. The
        // claim in `touched` makes one of many concurrent requests the writer.
        if last_seen < stamp(OffsetDateTime::now_utc() - Duration::minutes(1))
            && self.claim_touch(&id)
        {
            on_pool!(self, p => sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(crate::now()).bind(&id).execute(p).await.map(|_| ()))?;
        }
        Ok(Some(user_of((
            uid, name, roles, region, dept, must, locked, disabled, totp, created,
        ))))
    }

    /// True for the first caller in a minute for this session on this
    /// instance; the others skip the write that caller makes.
    fn claim_touch(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        let mut t = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        if t.get(id).is_some_and(|at| now.duration_since(*at) < minute) {
            return false;
        }
        if t.len() > 10_000 {
            t.retain(|_, at| now.duration_since(*at) < minute);
        }
        t.insert(id.to_string(), now);
        true
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256_hex(token.as_bytes())).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// A department token: returned once, stored hashed, expiring.
    pub async fn create_token(
        &self,
        name: &str,
        department: &str,
        region: Option<&str>,
        days: i64,
        actor: &Actor,
    ) -> Result<(i64, String)> {
        if department.trim().is_empty() {
            return Err(StoreError::Invalid("令牌必须属于一个部门".into()));
        }
        if !(1..=3660).contains(&days) {
            return Err(StoreError::Invalid("有效期应在 1 到 3660 天之间".into()));
        }
        if let Some(r) = region
            && !self.region_exists(r).await?
        {
            return Err(StoreError::Invalid(format!("地区 {r} 不存在")));
        }
        let token = format!("pa_{}", random_token());
        let expires = now_plus(Duration::days(days));
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO api_tokens (name, token_hash, department, region, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(name).bind(sha256_hex(token.as_bytes())).bind(department).bind(region).bind(&actor.user)
            .bind(&at).bind(&expires).fetch_one(&mut *tx).await?;
            let entry = NewEntry::new(
                "token_create",
                &format!("token:{id}"),
                json!({"name": name, "department": department, "region": region, "expires_at": expires}),
            );
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            id
        });
        Ok((id, token))
    }

    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> Result<()> {
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let n = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(&at).bind(id).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                let entry = NewEntry::new("token_revoke", &format!("token:{id}"), json!({}));
                append_in!(tx, algo, actor, &entry);
            }
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(StoreError::Invalid(format!("令牌 {id} 不存在或已吊销")));
        }
        Ok(())
    }

    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows: Vec<TokenRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, department, region, expires_at, revoked_at FROM api_tokens ORDER BY id"
        ).fetch_all(p).await)?;
        Ok(rows.into_iter().map(token_of).collect())
    }

    /// The token's scope when it is valid: not revoked, not expired.
    pub async fn token_scope(&self, token: &str) -> Result<Option<TokenInfo>> {
        let row: Option<TokenRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, department, region, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1"
        ).bind(sha256_hex(token.as_bytes())).fetch_optional(p).await)?;
        let now = crate::now();
        Ok(row.filter(|r| r.5.is_none() && r.4 > now).map(token_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_touch_per_session_per_minute() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        assert!(store.claim_touch("a"));
        assert!(
            !store.claim_touch("a"),
            "the second request skips the write"
        );
        assert!(store.claim_touch("b"));
        store.close().await;
    }
}

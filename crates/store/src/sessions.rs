//! The `sessions`, `login_history` and `api_tokens` tables. Only a
//! SHA-256 of a session's or token's secret is stored.

use crate::accounts::{USER_COLS, User, UserRow};
use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError, sha256_hex};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub region: Option<String>,
    pub expires_at: String,
    pub revoked: bool,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    department: String,
    region: Option<String>,
    expires_at: String,
    revoked_at: Option<String>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> TokenInfo {
        TokenInfo {
            id: r.id,
            name: r.name,
            department: r.department,
            region: r.region,
            expires_at: r.expires_at,
            revoked: r.revoked_at.is_some(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    last_seen: String,
    #[sqlx(flatten)]
    user: UserRow,
}

/// A sign-in attempt's outcome, to record.
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub client: &'a str,
    pub success: bool,
    /// Why it failed (for the history), empty on success.
    pub reason: &'a str,
    /// The account's new failure count and lock, when it has one to change.
    pub update: Option<(i64, Option<&'a str>)>,
    /// The current password checked before changing it, not a sign-in.
    pub password_change: bool,
}

/// 32 random bytes, hex: session ids and API tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS random source failing is not something we can recover from.
    getrandom::fill(&mut b).expect("系统随机数不可用");
    hex::encode(b)
}

impl Store {
    /// Record a sign-in attempt: the account's failures and lock, the login
    /// history, and one ledger entry, together.
    pub async fn record_login(&self, a: &LoginAttempt<'_>) -> Result<()> {
        let now = crate::now();
        let actor = Actor {
            user: a.username.to_string(),
            client: a.client.to_string(),
        };
        let entry = NewEntry::new(
            match (a.password_change, a.success) {
                (false, true) => LedgerAction::Login,
                (false, false) => LedgerAction::LoginFailed,
                (true, true) => LedgerAction::PasswordCheck,
                (true, false) => LedgerAction::PasswordCheckFailed,
            },
            &format!("user:{}", a.username),
            json!({"reason": a.reason}),
        );
        let mut tx = self.begin().await?;
        match a.update {
            Some((failed, Some(until))) => {
                on_tx!(tx, c => sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE username = $3")
                    .bind(failed).bind(until).bind(a.username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            }
            Some((failed, None)) => {
                on_tx!(tx, c => sqlx::query("UPDATE users SET failed_logins = $1 WHERE username = $2")
                    .bind(failed).bind(a.username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            }
            None => {}
        }
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO login_history (username, at, client, success, reason) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(a.username).bind(&now).bind(a.client).bind(a.success).bind(a.reason)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(&actor, &entry).await?;
        tx.commit().await
    }

    /// Login attempts from one client address since `since` (a timestamp),
    /// counted in the database so that a limit holds across instances.
    /// Failures and lock of a name that has no account.
    pub async fn login_guard(&self, username: &str) -> Result<(i64, Option<String>)> {
        let row: Option<(i64, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT failed_logins, locked_until FROM login_guard WHERE username = $1"
        ).bind(username).fetch_optional(p).await)?;
        Ok(row.unwrap_or((0, None)))
    }

    pub async fn set_login_guard(
        &self,
        username: &str,
        failed: i64,
        locked_until: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO login_guard (username, failed_logins, locked_until) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET failed_logins = $2, locked_until = $3"
        ).bind(username).bind(failed).bind(locked_until).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn login_attempts_since(&self, client: &str, since: &str) -> Result<i64> {
        let n: (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM login_history WHERE client = $1 AND at > $2"
        ).bind(client).bind(since).fetch_one(p).await)?;
        Ok(n.0)
    }

    /// Start a session; returns its secret (only its hash is stored).
    pub async fn create_session(&self, user_id: i64, client: &str) -> Result<String> {
        let token = random_token();
        let at = crate::now();
        on_pool!(self, p => sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, client) VALUES ($1, $2, $3, $3, $4)"
        ).bind(sha256_hex(token.as_bytes())).bind(user_id).bind(&at).bind(client).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(token)
    }

    /// A session's last use and its user, in one query: this runs on every
    /// request.
    pub async fn session(&self, secret: &str) -> Result<Option<(String, User)>> {
        let sql = format!(
            "SELECT s.last_seen, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            USER_COLS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(sha256_hex(secret.as_bytes())).fetch_optional(p).await)?;
        Ok(row.map(|r| (r.last_seen, User::from(r.user))))
    }

    pub async fn touch_session(&self, secret: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(crate::now()).bind(sha256_hex(secret.as_bytes())).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256_hex(secret.as_bytes())).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A department token: its secret is returned once, stored hashed.
    pub async fn insert_token(
        &self,
        name: &str,
        department: &str,
        region: Option<&str>,
        expires_at: &str,
        actor: &Actor,
    ) -> Result<(i64, String)> {
        let token = format!("pa_{}", random_token());
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO api_tokens (name, token_hash, department, region, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(name).bind(sha256_hex(token.as_bytes())).bind(department).bind(region).bind(&actor.user)
        .bind(&at).bind(expires_at).fetch_one(&mut **c).await)?;
        let entry = NewEntry::new(
            LedgerAction::TokenCreate,
            &format!("token:{id}"),
            json!({"name": name, "department": department, "region": region, "expires_at": expires_at}),
        );
        tx.append(actor, &entry).await?;
        tx.commit().await?;
        Ok((id, token))
    }

    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> Result<()> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
        ).bind(&at).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Invalid(format!("令牌 {id} 不存在或已吊销")));
        }
        let entry = NewEntry::new(LedgerAction::TokenRevoke, &format!("token:{id}"), json!({}));
        tx.append(actor, &entry).await?;
        tx.commit().await
    }

    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows: Vec<TokenRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, department, region, expires_at, revoked_at FROM api_tokens ORDER BY id"
        ).fetch_all(p).await)?;
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    /// The token's scope when it is valid: not revoked, not expired.
    pub async fn token_scope(&self, token: &str) -> Result<Option<TokenInfo>> {
        let row: Option<TokenRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, department, region, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1"
        ).bind(sha256_hex(token.as_bytes())).fetch_optional(p).await)?;
        let now = crate::now();
        Ok(row
            .filter(|r| r.revoked_at.is_none() && r.expires_at > now)
            .map(TokenInfo::from))
    }
}

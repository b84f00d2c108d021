//! The `users` table: accounts with their roles, scope and password hash.
//! Every change is in the ledger; no password ever is.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::access::Role;
use pingan_core::labels::LedgerAction;
use serde::Serialize;

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

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    roles: String,
    region: Option<String>,
    department: Option<String>,
    must_change: bool,
    locked_until: Option<String>,
    disabled: bool,
    totp_secret: Option<String>,
    created_at: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            username: r.username,
            roles: r.roles.split(',').filter_map(|s| s.parse().ok()).collect(),
            region: r.region,
            department: r.department,
            must_change_password: r.must_change,
            locked_until: r.locked_until,
            disabled: r.disabled,
            totp: r.totp_secret.is_some(),
            created_at: r.created_at,
        }
    }
}

pub(crate) const USER_COLS: &str = "id, username, roles, region, department, must_change, locked_until, disabled, totp_secret, created_at";

/// An account to store, checked, with its password already hashed.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
    pub region: Option<&'a str>,
    pub department: Option<&'a str>,
    pub must_change_password: bool,
}

/// What a sign-in checks: the hash, the failures so far, the second factor.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Credentials {
    pub password_hash: String,
    pub failed_logins: i64,
    pub totp_secret: Option<String>,
}

fn codes(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

impl Store {
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY id");
        let rows: Vec<UserRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
        let row: Option<UserRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username).fetch_optional(p).await)?;
        Ok(row.map(User::from))
    }

    pub async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT password_hash, failed_logins, totp_secret FROM users WHERE username = $1"
        ).bind(username).fetch_optional(p).await)?)
    }

    /// A new account, with one ledger entry.
    pub async fn insert_user(
        &self,
        a: &NewAccount<'_>,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let roles = codes(a.roles);
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO users (username, password_hash, roles, region, department, must_change, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(a.username).bind(a.password_hash).bind(&roles).bind(a.region).bind(a.department)
        .bind(a.must_change_password).bind(&at)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(actor, entry).await?;
        tx.commit().await
    }

    /// New roles and scope; the account's sessions end so they apply at once.
    pub async fn update_roles(
        &self,
        user: &User,
        roles: &[Role],
        region: Option<&str>,
        department: Option<&str>,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("UPDATE users SET roles = $1, region = $2, department = $3 WHERE id = $4")
            .bind(codes(roles)).bind(region).bind(department).bind(user.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(actor, entry).await?;
        tx.commit().await
    }

    /// Lock until `until` (None unlocks); the failure count starts again.
    pub async fn update_lock(
        &self,
        username: &str,
        until: Option<&str>,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("UPDATE users SET locked_until = $1, failed_logins = 0 WHERE username = $2")
            .bind(until).bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(actor, entry).await?;
        tx.commit().await
    }

    /// Stop (or allow again) an account's use; stopping ends its sessions.
    /// The account and its history stay.
    pub async fn update_disabled(
        &self,
        username: &str,
        disabled: bool,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
            .bind(disabled).bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if disabled {
            on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)")
                .bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        tx.append(actor, entry).await?;
        tx.commit().await
    }

    /// A new password hash; every open session of the account ends.
    pub async fn update_password(
        &self,
        username: &str,
        hash: &str,
        must_change: bool,
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let entry = NewEntry::new(
            LedgerAction::UserPassword,
            &format!("user:{username}"),
            serde_json::json!({"must_change_password": must_change}),
        );
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query(
            "UPDATE users SET password_hash = $1, must_change = $2, password_changed_at = $3, failed_logins = 0 \
             WHERE username = $4",
        )
        .bind(hash).bind(must_change).bind(&at).bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)")
            .bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(actor, &entry).await?;
        tx.commit().await
    }

    /// The second factor's secret (None turns it off).
    pub async fn update_totp(
        &self,
        username: &str,
        secret: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        let entry = NewEntry::new(
            if secret.is_some() {
                LedgerAction::TotpEnable
            } else {
                LedgerAction::TotpDisable
            },
            &format!("user:{username}"),
            serde_json::json!({}),
        );
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("UPDATE users SET totp_secret = $1 WHERE username = $2")
            .bind(secret).bind(username).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(actor, &entry).await?;
        tx.commit().await
    }
}

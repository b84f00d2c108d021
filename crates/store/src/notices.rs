//! The `notices` table: each region's 问题整改通知书 of a year, numbered in
//! the year's sequence when first issued.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Notice {
    pub year: i32,
    pub region: String,
    pub number: i64,
    /// 成文日期, the plan's due date and the deadline (YYYY-MM-DD).
    pub issued_on: String,
    pub plan_due: String,
    pub deadline: String,
    pub issued_by: String,
    pub issued_at: String,
}

const COLUMNS: &str = "year, region, number, issued_on, plan_due, deadline, issued_by, issued_at";

/// The dates of a notice to issue.
pub struct NewNotice<'a> {
    pub year: i32,
    pub region: &'a str,
    pub issued_on: &'a str,
    pub plan_due: &'a str,
    pub deadline: &'a str,
}

impl Store {
    pub async fn notice(&self, year: i32, region: &str) -> Result<Option<Notice>> {
        let sql = format!("SELECT {COLUMNS} FROM notices WHERE year = $1 AND region = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(year).bind(region).fetch_optional(p).await)?,
        )
    }

    pub async fn notices(&self, year: i32) -> Result<Vec<Notice>> {
        let sql = format!("SELECT {COLUMNS} FROM notices WHERE year = $1 ORDER BY number");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(year).fetch_all(p).await)?,
        )
    }

    /// The region's notice of the year: the one issued before, or a new one
    /// with the year's next number, in one transaction with its ledger
    /// entry. Two offices issuing at once: one wins the number, the other
    /// finds the row (or the number) taken and reads again.
    pub async fn issue_notice(&self, n: &NewNotice<'_>, actor: &Actor) -> Result<Notice> {
        for _ in 0..5 {
            if let Some(found) = self.notice(n.year, n.region).await? {
                return Ok(found);
            }
            let at = crate::now();
            let mut tx = self.begin().await?;
            let (next,): (i64,) = on_tx!(tx, c => sqlx::query_as(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM notices WHERE year = $1")
                .bind(n.year).fetch_one(&mut **c).await)?;
            let won = on_tx!(tx, c => sqlx::query(
                "INSERT INTO notices (year, region, number, issued_on, plan_due, deadline, issued_by, issued_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING")
                .bind(n.year).bind(n.region).bind(next).bind(n.issued_on).bind(n.plan_due)
                .bind(n.deadline).bind(&actor.user).bind(&at)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            if won == 0 {
                tx.rollback().await?;
                continue;
            }
            tx.append(
                actor,
                &NewEntry::new(
                    LedgerAction::NoticeIssue,
                    &format!("notice:{}@{}", n.region, n.year),
                    json!({"number": next, "issued_on": n.issued_on, "plan_due": n.plan_due, "deadline": n.deadline}),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        self.notice(n.year, n.region)
            .await?
            .ok_or_else(|| crate::StoreError::Conflict("整改通知书编号正被占用，请稍后重试".into()))
    }
}

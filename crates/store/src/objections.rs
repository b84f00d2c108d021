//! The `objections` table: 异议 to a year's published results and the
//! office's answers.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Objection {
    pub id: i64,
    pub year: i32,
    pub region: String,
    /// The name given (the public) or the account's name.
    pub filed_by: String,
    /// The account that filed it ('' for the public).
    pub account: String,
    pub contact: String,
    pub content: String,
    pub evidence: String,
    pub filed_at: String,
    /// `open`, `upheld` or `rejected`.
    pub state: String,
    pub answer: String,
    pub answered_by: String,
    pub answered_at: String,
    /// What an upheld objection led to: the correction made.
    pub correction: String,
}

const COLUMNS: &str = "id, year, region, filed_by, account, contact, content, evidence, filed_at, state, \
                       answer, answered_by, answered_at, correction";

pub struct NewObjection<'a> {
    pub year: i32,
    pub region: &'a str,
    pub filed_by: &'a str,
    pub account: &'a str,
    pub contact: &'a str,
    pub content: &'a str,
    pub evidence: &'a str,
    /// A digest of the filer's network address, for the per-address limit.
    pub address: &'a str,
}

impl Store {
    pub async fn objections(&self, year: i32) -> Result<Vec<Objection>> {
        let sql = format!("SELECT {COLUMNS} FROM objections WHERE year = $1 ORDER BY id");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(year).fetch_all(p).await)?,
        )
    }

    /// File an objection, with its ledger entry (the content's length, not
    /// the content: a member of the public's words stay in the table).
    pub async fn file_objection(&self, o: &NewObjection<'_>, actor: &Actor) -> Result<i64> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO objections (year, region, filed_by, account, contact, content, evidence, filed_at, \
             state, answer, answered_by, answered_at, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', '', '', '', $9) RETURNING id")
            .bind(o.year).bind(o.region).bind(o.filed_by).bind(o.account).bind(o.contact)
            .bind(o.content).bind(o.evidence).bind(&at).bind(o.address)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ObjectionFile,
                &format!("objection:{id}"),
                json!({"year": o.year, "region": o.region, "chars": o.content.chars().count()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Objections filed from `address` since `since`.
    pub async fn objections_from(&self, address: &str, since: &str) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM objections WHERE address = $1 AND filed_at >= $2")
            .bind(address).bind(since).fetch_one(p).await)?;
        Ok(n)
    }

    /// Answer an open objection: upheld (with the correction it led to)
    /// or not, with the answer.
    pub async fn answer_objection(
        &self,
        id: i64,
        upheld: bool,
        answer: &str,
        correction: &str,
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let state = if upheld { "upheld" } else { "rejected" };
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE objections SET state = $1, answer = $2, answered_by = $3, answered_at = $4, correction = $6 \
             WHERE id = $5 AND state = 'open'")
            .bind(state).bind(answer).bind(&actor.user).bind(&at).bind(id).bind(correction)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict("该异议已答复或不存在".into()));
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ObjectionAnswer,
                &format!("objection:{id}"),
                json!({"state": state, "correction_chars": correction.chars().count()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

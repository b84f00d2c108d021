//! Consequences of a year's results (issue 21, seed §4.2, §5.4): the 约谈
//! of a region's leaders, with its minutes kept as a file, and the points
//! taken from a region's total for rectification not done (通报批评), which
//! the scoring of the year they apply to subtracts with their reason.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, sha256_hex};
use base64::Engine;
use pingan_core::labels::LedgerAction;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Interview {
    pub id: i64,
    pub year: i32,
    pub region: String,
    pub held_on: String,
    pub interviewer: String,
    pub interviewee: String,
    pub summary: String,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

const INTERVIEW_COLS: &str = "id, year, region, held_on, interviewer, interviewee, summary, \
                              file_name, mime, size, sha256, recorded_by, recorded_at";

pub struct NewInterview<'a> {
    pub year: i32,
    pub region: &'a str,
    pub held_on: &'a str,
    pub interviewer: &'a str,
    pub interviewee: &'a str,
    pub summary: &'a str,
    /// The minutes (name, type, bytes), already checked.
    pub minutes: (&'a str, &'a str, &'a [u8]),
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Deduction {
    pub id: i64,
    /// The year whose total it is taken from.
    pub year: i32,
    pub region: String,
    pub points: f64,
    pub reason: String,
    /// The year whose rectification was not done.
    pub from_year: i32,
    pub recorded_by: String,
    pub recorded_at: String,
}

impl Store {
    pub async fn interviews(&self, year: i32) -> Result<Vec<Interview>> {
        let sql =
            format!("SELECT {INTERVIEW_COLS} FROM interviews WHERE year = $1 ORDER BY region, id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(year).fetch_all(p).await)?)
    }

    /// A 约谈 and its minutes, with one ledger entry.
    pub async fn add_interview(&self, i: &NewInterview<'_>, actor: &Actor) -> Result<i64> {
        let (name, mime, bytes) = i.minutes;
        let sha = sha256_hex(bytes);
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO interviews (year, region, held_on, interviewer, interviewee, summary, file_name, \
             mime, size, sha256, data, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
            .bind(i.year).bind(i.region).bind(i.held_on).bind(i.interviewer).bind(i.interviewee)
            .bind(i.summary).bind(name).bind(mime).bind(bytes.len() as i64).bind(&sha).bind(&data)
            .bind(&actor.user).bind(&at)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Interview,
                &format!("interview:{}@{}", i.region, i.year),
                json!({"id": id, "held_on": i.held_on, "file": name, "size": bytes.len(), "sha256": sha}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A 约谈's minutes and their bytes, checked against the SHA-256.
    pub async fn interview_minutes(&self, id: i64) -> Result<Option<(Interview, Vec<u8>)>> {
        let sql = format!("SELECT {INTERVIEW_COLS} FROM interviews WHERE id = $1");
        let meta: Option<Interview> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (String,) = on_pool!(self, p => sqlx::query_as(
            "SELECT data FROM interviews WHERE id = $1").bind(id).fetch_one(p).await)?;
        let bytes = crate::rectify_files::decode(&format!("约谈纪要 {id} "), &data, &meta.sha256)?;
        Ok(Some((meta, bytes)))
    }

    /// The deductions from `year`'s totals.
    pub async fn deductions(&self, year: i32) -> Result<Vec<Deduction>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, year, region, points, reason, from_year, recorded_by, recorded_at FROM deductions \
             WHERE year = $1 ORDER BY region, id")
            .bind(year).fetch_all(p).await)?)
    }

    /// Take `points` from `region`'s total of `year` for the rectification
    /// of `from_year` not done, with one ledger entry.
    pub async fn add_deduction(
        &self,
        year: i32,
        region: &str,
        points: f64,
        reason: &str,
        from_year: i32,
        actor: &Actor,
    ) -> Result<i64> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO deductions (year, region, points, reason, from_year, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(year).bind(region).bind(points).bind(reason).bind(from_year)
            .bind(&actor.user).bind(&at)
            .fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Deduction,
                &format!("deduction:{region}@{year}"),
                json!({"id": id, "points": points, "from_year": from_year}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

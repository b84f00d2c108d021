//! The opinion box (意见箱) and the problem list (问题清单) as stored: an
//! opinion is kept already redacted (the service takes numbers out), with
//! no name or address; a problem once per region, year, origin and title,
//! its evidence as JSON. Every write in the ledger.

use crate::db::{Store, on_pool};
use crate::tx::on_tx;
use crate::{Actor, NewEntry, Result};
use pingan_core::labels::LedgerAction;
use serde_json::json;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Opinion {
    pub id: i64,
    pub region: String,
    pub text: String,
    pub at: String,
}

/// A problem to put on the list.
pub struct NewProblem<'a> {
    pub year: i32,
    pub region: &'a str,
    pub origin: &'a str,
    pub title: &'a str,
    pub evidence: serde_json::Value,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Problem {
    pub id: i64,
    pub year: i32,
    pub region: String,
    pub origin: String,
    pub title: String,
    pub evidence: String,
    pub status: String,
    pub made_by: String,
    pub made_at: String,
}

impl Store {
    /// Keep one opinion of `region` (a township) for `year`.
    pub async fn add_opinion(
        &self,
        year: i32,
        region: &str,
        text: &str,
        actor: &Actor,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO opinions (year, region, text, at) VALUES ($1, $2, $3, $4) RETURNING id"
        ).bind(year).bind(region).bind(text).bind(crate::now()).fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::Opinion,
                &format!("opinion:{year}:{region}"),
                json!({"id": id, "year": year, "region": region, "chars": text.chars().count()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The opinions of `year`, oldest first.
    pub async fn opinions(&self, year: i32) -> Result<Vec<Opinion>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, region, text, at FROM opinions WHERE year = $1 ORDER BY id"
        ).bind(year).fetch_all(p).await)?)
    }

    /// The years with opinions, newest first.
    pub async fn opinion_years(&self) -> Result<Vec<i32>> {
        let rows: Vec<(i32,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT year FROM opinions ORDER BY year DESC"
        ).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(y,)| y).collect())
    }

    /// The newest opinion id of `year` (0 for none): what kept readings of
    /// the year's comments are versioned by, with the survey's version.
    pub async fn opinion_version(&self, year: i32) -> Result<i64> {
        let (v,): (Option<i64>,) = on_pool!(self, p => sqlx::query_as(
            "SELECT MAX(id) FROM opinions WHERE year = $1"
        ).bind(year).fetch_one(p).await)?;
        Ok(v.unwrap_or(0))
    }

    /// Put a problem on the list; the same problem again changes nothing.
    /// Returns its id and whether it is new.
    pub async fn add_problem(&self, p: &NewProblem<'_>, actor: &Actor) -> Result<(i64, bool)> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let found: Option<(i64,)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id FROM problems WHERE year = $1 AND region = $2 AND origin = $3 AND title = $4"
        ).bind(p.year).bind(p.region).bind(p.origin).bind(p.title).fetch_optional(&mut **c).await)?;
        if let Some((id,)) = found {
            return Ok((id, false));
        }
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO problems (year, region, origin, title, evidence, status, made_by, made_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id"
        ).bind(p.year).bind(p.region).bind(p.origin).bind(p.title).bind(p.evidence.to_string())
        .bind(&actor.user).bind(crate::now()).fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ProblemAdd,
                &format!("problem:{id}"),
                json!({"id": id, "year": p.year, "region": p.region, "origin": p.origin,
                       "title": p.title, "evidence": p.evidence}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((id, true))
    }

    /// The problems of `year`, of one origin when given, oldest first.
    pub async fn problems(&self, year: i32, origin: Option<&str>) -> Result<Vec<Problem>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, year, region, origin, title, evidence, status, made_by, made_at FROM problems \
             WHERE year = $1 AND ($2 IS NULL OR origin = $2) ORDER BY id"
        ).bind(year).bind(origin).fetch_all(p).await)?)
    }
}

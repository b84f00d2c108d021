//! `verify_records`: one team's visit, by two verifiers, with the
//! checklist, the observed values and the position.

use super::photos::Photo;
use super::tasks::Task;
use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::labels::{LedgerAction, TaskOrigin};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub id: i64,
    pub task_id: i64,
    pub team: String,
    pub verifiers: [String; 2],
    pub checklist: BTreeMap<String, bool>,
    pub observed: BTreeMap<String, f64>,
    pub notes: String,
    pub latitude: f64,
    pub longitude: f64,
    pub recorded_by: String,
    pub recorded_at: String,
    /// The second verifier's confirmation that the record is what both saw.
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub photos: Vec<Photo>,
}

impl Record {
    /// The verifier who did not write the record: the one who confirms it.
    pub fn partner(&self) -> &str {
        if self.verifiers[0] == self.recorded_by {
            &self.verifiers[1]
        } else {
            &self.verifiers[0]
        }
    }
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    task_id: i64,
    team: String,
    verifier_a: String,
    verifier_b: String,
    checklist: String,
    observed: String,
    notes: String,
    latitude: f64,
    longitude: f64,
    recorded_by: String,
    recorded_at: String,
    confirmed_by: Option<String>,
    confirmed_at: Option<String>,
}

impl From<RecordRow> for Record {
    fn from(r: RecordRow) -> Record {
        Record {
            id: r.id,
            task_id: r.task_id,
            team: r.team,
            verifiers: [r.verifier_a, r.verifier_b],
            checklist: serde_json::from_str(&r.checklist).unwrap_or_default(),
            observed: serde_json::from_str(&r.observed).unwrap_or_default(),
            notes: r.notes,
            latitude: r.latitude,
            longitude: r.longitude,
            recorded_by: r.recorded_by,
            recorded_at: r.recorded_at,
            confirmed_by: r.confirmed_by,
            confirmed_at: r.confirmed_at,
            photos: Vec::new(),
        }
    }
}

const RECORD_COLS: &str = "id, task_id, team, verifier_a, verifier_b, checklist, observed, notes, latitude, longitude, recorded_by, recorded_at, confirmed_by, confirmed_at";

/// A visit to store, checked.
#[derive(Clone, Debug)]
pub struct NewRecord {
    pub team: String,
    pub verifiers: [String; 2],
    pub checklist: BTreeMap<String, bool>,
    pub observed: BTreeMap<String, f64>,
    pub notes: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// A re-verification task to open with a record.
pub struct Recheck {
    pub elements: Vec<String>,
    pub year: i32,
    pub note: String,
}

impl Store {
    /// A task's records with their photos' metadata, oldest first.
    pub async fn records(&self, task_id: i64) -> Result<Vec<Record>> {
        let sql =
            format!("SELECT {RECORD_COLS} FROM verify_records WHERE task_id = $1 ORDER BY id");
        let rows: Vec<RecordRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(task_id).fetch_all(p).await)?;
        let mut out: Vec<Record> = rows.into_iter().map(Record::from).collect();
        for r in &mut out {
            r.photos = self.photos(r.id).await?;
        }
        Ok(out)
    }

    /// One record, without its photos.
    pub async fn record(&self, id: i64) -> Result<Option<Record>> {
        let sql = format!("SELECT {RECORD_COLS} FROM verify_records WHERE id = $1");
        let row: Option<RecordRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        Ok(row.map(Record::from))
    }

    /// The task a record belongs to.
    pub async fn record_task(&self, record_id: i64) -> Result<Option<(i64, Task)>> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT task_id FROM verify_records WHERE id = $1"
        ).bind(record_id).fetch_optional(p).await)?;
        let Some((task_id,)) = row else {
            return Ok(None);
        };
        Ok(self.task(task_id).await?.map(|t| (record_id, t)))
    }

    /// Every observation of a region and period by every task's records,
    /// as (team, element, value): what the cross-team check compares and
    /// the review shows beside the reported values.
    pub async fn field_observations(
        &self,
        region: &str,
        period: &str,
    ) -> Result<Vec<(String, String, f64)>> {
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT r.team, r.observed FROM verify_records r JOIN verify_tasks t ON t.id = r.task_id \
             WHERE t.region = $1 AND t.period = $2 ORDER BY r.id"
        ).bind(region).bind(period).fetch_all(p).await)?;
        let mut out = Vec::new();
        for (team, observed) in rows {
            let m: BTreeMap<String, f64> = serde_json::from_str(&observed).unwrap_or_default();
            for (e, v) in m {
                out.push((team.clone(), e, v));
            }
        }
        Ok(out)
    }

    /// Store a visit (the task becomes `recorded`) and, when two teams
    /// disagreed, the re-verification task, in one transaction with one
    /// ledger entry (`detail` gets the ids). Returns both ids.
    pub async fn insert_record(
        &self,
        task: &Task,
        r: &NewRecord,
        recheck: Option<&Recheck>,
        mut detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<(i64, Option<i64>)> {
        let at = crate::now();
        let checklist = json!(r.checklist).to_string();
        let observed = json!(r.observed).to_string();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO verify_records (task_id, team, verifier_a, verifier_b, checklist, observed, notes, latitude, longitude, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(task.id).bind(&r.team).bind(&r.verifiers[0]).bind(&r.verifiers[1]).bind(&checklist).bind(&observed)
        .bind(&r.notes).bind(r.latitude).bind(r.longitude).bind(&actor.user).bind(&at)
        .fetch_one(&mut **c).await)?;
        on_tx!(tx, c => sqlx::query(
            "UPDATE verify_tasks SET status = 'recorded' WHERE id = $1 AND status = 'open'"
        ).bind(task.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let mut recheck_id = None;
        if let Some(k) = recheck {
            let (rid,): (i64,) = on_tx!(tx, c => sqlx::query_as(
                "INSERT INTO verify_tasks (region, period, year, elements, checklist, origin, flag_id, parent_id, note, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&task.region).bind(&task.period).bind(k.year)
            .bind(json!(k.elements).to_string()).bind(json!(task.checklist).to_string())
            .bind(TaskOrigin::CrossTeam.code()).bind(task.id).bind(&k.note).bind(&actor.user).bind(&at)
            .fetch_one(&mut **c).await)?;
            recheck_id = Some(rid);
        }
        detail["record"] = json!(id);
        detail["recheck_task"] = json!(recheck_id);
        let entry = NewEntry::new(
            LedgerAction::VerifyRecord,
            &format!("verify_task:{}", task.id),
            detail,
        );
        tx.append(actor, &entry).await?;
        tx.commit().await?;
        Ok((id, recheck_id))
    }

    /// Mark a record confirmed by `actor`, once.
    pub async fn confirm_record(&self, record: &Record, actor: &Actor) -> Result<String> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE verify_records SET confirmed_by = $1, confirmed_at = $2 WHERE id = $3 AND confirmed_by IS NULL"
        )
        .bind(&actor.user).bind(&at).bind(record.id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "核查记录 {} 已确认",
                record.id
            )));
        }
        let entry = NewEntry::new(
            LedgerAction::VerifyConfirm,
            &format!("verify_record:{}", record.id),
            json!({"record": record.id, "task": record.task_id}),
        );
        tx.append(actor, &entry).await?;
        tx.commit().await?;
        Ok(at)
    }
}

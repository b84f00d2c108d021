//! Event records as stored (issue 19): the latest version of each event,
//! written with its import record and one ledger entry in one transaction;
//! per region, month and kind, the counts the eight derived elements are
//! made of.

use crate::db::{Store, on_pool};
use crate::tx::{BATCH, on_tx, placeholders};
use crate::{Actor, NewEntry, Result};
use pingan_core::labels::LedgerAction;
use serde_json::json;
use std::collections::HashMap;

/// One event's latest version to store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub event_id: String,
    pub kind: String,
    pub region: String,
    pub category: String,
    pub urgency: Option<String>,
    pub departments: i64,
    pub reported_at: f64,
    pub handled_at: Option<f64>,
    pub dispatched_at: Option<f64>,
    pub arrived_at: Option<f64>,
    pub updated_at: f64,
    pub month: String,
    pub digest: String,
}

/// What a region's month holds of one kind of event.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventCell {
    pub region: String,
    pub month: String,
    pub kind: String,
    pub events: i64,
    pub timely: i64,
    pub joint: i64,
    pub joint_timely: i64,
    /// Σ (arrived − dispatched) in seconds.
    pub response_seconds: f64,
}

/// Handled within the urgency's deadline, in SQL (events.md §2).
const TIMELY: &str = "handled_at IS NOT NULL AND handled_at - reported_at <= \
    CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 ELSE 1800 END";

impl Store {
    /// The stored (updated_at, digest) of those of `ids` that are stored.
    pub async fn event_versions(&self, ids: &[&str]) -> Result<HashMap<String, (f64, String)>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            // `$n` reads the same on both backends.
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT event_id, updated_at, digest FROM events WHERE event_id IN ({marks})"
            );
            let rows: Vec<(String, f64, String)> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(|(i, u, d)| (i, (u, d))));
        }
        Ok(out)
    }

    /// Store `events` (each the newest version of its event) with the
    /// import's record and one ledger entry; returns the import id.
    pub async fn write_events(
        &self,
        file: &str,
        sha256: &str,
        rows: usize,
        duplicates: usize,
        events: &[NewEvent],
        actor: &Actor,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let (import_id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
             VALUES ('events', $1, $2, $3, $4, 0, $5, $6, $7, $8) RETURNING id",
        )
        .bind(file).bind(sha256).bind(rows as i64).bind(events.len() as i64).bind(duplicates as i64)
        .bind(&actor.user).bind(&actor.client).bind(crate::now())
        .fetch_one(&mut **c).await)?;
        let numbered = tx.numbered();
        const COLS: usize = 14;
        for chunk in events.chunks(BATCH / 2) {
            let sql = format!(
                "INSERT INTO events (event_id, kind, region, category, urgency, departments, reported_at, \
                 handled_at, dispatched_at, arrived_at, updated_at, month, digest, import_id) VALUES {} \
                 ON CONFLICT (event_id) DO UPDATE SET kind = excluded.kind, region = excluded.region, \
                 category = excluded.category, urgency = excluded.urgency, departments = excluded.departments, \
                 reported_at = excluded.reported_at, handled_at = excluded.handled_at, \
                 dispatched_at = excluded.dispatched_at, arrived_at = excluded.arrived_at, \
                 updated_at = excluded.updated_at, month = excluded.month, digest = excluded.digest, \
                 import_id = excluded.import_id WHERE excluded.updated_at > events.updated_at",
                placeholders(chunk.len(), COLS, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for e in chunk {
                    q = q.bind(&e.event_id).bind(&e.kind).bind(&e.region).bind(&e.category)
                        .bind(&e.urgency).bind(e.departments).bind(e.reported_at).bind(e.handled_at)
                        .bind(e.dispatched_at).bind(e.arrived_at).bind(e.updated_at).bind(&e.month)
                        .bind(&e.digest).bind(import_id);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportEvents,
                &format!("events:{file}"),
                json!({"file": file, "sha256": sha256, "rows": rows, "new_or_newer": events.len(),
                       "duplicates": duplicates, "import_id": import_id}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(import_id)
    }

    /// Per region, month and kind, the counts of the months `from..=to`
    /// (`YYYY-MM`).
    pub async fn event_cells(&self, from: &str, to: &str) -> Result<Vec<EventCell>> {
        let sql = format!(
            "SELECT region, month, kind, CAST(COUNT(*) AS BIGINT) AS events, \
             CAST(SUM(CASE WHEN {TIMELY} THEN 1 ELSE 0 END) AS BIGINT) AS timely, \
             CAST(SUM(CASE WHEN departments >= 2 THEN 1 ELSE 0 END) AS BIGINT) AS joint, \
             CAST(SUM(CASE WHEN departments >= 2 AND {TIMELY} THEN 1 ELSE 0 END) AS BIGINT) AS joint_timely, \
             CAST(COALESCE(SUM(arrived_at - dispatched_at), 0) AS DOUBLE PRECISION) AS response_seconds \
             FROM events WHERE month >= $1 AND month <= $2 GROUP BY region, month, kind"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(from).bind(to).fetch_all(p).await)?,
        )
    }

    pub async fn event_count(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM events").fetch_one(p).await)?;
        Ok(n)
    }
}

/// A region's month of one kind, category and urgency (the page's cells).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventBreakdown {
    pub region: String,
    pub month: String,
    pub kind: String,
    pub category: String,
    pub urgency: Option<String>,
    pub events: i64,
    pub timely: i64,
    pub handled: i64,
    pub response_seconds: f64,
}

/// Upper edges (minutes) of the handling-time classes of the page.
pub const HANDLING_EDGES: [i64; 8] = [30, 120, 360, 1440, 2880, 4320, 10080, i64::MAX];

/// An open grid event.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpenEvent {
    pub event_id: String,
    pub region: String,
    pub category: String,
    pub urgency: Option<String>,
    pub reported_at: f64,
}

impl Store {
    /// The months `from..=to` by region, month, kind, category and urgency.
    pub async fn event_breakdown(&self, from: &str, to: &str) -> Result<Vec<EventBreakdown>> {
        let sql = format!(
            "SELECT region, month, kind, category, urgency, CAST(COUNT(*) AS BIGINT) AS events, \
             CAST(SUM(CASE WHEN {TIMELY} THEN 1 ELSE 0 END) AS BIGINT) AS timely, \
             CAST(SUM(CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS handled, \
             CAST(COALESCE(SUM(arrived_at - dispatched_at), 0) AS DOUBLE PRECISION) AS response_seconds \
             FROM events WHERE month >= $1 AND month <= $2 \
             GROUP BY region, month, kind, category, urgency"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(from).bind(to).fetch_all(p).await)?,
        )
    }

    /// Handled grid events of the months `from..=to` per region and
    /// handling-time class (index into `HANDLING_EDGES`).
    pub async fn event_handling(&self, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
        let mut case = String::from("CASE");
        for (i, e) in HANDLING_EDGES
            .iter()
            .enumerate()
            .take(HANDLING_EDGES.len() - 1)
        {
            case.push_str(&format!(
                " WHEN handled_at - reported_at <= {} THEN {i}",
                e * 60
            ));
        }
        case.push_str(&format!(" ELSE {} END", HANDLING_EDGES.len() - 1));
        let sql = format!(
            "SELECT region, CAST({case} AS BIGINT) AS class, CAST(COUNT(*) AS BIGINT) AS n FROM events \
             WHERE kind = 'grid' AND handled_at IS NOT NULL AND month >= $1 AND month <= $2 \
             GROUP BY region, {case}"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(from).bind(to).fetch_all(p).await)?,
        )
    }

    /// Open grid events, oldest first, at most `limit`.
    pub async fn open_events(&self, limit: i64) -> Result<Vec<OpenEvent>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT event_id, region, category, urgency, reported_at FROM events \
             WHERE kind = 'grid' AND handled_at IS NULL ORDER BY reported_at LIMIT $1"
        ).bind(limit).fetch_all(p).await)?)
    }
}

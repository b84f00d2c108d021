//! Event records as stored (issue 19): the latest version of each event,
//! written with its import record and one ledger entry in one transaction;
//! per region, month and kind, the counts the eight derived elements are
//! made of.

mod board;
mod counts;
mod list;
mod sqlite_load;
mod write;

pub use board::EventSumsBy;
pub(crate) use counts::rebuild as rebuild_counts;
pub use list::{EventCursor, EventFilter, EventState};

use crate::Result;
use crate::db::{Store, on_pool};
use crate::tx::BATCH;
use std::collections::HashMap;

/// `Event::month_time` in SQL: the time whose month an event counts in.
/// The list is ordered by it and a month is a range of it; migration 0020
/// indexes this very expression, which a query must repeat exactly for the
/// index to serve it.
pub(crate) const EVENT_TIME: &str =
    "(CASE WHEN kind = 'grid' THEN reported_at ELSE COALESCE(dispatched_at, reported_at) END)";

/// A test hook: stop a load after this many rows, mid-transaction, so a
/// test can kill the process there and see nothing kept.
fn pause_after() -> Option<usize> {
    std::env::var("PINGAN_TEST_PAUSE_EVENTS_AFTER")
        .ok()?
        .parse()
        .ok()
}

/// Say so on standard error and wait to be killed.
fn pause_here() {
    eprintln!("PINGAN_TEST_PAUSED");
    std::thread::sleep(std::time::Duration::from_secs(600));
}

/// The upsert both loads end in: a newer version replaces the stored one.
const UPSERT: &str = "INSERT INTO events (event_id, kind, region, category, urgency, departments, \
    reported_at, handled_at, dispatched_at, arrived_at, updated_at, month, digest, import_id)";
const ON_CONFLICT: &str = "ON CONFLICT (event_id) DO UPDATE SET kind = excluded.kind, \
    region = excluded.region, category = excluded.category, urgency = excluded.urgency, \
    departments = excluded.departments, reported_at = excluded.reported_at, \
    handled_at = excluded.handled_at, dispatched_at = excluded.dispatched_at, \
    arrived_at = excluded.arrived_at, updated_at = excluded.updated_at, month = excluded.month, \
    digest = excluded.digest, import_id = excluded.import_id \
    WHERE excluded.updated_at > events.updated_at";

/// One event's latest version, as stored (and as a load writes it).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRecord {
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

impl EventRecord {
    /// The record as a load writes it.
    pub fn view(&self) -> NewEvent<'_> {
        NewEvent {
            event_id: &self.event_id,
            kind: &self.kind,
            region: &self.region,
            category: &self.category,
            urgency: self.urgency.as_deref(),
            departments: self.departments,
            reported_at: self.reported_at,
            handled_at: self.handled_at,
            dispatched_at: self.dispatched_at,
            arrived_at: self.arrived_at,
            updated_at: self.updated_at,
            month: &self.month,
            digest: &self.digest,
        }
    }

    /// The event as core reads it (see `NewEvent::event`).
    pub fn event(&self) -> Option<pingan_core::events::Event> {
        self.view().event()
    }
}

/// An event version to write: `EventRecord`'s fields borrowed, so that a
/// load of ten million events copies no text (owned, their seventy
/// million strings took seconds to make and gigabytes to hold).
#[derive(Clone, Copy, Debug)]
pub struct NewEvent<'a> {
    pub event_id: &'a str,
    pub kind: &'a str,
    pub region: &'a str,
    pub category: &'a str,
    pub urgency: Option<&'a str>,
    pub departments: i64,
    pub reported_at: f64,
    pub handled_at: Option<f64>,
    pub dispatched_at: Option<f64>,
    pub arrived_at: Option<f64>,
    pub updated_at: f64,
    pub month: &'a str,
    pub digest: &'a str,
}

impl NewEvent<'_> {
    /// The event as core reads it, to say what it counts for (the store
    /// keys regions by code, so its region index is 0).
    pub fn event(&self) -> Option<pingan_core::events::Event> {
        use pingan_core::events::{Event, Kind, Urgency};
        Some(Event {
            kind: Kind::parse(self.kind)?,
            region: 0,
            urgency: self.urgency.and_then(Urgency::parse),
            departments: u32::try_from(self.departments).unwrap_or(0),
            reported: self.reported_at,
            handled: self.handled_at,
            dispatched: self.dispatched_at,
            arrived: self.arrived_at,
            updated: self.updated_at,
        })
    }
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

impl Store {
    /// The stored (updated_at, digest) of those of `ids` that are stored.
    pub async fn event_versions(&self, ids: &[&str]) -> Result<HashMap<String, (f64, String)>> {
        let mut out = HashMap::new();
        // A first load looks nothing up.
        if self.event_count().await? == 0 {
            return Ok(out);
        }
        for chunk in ids.chunks(BATCH) {
            let marks = crate::tx::numbered_list(chunk.len());
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

    /// Per region, month and kind, the counts of the months `from..=to`
    /// (`YYYY-MM`).
    pub async fn event_cells(&self, from: &str, to: &str) -> Result<Vec<EventCell>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, month, kind, CAST(SUM(events) AS BIGINT) AS events, \
             CAST(SUM(timely) AS BIGINT) AS timely, CAST(SUM(joint) AS BIGINT) AS joint, \
             CAST(SUM(joint_timely) AS BIGINT) AS joint_timely, \
             CAST(SUM(response_seconds) AS DOUBLE PRECISION) AS response_seconds \
             FROM event_counts WHERE month >= $1 AND month <= $2 GROUP BY region, month, kind")
            .bind(from).bind(to).fetch_all(p).await)?)
    }

    /// The categories of the grid events of months `from..=to`.
    pub async fn event_categories(&self, from: &str, to: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT category FROM event_counts WHERE kind = 'grid' AND month >= $1 \
             AND month <= $2 ORDER BY category")
            .bind(from).bind(to).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// How many events are stored (cheap at any size).
    pub async fn event_count(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) FROM event_counts").fetch_one(p).await)?;
        Ok(n)
    }
}

/// Sums of the grouped counts (the page's cells): by month, kind,
/// category and urgency (`region` ''), or by region and kind (`month`,
/// `category` and `urgency` '').
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventBreakdown {
    pub region: String,
    pub month: String,
    pub kind: String,
    pub category: String,
    /// '' for call-outs.
    pub urgency: String,
    pub events: i64,
    pub timely: i64,
    pub handled: i64,
    pub response_seconds: f64,
}

/// An open grid event.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpenEvent {
    pub event_id: String,
    pub region: String,
    pub category: String,
    pub urgency: Option<String>,
    pub reported_at: f64,
}

/// How long a grid event may stay open, in SQL (events.md §1).
pub(crate) const DEADLINE: &str = "CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 WHEN '特急' THEN 1800 ELSE 86400 END";

impl Store {
    /// Make the grouped counts again from the stored events (a check, or
    /// a repair after the events table was changed by hand).
    pub async fn rebuild_event_counts(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        counts::rebuild(&mut tx).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests;

//! An events import's write: in one transaction the import's record, the
//! rows (SQLite: one prepared statement; PostgreSQL: `COPY`, straight
//! into the table when it is empty, else into a staging table merged with
//! one upsert), the grouped counts kept, and one ledger entry.

use super::counts::Tally;
use super::{EventRecord, NewEvent, ON_CONFLICT, UPSERT};
use crate::db::Store;
use crate::tx::{BATCH, Conn, Tx, on_tx};
use crate::{Actor, NewEntry, Result};
use pingan_core::labels::LedgerAction;
use rustc_hash::FxHashMap;
use serde_json::json;
use std::time::Instant;

const COLUMNS: &str = "event_id, kind, region, category, urgency, departments, reported_at, \
    handled_at, dispatched_at, arrived_at, updated_at, month, digest, import_id";

impl Store {
    /// Store `events` (each the newest version of its event in its file)
    /// with the import's record and one ledger entry; a stored version as
    /// new or newer stays. Returns the import id.
    pub async fn write_events(
        &self,
        file: &str,
        sha256: &str,
        rows: usize,
        duplicates: usize,
        events: &[NewEvent<'_>],
        actor: &Actor,
    ) -> Result<i64> {
        let started = Instant::now();
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let (import_id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
             VALUES ('events', $1, $2, $3, $4, 0, $5, $6, $7, $8) RETURNING id",
        )
        .bind(file).bind(sha256).bind(rows as i64).bind(events.len() as i64).bind(duplicates as i64)
        .bind(&actor.user).bind(&actor.client).bind(crate::now())
        .fetch_one(&mut **c).await)?;
        let (stored,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) FROM event_counts")
            .fetch_one(&mut **c).await)?;
        let any = stored > 0;
        // A load at least as large as what is stored builds the secondary
        // indexes afterwards (one sort each) instead of row by row.
        let defer = events.len() >= 100_000 && events.len() as i64 >= stored;
        // What the stored versions counted for goes; what a version as new
        // or newer than the file's keeps stays (the upsert keeps it too).
        let stored = if any {
            stored_rows(&mut tx, events).await?
        } else {
            FxHashMap::default()
        };
        let (tally, kept) = Tally::of(events, &stored);
        let looked_up = started.elapsed();
        // SQLite's default cache (2 MB) thrashes on indexes of millions of
        // rows; the default comes back for the pooled connection whatever
        // happens to the load.
        sqlite_cache(&mut tx, "PRAGMA cache_size = -1048576").await?;
        let loaded = load(&mut tx, events, import_id, defer).await;
        sqlite_cache(&mut tx, "PRAGMA cache_size = -2000").await?;
        let frozen = loaded?;
        let inserted = started.elapsed();
        tally.apply(&mut tx).await?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::ImportEvents,
                &format!("events:{file}"),
                json!({"file": file, "sha256": sha256, "rows": rows,
                       "new_or_newer": events.len() - kept,
                       "duplicates": duplicates, "import_id": import_id}),
            ),
        )
        .await?;
        tx.commit().await?;
        // PostgreSQL's planner and its index-only scans need the new rows'
        // statistics and visibility map, which autovacuum would make only
        // some time later (the overdue count: 0.5 s before, 40 ms after);
        // frozen rows have their visibility already.
        if defer && let crate::db::Pool::Pg(p) = &self.pool {
            let how = if frozen {
                "ANALYZE events"
            } else {
                "VACUUM (ANALYZE) events"
            };
            sqlx::query(how).execute(p).await?;
        }
        tracing::info!(
            events = events.len(),
            lookup_ms = looked_up.as_millis() as u64,
            insert_ms = (inserted - looked_up).as_millis() as u64,
            counts_and_commit_ms = (started.elapsed() - inserted).as_millis() as u64,
            "events written"
        );
        Ok(import_id)
    }
}

async fn sqlite_cache(tx: &mut Tx, pragma: &'static str) -> Result<()> {
    if let Conn::Sqlite(c) = &mut tx.conn {
        sqlx::query(pragma).execute(&mut **c).await?;
    }
    Ok(())
}

/// The rows in, with `defer` the secondary indexes dropped before and made
/// again after, as the database itself describes them (so a later
/// migration's indexes come back as it made them). Returns whether the
/// rows went in frozen.
async fn load(tx: &mut Tx, events: &[NewEvent<'_>], import_id: i64, defer: bool) -> Result<bool> {
    let saved: Vec<(String, String)> = if defer {
        let sql = if tx.numbered() {
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename = 'events' AND indexname <> 'events_pkey'"
        } else {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' \
             AND sql IS NOT NULL"
        };
        on_tx!(tx, c => sqlx::query_as(sql).fetch_all(&mut **c).await)?
    } else {
        Vec::new()
    };
    for (name, _) in &saved {
        let drop = format!("DROP INDEX {name}");
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(drop.clone())).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    let started = Instant::now();
    let frozen = match &mut tx.conn {
        Conn::Sqlite(c) => {
            super::sqlite_load::insert(c, events, import_id).await?;
            false
        }
        Conn::Pg(c) => copy_in(c, events, import_id, defer).await?,
    };
    let loaded = started.elapsed();
    for (_, create) in &saved {
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(create.clone())).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    if defer {
        tracing::info!(
            load_ms = loaded.as_millis() as u64,
            index_ms = (started.elapsed() - loaded).as_millis() as u64,
            "events loaded, indexes made again"
        );
    }
    Ok(frozen)
}

/// The stored rows of those of `events` already stored, read inside the
/// write's transaction (after `hold`), so no other import slips between.
async fn stored_rows(
    tx: &mut Tx,
    events: &[NewEvent<'_>],
) -> Result<FxHashMap<String, EventRecord>> {
    let mut out = FxHashMap::default();
    for chunk in events.chunks(BATCH) {
        let marks = crate::tx::numbered_list(chunk.len());
        let sql = format!(
            "SELECT event_id, kind, region, category, urgency, CAST(departments AS BIGINT) AS departments, reported_at, handled_at, \
             dispatched_at, arrived_at, updated_at, month, digest FROM events WHERE event_id IN ({marks})"
        );
        let rows: Vec<EventRecord> = on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for e in chunk {
                q = q.bind(e.event_id);
            }
            q.fetch_all(&mut **c).await
        })?;
        out.extend(rows.into_iter().map(|r| (r.event_id.clone(), r)));
    }
    Ok(out)
}

/// PostgreSQL's binary COPY: no text to parse on either side, every
/// float sent as its eight bytes.
mod binary {
    pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
    pub const TRAILER: &[u8] = &(-1i16).to_be_bytes();

    pub fn text(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as i32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    pub fn null(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i32).to_be_bytes());
    }

    pub fn float(out: &mut Vec<u8>, v: Option<f64>) {
        match v {
            Some(v) => {
                out.extend_from_slice(&8i32.to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            }
            None => null(out),
        }
    }

    pub fn int4(out: &mut Vec<u8>, v: i32) {
        out.extend_from_slice(&4i32.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }

    pub fn int8(out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// One event as a binary COPY tuple, in `COLUMNS`' order.
fn tuple(buf: &mut Vec<u8>, e: &NewEvent<'_>, import_id: i64) {
    buf.extend_from_slice(&14i16.to_be_bytes());
    binary::text(buf, e.event_id);
    binary::text(buf, e.kind);
    binary::text(buf, e.region);
    binary::text(buf, e.category);
    match e.urgency {
        Some(u) => binary::text(buf, u),
        None => binary::null(buf),
    }
    // An INTEGER column; what a count counts for is only whether it is at
    // least 2, which a count past i32::MAX keeps.
    binary::int4(buf, i32::try_from(e.departments).unwrap_or(i32::MAX));
    for v in [
        Some(e.reported_at),
        e.handled_at,
        e.dispatched_at,
        e.arrived_at,
        Some(e.updated_at),
    ] {
        binary::float(buf, v);
    }
    binary::text(buf, e.month);
    binary::text(buf, e.digest);
    binary::int8(buf, import_id);
}

/// `COPY` the rows in: into `events` when it holds nothing (ids are
/// unique within an import), else through a staging table and one upsert.
/// Returns whether the rows went in frozen (already visible to all).
async fn copy_in(
    c: &mut sqlx::PgConnection,
    events: &[NewEvent<'_>],
    import_id: i64,
    defer: bool,
) -> Result<bool> {
    // Asked of the table itself: TRUNCATE below must never meet a row.
    let (empty,): (bool,) = sqlx::query_as("SELECT NOT EXISTS (SELECT 1 FROM events)")
        .fetch_one(&mut *c)
        .await?;
    // Into an empty table the reader's unique ids go without the key's
    // index too (made again after, by one sort); and, the table truncated
    // in this transaction, as frozen rows, so no VACUUM has to visit ten
    // million rows afterwards to mark them visible.
    let unkeyed = defer && empty;
    if defer {
        sqlx::query("SET LOCAL maintenance_work_mem = '1GB'")
            .execute(&mut *c)
            .await?;
        if unkeyed {
            sqlx::query("TRUNCATE events").execute(&mut *c).await?;
            sqlx::query("ALTER TABLE events DROP CONSTRAINT events_pkey")
                .execute(&mut *c)
                .await?;
        }
    }
    let target = if empty {
        "events"
    } else {
        sqlx::query("CREATE TEMP TABLE events_in (LIKE events INCLUDING DEFAULTS) ON COMMIT DROP")
            .execute(&mut *c)
            .await?;
        "events_in"
    };
    let freeze = if unkeyed { ", FREEZE" } else { "" };
    let mut copy = c
        .copy_in_raw(&format!(
            "COPY {target} ({COLUMNS}) FROM STDIN WITH (FORMAT binary{freeze})"
        ))
        .await?;
    let mut buf = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(binary::HEADER);
    let pause = super::pause_after();
    for (n, e) in events.iter().enumerate() {
        if pause == Some(n) {
            copy.send(std::mem::take(&mut buf)).await?;
            super::pause_here();
        }
        tuple(&mut buf, e, import_id);
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
            buf.reserve(1 << 20);
        }
    }
    buf.extend_from_slice(binary::TRAILER);
    copy.send(buf).await?;
    copy.finish().await?;
    if !empty {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{UPSERT} SELECT {COLUMNS} FROM events_in {ON_CONFLICT}"
        )))
        .execute(&mut *c)
        .await?;
    }
    if unkeyed {
        sqlx::query("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id)")
            .execute(&mut *c)
            .await?;
    }
    Ok(unkeyed)
}

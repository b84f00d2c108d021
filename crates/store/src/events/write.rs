//! An events import's write: in one transaction the import's record, the
//! rows (SQLite: one prepared statement; PostgreSQL: `COPY`, straight
//! into the table when it is empty, else into a staging table merged with
//! one upsert), the grouped counts kept, and one ledger entry.

use super::counts::Tally;
use super::{EventRecord, ON_CONFLICT, UPSERT};
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
        events: &[EventRecord],
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
        let mut tally = Tally::default();
        let mut kept = 0;
        if any {
            let stored = stored_rows(&mut tx, events).await?;
            for e in events {
                match stored.get(e.event_id.as_str()) {
                    Some(old) if old.updated_at >= e.updated_at => kept += 1,
                    Some(old) => {
                        tally.count(old, -1);
                        tally.count(e, 1);
                    }
                    None => tally.count(e, 1),
                }
            }
        } else {
            for e in events {
                tally.count(e, 1);
            }
        }
        let looked_up = started.elapsed();
        match &mut tx.conn {
            Conn::Sqlite(c) => super::sqlite_load::insert(c, events, import_id, defer).await?,
            Conn::Pg(c) => copy_in(c, events, import_id, !any, defer).await?,
        }
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
        // some time later (the overdue count: 0.5 s before, 40 ms after).
        if defer && let crate::db::Pool::Pg(p) = &self.pool {
            sqlx::query("VACUUM (ANALYZE) events").execute(p).await?;
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

/// The stored rows of those of `events` already stored, read inside the
/// write's transaction (after `hold`), so no other import slips between.
async fn stored_rows(
    tx: &mut Tx,
    events: &[EventRecord],
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
                q = q.bind(&e.event_id);
            }
            q.fetch_all(&mut **c).await
        })?;
        out.extend(rows.into_iter().map(|r| (r.event_id.clone(), r)));
    }
    Ok(out)
}

/// One CSV field of COPY: quoted (so '' is an empty text, not NULL).
fn quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn number(out: &mut Vec<u8>, v: Option<f64>) {
    use std::io::Write as _;
    if let Some(v) = v {
        // `{:?}` writes every digit needed to read the same f64 back.
        let _ = write!(out, "{v:?}");
    }
}

/// `COPY` the rows in: into `events` when it held nothing at the start
/// (ids are unique within an import), else through a staging table and
/// one upsert.
async fn copy_in(
    c: &mut sqlx::PgConnection,
    events: &[EventRecord],
    import_id: i64,
    empty: bool,
    defer: bool,
) -> Result<()> {
    let started = Instant::now();
    // Into an empty table the reader's unique ids go without the key's
    // index too (made again after, by one sort).
    let unkeyed = defer && empty;
    if defer {
        sqlx::query("SET LOCAL maintenance_work_mem = '1GB'")
            .execute(&mut *c)
            .await?;
        if unkeyed {
            sqlx::query("ALTER TABLE events DROP CONSTRAINT events_pkey")
                .execute(&mut *c)
                .await?;
        }
        for (name, _) in super::INDEXES {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
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
    let mut copy = c
        .copy_in_raw(&format!(
            "COPY {target} ({COLUMNS}) FROM STDIN WITH (FORMAT csv)"
        ))
        .await?;
    let mut buf = Vec::with_capacity(1 << 20);
    let pause = super::pause_after();
    for (n, e) in events.iter().enumerate() {
        if pause == Some(n) {
            copy.send(std::mem::take(&mut buf)).await?;
            super::pause_here();
        }
        quoted(&mut buf, &e.event_id);
        buf.push(b',');
        quoted(&mut buf, &e.kind);
        buf.push(b',');
        quoted(&mut buf, &e.region);
        buf.push(b',');
        quoted(&mut buf, &e.category);
        buf.push(b',');
        if let Some(u) = &e.urgency {
            quoted(&mut buf, u);
        }
        buf.push(b',');
        buf.extend_from_slice(e.departments.to_string().as_bytes());
        for v in [
            Some(e.reported_at),
            e.handled_at,
            e.dispatched_at,
            e.arrived_at,
            Some(e.updated_at),
        ] {
            buf.push(b',');
            number(&mut buf, v);
        }
        buf.push(b',');
        quoted(&mut buf, &e.month);
        buf.push(b',');
        quoted(&mut buf, &e.digest);
        buf.push(b',');
        buf.extend_from_slice(import_id.to_string().as_bytes());
        buf.push(b'\n');
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
            buf.reserve(1 << 20);
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    if !empty {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{UPSERT} SELECT {COLUMNS} FROM events_in {ON_CONFLICT}"
        )))
        .execute(&mut *c)
        .await?;
    }
    let copied = started.elapsed();
    if unkeyed {
        sqlx::query("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id)")
            .execute(&mut *c)
            .await?;
    }
    if defer {
        for (_, create) in super::INDEXES {
            sqlx::query(create).execute(&mut *c).await?;
        }
    }
    tracing::info!(
        copy_ms = copied.as_millis() as u64,
        index_ms = (started.elapsed() - copied).as_millis() as u64,
        "events copied"
    );
    Ok(())
}

//! The grouped counts of the stored events (`event_counts`,
//! `event_classes`), kept by each import in its transaction: a written
//! version adds what it counts for, the version it replaces takes its own
//! away. What an event counts for is core's (`pingan_core::events`), so
//! the page, the derived elements and `pingan events aggregate` agree.

use super::{EventRecord, NewEvent};
use crate::Result;
use crate::tx::{BATCH, Conn, Tx, on_tx, placeholders};
use pingan_core::events::Kind;
use rustc_hash::FxHashMap;

/// (region, month, kind, category, urgency or ''), borrowed from the
/// events counted (ten million keys made of owned text cost seconds).
type CountKey<'a> = (&'a str, &'a str, &'static str, &'a str, &'a str);

#[derive(Clone, Copy, Debug, Default)]
struct Delta {
    events: i64,
    timely: i64,
    handled: i64,
    joint: i64,
    joint_timely: i64,
    response_seconds: f64,
}

/// Changes to the grouped counts, gathered over an import.
#[derive(Default)]
pub(super) struct Tally<'a> {
    counts: FxHashMap<CountKey<'a>, Delta>,
    classes: FxHashMap<(&'a str, &'a str, i64), i64>,
    /// Whether anything was counted out: only then can a group be left
    /// empty (and the tables need a pass to drop such groups).
    took: bool,
}

impl<'a> Tally<'a> {
    /// What writing `events` changes, with `stored` the stored versions of
    /// those already stored: theirs go, the file's come, except where the
    /// stored version is as new or newer (counted in the number returned).
    /// On every core: ten million events take seconds on one.
    pub(super) fn of(
        events: &[NewEvent<'a>],
        stored: &'a FxHashMap<String, EventRecord>,
    ) -> (Tally<'a>, usize) {
        let one = |events: &[NewEvent<'a>]| {
            let mut tally = Tally::default();
            let mut kept = 0;
            for e in events {
                match stored.get(e.event_id) {
                    Some(old) if old.updated_at >= e.updated_at => kept += 1,
                    Some(old) => {
                        tally.count(&old.view(), -1);
                        tally.count(e, 1);
                    }
                    None => tally.count(e, 1),
                }
            }
            (tally, kept)
        };
        let threads = pingan_core::par::threads();
        let size = events.len().div_ceil(threads).max(1 << 16);
        let chunks: Vec<&[NewEvent<'a>]> = events.chunks(size).collect();
        let parts = pingan_core::par::in_turn(&chunks, threads, |c| one(c));
        let mut total = (Tally::default(), 0);
        for (t, k) in parts {
            total.0.merge(t);
            total.1 += k;
        }
        total
    }

    /// Count `e` in (`sign` 1) or out (-1).
    pub(super) fn count(&mut self, e: &NewEvent<'a>, sign: i64) {
        let Some(ev) = e.event() else { return };
        let grid = ev.kind == Kind::Grid;
        let timely = i64::from(grid && ev.timely());
        let joint = i64::from(grid && ev.departments >= 2);
        let d = self
            .counts
            .entry((
                e.region,
                e.month,
                ev.kind.code(),
                e.category,
                e.urgency.unwrap_or_default(),
            ))
            .or_default();
        self.took |= sign < 0;
        d.events += sign;
        d.timely += sign * timely;
        d.handled += sign * i64::from(ev.handled.is_some());
        d.joint += sign * joint;
        d.joint_timely += sign * joint * timely;
        d.response_seconds += sign as f64 * ev.response_seconds().unwrap_or(0.0);
        if grid && let Some(class) = ev.handling_class() {
            *self
                .classes
                .entry((e.region, e.month, class as i64))
                .or_default() += sign;
        }
    }

    /// Add `other`'s changes to these.
    pub(super) fn merge(&mut self, other: Tally<'a>) {
        self.took |= other.took;
        for (k, d) in other.counts {
            let t = self.counts.entry(k).or_default();
            t.events += d.events;
            t.timely += d.timely;
            t.handled += d.handled;
            t.joint += d.joint;
            t.joint_timely += d.joint_timely;
            t.response_seconds += d.response_seconds;
        }
        for (k, n) in other.classes {
            *self.classes.entry(k).or_default() += n;
        }
    }

    /// Add the changes to the stored counts; groups left empty go (each a
    /// pass over both tables, so only when something was counted out).
    pub(super) async fn apply(self, tx: &mut Tx) -> Result<()> {
        let took = self.took;
        let counts: Vec<_> = self.counts.into_iter().collect();
        let classes: Vec<_> = self.classes.into_iter().collect();
        if let Conn::Pg(c) = &mut tx.conn {
            pg_apply(c, &counts, &classes).await?;
        } else {
            rows_apply(tx, &counts, &classes).await?;
        }
        if !took {
            return Ok(());
        }
        for sql in [
            "DELETE FROM event_counts WHERE events = 0",
            "DELETE FROM event_classes WHERE events = 0",
        ] {
            on_tx!(tx, c => sqlx::query(sql).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}

type CountRow<'a> = (CountKey<'a>, Delta);
type ClassRow<'a> = ((&'a str, &'a str, i64), i64);

const COUNTS_UPSERT: &str = "ON CONFLICT (region, month, kind, category, urgency) DO UPDATE SET \
    events = event_counts.events + excluded.events, \
    timely = event_counts.timely + excluded.timely, \
    handled = event_counts.handled + excluded.handled, \
    joint = event_counts.joint + excluded.joint, \
    joint_timely = event_counts.joint_timely + excluded.joint_timely, \
    response_seconds = event_counts.response_seconds + excluded.response_seconds";
const CLASSES_UPSERT: &str = "ON CONFLICT (region, month, class) DO UPDATE SET \
    events = event_classes.events + excluded.events";

/// PostgreSQL: each table's changes as one statement over arrays (236,287
/// groups by rows of a few thousand values took 2 s; arrays, a fraction).
async fn pg_apply<'a>(
    c: &mut sqlx::PgConnection,
    counts: &[CountRow<'a>],
    classes: &[ClassRow<'a>],
) -> Result<()> {
    let col = |f: fn(&CountRow<'a>) -> &'a str| counts.iter().map(f).collect::<Vec<&str>>();
    let num = |f: fn(&Delta) -> i64| counts.iter().map(|(_, d)| f(d)).collect::<Vec<i64>>();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO event_counts (region, month, kind, category, urgency, events, timely, handled, \
         joint, joint_timely, response_seconds) SELECT * FROM UNNEST($1::text[], $2::text[], \
         $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], \
         $9::bigint[], $10::bigint[], $11::float8[]) {COUNTS_UPSERT}"
    )))
    .bind(col(|r| r.0.0))
    .bind(col(|r| r.0.1))
    .bind(col(|r| r.0.2))
    .bind(col(|r| r.0.3))
    .bind(col(|r| r.0.4))
    .bind(num(|d| d.events))
    .bind(num(|d| d.timely))
    .bind(num(|d| d.handled))
    .bind(num(|d| d.joint))
    .bind(num(|d| d.joint_timely))
    .bind(counts.iter().map(|(_, d)| d.response_seconds).collect::<Vec<f64>>())
    .execute(&mut *c)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO event_classes (region, month, class, events) SELECT * FROM \
         UNNEST($1::text[], $2::text[], $3::int[], $4::bigint[]) {CLASSES_UPSERT}"
    )))
    .bind(classes.iter().map(|r| r.0.0).collect::<Vec<&str>>())
    .bind(classes.iter().map(|r| r.0.1).collect::<Vec<&str>>())
    .bind(classes.iter().map(|r| r.0.2 as i32).collect::<Vec<i32>>())
    .bind(classes.iter().map(|r| r.1).collect::<Vec<i64>>())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// SQLite: the changes as rows of multi-row upserts.
async fn rows_apply(tx: &mut Tx, counts: &[CountRow<'_>], classes: &[ClassRow<'_>]) -> Result<()> {
    let numbered = tx.numbered();
    for chunk in counts.chunks(BATCH / 11) {
        let sql = format!(
            "INSERT INTO event_counts (region, month, kind, category, urgency, events, timely, handled, \
             joint, joint_timely, response_seconds) VALUES {} {COUNTS_UPSERT}",
            placeholders(chunk.len(), 11, numbered)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((region, month, kind, category, urgency), d) in chunk {
                q = q.bind(*region).bind(*month).bind(*kind).bind(*category).bind(*urgency)
                    .bind(d.events).bind(d.timely).bind(d.handled).bind(d.joint)
                    .bind(d.joint_timely).bind(d.response_seconds);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    for chunk in classes.chunks(BATCH / 4) {
        let sql = format!(
            "INSERT INTO event_classes (region, month, class, events) VALUES {} {CLASSES_UPSERT}",
            placeholders(chunk.len(), 4, numbered)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((region, month, class), n) in chunk {
                q = q.bind(*region).bind(*month).bind(*class).bind(*n);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The counts made again from every stored event (after a restore); the
/// same SQL as migration 0019, which first made them.
pub(crate) async fn rebuild(tx: &mut Tx) -> Result<()> {
    const DEADLINE: &str = "CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 \
        WHEN '特急' THEN 1800 END";
    let mut class = String::from("CASE");
    let edges = pingan_core::events::HANDLING_EDGES;
    for (i, e) in edges.iter().enumerate().take(edges.len() - 1) {
        class.push_str(&format!(
            " WHEN handled_at - reported_at <= {} THEN {i}",
            e * 60
        ));
    }
    class.push_str(&format!(" ELSE {} END", edges.len() - 1));
    let statements = [
        "DELETE FROM event_counts".to_string(),
        "DELETE FROM event_classes".to_string(),
        format!(
            "INSERT INTO event_counts (region, month, kind, category, urgency, events, timely, handled, \
             joint, joint_timely, response_seconds) \
             SELECT region, month, kind, category, COALESCE(urgency, ''), COUNT(*), \
             SUM(CASE WHEN kind = 'grid' AND handled_at - reported_at <= {DEADLINE} THEN 1 ELSE 0 END), \
             SUM(CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN kind = 'grid' AND departments >= 2 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN kind = 'grid' AND departments >= 2 AND handled_at - reported_at <= {DEADLINE} \
                 THEN 1 ELSE 0 END), \
             COALESCE(SUM(arrived_at - dispatched_at), 0) \
             FROM events GROUP BY region, month, kind, category, COALESCE(urgency, '')"
        ),
        format!(
            "INSERT INTO event_classes (region, month, class, events) \
             SELECT region, month, {class}, COUNT(*) FROM events \
             WHERE kind = 'grid' AND handled_at IS NOT NULL GROUP BY 1, 2, 3"
        ),
    ];
    for sql in statements {
        on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(&mut **c).await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

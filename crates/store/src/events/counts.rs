//! The grouped counts of the stored events (`event_counts`,
//! `event_classes`), kept by each import in its transaction: a written
//! version adds what it counts for, the version it replaces takes its own
//! away. What an event counts for is core's (`pingan_core::events`), so
//! the page, the derived elements and `pingan events aggregate` agree.

use super::EventRecord;
use crate::Result;
use crate::tx::{BATCH, Tx, on_tx, placeholders};
use pingan_core::events::Kind;
use rustc_hash::FxHashMap;

/// (region, month, kind, category, urgency or '').
type CountKey = (String, String, &'static str, String, String);

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
pub(super) struct Tally {
    counts: FxHashMap<CountKey, Delta>,
    classes: FxHashMap<(String, String, i64), i64>,
}

impl Tally {
    /// Count `e` in (`sign` 1) or out (-1).
    pub(super) fn count(&mut self, e: &EventRecord, sign: i64) {
        let Some(ev) = e.event() else { return };
        let grid = ev.kind == Kind::Grid;
        let timely = i64::from(grid && ev.timely());
        let joint = i64::from(grid && ev.departments >= 2);
        let d = self
            .counts
            .entry((
                e.region.clone(),
                e.month.clone(),
                ev.kind.code(),
                e.category.clone(),
                e.urgency.clone().unwrap_or_default(),
            ))
            .or_default();
        d.events += sign;
        d.timely += sign * timely;
        d.handled += sign * i64::from(ev.handled.is_some());
        d.joint += sign * joint;
        d.joint_timely += sign * joint * timely;
        d.response_seconds += sign as f64 * ev.response_seconds().unwrap_or(0.0);
        if grid && let Some(class) = ev.handling_class() {
            *self
                .classes
                .entry((e.region.clone(), e.month.clone(), class as i64))
                .or_default() += sign;
        }
    }

    /// Add the changes to the stored counts; groups left empty go.
    pub(super) async fn apply(self, tx: &mut Tx) -> Result<()> {
        let numbered = tx.numbered();
        let counts: Vec<_> = self.counts.into_iter().collect();
        for chunk in counts.chunks(BATCH / 11) {
            let sql = format!(
                "INSERT INTO event_counts (region, month, kind, category, urgency, events, timely, handled, \
                 joint, joint_timely, response_seconds) VALUES {} \
                 ON CONFLICT (region, month, kind, category, urgency) DO UPDATE SET \
                 events = event_counts.events + excluded.events, \
                 timely = event_counts.timely + excluded.timely, \
                 handled = event_counts.handled + excluded.handled, \
                 joint = event_counts.joint + excluded.joint, \
                 joint_timely = event_counts.joint_timely + excluded.joint_timely, \
                 response_seconds = event_counts.response_seconds + excluded.response_seconds",
                placeholders(chunk.len(), 11, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for ((region, month, kind, category, urgency), d) in chunk {
                    q = q.bind(region).bind(month).bind(*kind).bind(category).bind(urgency)
                        .bind(d.events).bind(d.timely).bind(d.handled).bind(d.joint)
                        .bind(d.joint_timely).bind(d.response_seconds);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        let classes: Vec<_> = self.classes.into_iter().collect();
        for chunk in classes.chunks(BATCH / 4) {
            let sql = format!(
                "INSERT INTO event_classes (region, month, class, events) VALUES {} \
                 ON CONFLICT (region, month, class) DO UPDATE SET \
                 events = event_classes.events + excluded.events",
                placeholders(chunk.len(), 4, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for ((region, month, class), n) in chunk {
                    q = q.bind(region).bind(month).bind(*class).bind(*n);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
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

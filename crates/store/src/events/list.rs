//! The event list behind the page's drill-down and its Excel export: the
//! stored events of some base regions and months, filtered by kind,
//! category, urgency and state, newest first (the indexes by region and by
//! the time whose month an event counts in, `EVENT_TIME`, give that order
//! without sorting a province, and the months are a range of that time);
//! totals from the grouped counts, so a count never reads ten million rows.

use super::{DEADLINE, EVENT_TIME, EventRecord, OpenEvent};
use crate::Result;
use crate::db::{Store, on_pool};

/// A grid event's or call-out's state in the list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventState {
    All,
    Open,
    /// Open and past its deadline at this time (seconds since 1970).
    Overdue(f64),
    Handled,
    /// Handled within its deadline.
    Timely,
    /// Handled after it.
    Late,
}

#[derive(Clone, Debug)]
pub struct EventFilter {
    /// Base regions' codes; None for all.
    pub regions: Option<Vec<String>>,
    /// Months `YYYY-MM`, inclusive.
    pub from: String,
    pub to: String,
    pub kind: Option<String>,
    pub category: Option<String>,
    /// '' picks call-outs (no urgency).
    pub urgency: Option<String>,
    pub state: EventState,
}

/// Where a page of the list starts: after this (`Event::month_time`,
/// event_id), in the list's order.
pub type EventCursor = (f64, String);

/// Base regions beyond which a list is read in the province's order.
const MANY: usize = 40;

pub(super) enum Arg {
    Text(String),
    Real(f64),
    Int(i64),
}

/// SQL conditions and their values, numbered `$1…` in order.
#[derive(Default)]
pub(super) struct Where {
    pub(super) sql: String,
    pub(super) args: Vec<Arg>,
}

impl Where {
    fn mark(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    fn and(&mut self, cond: &str) {
        self.sql.push_str(if self.sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        self.sql.push_str(cond);
    }
    fn text(&mut self, column: &str, v: &str) {
        let m = self.mark(Arg::Text(v.to_string()));
        self.and(&format!("{column} = {m}"));
    }
    /// The filter's conditions that the grouped counts hold too.
    pub(super) fn grouped(f: &EventFilter, urgency_column: &str) -> Where {
        let mut w = Where::default();
        let from = w.mark(Arg::Text(f.from.clone()));
        let to = w.mark(Arg::Text(f.to.clone()));
        w.and(&format!("month >= {from} AND month <= {to}"));
        if let Some(rs) = &f.regions {
            let marks: Vec<String> = rs.iter().map(|r| w.mark(Arg::Text(r.clone()))).collect();
            if marks.is_empty() {
                w.and("1 = 0");
            } else if marks.len() > MANY {
                // A city's list reads the province's months in order
                // rather than sorting its regions' rows (an expression
                // keeps the planner off the region index).
                w.and(&format!("(region || '') IN ({})", marks.join(",")));
            } else {
                w.and(&format!("region IN ({})", marks.join(",")));
            }
        }
        if let Some(k) = &f.kind {
            w.text("kind", k);
        }
        if let Some(c) = &f.category {
            w.text("category", c);
        }
        if let Some(u) = &f.urgency {
            w.text(urgency_column, u);
        }
        w
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Real(v) => q.bind(*v),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(super) use bind_all;

const TIMELY: &str = "kind = 'grid' AND handled_at - reported_at <= CASE urgency WHEN '一般' THEN 86400 \
    WHEN '紧急' THEN 7200 WHEN '特急' THEN 1800 END";

impl Store {
    /// A page of the list: at most `limit` events after `after`.
    pub async fn event_list(
        &self,
        f: &EventFilter,
        after: Option<&EventCursor>,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        let mut w = Where::grouped(f, "COALESCE(urgency, '')");
        match f.state {
            EventState::All => {}
            EventState::Open => w.and("handled_at IS NULL"),
            EventState::Overdue(now) => {
                let m = w.mark(Arg::Real(now));
                w.and(&format!(
                    "handled_at IS NULL AND kind = 'grid' AND reported_at + {DEADLINE} < {m}"
                ));
            }
            EventState::Handled => w.and("handled_at IS NOT NULL"),
            EventState::Timely => w.and(TIMELY),
            EventState::Late => w.and(&format!("handled_at IS NOT NULL AND NOT ({TIMELY})")),
        }
        // Overdue events are grid events, whose time is their report's:
        // said so, their partial index (by kind, reported_at) gives the
        // order (SQLite sorted 188,631 of them for a province's page).
        let time = if matches!(f.state, EventState::Overdue(_)) {
            "reported_at"
        } else {
            EVENT_TIME
        };
        // The months as a range of the indexed time too, so the index is
        // read over the months only; after a cursor, up to the cursor's
        // time (SQLite takes one upper bound: given the months' and the
        // cursor's, it read from the months' end down to the cursor, so
        // the hundredth page of a province read a hundred pages).
        use pingan_core::events::{month_start, next_month, parse_month};
        if let (Some(a), Some(b)) = (parse_month(&f.from), parse_month(&f.to)) {
            let a = w.mark(Arg::Real(month_start(a)));
            let end = month_start(next_month(b));
            match after {
                Some((at, _)) if *at < end => {
                    let b = w.mark(Arg::Real(*at));
                    w.and(&format!("{time} >= {a} AND {time} <= {b}"));
                }
                _ => {
                    let b = w.mark(Arg::Real(end));
                    w.and(&format!("{time} >= {a} AND {time} < {b}"));
                }
            }
        }
        if let Some((at, id)) = after {
            let r = w.mark(Arg::Real(*at));
            let i = w.mark(Arg::Text(id.clone()));
            w.and(&format!("({time}, event_id) < ({r}, {i})"));
        }
        let lim = w.mark(Arg::Int(limit));
        let sql = format!(
            "SELECT event_id, kind, region, category, urgency, CAST(departments AS BIGINT) AS departments, reported_at, handled_at, \
             dispatched_at, arrived_at, updated_at, month, digest FROM events{} \
             ORDER BY {time} DESC, event_id DESC LIMIT {lim}",
            w.sql
        );
        Ok(on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_all!(q, &w.args).fetch_all(p).await
        })?)
    }

    /// How many events the list holds.
    pub async fn event_list_count(&self, f: &EventFilter) -> Result<i64> {
        if let EventState::Overdue(now) = f.state {
            let mut w = Where::grouped(f, "COALESCE(urgency, '')");
            let m = w.mark(Arg::Real(now));
            w.and(&format!(
                "handled_at IS NULL AND kind = 'grid' AND reported_at + {DEADLINE} < {m}"
            ));
            let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM events{}", w.sql);
            let (n,): (i64,) = on_pool!(self, p => {
                let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                bind_all!(q, &w.args).fetch_one(p).await
            })?;
            return Ok(n);
        }
        let w = Where::grouped(f, "urgency");
        let what = match f.state {
            EventState::All => "events",
            EventState::Open => "events - handled",
            EventState::Handled => "handled",
            EventState::Timely => "timely",
            EventState::Late | EventState::Overdue(_) => "handled - timely",
        };
        let sql = format!(
            "SELECT CAST(COALESCE(SUM({what}), 0) AS BIGINT) FROM event_counts{}",
            w.sql
        );
        let (n,): (i64,) = on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_all!(q, &w.args).fetch_one(p).await
        })?;
        Ok(n)
    }

    /// Open grid events of `f`'s regions and months past their deadline at
    /// `now`, oldest first, at most `limit` (the list `f` with state
    /// `Overdue(now)` holds, in the other order).
    pub async fn overdue_events(
        &self,
        f: &EventFilter,
        now: f64,
        limit: i64,
    ) -> Result<Vec<OpenEvent>> {
        let mut w = Where::grouped(f, "COALESCE(urgency, '')");
        let m = w.mark(Arg::Real(now));
        w.and(&format!(
            "handled_at IS NULL AND kind = 'grid' AND reported_at + {DEADLINE} < {m}"
        ));
        let lim = w.mark(Arg::Int(limit));
        let sql = format!(
            "SELECT event_id, region, category, urgency, reported_at FROM events{} \
             ORDER BY reported_at LIMIT {lim}",
            w.sql
        );
        Ok(on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_all!(q, &w.args).fetch_all(p).await
        })?)
    }
}

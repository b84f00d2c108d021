//! The grouped counts summed for the page 网格事件: over a filter's base
//! regions and months, in SQL, so the page reads a few hundred rows rather
//! than a province's year of groups (236,287 rows took SQLite's driver
//! over a second to hand over; the sums take 0.05 s).

use super::EventBreakdown;
use super::list::{Arg, EventFilter, Where, bind_all};
use crate::Result;
use crate::db::{Store, on_pool};

/// How the sums are grouped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventSumsBy {
    /// Month, kind, category and urgency.
    Month,
    /// Base region and kind.
    Region,
}

const SUMS: &str = "CAST(SUM(events) AS BIGINT) AS events, CAST(SUM(timely) AS BIGINT) AS timely, \
    CAST(SUM(handled) AS BIGINT) AS handled, \
    CAST(SUM(response_seconds) AS DOUBLE PRECISION) AS response_seconds";

impl Store {
    /// The counts of `f`'s regions and months (its other conditions are
    /// not asked), summed `by`.
    pub async fn event_sums(
        &self,
        f: &EventFilter,
        by: EventSumsBy,
    ) -> Result<Vec<EventBreakdown>> {
        let w = Where::grouped(&months_and_regions(f), "urgency");
        let sql = match by {
            EventSumsBy::Month => format!(
                "SELECT '' AS region, month, kind, category, urgency, {SUMS} FROM event_counts{} \
                 GROUP BY month, kind, category, urgency",
                w.sql
            ),
            EventSumsBy::Region => format!(
                "SELECT region, '' AS month, kind, '' AS category, '' AS urgency, {SUMS} \
                 FROM event_counts{} GROUP BY region, kind",
                w.sql
            ),
        };
        Ok(on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_all!(q, &w.args).fetch_all(p).await
        })?)
    }

    /// Handled grid events of `f`'s regions and months per handling-time
    /// class (index into `HANDLING_EDGES`).
    pub async fn event_handling(&self, f: &EventFilter) -> Result<Vec<(i64, i64)>> {
        let w = Where::grouped(&months_and_regions(f), "urgency");
        let sql = format!(
            "SELECT CAST(class AS BIGINT), CAST(SUM(events) AS BIGINT) FROM event_classes{} \
             GROUP BY class",
            w.sql
        );
        Ok(on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_all!(q, &w.args).fetch_all(p).await
        })?)
    }
}

/// `f` without the conditions the handling classes do not hold.
fn months_and_regions(f: &EventFilter) -> EventFilter {
    EventFilter {
        kind: None,
        category: None,
        urgency: None,
        ..f.clone()
    }
}

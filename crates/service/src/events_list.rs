//! The event list behind 网格事件's drill-down (issue 19): a region's
//! events of a year or a month, filtered by kind, category, urgency and
//! state, a page at a time, newest first; its Excel export reads the same
//! pages.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::events_board::base_regions;
use crate::{Authorized, cap};
use pingan_core::RegionTree;
use pingan_store::{EventCursor, EventFilter, EventRecord, EventState};

/// The states a reader picks from, with their query value and label.
pub const STATES: [(&str, &str); 6] = [
    ("", "全部"),
    ("open", "未处置"),
    ("overdue", "超时未处置"),
    ("handled", "已处置"),
    ("timely", "按时处置"),
    ("late", "超时处置"),
];

/// What a reader asked for.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub year: i32,
    pub month: Option<u8>,
    pub kind: Option<String>,
    pub category: Option<String>,
    /// '' picks call-outs.
    pub urgency: Option<String>,
    /// One of `STATES`' values.
    pub state: String,
}

/// `p` under `root` as the store filters, at time `now`.
pub fn filter(tree: &RegionTree, root: usize, p: &ListParams, now: f64) -> EventFilter {
    let (from, to) = match p.month {
        Some(m) => (
            format!("{:04}-{m:02}", p.year),
            format!("{:04}-{m:02}", p.year),
        ),
        None => (format!("{:04}-01", p.year), format!("{:04}-12", p.year)),
    };
    EventFilter {
        regions: base_regions(tree, root),
        from,
        to,
        kind: p.kind.clone(),
        category: p.category.clone(),
        urgency: p.urgency.clone(),
        state: match p.state.as_str() {
            "open" => EventState::Open,
            "overdue" => EventState::Overdue(now),
            "handled" => EventState::Handled,
            "timely" => EventState::Timely,
            "late" => EventState::Late,
            _ => EventState::All,
        },
    }
}

/// A page of at most `limit` events after `after`, and how many the list
/// holds.
pub async fn page(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    f: &EventFilter,
    after: Option<&EventCursor>,
    limit: i64,
) -> Result<(Vec<EventRecord>, i64)> {
    // The count is cheap (grouped counts, or the open events' index); an
    // empty list then reads no events (a filter nothing matches would
    // otherwise walk the year's index to its end).
    let total = ctx.store.event_list_count(f).await?;
    if total == 0 {
        return Ok((Vec::new(), 0));
    }
    let rows = ctx.store.event_list(f, after, limit).await?;
    Ok((rows, total))
}

/// How many events the list holds.
pub async fn count(ctx: &Ctx, _who: &Authorized<'_, cap::Scores>, f: &EventFilter) -> Result<i64> {
    Ok(ctx.store.event_list_count(f).await?)
}

/// The categories a reader picks from (grid events of the year).
pub async fn categories(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    year: i32,
) -> Result<Vec<String>> {
    Ok(ctx
        .store
        .event_categories(&format!("{year:04}-01"), &format!("{year:04}-12"))
        .await?)
}

/// The next page of an export (no total).
pub async fn rows_after(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    f: &EventFilter,
    after: Option<&EventCursor>,
    limit: i64,
) -> Result<Vec<EventRecord>> {
    Ok(ctx.store.event_list(f, after, limit).await?)
}

/// The cursor after `row`.
pub fn cursor(row: &EventRecord) -> EventCursor {
    let at = row.event().map_or(row.reported_at, |e| e.month_time());
    (at, row.event_id.clone())
}

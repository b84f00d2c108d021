//! The page 网格事件's data (issue 19): for a region's subtree and a year,
//! the months' counts and the share handled within the deadline, the same
//! by category and by urgency, the handling-time classes (with the class
//! holding the median and the 90th percentile), the open events already
//! past their deadline (oldest first: the list a 综治中心 works from), and
//! the call-outs' response times; each lower region's totals.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{Authorized, cap};
use pingan_core::RegionTree;
use pingan_core::events::HANDLING_EDGES;
use pingan_core::events::Urgency;
use pingan_core::labels::LedgerAction;
use pingan_store::{EventBreakdown, EventFilter, EventState, EventSumsBy};
use std::collections::BTreeMap;

/// Counts of a group of events.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub events: u64,
    pub timely: u64,
    pub handled: u64,
    /// Call-outs: Σ response seconds.
    pub response_seconds: f64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.events += o.events;
        self.timely += o.timely;
        self.handled += o.handled;
        self.response_seconds += o.response_seconds;
    }
    /// Share handled within the deadline, percent.
    pub fn timely_rate(&self) -> Option<f64> {
        (self.events > 0).then(|| self.timely as f64 * 100.0 / self.events as f64)
    }
    /// Mean response minutes (call-outs).
    pub fn mean_minutes(&self) -> Option<f64> {
        (self.events > 0).then(|| self.response_seconds / 60.0 / self.events as f64)
    }
}

/// An open grid event past its deadline.
#[derive(Clone, Debug)]
pub struct Overdue {
    pub event_id: String,
    pub region: usize,
    pub category: String,
    pub urgency: String,
    pub reported_at: f64,
    /// Hours past the deadline now.
    pub hours_over: f64,
}

pub struct EventsBoard {
    pub year: i32,
    /// Month → (grid, fire, medical).
    pub months: BTreeMap<u8, [Counts; 3]>,
    pub categories: BTreeMap<String, Counts>,
    pub urgencies: BTreeMap<String, Counts>,
    /// Handled grid events per handling-time class.
    pub classes: Vec<u64>,
    pub overdue: Vec<Overdue>,
    /// Each lower region's grid events and call-outs.
    pub children: Vec<(usize, [Counts; 3])>,
}

impl EventsBoard {
    /// The class (upper edge in minutes) holding quantile `q` of the
    /// handled grid events.
    pub fn class_of(&self, q: f64) -> Option<i64> {
        let n: u64 = self.classes.iter().sum();
        if n == 0 {
            return None;
        }
        let want = (q * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.classes.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(HANDLING_EDGES[i]);
            }
        }
        None
    }
}

fn counts_of(c: &EventBreakdown) -> Counts {
    Counts {
        events: c.events as u64,
        timely: c.timely as u64,
        handled: c.handled as u64,
        response_seconds: c.response_seconds,
    }
}

fn slot(kind: &str) -> Option<usize> {
    match kind {
        "grid" => Some(0),
        "fire" => Some(1),
        "medical" => Some(2),
        _ => None,
    }
}

/// Now, in seconds since 1970 (what is overdue is judged against it).
pub fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A subtree's year, its events overdue at `now`.
fn year_filter(tree: &RegionTree, root: usize, year: i32, now: f64) -> EventFilter {
    EventFilter {
        regions: base_regions(tree, root),
        from: format!("{year:04}-01"),
        to: format!("{year:04}-12"),
        kind: None,
        category: None,
        urgency: None,
        state: EventState::Overdue(now),
    }
}

/// The events' sums of a subtree's year: by month, by region and by
/// handling class.
type Sums = (Vec<EventBreakdown>, Vec<EventBreakdown>, Vec<(i64, i64)>);

/// What a subtree's year of sums is kept under.
fn board_key(tree: &RegionTree, root: usize, year: i32) -> String {
    format!("events-board:{year}:{}", tree.get(root).code)
}

/// The year's and subtree's sums (`filter`), kept under `key` until the
/// next events import.
async fn kept_sums(ctx: &Ctx, key: &str, filter: &EventFilter) -> Result<std::sync::Arc<Sums>> {
    ctx.versioned(
        key,
        &[LedgerAction::ImportEvents, LedgerAction::ImportRegions],
        // At once, each on its own connection: a province's year is a
        // scan of its 236,287 groups for each (0.25–0.4 s on SQLite).
        async {
            Ok(tokio::try_join!(
                ctx.store.event_sums(filter, EventSumsBy::Month),
                ctx.store.event_sums(filter, EventSumsBy::Region),
                ctx.store.event_handling(filter),
            )?)
        },
    )
    .await
}

/// Read the newest year's sums for the whole province once, so that the
/// first visit to 网格事件 after a start finds them kept (a server calls
/// this in the background when it starts; failures are only logged).
pub async fn warm_up(ctx: Ctx) {
    let (Some(year), Ok(tree)) = (ctx.latest_year().await, ctx.tree().await) else {
        return;
    };
    let Some(root) = tree.root_index() else {
        return;
    };
    let now = now_seconds();
    let started = std::time::Instant::now();
    let filter = year_filter(&tree, root, year, now);
    match kept_sums(&ctx, &board_key(&tree, root, year), &filter).await {
        Ok(_) => tracing::info!(
            year,
            ms = started.elapsed().as_millis() as u64,
            "events board ready"
        ),
        Err(e) => tracing::info!(year, "no events board kept at start: {e}"),
    }
}

/// Overdue events shown.
pub const OVERDUE_SHOWN: usize = 200;

pub async fn board(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    tree: &RegionTree,
    root: usize,
    year: i32,
    now: f64,
) -> Result<EventsBoard> {
    let within = |code: &str| tree.find(code).filter(|&r| tree.is_within(r, root));
    let child_of = |r: usize| -> Option<usize> {
        let mut at = r;
        while let Some(p) = tree.get(at).parent {
            if p == root {
                return Some(at);
            }
            at = p;
        }
        None
    };
    let mut b = EventsBoard {
        year,
        months: BTreeMap::new(),
        categories: BTreeMap::new(),
        urgencies: BTreeMap::new(),
        classes: vec![0; HANDLING_EDGES.len()],
        overdue: Vec::new(),
        children: Vec::new(),
    };
    let mut children: BTreeMap<usize, [Counts; 3]> = BTreeMap::new();
    let filter = year_filter(tree, root, year, now);
    let kept = kept_sums(ctx, &board_key(tree, root, year), &filter).await?;
    let (by_month, by_region, handling) = kept.as_ref();
    for c in by_month {
        let (Some(k), Some(m)) = (
            slot(&c.kind),
            c.month.get(5..7).and_then(|m| m.parse::<u8>().ok()),
        ) else {
            continue;
        };
        let counts = counts_of(c);
        b.months.entry(m).or_default()[k].add(&counts);
        if k == 0 {
            // '' for grid events without a category (the page names it).
            b.categories
                .entry(c.category.clone())
                .or_default()
                .add(&counts);
            b.urgencies
                .entry(c.urgency.clone())
                .or_default()
                .add(&counts);
        }
    }
    for c in by_region {
        if let (Some(r), Some(k)) = (within(&c.region), slot(&c.kind))
            && let Some(ch) = child_of(r)
        {
            children.entry(ch).or_default()[k].add(&counts_of(c));
        }
    }
    for (class, n) in handling {
        if let Some(slot) = b.classes.get_mut(*class as usize) {
            *slot += *n as u64;
        }
    }
    for o in ctx
        .store
        .overdue_events(
            // The year's, as the count beside it and the list it links to.
            &filter,
            now,
            OVERDUE_SHOWN as i64,
        )
        .await?
    {
        let Some(r) = within(&o.region) else { continue };
        let deadline = o
            .urgency
            .as_deref()
            .and_then(Urgency::parse)
            .map_or(86_400.0, Urgency::deadline);
        b.overdue.push(Overdue {
            event_id: o.event_id,
            region: r,
            category: o.category,
            urgency: o.urgency.unwrap_or_default(),
            reported_at: o.reported_at,
            hours_over: (now - o.reported_at - deadline) / 3600.0,
        });
    }
    b.children = children.into_iter().collect();
    Ok(b)
}

/// The codes of the base regions under `root` (events are stored under
/// them); None for the whole tree.
pub fn base_regions(tree: &RegionTree, root: usize) -> Option<Vec<String>> {
    tree.get(root).parent?;
    Some(
        pingan_input::excel::base_regions(tree, Some(root), &[])
            .into_iter()
            .map(|r| tree.get(r).code.clone())
            .collect(),
    )
}

//! Event records into the store (issue 19, events.md): a file is read and
//! checked whole, compared with what is stored (the same version again is a
//! duplicate, an older one changes nothing, another row under a stored
//! `updated_at` is a conflict), the newer versions written with one ledger
//! entry, and the eight derived elements of every touched year written
//! again from all stored events through the values intake (网格平台 for
//! grid events, 应急指挥 for call-outs: checked, in the ledger, rescored).

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::imports::ImportSummary;
use crate::values::ImportOptions;
use crate::{Authorized, Loc, Problem, cap};
use pingan_core::Period;
use pingan_core::events::{ELEMENTS, Kind};
use pingan_store::NewEvent;
use std::collections::{BTreeMap, BTreeSet};

/// Sources the derived values are stored under.
pub const GRID_SOURCE: &str = "网格平台";
pub const EMERGENCY_SOURCE: &str = "应急指挥";

/// What an import of events did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EventsSummary {
    pub file: String,
    pub dry_run: bool,
    pub rows: usize,
    /// Distinct events in the file.
    pub events: usize,
    /// Events stored for the first time, or in a newer version.
    pub written: usize,
    /// Rows repeating a version (in the file or already stored).
    pub duplicates: usize,
    /// Events whose stored version is newer than the file's.
    pub older: usize,
    pub import_id: Option<i64>,
    /// The derived values' import.
    pub values: Option<ImportSummary>,
}

fn month_text(m: (i32, u8)) -> String {
    format!("{:04}-{:02}", m.0, m.1)
}

/// Import the record file `name` (CSV or JSON Lines).
pub async fn import_events(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    name: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<EventsSummary> {
    let tree = ctx.tree().await?;
    let text = pingan_input::decode(bytes);
    let read = pingan_input::events::read_events(name, &text, &tree).map_err(|e| {
        ServiceError::Rejected(
            e.0.into_iter()
                .map(|e| {
                    Problem::new(
                        Loc::File {
                            file: name.to_string(),
                            line: e.line,
                        },
                        e.message,
                    )
                })
                .collect(),
        )
    })?;
    let ids: Vec<&str> = read.ids.iter().map(|i| i.as_ref()).collect();
    let stored = ctx.store.event_versions(&ids).await?;
    let mut s = EventsSummary {
        file: name.to_string(),
        dry_run,
        rows: read.rows,
        events: read.events.len(),
        written: 0,
        duplicates: read.duplicates,
        older: 0,
        import_id: None,
        values: None,
    };
    let mut new = Vec::new();
    let mut conflicts = Vec::new();
    let mut years = BTreeSet::new();
    for (i, e) in read.events.iter().enumerate() {
        let digest = format!("{:032x}", read.digests[i]);
        match stored.get(ids[i]) {
            Some((u, d)) if *u == e.updated && *d == digest => {
                s.duplicates += 1;
                continue;
            }
            Some((u, _)) if *u == e.updated => {
                if conflicts.len() < pingan_input::MAX_ERRORS {
                    conflicts.push(Problem::new(
                        Loc::File {
                            file: name.to_string(),
                            line: Some(read.lines[i]),
                        },
                        format!(
                            "事件“{}”的这一版本（updated_at 相同）已保存且内容不同",
                            ids[i]
                        ),
                    ));
                }
                continue;
            }
            Some((u, _)) if *u > e.updated => {
                s.older += 1;
                continue;
            }
            _ => {}
        }
        let month = e.month();
        years.insert(month.0);
        new.push(NewEvent {
            event_id: ids[i].to_string(),
            kind: e.kind.code().to_string(),
            region: tree.get(e.region).code.clone(),
            category: read.categories[i].to_string(),
            urgency: e.urgency.map(|u| u.label().to_string()),
            departments: i64::from(e.departments),
            reported_at: e.reported,
            handled_at: e.handled,
            dispatched_at: e.dispatched,
            arrived_at: e.arrived,
            updated_at: e.updated,
            month: month_text(month),
            digest,
        });
    }
    if !conflicts.is_empty() {
        return Err(ServiceError::Rejected(conflicts));
    }
    s.written = new.len();
    if dry_run || new.is_empty() {
        return Ok(s);
    }
    let sha = pingan_store::sha256_hex(bytes);
    s.import_id = Some(
        ctx.store
            .write_events(name, &sha, s.rows, s.duplicates, &new, &who.actor())
            .await?,
    );
    s.values = Some(derive(ctx, who, name, &years).await?);
    Ok(s)
}

/// Write the derived elements of `years` from every stored event.
async fn derive(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    name: &str,
    years: &BTreeSet<i32>,
) -> Result<ImportSummary> {
    let tree = ctx.tree().await?;
    let mut cells: BTreeMap<(usize, i32, u8), [f64; 8]> = BTreeMap::new();
    for y in years {
        let mut last = 0u8;
        let mut active = BTreeSet::new();
        for c in ctx
            .store
            .event_cells(&format!("{y:04}-01"), &format!("{y:04}-12"))
            .await?
        {
            let (Some(region), Some(m)) = (tree.find(&c.region), c.month.get(5..7)) else {
                continue;
            };
            let Ok(m) = m.parse::<u8>() else { continue };
            last = last.max(m);
            active.insert(region);
            let v = cells.entry((region, *y, m)).or_insert([0.0; 8]);
            match Kind::parse(&c.kind) {
                Some(Kind::Grid) => {
                    v[0] += c.events as f64;
                    v[1] += c.timely as f64;
                    v[2] += c.joint as f64;
                    v[3] += c.joint_timely as f64;
                }
                Some(Kind::Fire) => {
                    v[4] += c.events as f64;
                    v[5] += c.response_seconds / 60.0;
                }
                Some(Kind::Medical) => {
                    v[6] += c.events as f64;
                    v[7] += c.response_seconds / 60.0;
                }
                None => {}
            }
        }
        for r in active {
            for m in 1..=last {
                cells.entry((r, *y, m)).or_insert([0.0; 8]);
            }
        }
    }
    let caller = who.caller();
    let mut intake = crate::intake::Intake::open(
        ctx,
        caller,
        crate::intake::Channel::File {
            name: format!("{name}（派生数据项）"),
        },
    )
    .await?;
    let elements: Vec<Option<usize>> = ELEMENTS
        .iter()
        .map(|e| intake.framework().element_index(e))
        .collect();
    let mut n = 0;
    let mut text = String::new();
    for ((region, y, m), v) in &cells {
        for (k, x) in v.iter().enumerate() {
            let Some(element) = elements[k] else { continue };
            n += 1;
            text.push_str(&format!(
                "{},{y}-{m:02},{},{x}\n",
                tree.get(*region).code,
                ELEMENTS[k]
            ));
            let source = if k < 4 { GRID_SOURCE } else { EMERGENCY_SOURCE };
            if let Err(msg) = intake.push(
                crate::intake::At::Line(n),
                *region,
                Period::Month(*y, *m),
                element,
                *x,
                source,
                "",
            ) {
                intake.problem(crate::intake::At::Line(n), msg);
            }
        }
    }
    let batch = intake.finish(
        &format!("{name}（派生数据项）"),
        pingan_store::sha256_hex(text.as_bytes()),
    )?;
    crate::values::import(ctx, who, batch, ImportOptions::default()).await
}

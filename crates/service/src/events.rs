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
use crate::{Authorized, Caller, Loc, Problem, cap};
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

fn digest_text(d: u128) -> String {
    let mut out = String::with_capacity(32);
    push_digest(&mut out, d);
    out
}

/// `digest_text` onto the end of `out` (millions per load: by hand, not
/// through `format!`).
fn push_digest(out: &mut String, d: u128) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..32).rev() {
        out.push(HEX[((d >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// Bytes per event in `written_texts`: its month (`YYYY-MM`) and digest.
const TEXT: usize = 7 + 32;

/// The months and digests of `read`'s events `which`, one after another in
/// one string (`written` borrows them from it).
pub fn written_texts(read: &pingan_input::events::EventsRead<'_>, which: &[usize]) -> String {
    let mut out = String::with_capacity(which.len() * TEXT);
    for &i in which {
        pingan_core::events::push_month(&mut out, read.events[i].month());
        push_digest(&mut out, read.digests[i]);
    }
    out
}

/// `read`'s events `which` as the store writes them, borrowing the file's
/// text, the regions' codes and `texts` (from `written_texts`).
pub fn written<'a>(
    read: &'a pingan_input::events::EventsRead<'_>,
    which: &[usize],
    tree: &'a pingan_core::RegionTree,
    texts: &'a str,
) -> Vec<NewEvent<'a>> {
    which
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let e = &read.events[i];
            let text = &texts[k * TEXT..(k + 1) * TEXT];
            NewEvent {
                event_id: &read.ids[i],
                kind: e.kind.code(),
                region: &tree.get(e.region).code,
                category: &read.categories[i],
                urgency: e.urgency.map(|u| u.label()),
                departments: i64::from(e.departments),
                reported_at: e.reported,
                handled_at: e.handled,
                dispatched_at: e.dispatched,
                arrived_at: e.arrived,
                updated_at: e.updated,
                month: &text[..7],
                digest: &text[7..],
            }
        })
        .collect()
}

/// Import the record file `name` (CSV or JSON Lines).
pub async fn import_events(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    name: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<EventsSummary> {
    let text = pingan_input::decode(bytes);
    let at = |line: Option<usize>| Loc::File {
        file: name.to_string(),
        line,
    };
    run(
        ctx,
        who.caller(),
        name,
        &text,
        pingan_store::sha256_hex(bytes),
        &at,
        dry_run,
    )
    .await
}

/// A batch from a platform (`POST /api/v1/events`): the items as JSON
/// objects with the file's keys, problems by item index (0 first).
pub async fn import_batch(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Events>,
    items: &[serde_json::Value],
    dry_run: bool,
) -> Result<EventsSummary> {
    if items.is_empty() {
        return Err(ServiceError::invalid("events 为空：至少报送一条事件记录"));
    }
    let mut text = String::new();
    for i in items {
        text.push_str(&i.to_string());
        text.push('\n');
    }
    let name = format!("接口批次（{} 条）", items.len());
    let at = |line: Option<usize>| match line {
        Some(l) => Loc::Index { index: l - 1 },
        None => Loc::Whole,
    };
    let sha = pingan_store::sha256_hex(text.as_bytes());
    run(ctx, who.caller(), &name, &text, sha, &at, dry_run).await
}

async fn run(
    ctx: &Ctx,
    caller: &Caller,
    name: &str,
    text: &str,
    sha: String,
    at: &(dyn Fn(Option<usize>) -> Loc + Sync),
    dry_run: bool,
) -> Result<EventsSummary> {
    let submit = caller.authorize::<cap::Submit>()?;
    let started = std::time::Instant::now();
    let tree = ctx.tree().await?;
    let read = pingan_input::events::read_events(name, text, &tree).map_err(|e| {
        ServiceError::Rejected(
            e.0.into_iter()
                .map(|e| Problem::new(at(e.line), e.message))
                .collect(),
        )
    })?;
    // Each kind is its department's: the caller sends only the kinds whose
    // first element it submits, in its own regions.
    let fw = ctx.store.known_codes().await?;
    let owns = |k: Kind| {
        let first = match k {
            Kind::Grid => ELEMENTS[0],
            Kind::Fire => ELEMENTS[4],
            Kind::Medical => ELEMENTS[6],
        };
        fw.element_index(first)
            .is_some_and(|e| caller.submits_for(&fw.elements[e].department))
    };
    let mut refused = Vec::new();
    for (i, e) in read.events.iter().enumerate() {
        if refused.len() >= pingan_input::MAX_ERRORS {
            break;
        }
        if !owns(e.kind) {
            refused.push(Problem::new(
                at(Some(read.lines[i])),
                format!("{}不由本部门报送", e.kind.label()),
            ));
        } else if !caller.sees(&tree, e.region) {
            refused.push(Problem::new(
                at(Some(read.lines[i])),
                format!("地区“{}”不在您的数据范围内", tree.get(e.region).code),
            ));
        }
    }
    if !refused.is_empty() {
        return Err(ServiceError::Rejected(refused));
    }
    let read_at = started.elapsed();
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
    let mut new = Vec::with_capacity(read.events.len());
    let mut conflicts = Vec::new();
    let mut years = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for (i, e) in read.events.iter().enumerate() {
        match stored.get(ids[i]) {
            Some((u, d)) if *u == e.updated && *d == digest_text(read.digests[i]) => {
                s.duplicates += 1;
                continue;
            }
            Some((u, _)) if *u == e.updated => {
                if conflicts.len() < pingan_input::MAX_ERRORS {
                    conflicts.push(Problem::new(
                        at(Some(read.lines[i])),
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
        years.insert(e.month().0);
        kinds.insert(e.kind.code());
        new.push(i);
    }
    if !conflicts.is_empty() {
        return Err(ServiceError::Rejected(conflicts));
    }
    s.written = new.len();
    if dry_run || new.is_empty() {
        return Ok(s);
    }
    let texts = written_texts(&read, &new);
    let new = written(&read, &new, &tree, &texts);
    let compared_at = started.elapsed();
    s.import_id = Some(
        ctx.store
            .write_events(name, &sha, s.rows, s.duplicates, &new, &caller.actor())
            .await?,
    );
    drop(new);
    let written_at = started.elapsed();
    s.values = Some(derive(ctx, &submit, name, &years, &kinds).await?);
    tracing::info!(
        rows = s.rows,
        read_ms = read_at.as_millis() as u64,
        compare_ms = (compared_at - read_at).as_millis() as u64,
        write_ms = (written_at - compared_at).as_millis() as u64,
        derive_ms = (started.elapsed() - written_at).as_millis() as u64,
        "events imported"
    );
    Ok(s)
}

/// Write the derived elements of `years` from every stored event: those
/// of the `kinds` just written (another kind's elements are its
/// department's, perhaps in review), zero-filled over every region with
/// an event of any kind that year.
async fn derive(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    name: &str,
    years: &BTreeSet<i32>,
    kinds: &BTreeSet<&str>,
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
    // Only the caller's own elements (a department's platform derives its
    // kinds; the office all of them).
    let kind_of = |k: usize| match k {
        0..4 => "grid",
        4 | 5 => "fire",
        _ => "medical",
    };
    let elements: Vec<Option<usize>> = ELEMENTS
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let fw = intake.framework();
            fw.element_index(e).filter(|&i| {
                kinds.contains(kind_of(k)) && who.caller().submits_for(&fw.elements[i].department)
            })
        })
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

#[cfg(test)]
mod tests {
    #[test]
    fn digest_text_is_32_hex_digits() {
        for d in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            assert_eq!(super::digest_text(d), format!("{d:032x}"));
        }
    }
}

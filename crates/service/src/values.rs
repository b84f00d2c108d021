//! Reported values: reading them within the caller's scope, and storing a
//! submission (`intake::ValueBatch`) — classified against what is stored,
//! refused whole when it would change a locked set, then written in one
//! transaction and, for the office's direct import, rescored.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::imports::{ImportKind, ImportSummary};
use crate::intake::ValueBatch;
use crate::{Authorized, cap};
use pingan_core::Period;
use pingan_core::labels::ValueState;
use pingan_core::review::{SetKey, refuse_locked};
use pingan_store::{NewValue, StoredValue, ValuesWrite};
use rustc_hash::FxHashMap;
use serde_json::json;

/// Which values to read; at least one is needed.
#[derive(Clone, Debug, Default)]
pub struct ValueFilter {
    pub region: Option<String>,
    pub period: Option<String>,
    pub element: Option<String>,
}

/// Stored values with provenance, within the caller's region and
/// department scope.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Values>,
    f: &ValueFilter,
) -> Result<Vec<StoredValue>> {
    if let Some(p) = &f.period {
        p.parse::<Period>()
            .map_err(|e| ServiceError::invalid(format!("参数 period：{e}")))?;
    }
    let tree = ctx.tree().await?;
    if let Some(r) = &f.region {
        who.region_in_scope(&tree, r)?;
    }
    let fw = ctx.store.known_codes().await?;
    let dept = |code: &str| {
        fw.element_index(code)
            .map(|i| fw.elements[i].department.clone())
    };
    if let Some(e) = &f.element {
        let d = dept(e)
            .ok_or_else(|| ServiceError::invalid(format!("参数 element：未知的数据项 {e}")))?;
        if !who.element_allowed(&d) {
            return Err(ServiceError::forbidden("无权访问其他部门的数据项"));
        }
    }
    let rows = ctx
        .store
        .values(
            f.region.as_deref(),
            f.period.as_deref(),
            f.element.as_deref(),
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|v| tree.find(&v.region).is_some_and(|i| who.sees(&tree, i)))
        .filter(|v| dept(&v.element).is_some_and(|d| who.element_allowed(&d)))
        .collect())
}

/// How a submission enters.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// For a caller who may import directly: send the values through the
    /// three-level review instead. Everyone else's always go through it.
    pub review: bool,
    /// Keep values that break a rule of high importance (history imported
    /// as it was, to be flagged by `pingan check`): only the operator at
    /// the command line may; it is noted in the ledger.
    pub accept_breaches: bool,
}

/// The validation rules on the batch (`pingan_core::quality::intake`):
/// high-importance breaches refuse it, each where it is; the others become
/// notes. The operator may accept breaches, which are then notes too.
fn judge(
    who: &crate::Caller,
    batch: &ValueBatch,
    opts: &ImportOptions,
    notes: &mut Vec<String>,
) -> Result<()> {
    let started = std::time::Instant::now();
    let breaches = crate::intake::breaches(&batch.fw, &batch.tree, &batch.rows);
    tracing::debug!(
        rows = batch.rows.len(),
        breaches = breaches.len(),
        ms = started.elapsed().as_millis() as u64,
        "validation rules on the import"
    );
    let accept = opts.accept_breaches && matches!(who.principal, crate::Principal::Operator(_));
    let (hard, soft): (Vec<_>, Vec<_>) = breaches.into_iter().partition(|b| b.hard && !accept);
    if !hard.is_empty() {
        return Err(ServiceError::Rejected(
            hard.into_iter()
                .take(pingan_input::MAX_ERRORS)
                .map(|b| crate::Problem::new(batch.loc(batch.rows[b.row].at), b.message))
                .collect(),
        ));
    }
    const SHOWN: usize = 20;
    for b in soft.iter().take(SHOWN) {
        notes.push(format!("提示：{}", b.message));
    }
    if soft.len() > SHOWN {
        notes.push(format!(
            "另有 {} 条提示未列出（pingan check 可查看全部）",
            soft.len() - SHOWN
        ));
    }
    Ok(())
}

/// Store a submission: idempotent on (region, period, element, source);
/// a value in an approved, locked set is never changed. Values from a
/// caller who may import directly count at once (unless `review`); the
/// others wait for the three-level review.
pub async fn import(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Submit>,
    batch: ValueBatch,
    opts: ImportOptions,
) -> Result<ImportSummary> {
    let intake = if who.can(pingan_core::access::Cap::DirectImport) && !opts.review {
        ValueState::Approved
    } else {
        ValueState::Pending
    };
    let direct = intake == ValueState::Approved;
    let (fw, tree) = (&batch.fw, &batch.tree);
    let mut s = ImportSummary::new(
        ImportKind::Values,
        &batch.name,
        opts.dry_run,
        batch.sha256.clone(),
    );
    s.rows = batch.rows.len();
    judge(who, &batch, &opts, &mut s.notes)?;
    let mut years: Vec<i32> = batch.rows.iter().map(|r| r.period.year()).collect();
    years.sort();
    years.dedup();

    // What is already stored for these years, to tell new from changed: a
    // submission compares with the key's pending row where there is one
    // (else the approved one), a direct import with the approved row.
    let source_id: FxHashMap<&str, u32> = batch
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let mut existing: FxHashMap<(usize, Period, usize, u32), (f64, String)> = FxHashMap::default();
    // A small submission is compared with its own keys' rows, a file with
    // its years' (cheaper than a million lookups).
    let stored = if batch.rows.len() <= pingan_store::KEYED_MAX {
        let mut keys: Vec<(&str, String, &str)> = batch
            .rows
            .iter()
            .map(|r| {
                (
                    tree.get(r.region).code.as_str(),
                    r.period.to_string(),
                    fw.elements[r.element].code.as_str(),
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        let keys: Vec<(&str, &str, &str)> = keys.iter().map(|k| (k.0, k.1.as_str(), k.2)).collect();
        ctx.store.value_records_at(&keys).await?
    } else {
        ctx.store.value_records(&years).await?
    };
    for row in stored {
        let pending = row.review == ValueState::Pending.code();
        if pending && direct {
            continue;
        }
        let (Some(r), Ok(per), Some(e), Some(&src)) = (
            tree.find(&row.region),
            row.period.parse::<Period>(),
            fw.element_index(&row.element),
            source_id.get(row.source.as_str()),
        ) else {
            continue;
        };
        let key = (r, per, e, src);
        if pending || !existing.contains_key(&key) {
            existing.insert(key, (row.value, row.note));
        }
    }
    let mut records = Vec::new();
    for r in &batch.rows {
        let new = (r.value, r.note.clone());
        if !s.count(
            existing.get(&(r.region, r.period, r.element, r.source)),
            &new,
        ) {
            continue;
        }
        records.push(NewValue {
            region: tree.get(r.region).code.clone(),
            period: r.period.to_string(),
            year: r.period.year(),
            element: fw.elements[r.element].code.clone(),
            source: batch.sources[r.source as usize].clone(),
            value: r.value,
            note: r.note.clone(),
        });
    }
    drop(existing);
    let mut sets: Vec<SetKey> = records
        .iter()
        .map(|r| SetKey::of(fw, &r.region, &r.period, &r.element))
        .collect();
    sets.sort();
    sets.dedup();
    let states = ctx.store.set_states_of(&years, &sets).await?;
    refuse_locked(&sets, &states, tree, direct).map_err(ServiceError::Conflict)?;
    s.review = intake;
    s.data_sets = sets.len();
    if opts.dry_run || records.is_empty() {
        return Ok(s);
    }
    let mut detail = s.detail();
    detail["years"] = json!(years);
    detail["review"] = json!(intake.code());
    detail["data_sets"] = json!(sets.len());
    let recheck = |states: &FxHashMap<SetKey, pingan_core::review::State>| {
        refuse_locked(&sets, states, tree, direct)
    };
    let import_id = ctx
        .store
        .write_values(
            &ValuesWrite {
                file: &batch.name,
                sha256: &s.sha256,
                counts: [s.rows, s.imported, s.updated, s.ignored],
                values: &records,
                review: intake,
                sets: &sets,
                years: &years,
                detail,
            },
            &recheck,
            &who.actor(),
        )
        .await?;
    s.import_id = Some(import_id);
    // Pending values do not count yet, so official scores are unchanged.
    if direct {
        crate::scores::rescore(ctx, &years, &who.actor(), &mut s.rescored, &mut s.notes).await;
    }
    Ok(s)
}

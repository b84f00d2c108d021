//! The `quality_flags` table: the follow-up queue of the quality checks.
//! Flags are kept with their numbers; a reviewer resolves each as a
//! confirmed error (with the corrected value, kept under its own source)
//! or as explained.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::labels::{FlagStatus, LedgerAction, ValueState};
use pingan_core::period::Period;
use pingan_core::quality::{FlagKind, FlagView, Numbers};
use pingan_core::review::SetKey;
use serde::Serialize;
use serde_json::json;

/// The source name of a value corrected through the follow-up queue; the
/// original rows stay as they were.
pub const CORRECTION_SOURCE: &str = "核查更正";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoredFlag {
    pub id: i64,
    pub region: String,
    pub element: String,
    pub period: String,
    pub kind: FlagKind,
    pub rule: String,
    pub score: f64,
    pub message: String,
    pub numbers: Numbers,
    pub sources: Vec<String>,
    pub status: FlagStatus,
    pub found_at: String,
    pub found_by: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution: String,
    pub corrected_value: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    id: i64,
    region: String,
    element: String,
    period: String,
    kind: String,
    rule: String,
    score: f64,
    message: String,
    detail: String,
    status: String,
    found_at: String,
    found_by: String,
    resolved_at: Option<String>,
    resolved_by: Option<String>,
    resolution: String,
    corrected_value: Option<f64>,
}

/// A flag as a report counts it.
#[derive(Clone, Debug)]
pub struct FlagTally {
    pub region: String,
    pub element: String,
    pub period: String,
    pub kind: FlagKind,
    pub status: FlagStatus,
    pub score: f64,
}

impl From<FlagRow> for StoredFlag {
    fn from(r: FlagRow) -> StoredFlag {
        let view: Option<FlagView> = serde_json::from_str(&r.detail).ok();
        StoredFlag {
            id: r.id,
            region: r.region,
            element: r.element,
            period: r.period,
            kind: FlagKind::parse(&r.kind).unwrap_or(FlagKind::Rule),
            rule: r.rule,
            score: r.score,
            message: r.message,
            numbers: view.as_ref().map(|v| v.numbers.clone()).unwrap_or_default(),
            sources: view.map(|v| v.sources).unwrap_or_default(),
            status: r.status.parse().unwrap_or(FlagStatus::Open),
            found_at: r.found_at,
            found_by: r.found_by,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            resolution: r.resolution,
            corrected_value: r.corrected_value,
        }
    }
}

const FLAG_COLUMNS: &str = "id, region, element, period, kind, rule, score, message, detail, status, \
     found_at, found_by, resolved_at, resolved_by, resolution, corrected_value";

/// How a reviewer closes a flag.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// A confirmed error: the value becomes `value`; `reason` says why.
    Corrected { value: f64, reason: String },
    /// Not an error: `note` explains the number.
    Explained { note: String },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SaveSummary {
    pub found: usize,
    pub new: usize,
    pub updated: usize,
    /// Already resolved: kept as resolved.
    pub resolved_before: usize,
    /// Open before, within the check's period and scope, and not found
    /// again (the data was corrected, or the methods no longer see a
    /// problem): taken out of the queue.
    pub cleared: usize,
}

#[derive(Clone, Debug, Default)]
pub struct FlagFilter {
    pub status: Option<FlagStatus>,
    pub kind: Option<FlagKind>,
    pub year: Option<i32>,
    pub period: Option<String>,
    pub element: Option<String>,
    /// Only these regions (a scope's subtree), when given.
    pub regions: Option<Vec<String>>,
}

/// A correction's value, where it goes, and how it enters its set.
pub struct Correction<'a> {
    pub value: f64,
    pub year: i32,
    /// Pending while the value's set is in review; approved otherwise.
    pub review: ValueState,
    /// The set it joins: a correction is refused when that set was
    /// approved meanwhile, and restarts its levels when it is in review.
    pub set: &'a SetKey,
}

impl Store {
    /// Keep flags in the follow-up queue: new ones open, open ones refreshed,
    /// resolved ones left resolved, and open ones of the checked period in
    /// regions `in_scope` accepts that this check did not find again taken
    /// out (nobody had decided on them; the ledger entry counts them). One
    /// ledger entry for the run.
    pub async fn save_flags(
        &self,
        period: Period,
        flags: &[FlagView],
        in_scope: impl Fn(&str) -> bool + Send,
        actor: &Actor,
    ) -> Result<SaveSummary> {
        let at = crate::now();
        let mut s = SaveSummary {
            found: flags.len(),
            ..Default::default()
        };
        let mut tx = self.begin().await?;
        for f in flags {
            let rule = f.rule.clone().unwrap_or_default();
            let period_s = f.period.to_string();
            let existing: Option<(String,)> = on_tx!(tx, c => sqlx::query_as(
                "SELECT status FROM quality_flags WHERE region = $1 AND element = $2 AND period = $3 AND kind = $4 AND rule = $5"
            )
            .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.kind.code()).bind(&rule)
            .fetch_optional(&mut **c).await)?;
            let detail = serde_json::to_string(f).unwrap_or_default();
            match existing {
                Some((status,)) if status != FlagStatus::Open.code() => s.resolved_before += 1,
                Some(_) => {
                    on_tx!(tx, c => sqlx::query(
                        "UPDATE quality_flags SET score = $1, message = $2, detail = $3 \
                         WHERE region = $4 AND element = $5 AND period = $6 AND kind = $7 AND rule = $8"
                    )
                    .bind(f.score).bind(&f.message).bind(&detail)
                    .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.kind.code()).bind(&rule)
                    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
                    s.updated += 1;
                }
                None => {
                    on_tx!(tx, c => sqlx::query(
                        "INSERT INTO quality_flags (region, element, period, year, kind, rule, score, message, detail, status, found_at, found_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11)"
                    )
                    .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.period.year()).bind(f.kind.code())
                    .bind(&rule).bind(f.score).bind(&f.message).bind(&detail).bind(&at).bind(&actor.user)
                    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
                    s.new += 1;
                }
            }
        }
        let found: std::collections::HashSet<(&str, &str, String, &str, &str)> = flags
            .iter()
            .map(|f| {
                (
                    f.region.as_str(),
                    f.element.as_str(),
                    f.period.to_string(),
                    f.kind.code(),
                    f.rule.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        type OpenRow = (i64, String, String, String, String, String);
        let open: Vec<OpenRow> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, region, element, period, kind, rule FROM quality_flags WHERE status = 'open' AND year = $1"
        )
        .bind(period.year())
        .fetch_all(&mut **c).await)?;
        let stale: Vec<i64> = open
            .into_iter()
            .filter(|(_, region, element, p, kind, rule)| {
                p.parse::<Period>()
                    .is_ok_and(|p| pingan_core::quality::within(p, period))
                    && in_scope(region)
                    && !found.contains(&(
                        region.as_str(),
                        element.as_str(),
                        p.clone(),
                        kind.as_str(),
                        rule.as_str(),
                    ))
            })
            .map(|r| r.0)
            .collect();
        for chunk in stale.chunks(crate::tx::BATCH) {
            let sql = format!(
                "DELETE FROM quality_flags WHERE id IN ({})",
                crate::tx::numbered_list(chunk.len())
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        s.cleared = stale.len();
        let entry = NewEntry::new(
            LedgerAction::QualityCheck,
            &format!("period:{period}"),
            json!({"found": s.found, "new": s.new, "updated": s.updated, "resolved_before": s.resolved_before, "cleared": s.cleared}),
        );
        tx.append(actor, &entry).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// The queue, in region order, matching every filter given.
    pub async fn flags(&self, f: &FlagFilter) -> Result<Vec<StoredFlag>> {
        let sql = format!(
            "SELECT {FLAG_COLUMNS} FROM quality_flags \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR kind = $2) \
             AND ($3 IS NULL OR year = $3) AND ($4 IS NULL OR period = $4) AND ($5 IS NULL OR element = $5) \
             ORDER BY region, period, element, kind, id"
        );
        let rows: Vec<FlagRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.status.map(|s| s.code()))
            .bind(f.kind.map(|k| k.code()))
            .bind(f.year)
            .bind(f.period.clone())
            .bind(f.element.clone())
            .fetch_all(p).await)?;
        let keep: Option<rustc_hash::FxHashSet<&str>> = f
            .regions
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect());
        Ok(rows
            .into_iter()
            .filter(|r| keep.as_ref().is_none_or(|k| k.contains(r.region.as_str())))
            .map(StoredFlag::from)
            .collect())
    }

    /// Every flag of a year in a few columns (no message, no detail): what
    /// a report counts, read once for a batch of reports.
    pub async fn flag_tally(&self, year: i32) -> Result<Vec<FlagTally>> {
        let rows: Vec<(String, String, String, String, String, f64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT region, element, period, kind, status, score FROM quality_flags WHERE year = $1")
            .bind(year).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(region, element, period, kind, status, score)| FlagTally {
                region,
                element,
                period,
                kind: FlagKind::parse(&kind).unwrap_or(FlagKind::Rule),
                status: status.parse().unwrap_or(FlagStatus::Open),
                score,
            })
            .collect())
    }

    pub async fn flag(&self, id: i64) -> Result<Option<StoredFlag>> {
        let sql = format!("SELECT {FLAG_COLUMNS} FROM quality_flags WHERE id = $1");
        let row: Option<FlagRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?;
        Ok(row.map(StoredFlag::from))
    }

    /// Close an open flag in one transaction: its status, the corrected
    /// value if any (under `CORRECTION_SOURCE`, the year's scores dropped;
    /// a set in review starts its levels again), one ledger entry. Refused
    /// when the flag was closed meanwhile or the set was approved.
    pub async fn resolve_flag(
        &self,
        flag: &StoredFlag,
        resolution: &Resolution,
        correction: Option<&Correction<'_>>,
        actor: &Actor,
    ) -> Result<()> {
        let (status, text) = match resolution {
            Resolution::Corrected { reason, .. } => (FlagStatus::Corrected, reason.trim()),
            Resolution::Explained { note } => (FlagStatus::Explained, note.trim()),
        };
        let value = correction.map(|c| c.value);
        let id = flag.id;
        let at = crate::now();
        let mut tx = if correction.is_some() {
            self.begin_locked().await?
        } else {
            self.begin().await?
        };
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE quality_flags SET status = $1, resolved_at = $2, resolved_by = $3, resolution = $4, corrected_value = $5 \
             WHERE id = $6 AND status = 'open'"
        )
        .bind(status.code()).bind(&at).bind(&actor.user).bind(text).bind(value).bind(id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "待核查问题 {id} 已处理，不能重复处理"
            )));
        }
        if let Some(c) = correction {
            tx.restart_set(c.set, text, &actor.user, &at).await?;
        }
        let mut detail = json!({
            "flag": id, "region": flag.region, "element": flag.element, "period": flag.period,
            "kind": flag.kind.code(), "status": status.code(),
        });
        if let Some(c) = correction {
            let before: Option<(f64, String)> = on_tx!(tx, cn => sqlx::query_as(
                "SELECT value, source FROM data_values WHERE region = $1 AND period = $2 AND element = $3 \
                 ORDER BY submitted_at DESC, source LIMIT 1"
            )
            .bind(&flag.region).bind(&flag.period).bind(&flag.element)
            .fetch_optional(&mut **cn).await)?;
            on_tx!(tx, cn => sqlx::query(
                "INSERT INTO data_values (region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10) ON CONFLICT (region, period, element, source, review) DO UPDATE SET \
                 value = excluded.value, note = excluded.note, submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at"
            )
            .bind(&flag.region).bind(&flag.period).bind(c.year).bind(&flag.element).bind(CORRECTION_SOURCE)
            .bind(c.value).bind(text).bind(&actor.user).bind(&at).bind(c.review.code())
            .execute(&mut **cn).await.map(|r| r.rows_affected()))?;
            tx.touch(&flag.region, &flag.period, c.review == ValueState::Approved);
            tx.invalidate_years(&[c.year]).await?;
            detail["before"] = json!(before.map(|b| json!({"value": b.0, "source": b.1})));
            detail["after"] = json!({"value": c.value, "source": CORRECTION_SOURCE});
        }
        let mut entry = NewEntry::new(LedgerAction::QualityResolve, &format!("flag:{id}"), detail);
        entry.reason = text.to_string();
        tx.append(actor, &entry).await?;
        tx.commit().await
    }
}

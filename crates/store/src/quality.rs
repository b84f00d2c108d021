//! Quality checks over stored values and the follow-up queue (seed §3.4,
//! §6.1): flags are kept with their numbers; reviewers resolve each one as a
//! confirmed error (with the corrected value) or as explained.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::scores::invalidate_years_in;
use crate::{Actor, Result, StoreError};
use pingan_core::period::{Date, Period};
use pingan_core::quality::rules::RuleSet;
use pingan_core::quality::{self, FlagKind, FlagView, Numbers, Observation, Report};
use pingan_core::{Framework, RegionTree};
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
    /// `open`, `corrected` or `explained`.
    pub status: String,
    pub found_at: String,
    pub found_by: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution: String,
    pub corrected_value: Option<f64>,
}

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
}

#[derive(Clone, Debug, Default)]
pub struct FlagFilter {
    pub status: Option<String>,
    pub kind: Option<FlagKind>,
    pub year: Option<i32>,
    pub period: Option<String>,
    pub element: Option<String>,
    /// Only these regions (a scope's subtree), when given.
    pub regions: Option<Vec<String>>,
}

type FlagRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    f64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<f64>,
);

const FLAG_COLUMNS: &str = "id, region, element, period, kind, rule, score, message, detail, status, \
     found_at, found_by, resolved_at, resolved_by, resolution, corrected_value";

fn from_row(r: FlagRow) -> StoredFlag {
    let view: Option<FlagView> = serde_json::from_str(&r.8).ok();
    StoredFlag {
        id: r.0,
        region: r.1,
        element: r.2,
        period: r.3,
        kind: FlagKind::parse(&r.4).unwrap_or(FlagKind::Rule),
        rule: r.5,
        score: r.6,
        message: r.7,
        numbers: view.as_ref().map(|v| v.numbers.clone()).unwrap_or_default(),
        sources: view.map(|v| v.sources).unwrap_or_default(),
        status: r.9,
        found_at: r.10,
        found_by: r.11,
        resolved_at: r.12,
        resolved_by: r.13,
        resolution: r.14,
        corrected_value: r.15,
    }
}

/// An RFC 3339 UTC timestamp's digits as a number that sorts like the text.
fn time_key(at: &str) -> u64 {
    at.bytes()
        .filter(u8::is_ascii_digit)
        .take(17)
        .fold(0u64, |k, d| k * 10 + u64::from(d - b'0'))
}

impl Store {
    /// Every stored value up to the end of `year`, latest submission first
    /// within each key (the value scoring reads), with its submission date.
    /// The rows come packed one text per region and are ordered here: a
    /// check reads millions of rows, and row-by-row decoding (sqlx's SQLite
    /// worker hands each row across threads) took most of its time.
    pub async fn observations(
        &self,
        fw: &Framework,
        tree: &RegionTree,
        year: i32,
    ) -> Result<Vec<Observation>> {
        // Fields split by U+001F, rows by U+001E; the source comes last so
        // that any text in it survives.
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                "SELECT region, group_concat(period || char(31) || element || char(31) || printf('%.17g', value) \
                 || char(31) || submitted_at || char(31) || source, char(30)) \
                 FROM data_values WHERE year <= $1 GROUP BY region"
            }
            crate::Backend::Postgres => {
                "SELECT region, string_agg(period || chr(31) || element || chr(31) || value::text \
                 || chr(31) || submitted_at || chr(31) || source, chr(30)) \
                 FROM data_values WHERE year <= $1 GROUP BY region"
            }
        };
        let packed: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(year).fetch_all(p).await)?;
        let mut out: Vec<(Observation, u64)> = Vec::new();
        let mut periods: rustc_hash::FxHashMap<&str, Period> = Default::default();
        for (region, rows) in &packed {
            let Some(r) = tree.find(region) else { continue };
            for row in rows.split('\u{1e}') {
                let mut f = row.splitn(5, '\u{1f}');
                let (Some(per_s), Some(el), Some(v), Some(at), Some(source)) =
                    (f.next(), f.next(), f.next(), f.next(), f.next())
                else {
                    continue;
                };
                let per = match periods.get(per_s) {
                    Some(p) => *p,
                    None => match per_s.parse::<Period>() {
                        Ok(p) => {
                            periods.insert(per_s, p);
                            p
                        }
                        Err(_) => continue,
                    },
                };
                let (Some(e), Ok(value)) = (fw.element_index(el), v.parse::<f64>()) else {
                    continue;
                };
                out.push((
                    Observation {
                        region: r,
                        period: per,
                        element: e,
                        value,
                        source: source.to_string(),
                        submitted: Date::of_timestamp(at),
                    },
                    time_key(at),
                ));
            }
        }
        out.sort_by(|(a, ta), (b, tb)| {
            (a.region, a.period, a.element)
                .cmp(&(b.region, b.period, b.element))
                .then(tb.cmp(ta))
                .then_with(|| a.source.cmp(&b.source))
        });
        // A source's pending value and its approved one are one report: the
        // checks see the latest.
        let mut seen: rustc_hash::FxHashSet<(usize, Period, usize, String)> = Default::default();
        Ok(out
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| seen.insert((o.region, o.period, o.element, o.source.clone())))
            .collect())
    }

    /// Run the checks for `period` over the stored values.
    pub async fn run_check(
        &self,
        rules: Option<&RuleSet>,
        period: Period,
    ) -> Result<(std::sync::Arc<Framework>, RegionTree, Report)> {
        let fw = self
            .version_for(period.year())
            .await?
            .map(|v| v.framework)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "没有适用于 {} 年的指标体系：请先导入（pingan import framework）",
                    period.year()
                ))
            })?;
        let tree = self.region_tree().await?;
        let obs = self.observations(&fw, &tree, period.year()).await?;
        let owned;
        let rules = match rules {
            Some(r) => r,
            None => {
                owned = RuleSet::default_for(&fw);
                &owned
            }
        };
        let report = quality::check(&fw, &tree, rules, &obs, period);
        Ok((fw, tree, report))
    }

    /// Keep flags in the follow-up queue: new ones open, open ones refreshed,
    /// resolved ones left resolved. One ledger entry for the run.
    pub async fn save_flags(
        &self,
        period: Period,
        flags: &[FlagView],
        actor: &Actor,
    ) -> Result<SaveSummary> {
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let mut s = SaveSummary {
            found: flags.len(),
            ..Default::default()
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for f in flags {
                let rule = f.rule.clone().unwrap_or_default();
                let period_s = f.period.to_string();
                let existing: Option<(String,)> = sqlx::query_as(
                    "SELECT status FROM quality_flags WHERE region = $1 AND element = $2 AND period = $3 AND kind = $4 AND rule = $5"
                )
                .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.kind.code()).bind(&rule)
                .fetch_optional(&mut *tx).await?;
                let detail = serde_json::to_string(f).unwrap_or_default();
                match existing {
                    Some((status,)) if status != "open" => s.resolved_before += 1,
                    Some(_) => {
                        sqlx::query(
                            "UPDATE quality_flags SET score = $1, message = $2, detail = $3 \
                             WHERE region = $4 AND element = $5 AND period = $6 AND kind = $7 AND rule = $8"
                        )
                        .bind(f.score).bind(&f.message).bind(&detail)
                        .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.kind.code()).bind(&rule)
                        .execute(&mut *tx).await?;
                        s.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO quality_flags (region, element, period, year, kind, rule, score, message, detail, status, found_at, found_by) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11)"
                        )
                        .bind(&f.region).bind(&f.element).bind(&period_s).bind(f.period.year()).bind(f.kind.code())
                        .bind(&rule).bind(f.score).bind(&f.message).bind(&detail).bind(&at).bind(&actor.user)
                        .execute(&mut *tx).await?;
                        s.new += 1;
                    }
                }
            }
            let entry = NewEntry::new(
                "quality_check",
                &format!("period:{period}"),
                json!({"found": s.found, "new": s.new, "updated": s.updated, "resolved_before": s.resolved_before}),
            );
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(s)
    }

    /// The queue, newest first within region order.
    pub async fn flags(&self, f: &FlagFilter) -> Result<Vec<StoredFlag>> {
        let sql = format!(
            "SELECT {FLAG_COLUMNS} FROM quality_flags \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR kind = $2) \
             AND ($3 IS NULL OR year = $3) AND ($4 IS NULL OR period = $4) AND ($5 IS NULL OR element = $5) \
             ORDER BY region, period, element, kind, id"
        );
        let rows: Vec<FlagRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.status.clone())
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
            .filter(|r| keep.as_ref().is_none_or(|k| k.contains(r.1.as_str())))
            .map(from_row)
            .collect())
    }

    pub async fn flag(&self, id: i64) -> Result<Option<StoredFlag>> {
        let sql = format!("SELECT {FLAG_COLUMNS} FROM quality_flags WHERE id = $1");
        let row: Option<FlagRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?;
        Ok(row.map(from_row))
    }

    /// Close an open flag. A correction adds a value under the source
    /// 核查更正 (the latest submission, so scoring reads it) and rescores
    /// the year; the original rows stay. Both are in the ledger.
    pub async fn resolve_flag(
        &self,
        id: i64,
        resolution: &Resolution,
        actor: &Actor,
    ) -> Result<StoredFlag> {
        let (status, text, value) = match resolution {
            Resolution::Corrected { value, reason } => ("corrected", reason.trim(), Some(*value)),
            Resolution::Explained { note } => ("explained", note.trim(), None),
        };
        if text.is_empty() {
            return Err(StoreError::Invalid(match resolution {
                Resolution::Corrected { .. } => "请填写更正原因".into(),
                Resolution::Explained { .. } => "请填写情况说明".into(),
            }));
        }
        if value.is_some_and(|v| !v.is_finite()) {
            return Err(StoreError::Invalid("更正后的数值必须是有限数".into()));
        }
        let flag = self
            .flag(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("待核查问题 {id} 不存在")))?;
        let year = flag
            .period
            .parse::<Period>()
            .map(Period::year)
            .unwrap_or_default();
        // A correction joins the value's data set: refused while the set is
        // approved and locked, pending while it is in review.
        let mut review = "approved";
        let mut set_key = None;
        if value.is_some() {
            let fw = self.known_codes().await?;
            let key = crate::SetKey::of(&fw, &flag.region, &flag.period, &flag.element);
            match self.data_set(&key).await? {
                Some((set, _)) if set.state == pingan_core::review::State::Approved => {
                    let tree = self.region_tree().await?;
                    return Err(StoreError::Conflict(format!(
                        "数据集 {} 已审核锁定（{} 于 {} 确认），不能更正；请测评办管理员先解锁",
                        key.describe(&tree),
                        set.level3_by.unwrap_or_default(),
                        set.updated_at
                    )));
                }
                Some(_) => review = "pending",
                None => {}
            }
            set_key = Some(key);
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let numbered = self.backend() == crate::Backend::Postgres;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            crate::review::lock_sets_in!(tx, numbered && set_key.is_some());
            let n = sqlx::query(
                "UPDATE quality_flags SET status = $1, resolved_at = $2, resolved_by = $3, resolution = $4, corrected_value = $5 \
                 WHERE id = $6 AND status = 'open'"
            )
            .bind(status).bind(&at).bind(&actor.user).bind(text).bind(value).bind(id)
            .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(format!("待核查问题 {id} 已处理，不能重复处理")));
            }
            if let Some(k) = &set_key {
                // Again inside the transaction: approved since the check above?
                let now: Option<(String,)> = sqlx::query_as(
                    "SELECT state FROM data_sets WHERE department = $1 AND region = $2 AND period = $3"
                )
                .bind(&k.department).bind(&k.region).bind(&k.period)
                .fetch_optional(&mut *tx).await?;
                if now.as_ref().is_some_and(|s| s.0 == "approved") {
                    return Err(StoreError::Conflict("该数据集刚刚审核锁定，不能更正；请测评办管理员先解锁".into()));
                }
                // A correction inside a set under review is new data: the
                // levels start again, so none passes what it did not see.
                if now.is_some() {
                    let moved = sqlx::query(
                        "UPDATE data_sets SET state = 'submitted', reason = '', level1_by = NULL, level2_by = NULL, \
                         level3_by = NULL, updated_by = $4, updated_at = $5 \
                         WHERE department = $1 AND region = $2 AND period = $3 AND state IN ('level1', 'level2')"
                    )
                    .bind(&k.department).bind(&k.region).bind(&k.period).bind(&actor.user).bind(&at)
                    .execute(&mut *tx).await?.rows_affected();
                    if moved > 0 {
                        sqlx::query(
                            "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, reason, user_name, at) \
                             VALUES ($1, $2, $3, 'correct', $4, 'submitted', $5, $6, $7)"
                        )
                        .bind(&k.department).bind(&k.region).bind(&k.period)
                        .bind(now.as_ref().map(|s| s.0.as_str()).unwrap_or(""))
                        .bind(text).bind(&actor.user).bind(&at)
                        .execute(&mut *tx).await?;
                    }
                }
            }
            let mut detail = json!({
                "flag": id, "region": flag.region, "element": flag.element, "period": flag.period,
                "kind": flag.kind.code(), "status": status,
            });
            if let Some(v) = value {
                let before: Option<(f64, String)> = sqlx::query_as(
                    "SELECT value, source FROM data_values WHERE region = $1 AND period = $2 AND element = $3 \
                     ORDER BY submitted_at DESC, source LIMIT 1"
                )
                .bind(&flag.region).bind(&flag.period).bind(&flag.element)
                .fetch_optional(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO data_values (region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10) ON CONFLICT (region, period, element, source, review) DO UPDATE SET \
                     value = excluded.value, note = excluded.note, submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at"
                )
                .bind(&flag.region).bind(&flag.period).bind(year).bind(&flag.element).bind(CORRECTION_SOURCE)
                .bind(v).bind(text).bind(&actor.user).bind(&at).bind(review)
                .execute(&mut *tx).await?;
                invalidate_years_in!(tx, &[year]);
                detail["before"] = json!(before.map(|b| json!({"value": b.0, "source": b.1})));
                detail["after"] = json!({"value": v, "source": CORRECTION_SOURCE});
            }
            let mut entry = NewEntry::new("quality_resolve", &format!("flag:{id}"), detail);
            entry.reason = text.to_string();
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        if value.is_some() {
            // The correction is kept either way; a year that cannot be
            // scored yet is scored when its data is complete.
            if let Err(e) = self.compute_scores(Period::Year(year), actor).await {
                tracing::info!(year, error = %e, "not rescored after a correction");
            }
        }
        self.flag(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("待核查问题 {id} 不存在")))
    }
}

/// One department's reporting for one region and period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Submission {
    pub department: String,
    pub region: String,
    pub period: String,
    /// Values stored.
    pub values: i64,
    /// The first submission's time.
    pub first_at: String,
}

impl Store {
    /// What each department reported for each region and period of `year`
    /// (the 报送进度 board), by the framework in force that year.
    pub async fn submissions(&self, year: i32) -> Result<Vec<Submission>> {
        let Some(v) = self.version_for(year).await? else {
            return Ok(Vec::new());
        };
        type Row = (String, String, String, i64, String);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT e.department, v.region, v.period, COUNT(*), MIN(v.submitted_at) \
             FROM data_values v JOIN elements e ON e.framework_id = $2 AND e.code = v.element \
             WHERE v.year = $1 AND e.department <> '' \
             GROUP BY e.department, v.region, v.period"
        ).bind(year).bind(v.id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(department, region, period, values, first_at)| Submission {
                    department,
                    region,
                    period,
                    values,
                    first_at,
                },
            )
            .collect())
    }
}

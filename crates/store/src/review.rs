//! The three-level review of data sets (department × region × period):
//! where each set stands, its history, and the transitions of
//! `pingan_core::review`, all-or-nothing over a batch, each in the ledger.
//! Approval turns the set's pending values into approved ones and rescores.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::scores::invalidate_years_in;
use crate::{Actor, Result, StoreError};
use pingan_core::Period;
use pingan_core::access::Role;
use pingan_core::region::RegionTree;
use pingan_core::review::{self, Action, Level, ReviewError, State};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;

/// A data set: one department's elements for one region and period.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct SetKey {
    pub department: String,
    pub region: String,
    pub period: String,
}

impl SetKey {
    /// The set a value belongs to: its element's department, region, period.
    pub fn of(fw: &pingan_core::Framework, region: &str, period: &str, element: &str) -> SetKey {
        SetKey {
            department: fw
                .element_index(element)
                .map(|e| fw.elements[e].department.clone())
                .unwrap_or_default(),
            region: region.to_string(),
            period: period.to_string(),
        }
    }

    /// `公安 / 某某镇(330102001) / 2024-06`, for messages.
    pub fn describe(&self, tree: &RegionTree) -> String {
        let name = tree
            .find(&self.region)
            .map(|i| tree.get(i).name.as_str())
            .unwrap_or("");
        format!(
            "{} / {}({}) / {}",
            if self.department.is_empty() {
                "（无部门）"
            } else {
                &self.department
            },
            name,
            self.region,
            self.period
        )
    }
}

/// Where a set stands.
#[derive(Clone, Debug, Serialize)]
pub struct DataSet {
    #[serde(flatten)]
    pub key: SetKey,
    pub year: i32,
    pub state: State,
    pub state_label: &'static str,
    /// The last return or unlock reason.
    pub reason: String,
    pub submitted_by: String,
    pub submitted_at: String,
    pub level1_by: Option<String>,
    pub level2_by: Option<String>,
    pub level3_by: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
}

/// One step in a set's history.
#[derive(Clone, Debug, Serialize)]
pub struct SetEvent {
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub reason: String,
    pub user: String,
    pub at: String,
}

#[derive(Clone, Debug, Default)]
pub struct SetFilter {
    pub year: Option<i32>,
    pub period: Option<String>,
    pub department: Option<String>,
    pub state: Option<State>,
}

/// Who asks for a transition, as far as the review rules care.
pub struct Reviewer<'a> {
    pub roles: &'a [Role],
    /// A department account's department: it may resubmit its own sets.
    pub department: Option<&'a str>,
}

/// What a batch transition did.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewSummary {
    pub action: &'static str,
    pub sets: usize,
    /// Values that became approved (and now count).
    pub approved_values: u64,
    pub rescored: Vec<String>,
    pub notes: Vec<String>,
}

type SetRow = (
    String,
    String,
    String,
    i32,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

const SET_COLUMNS: &str = "department, region, period, year, state, reason, submitted_by, submitted_at, \
     level1_by, level2_by, level3_by, updated_by, updated_at";

fn to_set(r: SetRow) -> DataSet {
    let state = r.4.parse().unwrap_or(State::Submitted);
    DataSet {
        key: SetKey {
            department: r.0,
            region: r.1,
            period: r.2,
        },
        year: r.3,
        state,
        state_label: state.label(),
        reason: r.5,
        submitted_by: r.6,
        submitted_at: r.7,
        level1_by: r.8,
        level2_by: r.9,
        level3_by: r.10,
        updated_by: r.11,
        updated_at: r.12,
    }
}

/// Upsert the sets a pending import touched back to `submitted`, with one
/// history row each. A macro because the transaction's type is the
/// backend's; `$states` holds the states before the import.
macro_rules! submit_sets_in {
    ($tx:expr, $sets:expr, $states:expr, $user:expr, $at:expr, $numbered:expr) => {{
        for chunk in $sets.chunks(500) {
            let sql = format!(
                "INSERT INTO data_sets (department, region, period, year, state, submitted_by, submitted_at, \
                 updated_by, updated_at) VALUES {} ON CONFLICT (department, region, period) DO UPDATE SET \
                 state = excluded.state, reason = '', submitted_by = excluded.submitted_by, \
                 submitted_at = excluded.submitted_at, level1_by = NULL, level2_by = NULL, level3_by = NULL, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at \
                 WHERE data_sets.state <> 'approved'",
                $crate::imports::placeholders(chunk.len(), 9, $numbered)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                let year = k.period.parse::<pingan_core::Period>().map(|p| p.year()).unwrap_or(0);
                q = q.bind(&k.department).bind(&k.region).bind(&k.period).bind(year)
                    .bind("submitted").bind($user).bind($at).bind($user).bind($at);
            }
            if q.execute(&mut *$tx).await?.rows_affected() != chunk.len() as u64 {
                // A set became approved after the checks: never reopen it
                // without an unlock.
                return Err($crate::StoreError::Conflict(
                    "有数据集刚刚审核锁定，未写入任何数据：请刷新后重试".into(),
                ));
            }
            let sql = format!(
                "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, user_name, at) \
                 VALUES {}",
                $crate::imports::placeholders(chunk.len(), 8, $numbered)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                let from = $states.get(k).map(|s: &pingan_core::review::State| s.code()).unwrap_or("");
                q = q.bind(&k.department).bind(&k.region).bind(&k.period).bind("submit")
                    .bind(from).bind("submitted").bind($user).bind($at);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use submit_sets_in;

/// Hold off review steps until this transaction ends, so what it checked
/// about the sets stays true. PostgreSQL takes a table lock that conflicts
/// with the steps' updates (and with itself, so two imports queue rather
/// than deadlock); SQLite serialises writers once the transaction first
/// writes, which the callers do next.
macro_rules! lock_sets_in {
    ($tx:expr, $numbered:expr) => {{
        if $numbered {
            sqlx::query("LOCK TABLE data_sets IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use lock_sets_in;

/// The states of `years`' sets, read inside a transaction.
macro_rules! set_states_in {
    ($tx:expr, $years:expr) => {{
        let mut out: rustc_hash::FxHashMap<$crate::review::SetKey, pingan_core::review::State> =
            Default::default();
        for &y in $years.iter() {
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT department, region, period, state FROM data_sets WHERE year = $1",
            )
            .bind(y)
            .fetch_all(&mut *$tx)
            .await?;
            for (department, region, period, state) in rows {
                if let Ok(state) = state.parse() {
                    out.insert(
                        $crate::review::SetKey {
                            department,
                            region,
                            period,
                        },
                        state,
                    );
                }
            }
        }
        out
    }};
}
pub(crate) use set_states_in;

impl Store {
    /// The state of every set that entered review in `years`.
    pub(crate) async fn set_states(&self, years: &[i32]) -> Result<FxHashMap<SetKey, State>> {
        let mut out = FxHashMap::default();
        for &y in years {
            let rows: Vec<(String, String, String, String)> = on_pool!(self, p => sqlx::query_as(
                "SELECT department, region, period, state FROM data_sets WHERE year = $1"
            ).bind(y).fetch_all(p).await)?;
            for (department, region, period, state) in rows {
                if let Ok(state) = state.parse() {
                    out.insert(
                        SetKey {
                            department,
                            region,
                            period,
                        },
                        state,
                    );
                }
            }
        }
        Ok(out)
    }

    /// Sets matching every filter given, ordered by period, department, region.
    pub async fn data_sets(&self, f: &SetFilter) -> Result<Vec<DataSet>> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut year = None;
        if let Some(y) = f.year {
            year = Some(y);
            conditions.push("year = $1".to_string());
        }
        for (col, v) in [
            ("period", f.period.clone()),
            ("department", f.department.clone()),
            ("state", f.state.map(|s| s.code().to_string())),
        ] {
            if let Some(v) = v {
                binds.push(v);
                conditions.push(format!("{col} = ${}", binds.len() + 1));
            }
        }
        if year.is_none() {
            conditions.push("$1 IS NULL".to_string());
        }
        let sql = format!(
            "SELECT {SET_COLUMNS} FROM data_sets WHERE {} ORDER BY period, department, region",
            conditions.join(" AND ")
        );
        let rows: Vec<SetRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(year);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(to_set).collect())
    }

    /// Where one set stands, without its history.
    async fn set_row(&self, key: &SetKey) -> Result<Option<DataSet>> {
        let sql = format!(
            "SELECT {SET_COLUMNS} FROM data_sets WHERE department = $1 AND region = $2 AND period = $3"
        );
        let row: Option<SetRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&key.department).bind(&key.region).bind(&key.period).fetch_optional(p).await)?;
        Ok(row.map(to_set))
    }

    /// One set and its history, oldest first.
    pub async fn data_set(&self, key: &SetKey) -> Result<Option<(DataSet, Vec<SetEvent>)>> {
        let Some(set) = self.set_row(key).await? else {
            return Ok(None);
        };
        let events: Vec<(String, String, String, String, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT action, from_state, to_state, reason, user_name, at FROM data_set_events \
             WHERE department = $1 AND region = $2 AND period = $3 ORDER BY id"
        ).bind(&key.department).bind(&key.region).bind(&key.period).fetch_all(p).await)?;
        Ok(Some((
            set,
            events
                .into_iter()
                .map(|e| SetEvent {
                    action: e.0,
                    from_state: e.1,
                    to_state: e.2,
                    reason: e.3,
                    user: e.4,
                    at: e.5,
                })
                .collect(),
        )))
    }

    /// Apply `action` to every set in `keys`, all or nothing: any set that
    /// may not move fails the batch with every reason listed.
    pub async fn review_sets(
        &self,
        keys: &[SetKey],
        action: Action,
        reason: &str,
        who: &Reviewer<'_>,
        actor: &Actor,
    ) -> Result<ReviewSummary> {
        if keys.is_empty() {
            return Err(StoreError::Invalid("请至少选择一个数据集".into()));
        }
        let tree = self.region_tree().await?;
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        let mut plan: Vec<(DataSet, State)> = Vec::with_capacity(keys.len());
        let mut refused: Vec<(String, ReviewError)> = Vec::new();
        let mut missing = Vec::new();
        for k in &keys {
            let Some(set) = self.set_row(k).await? else {
                missing.push(k.describe(&tree));
                continue;
            };
            let mut passed = Vec::new();
            if set.level1_by.as_deref() == Some(actor.user.as_str()) {
                passed.push(Level::First);
            }
            if set.level2_by.as_deref() == Some(actor.user.as_str()) {
                passed.push(Level::Second);
            }
            let r = review::Actor {
                roles: who.roles,
                is_submitter_side: who.department == Some(set.key.department.as_str()),
                passed_levels: &passed,
                submitted_it: set.submitted_by == actor.user,
            };
            match review::transition(set.state, action, &r, reason) {
                Ok(next) => plan.push((set, next)),
                Err(e) => refused.push((k.describe(&tree), e)),
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::NotFound(format!(
                "没有这些待审核的数据集：{}",
                missing.join("；")
            )));
        }
        if let Some((_, first)) = refused.first() {
            let listed: Vec<String> = refused
                .iter()
                .take(10)
                .map(|(k, e)| format!("{k}：{e}"))
                .collect();
            let message = format!(
                "未做任何更改（{} 个数据集不能{}）：{}",
                refused.len(),
                action.label(),
                listed.join("；")
            );
            return Err(match first {
                ReviewError::State(_) => StoreError::Conflict(message),
                ReviewError::Role(_) => StoreError::Forbidden(message),
                ReviewError::Reason(_) => StoreError::Invalid(message),
            });
        }
        let fw = self.known_codes().await?;
        let mut by_department: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
        for e in &fw.elements {
            by_department
                .entry(e.department.as_str())
                .or_default()
                .push(e.code.as_str());
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let reason = reason.trim();
        let mut approved_values = 0u64;
        let mut years: Vec<i32> = Vec::new();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (set, next) in &plan {
                let k = &set.key;
                // Which level's reviewer to remember (one person, one level).
                let (col, who_col) = match (action, set.state.level()) {
                    (Action::Pass, Some(Level::First)) => ("level1_by", true),
                    (Action::Pass, Some(Level::Second)) => ("level2_by", true),
                    (Action::Pass, Some(Level::Third)) => ("level3_by", true),
                    _ => ("level1_by", false),
                };
                let sql = if who_col {
                    format!("UPDATE data_sets SET state = $1, {col} = $2, updated_by = $2, updated_at = $3 \
                             WHERE department = $4 AND region = $5 AND period = $6 AND state = $7")
                } else {
                    // A return or unlock keeps its reason; a resubmission starts the levels again.
                    "UPDATE data_sets SET state = $1, updated_by = $2, updated_at = $3, reason = $8, \
                     level1_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level1_by END, \
                     level2_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level2_by END, \
                     level3_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level3_by END \
                     WHERE department = $4 AND region = $5 AND period = $6 AND state = $7".to_string()
                };
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(next.code()).bind(&actor.user).bind(&at)
                    .bind(&k.department).bind(&k.region).bind(&k.period).bind(set.state.code());
                if !who_col {
                    q = q.bind(reason);
                }
                let changed = q.execute(&mut *tx).await?.rows_affected();
                if changed != 1 {
                    // Someone else moved it between our read and this write.
                    return Err(StoreError::Conflict(format!(
                        "数据集 {} 的状态刚被他人更改，请刷新后重试",
                        k.describe(&tree)
                    )));
                }
                sqlx::query(
                    "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, reason, user_name, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&k.department).bind(&k.region).bind(&k.period).bind(action.code())
                .bind(set.state.code()).bind(next.code()).bind(reason).bind(&actor.user).bind(&at)
                .execute(&mut *tx).await?;
                if *next == State::Approved {
                    // One statement per set: the department's elements as a
                    // literal list of our own codes (never user input).
                    let elements = by_department.get(k.department.as_str()).cloned().unwrap_or_default();
                    if !elements.is_empty() {
                        let list = elements
                            .iter()
                            .map(|e| format!("'{}'", e.replace('\'', "''")))
                            .collect::<Vec<_>>()
                            .join(", ");
                        // The approved twin of each pending row gives way to it.
                        let sql = format!(
                            "DELETE FROM data_values WHERE region = $1 AND period = $2 AND review = 'approved' \
                             AND element IN ({list}) AND EXISTS (SELECT 1 FROM data_values p WHERE p.region = data_values.region \
                             AND p.period = data_values.period AND p.element = data_values.element \
                             AND p.source = data_values.source AND p.review = 'pending')"
                        );
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(&k.region).bind(&k.period)
                            .execute(&mut *tx).await?;
                        let sql = format!(
                            "UPDATE data_values SET review = 'approved' WHERE region = $1 AND period = $2 \
                             AND review = 'pending' AND element IN ({list})"
                        );
                        approved_values += sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(&k.region).bind(&k.period)
                            .execute(&mut *tx).await?.rows_affected();
                    }
                    years.push(set.year);
                }
            }
            years.sort();
            years.dedup();
            invalidate_years_in!(tx, &years);
            let sets: Vec<&SetKey> = plan.iter().map(|(s, _)| &s.key).collect();
            let entry = NewEntry::new(
                &format!("review_{}", action.code()),
                &format!("data_sets:{}", plan.len()),
                json!({"action": action.code(), "reason": reason, "sets": sets,
                       "approved_values": approved_values}),
            );
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        let mut summary = ReviewSummary {
            action: action.code(),
            sets: plan.len(),
            approved_values,
            rescored: Vec::new(),
            notes: Vec::new(),
        };
        for y in years {
            let period = Period::Year(y);
            match self.compute_scores(period, actor).await {
                Ok(_) => summary.rescored.push(period.to_string()),
                Err(e) => summary.notes.push(format!("{y} 年暂未计分：{e}")),
            }
        }
        Ok(summary)
    }

    /// Pending values of a year per region, for a count within a scope.
    pub async fn pending_by_region(&self, year: i32) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, COUNT(*) FROM data_values WHERE year = $1 AND review = 'pending' GROUP BY region"
        ).bind(year).fetch_all(p).await)?)
    }

    /// Pending values in a year: what a preview adds to official scores.
    pub async fn pending_values(&self, year: i32) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM data_values WHERE year = $1 AND review = 'pending'"
        ).bind(year).fetch_one(p).await)?;
        Ok(n)
    }
}

//! The `data_sets` and `data_set_events` tables: where each data set
//! (department × region × period) stands in the three-level review, and
//! its history. Steps are applied in one transaction per batch, each
//! guarded by the state it was planned from.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{Tx, on_tx, placeholders};
use crate::{Actor, Result, StoreError};
use pingan_core::labels::LedgerAction;
use pingan_core::review::{Action, EventKind, Level, SetKey, State};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;

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

#[derive(sqlx::FromRow)]
struct SetRow {
    department: String,
    region: String,
    period: String,
    year: i32,
    state: String,
    reason: String,
    submitted_by: String,
    submitted_at: String,
    level1_by: Option<String>,
    level2_by: Option<String>,
    level3_by: Option<String>,
    updated_by: String,
    updated_at: String,
}

impl From<SetRow> for DataSet {
    fn from(r: SetRow) -> DataSet {
        let state = r.state.parse().unwrap_or(State::Submitted);
        DataSet {
            key: SetKey {
                department: r.department,
                region: r.region,
                period: r.period,
            },
            year: r.year,
            state,
            state_label: state.label(),
            reason: r.reason,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
            level1_by: r.level1_by,
            level2_by: r.level2_by,
            level3_by: r.level3_by,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

const SET_COLUMNS: &str = "department, region, period, year, state, reason, submitted_by, submitted_at, \
     level1_by, level2_by, level3_by, updated_by, updated_at";

/// One step in a set's history.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct SetEvent {
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub reason: String,
    #[sqlx(rename = "user_name")]
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

/// One planned step: the set as read, and the state it moves to.
pub struct ReviewStep<'a> {
    pub set: &'a DataSet,
    pub next: State,
}

/// What a batch of steps changed.
pub struct StepsDone {
    /// Values that became approved (and now count).
    pub approved_values: u64,
    /// The years whose sets were approved (their scores are stale).
    pub years: Vec<i32>,
}

/// Where a set stands, as read for a lock check.
#[derive(sqlx::FromRow)]
struct StateRow {
    department: String,
    region: String,
    period: String,
    state: String,
}

const STATES_OF_YEAR: &str =
    "SELECT department, region, period, state FROM data_sets WHERE year = $1";

/// The states of these sets (their primary keys).
fn states_of_sets(n: usize, numbered: bool) -> String {
    format!(
        "SELECT department, region, period, state FROM data_sets \
         WHERE (department, region, period) IN (VALUES {})",
        crate::tx::placeholders(n, 3, numbered)
    )
}

fn states_of(rows: Vec<StateRow>, out: &mut FxHashMap<SetKey, State>) {
    for r in rows {
        if let Ok(state) = r.state.parse() {
            out.insert(
                SetKey {
                    department: r.department,
                    region: r.region,
                    period: r.period,
                },
                state,
            );
        }
    }
}

impl Store {
    /// The state of every set that entered review in `years`.
    pub async fn set_states(&self, years: &[i32]) -> Result<FxHashMap<SetKey, State>> {
        let mut out = FxHashMap::default();
        for &y in years {
            let rows: Vec<StateRow> = on_pool!(self, p => sqlx::query_as(STATES_OF_YEAR)
                .bind(y).fetch_all(p).await)?;
            states_of(rows, &mut out);
        }
        Ok(out)
    }

    /// The states of `sets` (of `years`): by key when they are few, else
    /// every set of the years.
    pub async fn set_states_of(
        &self,
        years: &[i32],
        sets: &[SetKey],
    ) -> Result<FxHashMap<SetKey, State>> {
        if sets.len() > crate::values::KEYED_MAX {
            return self.set_states(years).await;
        }
        let mut out = FxHashMap::default();
        for chunk in sets.chunks(crate::values::KEYS_PER_QUERY) {
            let sql = states_of_sets(chunk.len(), self.backend() == crate::Backend::Postgres);
            let rows: Vec<StateRow> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for k in chunk {
                    q = q.bind(&k.department).bind(&k.region).bind(&k.period);
                }
                q.fetch_all(p).await
            })?;
            states_of(rows, &mut out);
        }
        Ok(out)
    }

    /// Sets matching every filter given, ordered by period, department, region.
    pub async fn data_sets(&self, f: &SetFilter) -> Result<Vec<DataSet>> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if f.year.is_some() {
            conditions.push("year = $1".to_string());
        } else {
            conditions.push("$1 IS NULL".to_string());
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
        let sql = format!(
            "SELECT {SET_COLUMNS} FROM data_sets WHERE {} ORDER BY period, department, region",
            conditions.join(" AND ")
        );
        let rows: Vec<SetRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(f.year);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(DataSet::from).collect())
    }

    /// Where one set stands, without its history.
    pub async fn set_row(&self, key: &SetKey) -> Result<Option<DataSet>> {
        let sql = format!(
            "SELECT {SET_COLUMNS} FROM data_sets WHERE department = $1 AND region = $2 AND period = $3"
        );
        let row: Option<SetRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&key.department).bind(&key.region).bind(&key.period).fetch_optional(p).await)?;
        Ok(row.map(DataSet::from))
    }

    /// One set and its history, oldest first.
    pub async fn data_set(&self, key: &SetKey) -> Result<Option<(DataSet, Vec<SetEvent>)>> {
        let Some(set) = self.set_row(key).await? else {
            return Ok(None);
        };
        let events: Vec<SetEvent> = on_pool!(self, p => sqlx::query_as(
            "SELECT action, from_state, to_state, reason, user_name, at FROM data_set_events \
             WHERE department = $1 AND region = $2 AND period = $3 ORDER BY id"
        ).bind(&key.department).bind(&key.region).bind(&key.period).fetch_all(p).await)?;
        Ok(Some((set, events)))
    }

    /// Apply planned steps in one transaction, all or nothing: each set
    /// must still be in the state it was planned from. An approval turns
    /// the set's pending values (of `elements`, the department's) into
    /// approved ones, replacing their approved twins. One ledger entry.
    pub async fn apply_review_steps(
        &self,
        steps: &[ReviewStep<'_>],
        action: Action,
        reason: &str,
        elements: &FxHashMap<String, Vec<String>>,
        describe: &(dyn Fn(&SetKey) -> String + Sync),
        actor: &Actor,
    ) -> Result<StepsDone> {
        let at = crate::now();
        let mut approved_values = 0u64;
        let mut years: Vec<i32> = Vec::new();
        let mut tx = self.begin().await?;
        for step in steps {
            let (set, next) = (step.set, step.next);
            let k = &set.key;
            // Which level's reviewer to remember (one person, one level).
            let col = match (action, set.state.level()) {
                (Action::Pass, Some(Level::First)) => Some("level1_by"),
                (Action::Pass, Some(Level::Second)) => Some("level2_by"),
                (Action::Pass, Some(Level::Third)) => Some("level3_by"),
                _ => None,
            };
            let sql = match col {
                Some(col) => format!(
                    "UPDATE data_sets SET state = $1, {col} = $2, updated_by = $2, updated_at = $3 \
                     WHERE department = $4 AND region = $5 AND period = $6 AND state = $7"
                ),
                // A return or unlock keeps its reason; a resubmission starts the levels again.
                None => "UPDATE data_sets SET state = $1, updated_by = $2, updated_at = $3, reason = $8, \
                     level1_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level1_by END, \
                     level2_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level2_by END, \
                     level3_by = CASE WHEN $1 = 'submitted' THEN NULL ELSE level3_by END \
                     WHERE department = $4 AND region = $5 AND period = $6 AND state = $7"
                    .to_string(),
            };
            let changed = on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(next.code()).bind(&actor.user).bind(&at)
                    .bind(&k.department).bind(&k.region).bind(&k.period).bind(set.state.code());
                if col.is_none() {
                    q = q.bind(reason);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
            if changed != 1 {
                // Someone else moved it between our read and this write.
                return Err(StoreError::Conflict(format!(
                    "数据集 {} 的状态刚被他人更改，请刷新后重试",
                    describe(k)
                )));
            }
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, reason, user_name, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&k.department).bind(&k.region).bind(&k.period).bind(action.code())
            .bind(set.state.code()).bind(next.code()).bind(reason).bind(&actor.user).bind(&at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            if next == State::Approved {
                approved_values += tx
                    .approve_values(k, elements.get(&k.department).map_or(&[], |v| v))
                    .await?;
                years.push(set.year);
            }
        }
        years.sort();
        years.dedup();
        tx.invalidate_years(&years).await?;
        let sets: Vec<&SetKey> = steps.iter().map(|s| &s.set.key).collect();
        let ledger_action = match action {
            Action::Pass => LedgerAction::ReviewPass,
            Action::Return => LedgerAction::ReviewReturn,
            Action::Resubmit => LedgerAction::ReviewResubmit,
            Action::Unlock => LedgerAction::ReviewUnlock,
        };
        tx.append(
            actor,
            &NewEntry::new(
                ledger_action,
                &format!("data_sets:{}", steps.len()),
                json!({"action": action.code(), "reason": reason, "sets": sets,
                       "approved_values": approved_values}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(StepsDone {
            approved_values,
            years,
        })
    }
}

impl Tx {
    /// Hold off review steps until this transaction ends, so what it
    /// checked about the sets stays true. PostgreSQL takes a table lock
    /// that conflicts with the steps' updates (and with itself, so two
    /// imports queue rather than deadlock); SQLite serialises writers once
    /// the transaction first writes, which the callers do next.
    pub(crate) async fn lock_sets(&mut self) -> Result<()> {
        if self.numbered() {
            on_tx!(self, c => sqlx::query("LOCK TABLE data_sets IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// The states of `years`' sets, read inside this transaction.
    pub(crate) async fn set_states(&mut self, years: &[i32]) -> Result<FxHashMap<SetKey, State>> {
        let mut out = FxHashMap::default();
        for &y in years {
            let rows: Vec<StateRow> = on_tx!(self, c => sqlx::query_as(STATES_OF_YEAR)
                .bind(y)
                .fetch_all(&mut **c)
                .await)?;
            states_of(rows, &mut out);
        }
        Ok(out)
    }

    /// `Store::set_states_of`, inside this transaction.
    pub(crate) async fn set_states_of(
        &mut self,
        years: &[i32],
        sets: &[SetKey],
    ) -> Result<FxHashMap<SetKey, State>> {
        if sets.len() > crate::values::KEYED_MAX {
            return self.set_states(years).await;
        }
        let mut out = FxHashMap::default();
        for chunk in sets.chunks(crate::values::KEYS_PER_QUERY) {
            let sql = states_of_sets(chunk.len(), self.numbered());
            let rows: Vec<StateRow> = on_tx!(self, c => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for k in chunk {
                    q = q.bind(&k.department).bind(&k.region).bind(&k.period);
                }
                q.fetch_all(&mut **c).await
            })?;
            states_of(rows, &mut out);
        }
        Ok(out)
    }

    /// Upsert the sets a pending submission touched back to `submitted`,
    /// with one history row each; `states` holds their states before it.
    pub(crate) async fn submit_sets(
        &mut self,
        sets: &[SetKey],
        states: &FxHashMap<SetKey, State>,
        user: &str,
        at: &str,
    ) -> Result<()> {
        let numbered = self.numbered();
        for chunk in sets.chunks(500) {
            let sql = format!(
                "INSERT INTO data_sets (department, region, period, year, state, submitted_by, submitted_at, \
                 updated_by, updated_at) VALUES {} ON CONFLICT (department, region, period) DO UPDATE SET \
                 state = excluded.state, reason = '', submitted_by = excluded.submitted_by, \
                 submitted_at = excluded.submitted_at, level1_by = NULL, level2_by = NULL, level3_by = NULL, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at \
                 WHERE data_sets.state <> 'approved'",
                placeholders(chunk.len(), 9, numbered)
            );
            let n = on_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for k in chunk {
                    let year = k.period.parse::<pingan_core::Period>().map(|p| p.year()).unwrap_or(0);
                    q = q.bind(&k.department).bind(&k.region).bind(&k.period).bind(year)
                        .bind("submitted").bind(user).bind(at).bind(user).bind(at);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
            if n != chunk.len() as u64 {
                // A set became approved after the checks: never reopen it
                // without an unlock.
                return Err(StoreError::Conflict(
                    "有数据集刚刚审核锁定，未写入任何数据：请刷新后重试".into(),
                ));
            }
            let sql = format!(
                "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, user_name, at) \
                 VALUES {}",
                placeholders(chunk.len(), 8, numbered)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for k in chunk {
                    let from = states.get(k).map(|s| s.code()).unwrap_or("");
                    q = q.bind(&k.department).bind(&k.region).bind(&k.period).bind(EventKind::Submit.code())
                        .bind(from).bind("submitted").bind(user).bind(at);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// A set's pending values (of `elements`) become approved; the approved
    /// twin of each gives way. One statement each, the elements as a
    /// literal list of our own codes (never user input).
    async fn approve_values(&mut self, k: &SetKey, elements: &[String]) -> Result<u64> {
        if elements.is_empty() {
            return Ok(0);
        }
        self.touch(&k.region, &k.period, true);
        let list = elements
            .iter()
            .map(|e| format!("'{}'", e.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "DELETE FROM data_values WHERE region = $1 AND period = $2 AND review = 'approved' \
             AND element IN ({list}) AND EXISTS (SELECT 1 FROM data_values p WHERE p.region = data_values.region \
             AND p.period = data_values.period AND p.element = data_values.element \
             AND p.source = data_values.source AND p.review = 'pending')"
        );
        on_tx!(self, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&k.region).bind(&k.period).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let sql = format!(
            "UPDATE data_values SET review = 'approved' WHERE region = $1 AND period = $2 \
             AND review = 'pending' AND element IN ({list})"
        );
        Ok(on_tx!(self, c => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&k.region).bind(&k.period).execute(&mut **c).await.map(|r| r.rows_affected()))?)
    }

    /// A correction inside a set under review is new data: the levels start
    /// again, so none passes what it did not see. Refused when the set was
    /// approved meanwhile.
    pub(crate) async fn restart_set(
        &mut self,
        k: &SetKey,
        reason: &str,
        user: &str,
        at: &str,
    ) -> Result<()> {
        let now: Option<(String,)> = on_tx!(self, c => sqlx::query_as(
            "SELECT state FROM data_sets WHERE department = $1 AND region = $2 AND period = $3"
        )
        .bind(&k.department).bind(&k.region).bind(&k.period)
        .fetch_optional(&mut **c).await)?;
        if now.as_ref().is_some_and(|s| s.0 == "approved") {
            return Err(StoreError::Conflict(
                "该数据集刚刚审核锁定，不能更正；请测评办管理员先解锁".into(),
            ));
        }
        let Some((from,)) = now else { return Ok(()) };
        let moved = on_tx!(self, c => sqlx::query(
            "UPDATE data_sets SET state = 'submitted', reason = '', level1_by = NULL, level2_by = NULL, \
             level3_by = NULL, updated_by = $4, updated_at = $5 \
             WHERE department = $1 AND region = $2 AND period = $3 AND state IN ('level1', 'level2')"
        )
        .bind(&k.department).bind(&k.region).bind(&k.period).bind(user).bind(at)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if moved > 0 {
            on_tx!(self, c => sqlx::query(
                "INSERT INTO data_set_events (department, region, period, action, from_state, to_state, reason, user_name, at) \
                 VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8)"
            )
            .bind(&k.department).bind(&k.region).bind(&k.period).bind(EventKind::Correct.code())
            .bind(&from).bind(reason).bind(user).bind(at)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}

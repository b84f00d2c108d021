//! The `rectify_items` and `rectify_steps` tables: a region's 整改清单 of a
//! year and every step taken on each item, each step in one transaction
//! with its ledger entry.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::labels::LedgerAction;
use pingan_core::rectify::State;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub id: i64,
    pub year: i32,
    pub region: String,
    pub ord: i64,
    /// Where the problem came from: `notice` (the 整改通知书), `manual`.
    pub source: String,
    /// The indicator it is about ('' for none).
    pub indicator: String,
    pub problem: String,
    pub state: State,
    pub unit: String,
    pub person: String,
    pub measures: String,
    pub target: String,
    pub plan_due: String,
    pub deadline: String,
    pub created_by: String,
    pub created_at: String,
    /// The item this one was merged into (then it is no longer listed).
    pub merged_into: Option<i64>,
    /// The indicator value the plan promises, for the automatic 复查.
    pub target_value: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    year: i32,
    region: String,
    ord: i64,
    source: String,
    indicator: String,
    problem: String,
    state: String,
    unit: String,
    person: String,
    measures: String,
    target: String,
    plan_due: String,
    deadline: String,
    created_by: String,
    created_at: String,
    merged_into: Option<i64>,
    target_value: Option<f64>,
}

impl From<ItemRow> for Item {
    fn from(r: ItemRow) -> Item {
        Item {
            id: r.id,
            year: r.year,
            region: r.region,
            ord: r.ord,
            source: r.source,
            indicator: r.indicator,
            problem: r.problem,
            state: r.state.parse().unwrap_or(State::Open),
            unit: r.unit,
            person: r.person,
            measures: r.measures,
            target: r.target,
            plan_due: r.plan_due,
            deadline: r.deadline,
            created_by: r.created_by,
            created_at: r.created_at,
            merged_into: r.merged_into,
            target_value: r.target_value,
        }
    }
}

const ITEM_COLUMNS: &str = "id, year, region, ord, source, indicator, problem, state, unit, person, \
                            measures, target, plan_due, deadline, created_by, created_at, merged_into, \
                            target_value";

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Step {
    pub id: i64,
    pub item_id: i64,
    pub action: String,
    /// The state after the step.
    pub state: String,
    pub note: String,
    /// How a 销号 was checked ('' for other steps).
    pub recheck: String,
    pub done_by: String,
    pub done_at: String,
    /// The field task of an on-site 复查.
    pub field_task: Option<i64>,
}

/// A problem to list.
pub struct NewItem<'a> {
    pub source: &'a str,
    pub indicator: &'a str,
    pub problem: &'a str,
    pub plan_due: &'a str,
    pub deadline: &'a str,
}

/// A step to take on an item: the state it must be in and the one it
/// leads to (from `pingan_core::rectify::next`), and the plan's fields when
/// it files one.
pub struct NewStep<'a> {
    pub from: State,
    pub to: State,
    pub action: &'a str,
    pub note: &'a str,
    pub recheck: &'a str,
    pub plan: Option<Plan<'a>>,
    pub field_task: Option<i64>,
    /// Evidence files (name, type, bytes), already checked.
    pub files: &'a [(String, &'static str, Vec<u8>)],
}

pub struct Plan<'a> {
    pub unit: &'a str,
    pub person: &'a str,
    pub measures: &'a str,
    pub target: &'a str,
    pub target_value: Option<f64>,
}

impl Store {
    pub async fn rectify_items(&self, year: i32, region: Option<&str>) -> Result<Vec<Item>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM rectify_items WHERE year = $1 AND ($2 IS NULL OR region = $2) \
             ORDER BY region, ord"
        );
        let rows: Vec<ItemRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(year).bind(region).fetch_all(p).await)?;
        Ok(rows.into_iter().map(Item::from).collect())
    }

    pub async fn rectify_item(&self, id: i64) -> Result<Option<Item>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM rectify_items WHERE id = $1");
        let row: Option<ItemRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?;
        Ok(row.map(Item::from))
    }

    pub async fn rectify_steps(&self, item: i64) -> Result<Vec<Step>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, item_id, action, state, note, recheck, done_by, done_at, field_task FROM rectify_steps \
             WHERE item_id = $1 ORDER BY id")
            .bind(item).fetch_all(p).await)?)
    }

    /// List `items` for a region's year after those it has, in one
    /// transaction with one ledger entry.
    pub async fn add_rectify_items(
        &self,
        year: i32,
        region: &str,
        items: &[NewItem<'_>],
        actor: &Actor,
    ) -> Result<usize> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (last,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "SELECT COALESCE(MAX(ord), 0) FROM rectify_items WHERE year = $1 AND region = $2")
            .bind(year).bind(region).fetch_one(&mut **c).await)?;
        for (k, it) in items.iter().enumerate() {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO rectify_items (year, region, ord, source, indicator, problem, state, unit, person, \
                 measures, target, plan_due, deadline, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', '', '', $8, $9, $10, $11)")
                .bind(year).bind(region).bind(last + 1 + k as i64).bind(it.source).bind(it.indicator)
                .bind(it.problem).bind(State::Open.code()).bind(it.plan_due).bind(it.deadline)
                .bind(&actor.user).bind(&at)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::RectifyList,
                &format!("rectify:{region}@{year}"),
                json!({"items": items.len(), "from": last + 1}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(items.len())
    }

    /// The office's new words for a problem not yet closed, with its ledger
    /// entry.
    pub async fn edit_rectify_problem(&self, id: i64, problem: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE rectify_items SET problem = $1 WHERE id = $2 AND state <> 'closed' AND merged_into IS NULL")
            .bind(problem).bind(id)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(
                "该问题已销号或不存在，不能修改".into(),
            ));
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::RectifyEdit,
                &format!("rectify_item:{id}"),
                json!({"chars": problem.chars().count()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take a step on an item that is still in `step.from`: its new state
    /// (and plan), the step's row, the ledger entry, in one transaction.
    /// Someone else moved it meanwhile: conflict, nothing written.
    pub async fn rectify_step(&self, item: i64, step: &NewStep<'_>, actor: &Actor) -> Result<Step> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let moved = match &step.plan {
            Some(p) => on_tx!(tx, c => sqlx::query(
                "UPDATE rectify_items SET state = $1, unit = $2, person = $3, measures = $4, target = $5, \
                 target_value = $8 WHERE id = $6 AND state = $7 AND merged_into IS NULL")
                .bind(step.to.code()).bind(p.unit).bind(p.person).bind(p.measures).bind(p.target)
                .bind(item).bind(step.from.code()).bind(p.target_value)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?,
            None => on_tx!(tx, c => sqlx::query(
                "UPDATE rectify_items SET state = $1 WHERE id = $2 AND state = $3 AND merged_into IS NULL")
                .bind(step.to.code()).bind(item).bind(step.from.code())
                .execute(&mut **c).await.map(|r| r.rows_affected()))?,
        };
        if moved == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(
                "该整改事项刚刚已被他人办理，请刷新后再试".into(),
            ));
        }
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO rectify_steps (item_id, action, state, note, recheck, done_by, done_at, field_task) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(item).bind(step.action).bind(step.to.code()).bind(step.note).bind(step.recheck)
            .bind(&actor.user).bind(&at).bind(step.field_task)
            .fetch_one(&mut **c).await)?;
        let mut files = Vec::new();
        for (name, mime, bytes) in step.files {
            files.push(
                crate::rectify_files::insert(&mut tx, item, id, name, mime, bytes, actor, &at)
                    .await?,
            );
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::RectifyStep,
                &format!("rectify_item:{item}"),
                json!({"action": step.action, "state": step.to.code(), "recheck": step.recheck,
                    "field_task": step.field_task, "files": files}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Step {
            id,
            item_id: item,
            action: step.action.to_string(),
            state: step.to.code().to_string(),
            note: step.note.to_string(),
            recheck: step.recheck.to_string(),
            done_by: actor.user.clone(),
            done_at: at,
            field_task: step.field_task,
        })
    }
}

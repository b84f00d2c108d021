//! `verify_tasks`: what to verify where, and how it stands.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{Tx, on_tx};
use crate::{Actor, Result, StoreError};
use pingan_core::labels::{LedgerAction, TaskOrigin, TaskStatus};
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, Serialize)]
pub struct Task {
    pub id: i64,
    pub region: String,
    pub period: String,
    pub elements: Vec<String>,
    pub checklist: Vec<String>,
    pub origin: TaskOrigin,
    pub flag_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub note: String,
    pub status: TaskStatus,
    pub created_by: String,
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: i64,
    region: String,
    period: String,
    elements: String,
    checklist: String,
    origin: String,
    flag_id: Option<i64>,
    parent_id: Option<i64>,
    note: String,
    status: String,
    created_by: String,
    created_at: String,
}

impl From<TaskRow> for Task {
    fn from(r: TaskRow) -> Task {
        Task {
            id: r.id,
            region: r.region,
            period: r.period,
            elements: serde_json::from_str(&r.elements).unwrap_or_default(),
            checklist: serde_json::from_str(&r.checklist).unwrap_or_default(),
            origin: r.origin.parse().unwrap_or(TaskOrigin::Manual),
            flag_id: r.flag_id,
            parent_id: r.parent_id,
            note: r.note,
            status: r.status.parse().unwrap_or(TaskStatus::Open),
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

pub(super) const TASK_COLS: &str = "id, region, period, elements, checklist, origin, flag_id, parent_id, note, status, created_by, created_at";

/// A task to store, checked.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub region: String,
    pub period: String,
    pub year: i32,
    pub elements: Vec<String>,
    pub checklist: Vec<String>,
    pub origin: TaskOrigin,
    pub flag_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub note: String,
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub origin: Option<TaskOrigin>,
}

impl Store {
    /// Store tasks, all or nothing, in one ledger entry.
    pub async fn insert_tasks(&self, tasks: &[NewTask], actor: &Actor) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let ids = insert_in(&mut tx, tasks, actor).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// The task of a quality flag: the open one if there is one (false),
    /// else a new one (true). The ledger is held first, so two requests
    /// for one flag, on any instance, make one task.
    pub async fn insert_flag_task(&self, task: &NewTask, actor: &Actor) -> Result<(i64, bool)> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let open: Option<(i64,)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id FROM verify_tasks WHERE flag_id = $1 AND status <> 'closed' ORDER BY id LIMIT 1"
        ).bind(task.flag_id).fetch_optional(&mut **c).await)?;
        if let Some((id,)) = open {
            tx.rollback().await?;
            return Ok((id, false));
        }
        let ids = insert_in(&mut tx, std::slice::from_ref(task), actor).await?;
        tx.commit().await?;
        Ok((ids[0], true))
    }
}

async fn insert_in(tx: &mut Tx, tasks: &[NewTask], actor: &Actor) -> Result<Vec<i64>> {
    let at = crate::now();
    let mut ids = Vec::new();
    for t in tasks {
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
                "INSERT INTO verify_tasks (region, period, year, elements, checklist, origin, flag_id, parent_id, note, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&t.region).bind(&t.period).bind(t.year)
            .bind(json!(t.elements).to_string()).bind(json!(t.checklist).to_string())
            .bind(t.origin.code()).bind(t.flag_id).bind(t.parent_id).bind(&t.note)
            .bind(&actor.user).bind(&at)
            .fetch_one(&mut **c).await)?;
        ids.push(id);
    }
    let detail = json!({"tasks": ids, "origin": tasks.first().map(|t| t.origin.code()),
                            "regions": tasks.iter().map(|t| t.region.clone()).collect::<Vec<_>>()});
    let entry = NewEntry::new(
        LedgerAction::VerifyTask,
        &format!("verify_tasks:{}", ids.len()),
        detail,
    );
    tx.append(actor, &entry).await?;
    Ok(ids)
}

impl Store {
    pub async fn task(&self, id: i64) -> Result<Option<Task>> {
        let sql = format!("SELECT {TASK_COLS} FROM verify_tasks WHERE id = $1");
        let row: Option<TaskRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        Ok(row.map(Task::from))
    }

    /// Tasks matching every filter given, newest first.
    pub async fn tasks(&self, f: &TaskFilter) -> Result<Vec<Task>> {
        let mut conditions = vec!["1 = 1".to_string()];
        let mut binds: Vec<String> = Vec::new();
        for (col, v) in [
            ("status", f.status.map(|s| s.code().to_string())),
            ("period", f.period.clone()),
            ("region", f.region.clone()),
            ("origin", f.origin.map(|o| o.code().to_string())),
        ] {
            if let Some(v) = v {
                binds.push(v);
                conditions.push(format!("{col} = ${}", binds.len()));
            }
        }
        let sql = format!(
            "SELECT {TASK_COLS} FROM verify_tasks WHERE {} ORDER BY id DESC",
            conditions.join(" AND ")
        );
        let rows: Vec<TaskRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// Close a task with a note (its conclusion). Conflict when it is gone
    /// or already closed.
    pub async fn close_task(&self, id: i64, note: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(tx, c => sqlx::query(
            "UPDATE verify_tasks SET status = 'closed' WHERE id = $1 AND status <> 'closed'"
        )
        .bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "核查任务 {id} 不存在或已关闭"
            )));
        }
        let mut entry = NewEntry::new(
            LedgerAction::VerifyClose,
            &format!("verify_task:{id}"),
            json!({"task": id}),
        );
        entry.reason = note.to_string();
        tx.append(actor, &entry).await?;
        tx.commit().await
    }
}

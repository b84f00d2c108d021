//! 工作台: what waits for the signed-in person, by role — data sets at my
//! review level, sets sent back to my department, open quality flags,
//! open field verification tasks — each a count that links to the page
//! where the work is done. Every count is read through the same service
//! operation as that page, so it matches what the page lists.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::field::{self, TaskQuery};
use crate::quality::{self, FlagQuery};
use crate::review::{self, SetQuery, default_state};
use crate::{Caller, cap};
use pingan_core::access::Cap;
use pingan_core::labels::{FlagStatus, TaskStatus};
use pingan_core::review::State as SetState;
use std::sync::Arc;

/// One item of the board: what, how many, where to go.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Todo {
    /// Stable id (`todo-review`, `todo-returned`, `todo-flags`, `todo-tasks`).
    pub id: &'static str,
    pub what: String,
    pub count: usize,
    /// The page where the work is done.
    pub href: String,
    pub hint: &'static str,
}

/// What waits for `c`, kept per person until the next write (the menu
/// asks on every page).
pub async fn todos(ctx: &Ctx, c: &Caller) -> Result<Arc<Vec<Todo>>> {
    if !has_work(c) {
        return Ok(Arc::default());
    }
    ctx.per_person(&c.name(), count(ctx, c)).await
}

async fn count(ctx: &Ctx, c: &Caller) -> Result<Vec<Todo>> {
    let mut out = Vec::new();
    let year = ctx.latest_year().await;
    if let (Ok(who), Some(s)) = (c.authorize::<cap::Values>(), default_state(c)) {
        let q = SetQuery {
            year,
            state: Some(s),
            ..Default::default()
        };
        let n = review::list(ctx, &who, &q).await.map_or(0, |v| v.len());
        out.push(Todo {
            id: "todo-review",
            what: format!("待我审核的数据集（{}）", s.label()),
            count: n,
            href: format!("/review?state={}", s.code()),
            hint: "逐一核对后通过或退回",
        });
    }
    if c.submitter_department().is_some()
        && let Ok(who) = c.authorize::<cap::Values>()
    {
        let mut n = 0;
        for s in [SetState::Returned, SetState::Unlocked] {
            let q = SetQuery {
                year,
                state: Some(s),
                ..Default::default()
            };
            n += review::list(ctx, &who, &q).await.map_or(0, |v| v.len());
        }
        out.push(Todo {
            id: "todo-returned",
            what: "退回或解锁、待重新报送的数据集".into(),
            count: n,
            href: "/review?state=returned".into(),
            hint: "按退回意见改正后重新报送",
        });
    }
    if c.can(Cap::Check)
        && let Ok(who) = c.authorize::<cap::Quality>()
    {
        let q = FlagQuery {
            status: Some(FlagStatus::Open),
            ..Default::default()
        };
        let n = quality::list(ctx, &who, &q).await.map_or(0, |v| v.1.len());
        out.push(Todo {
            id: "todo-flags",
            what: "待处理的数据质量问题".into(),
            count: n,
            href: "/quality?status=open".into(),
            hint: "确认有误并更正，或填写情况说明",
        });
    }
    if c.can(Cap::FieldRecord)
        && let Ok(who) = c.authorize::<cap::FieldRead>()
    {
        let q = TaskQuery {
            status: Some(TaskStatus::Open),
            ..Default::default()
        };
        let n = field::list(ctx, &who, &q).await.map_or(0, |v| v.len());
        out.push(Todo {
            id: "todo-tasks",
            what: "待实地核查的任务".into(),
            count: n,
            href: "/verify?status=open".into(),
            hint: "两名核查人员到现场记录并上传照片",
        });
    }
    Ok(out)
}

/// Whether the caller's roles have anything the board counts (reviewers,
/// departments, the quality and field groups); the others start elsewhere.
pub fn has_work(c: &Caller) -> bool {
    default_state(c).is_some()
        || c.submitter_department().is_some()
        || c.can(Cap::Check)
        || c.can(Cap::FieldRecord)
}

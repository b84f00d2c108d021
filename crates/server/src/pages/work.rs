//! 工作台: what waits for the signed-in person, by role — data sets at my
//! review level, sets sent back to my department, open quality flags,
//! open field verification tasks — each a count that links to the page
//! where the work is done. Every count is read through the same service
//! operation as that page, so it matches what the page lists.

use crate::AppState;
use crate::kit::{Frame, PageResult, Viewer, card, layout};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_core::labels::{FlagStatus, TaskStatus};
use pingan_core::review::State as SetState;
use pingan_service::field::{self, TaskQuery};
use pingan_service::quality::{self, FlagQuery};
use pingan_service::review::{self, SetQuery, default_state};
use pingan_service::{Caller, cap};

pub fn routes() -> Router<AppState> {
    Router::new().route("/work", get(page))
}

/// One item of the board: what, how many, where to go.
struct Todo {
    id: &'static str,
    what: String,
    count: usize,
    href: String,
    hint: &'static str,
}

async fn todos(state: &AppState, c: &Caller) -> Vec<Todo> {
    let ctx = &state.ctx;
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
    out
}

/// Whether the caller's roles have anything the board counts (reviewers,
/// departments, the quality and field groups); the others start elsewhere.
pub fn has_work(c: &Caller) -> bool {
    default_state(c).is_some()
        || c.submitter_department().is_some()
        || c.can(Cap::Check)
        || c.can(Cap::FieldRecord)
}

fn tile(t: &Todo) -> Markup {
    html! {
        a.stat.todo id=(t.id) href=(t.href) {
            div.n { (t.count) }
            div.l { (t.what) }
            div.muted { (t.hint) }
        }
    }
}

async fn page(State(state): State<AppState>, v: Viewer) -> PageResult {
    let c = &v.0;
    let items = todos(&state, c).await;
    let body = html! {
        @if items.is_empty() {
            (card("工作台", None, html! {
                div.empty { "您的角色没有需要处理的待办事项。可从左侧菜单进入各项功能。" }
            }))
        } @else {
            (card("我的待办", None, html! {
                div.stats { @for t in &items { (tile(t)) } }
                @if items.iter().all(|t| t.count == 0) {
                    p.muted { "目前没有待办事项。" }
                }
            }))
        }
    };
    Ok(layout::page(Frame::simple(c, "工作台", "/work"), body))
}

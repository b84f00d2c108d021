//! 工作台: what waits for the signed-in person (`pingan_service::work`),
//! each a count that links to the page where the work is done. The menu
//! shows the same counts as badges (`GET /api/v1/work`, read by app.js).

use crate::AppState;
use crate::kit::{Frame, PageResult, Viewer, card, layout};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use pingan_service::work::{Todo, todos};

pub fn routes() -> Router<AppState> {
    Router::new().route("/work", get(page))
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
    let items = todos(&state.ctx, c).await?;
    let body = html! {
        @if items.is_empty() {
            (card("工作台", None, html! {
                div.empty { "您的角色没有需要处理的待办事项。可从左侧菜单进入各项功能。" }
            }))
        } @else {
            (card("我的待办", None, html! {
                div.stats { @for t in items.iter() { (tile(t)) } }
                @if items.iter().all(|t| t.count == 0) {
                    p.muted { "目前没有待办事项。" }
                }
            }))
        }
    };
    Ok(layout::page(Frame::simple(c, "工作台", "/work"), body))
}

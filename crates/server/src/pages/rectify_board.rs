//! 整改督办 (issue 21): every 整改清单 of a year in the caller's scope at a
//! glance, and the list of late items — the weekly 逾期清单 the office
//! sends round (also as a workbook, and from `pingan rectify --late`).

use crate::AppState;
use crate::kit::layout::{self, Frame};
use crate::kit::{PageError, PageResult, Viewer, pick_year, xlsx};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use maud::html;
use pingan_core::rectify::ALL_STATES;
use pingan_core::report::doc::{Block, Cell, Doc, Row, Table};
use pingan_service::{cap, rectify_checks};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rectify", get(page))
        .route("/export/rectify-late.xlsx", get(export))
}

#[derive(serde::Deserialize)]
struct BoardQuery {
    year: Option<i32>,
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<BoardQuery>) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Rectify>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let board = rectify_checks::board(&state.ctx, &who, year).await?;
    let late = rectify_checks::late(&state.ctx, &who).await?;
    let tree = state.ctx.tree().await?;
    let body = html! {
        section.card {
            h2 { (year) "年整改清单" }
            @if board.is_empty() {
                p.muted { "本年度尚未生成问题清单：在地区详情页印发整改通知书后，从通知书生成。" }
            } @else {
                div.table-wrap {
                    table.data id="rectify-board" {
                        thead { tr { th { "地区" } @for s in ALL_STATES { th { (s.label()) } } th { "逾期" } } }
                        tbody {
                            @for b in &board {
                                tr data-region=(b.region) {
                                    td { a href=(format!("/rectify/{}?year={year}", b.region)) { (layout::region_name(&tree, &b.region)) } }
                                    @for n in b.counts { td.num { (n) } }
                                    td.num { @if b.late > 0 { span.tag.danger { (b.late) } } @else { "0" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card id="late-list" {
            h2 { "逾期清单（各年度）" }
            p.muted { "每周一由测评办导出并通报；也可在服务器上定时运行 pingan rectify --late。" }
            @if late.is_empty() { p { "目前没有逾期的整改事项。" } } @else {
                div.table-wrap {
                    table.data.compact {
                        thead { tr { th { "地区" } th { "年度" } th { "问题" } th { "状态" } th { "期限" } th { "逾期情形" } } }
                        tbody {
                            @for (i, why) in &late {
                                tr.late-item data-region=(i.region) {
                                    td { a href=(format!("/rectify/{}?year={}", i.region, i.year)) { (layout::region_name(&tree, &i.region)) } }
                                    td { (i.year) }
                                    td { (i.problem) }
                                    td { (i.state.label()) }
                                    td { (i.deadline) }
                                    td { span.tag.danger { (why) } }
                                }
                            }
                        }
                    }
                }
                p { a.btn.small.export href="/export/rectify-late.xlsx" download { "导出逾期清单 Excel" } }
            }
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "整改督办",
            active: "/rectify",
            crumbs: vec![("整改督办".into(), None)],
            pickers: None,
            banner: None,
        },
        body,
    ))
}

async fn export(State(state): State<AppState>, v: Viewer) -> PageResult {
    let who = v.0.authorize::<cap::Rectify>()?;
    let late = rectify_checks::late(&state.ctx, &who).await?;
    let tree = state.ctx.tree().await?;
    let table = Table {
        id: String::new(),
        head: [
            "地区",
            "年度",
            "问题",
            "状态",
            "方案期限",
            "整改期限",
            "逾期情形",
            "责任单位",
            "责任人",
        ]
        .map(String::from)
        .to_vec(),
        rows: late
            .iter()
            .map(|(i, why)| Row {
                key: i.region.clone(),
                cells: vec![
                    Cell::text(layout::region_name(&tree, &i.region)),
                    Cell::num(i.year.to_string(), Some(i.year as f64)),
                    Cell::text(i.problem.clone()),
                    Cell::text(i.state.label()),
                    Cell::text(i.plan_due.clone()),
                    Cell::text(i.deadline.clone()),
                    Cell::text(*why),
                    Cell::text(i.unit.clone()),
                    Cell::text(i.person.clone()),
                ],
            })
            .collect(),
    };
    let doc = Doc {
        title: "整改事项逾期清单".into(),
        blocks: vec![
            Block::Heading {
                key: "late".into(),
                text: "逾期清单".into(),
            },
            Block::Table(table),
        ],
        properties: Vec::new(),
    };
    let at = pingan_service::report::beijing(&pingan_store::now()).1;
    let bytes = pingan_report::workbook(&doc, &at)
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(xlsx::download_as(
        "整改事项逾期清单.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

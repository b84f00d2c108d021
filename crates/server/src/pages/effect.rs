//! 效果评估 (issue 21): the three rates the seed sets targets for —
//! 测评结果应用率 ≥ 90 %, 问题整改率 ≥ 95 %, 群众满意度提升率 ≥ 5 points —
//! from the system's records, the recorded uses of the results with a form
//! to add one, and the same as an Excel workbook.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back};
use crate::kit::layout::{self, Frame};
use crate::kit::xlsx;
use crate::kit::{PageError, PageResult, Viewer, fmt, pick_year};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use maud::html;
use pingan_core::Level;
use pingan_core::effect::Rate;
use pingan_core::report::doc::{Block, Cell, Doc, Row, Table};
use pingan_service::effect::{self, Effect, KINDS};
use pingan_service::{ServiceError, cap};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/effect", get(page).post(record))
        .route("/export/effect.xlsx", get(export))
}

#[derive(serde::Deserialize)]
struct EffectQuery {
    year: Option<i32>,
}

fn kind_label(k: &str) -> &str {
    KINDS.iter().find(|(c, _)| *c == k).map_or(k, |(_, l)| l)
}

/// The three rates as rows: name, value, parts, target, met.
fn rows(e: &Effect) -> Vec<(String, &Rate, String, &'static str)> {
    vec![
        (
            "测评结果应用率".into(),
            &e.application,
            format!(
                "{} / {} 个市、县有运用记录",
                e.application.numerator, e.application.denominator
            ),
            "%",
        ),
        (
            "问题整改率（按期销号）".into(),
            &e.on_time,
            format!(
                "{} / {} 项到期问题按期销号",
                e.on_time.numerator, e.on_time.denominator
            ),
            "%",
        ),
        (
            format!(
                "群众满意度提升（{}）",
                if e.satisfaction_index.is_empty() {
                    "无调查"
                } else {
                    &e.satisfaction_index
                }
            ),
            &e.satisfaction,
            format!(
                "百分制（(均值−1)÷4×100）：今年 {}，去年 {}",
                fmt::num(e.satisfaction.numerator, 2),
                fmt::num(e.satisfaction.denominator, 2)
            ),
            "个百分点",
        ),
    ]
}

fn estimate(e: Option<(f64, Option<f64>, Option<f64>)>) -> String {
    match e {
        Some((m, Some(lo), Some(hi))) => format!(
            "{}（{}–{}）",
            fmt::num(m, 2),
            fmt::num(lo, 2),
            fmt::num(hi, 2)
        ),
        Some((m, _, _)) => fmt::num(m, 2),
        None => "—".into(),
    }
}

fn value(r: &Rate, unit: &str) -> String {
    r.value
        .map_or("—".into(), |v| format!("{}{unit}", fmt::num(v, 1)))
}

fn met(r: &Rate) -> &'static str {
    match r.met {
        Some(true) => "达标",
        Some(false) => "未达标",
        None => "无数据",
    }
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<EffectQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Publish>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let e = effect::effect(&state.ctx, &who, year).await?;
    let tree = state.ctx.tree().await?;
    let regions: Vec<(String, String)> = tree
        .regions()
        .iter()
        .filter(|r| matches!(r.level, Level::City | Level::County))
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    let body = html! {
        section.card {
            h2 { (year) "年测评效果评估" }
            div.table-wrap {
                table.data id="effect-rates" {
                    thead { tr { th { "指标" } th { "实际" } th { "依据" } th { "目标" } th { "结论" } } }
                    tbody {
                        @for (name, r, parts, unit) in rows(&e) {
                            tr {
                                td { (name) }
                                td.num { (value(r, unit)) }
                                td { (parts) }
                                td.num { "≥ " (fmt::num(r.target, 0)) (unit) }
                                td { span class={"tag " (match r.met { Some(true) => "ok", Some(false) => "danger", None => "info" })} { (met(r)) } }
                            }
                        }
                    }
                }
            }
            p { a.btn.small.export href=(format!("/export/effect.xlsx?year={year}")) download { "导出 Excel" } }
        }
        section.card {
            h2 { "测评结果运用记录" }
            @if e.uses.is_empty() { p.muted { "尚无记录。" } } @else {
                table.data id="effect-uses" {
                    thead { tr { th { "地区" } th { "用途" } th { "运用情况" } th { "登记人" } th { "时间" } } }
                    tbody {
                        @for u in &e.uses {
                            tr {
                                td { (layout::region_name(&tree, &u.region)) }
                                td { (kind_label(&u.kind)) }
                                td { (u.note) }
                                td { (u.recorded_by) }
                                td { (fmt::local_time(&u.recorded_at)) }
                            }
                        }
                    }
                }
            }
            form.inline-form method="post" action="/effect" {
                input type="hidden" name="year" value=(year);
                label { "地区 " select name="region" { @for (code, name) in &regions { option value=(code) { (name) } } } }
                label { "用途 " select name="kind" { @for (k, l) in KINDS { option value=(k) { (l) } } } }
                label { "运用情况 " input type="text" name="note" maxlength="2000" required; }
                label { "考核权重（%，考核评价时填） " input type="text" name="weight" inputmode="decimal" size="5"; }
                label { "是否落实 " select name="applied" { option value="1" { "已落实" } option value="0" { "未落实" } } }
                button.btn.small.primary type="submit" { "登记" }
            }
        }
        section.card id="effect-rules" {
            h2 { "结果运用规则" }
            p { "测评得分权重不低于考核总分的 " (fmt::num(effect::MIN_WEIGHT, 0)) "%：登记了权重的考核评价 "
                strong { (e.weighted.1) } " 条，其中达到要求 " strong { (e.weighted.0) } " 条。" }
            p { "测评得分低于 " (fmt::num(effect::FUNDING_BELOW, 0)) " 分的市、县增加 10% 平安建设专项经费：" }
            @if e.funding.is_empty() { p.muted { "本年度没有低于 80 分的市、县。" } } @else {
                table.data.compact id="effect-funding" {
                    thead { tr { th { "地区" } th { "总分" } th { "专项经费倾斜" } } }
                    tbody {
                        @for f in &e.funding {
                            tr data-region=(f.region) {
                                td { (layout::region_name(&tree, &f.region)) }
                                td.num { (fmt::fixed(f.total)) }
                                td { @match f.applied {
                                    Some(true) => span.tag.ok { "已落实" },
                                    Some(false) => span.tag.danger { "未落实" },
                                    None => span.tag.info { "未登记" },
                                } }
                            }
                        }
                    }
                }
            }
        }
        @if !e.indices.is_empty() {
            section.card id="effect-indices" {
                h2 { "群众调查各项指数（全省，1–5 分，95% 置信区间）" }
                table.data.compact {
                    thead { tr { th { "指数" } th { (year) "年" } th { (year - 1) "年" } th { "变化（百分制）" } } }
                    tbody {
                        @for i in &e.indices {
                            tr {
                                td { (i.name) }
                                td { (estimate(i.this)) }
                                td { (estimate(i.last)) }
                                td.num { @match (i.this, i.last) {
                                    (Some(a), Some(b)) => (fmt::num(pingan_core::effect::hundred(a.0) - pingan_core::effect::hundred(b.0), 1)),
                                    _ => "—",
                                } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "效果评估",
            active: "/effect",
            crumbs: vec![("效果评估".into(), None)],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

async fn record(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let who = v.0.authorize::<cap::Publish>()?;
    let f = Fields::parse(&body);
    let (shown, year) = super::report::form_year(&f.get("year"));
    let to = format!("/effect?{}", shown.trim_end_matches('&'));
    let result = async {
        let year = year?;
        effect::record_use(
            &state.ctx,
            &who,
            year,
            &effect::UseInput {
                region: &f.get("region"),
                kind: &f.get("kind"),
                note: &f.get("note"),
                weight: &f.get("weight"),
                applied: f.get("applied") != "0",
            },
        )
        .await?;
        Ok("已登记".to_string())
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

/// The rates and the uses as a workbook (a cover sheet, then one sheet each).
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<EffectQuery>,
) -> PageResult {
    let who = v.0.authorize::<cap::Publish>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let e = effect::effect(&state.ctx, &who, year).await?;
    let tree = state.ctx.tree().await?;
    let rates = Table {
        id: String::new(),
        head: ["指标", "实际", "依据", "目标", "结论"]
            .map(String::from)
            .to_vec(),
        rows: rows(&e)
            .into_iter()
            .map(|(name, r, parts, unit)| Row {
                key: String::new(),
                cells: vec![
                    Cell::text(name),
                    Cell::num(value(r, unit), r.value),
                    Cell::text(parts),
                    Cell::num(format!("≥ {}{unit}", fmt::num(r.target, 0)), Some(r.target)),
                    Cell::text(met(r)),
                ],
            })
            .collect(),
    };
    let uses = Table {
        id: String::new(),
        head: [
            "地区",
            "用途",
            "运用情况",
            "考核权重（%）",
            "是否落实",
            "登记人",
            "时间",
        ]
        .map(String::from)
        .to_vec(),
        rows: e
            .uses
            .iter()
            .map(|u| Row {
                key: u.region.clone(),
                cells: vec![
                    Cell::text(layout::region_name(&tree, &u.region)),
                    Cell::text(kind_label(&u.kind)),
                    Cell::text(u.note.clone()),
                    Cell::num(u.weight.map_or(String::new(), |w| fmt::num(w, 1)), u.weight),
                    Cell::text(if u.applied != 0 {
                        "已落实"
                    } else {
                        "未落实"
                    }),
                    Cell::text(u.recorded_by.clone()),
                    Cell::text(fmt::local_time(&u.recorded_at)),
                ],
            })
            .collect(),
    };
    let funding = Table {
        id: String::new(),
        head: ["地区", "总分", "专项经费倾斜"].map(String::from).to_vec(),
        rows: e
            .funding
            .iter()
            .map(|f| Row {
                key: f.region.clone(),
                cells: vec![
                    Cell::text(layout::region_name(&tree, &f.region)),
                    Cell::num(fmt::fixed(f.total), Some(f.total)),
                    Cell::text(match f.applied {
                        Some(true) => "已落实",
                        Some(false) => "未落实",
                        None => "未登记",
                    }),
                ],
            })
            .collect(),
    };
    let indices = Table {
        id: String::new(),
        head: [
            "指数".to_string(),
            format!("{year}年（95%置信区间）"),
            format!("{}年（95%置信区间）", year - 1),
        ]
        .to_vec(),
        rows: e
            .indices
            .iter()
            .map(|i| Row {
                key: String::new(),
                cells: vec![
                    Cell::text(i.name.clone()),
                    Cell::num(estimate(i.this), i.this.map(|t| t.0)),
                    Cell::num(estimate(i.last), i.last.map(|t| t.0)),
                ],
            })
            .collect(),
    };
    let doc = Doc {
        title: format!("{year}年平安建设测评效果评估"),
        blocks: vec![
            Block::Heading {
                key: "rates".into(),
                text: "效果评估".into(),
            },
            Block::Table(rates),
            Block::Heading {
                key: "uses".into(),
                text: "结果运用记录".into(),
            },
            Block::Table(uses),
            Block::Heading {
                key: "funding".into(),
                text: "80分以下地区专项经费倾斜".into(),
            },
            Block::Table(funding),
            Block::Heading {
                key: "indices".into(),
                text: "群众调查各项指数".into(),
            },
            Block::Table(indices),
        ],
        properties: vec![("pingan-year".into(), year.to_string())],
    };
    let at = pingan_service::report::beijing(&pingan_store::now()).1;
    let bytes = pingan_report::workbook(&doc, &at)
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(xlsx::download_as(
        &format!("{year}年测评效果评估.xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

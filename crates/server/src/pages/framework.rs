//! 指标体系: the tree with effective weights and full points, each
//! indicator's definition, formula, department and rule in words; the
//! weight bar chart annotated as seed §2.3 asks; lint warnings in view.

use crate::AppState;
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageResult, Viewer, card, data_script, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::html;
use pingan_core::framework::view;
use pingan_service::{cap, structure};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/framework", get(page))
        .route("/export/framework.xlsx", get(export))
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<YearQuery>) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Structure>()?;
    let fw = structure::framework(&state.ctx, &who, q.year).await?;
    let t = view::tree(&fw);
    let share = t.public_opinion_share;
    let provisional: Vec<&view::IndicatorView> = t
        .dimensions
        .iter()
        .flat_map(|d| d.domains.iter())
        .flat_map(|m| m.indicators.iter())
        .filter(|i| i.provisional)
        .collect();
    let count = t
        .dimensions
        .iter()
        .flat_map(|d| d.domains.iter())
        .map(|m| m.indicators.len())
        .sum::<usize>();
    let bars = json!({
        "names": t.dimensions.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        "weights": t.dimensions.iter().map(|d| (d.weight * 10000.0).round() / 100.0).collect::<Vec<_>>(),
        "notes": t.dimensions.iter().map(|d| d.note.clone()).collect::<Vec<_>>(),
    });
    let body = html! {
        @if share < t.min_public_opinion_share {
            div.banner.warn id="lint-share" {
                "提示：群众评价类指标的满分合计占比为 " (fmt::percent(share * 100.0)) "，低于方案要求的 "
                (fmt::percent(t.min_public_opinion_share * 100.0)) "（群众评价权重不足，须调整权重）。"
            }
        } @else {
            div.banner.info id="lint-share" { "群众评价类指标满分占比 " (fmt::percent(share * 100.0)) "。" }
        }
        @if !provisional.is_empty() {
            div.banner.warn id="lint-provisional" {
                (provisional.len()) " 项指标的计分规则为待定（方案未给出具体标准，按比例法暂行）："
                @for (k, i) in provisional.iter().enumerate() { @if k > 0 { "、" } (i.name) }
            }
        }
        div.grid {
            (card("一级维度权重（德尔菲法与层次分析法确定）", None, html! {
                (data_script("weights-data", &bars))
                div.chart data-chart="weights" data-source="weights-data" {}
            }))
            (card("说明", None, html! {
                dl.kv {
                    dt { "名称" } dd { (t.name) }
                    dt { "代码" } dd { (t.code) }
                    dt { "适用年度" } dd { @if let Some(y) = t.year { (y) "年起" } @else { "—" } }
                    dt { "满分" } dd { (fmt::points(t.total)) }
                    dt { "指标数" } dd { (count) " 项三级指标，" (t.elements.len()) " 项数据项" }
                    dt { "权重流程" } dd { "专家打分 → 构建判断矩阵 → 一致性检验 → 权重计算" }
                }
                ul.reasons {
                    @for d in &t.dimensions {
                        li { b { (d.name) " " (fmt::weight(d.weight)) } @if !d.note.is_empty() { "：" (d.note) } }
                    }
                }
            }))
        }
        (card("指标体系", Some(html! { a.btn.small.export href=(match q.year { Some(y) => format!("/export/framework.xlsx?year={y}"), None => "/export/framework.xlsx".into() }) download { "导出 Excel" } }), html! {
            div.table-wrap {
                table.data id="framework" {
                    thead { tr {
                        th { "代码" } th { "名称" } th.num { "权重" } th.num { "综合权重" } th.num { "满分" }
                        th { "定义与公式" } th { "责任部门" } th { "计分规则" }
                    } }
                    tbody {
                        @for d in &t.dimensions {
                            tr.dimension { td { b { (d.code) } } td { b { (d.name) } } td.num { (fmt::weight(d.weight)) }
                                td.num { (fmt::weight(d.effective_weight)) } td.num { (fmt::num(d.max, 2)) } td colspan="3" { span.muted { (d.note) } } }
                            @for m in &d.domains {
                                tr.domain { td.indent-1 { (m.code) } td.indent-1 { (m.name) } td.num { (fmt::weight(m.weight)) }
                                    td.num { (fmt::weight(m.effective_weight)) } td.num { (fmt::num(m.max, 2)) } td colspan="3" {} }
                                @for i in &m.indicators {
                                    tr.indicator data-indicator=(i.code) id=(i.code) {
                                        td.indent-2.tree-code { (i.code) }
                                        td { (i.name)
                                            @if i.provisional { " " span.tag.warn { "待定" } }
                                            @if i.public_opinion { " " span.tag.primary { "群众评价" } } }
                                        td.num { (fmt::weight(i.weight)) }
                                        td.num { (fmt::weight(i.effective_weight)) }
                                        td.num { (fmt::num(i.max, 2)) }
                                        td { (i.definition) br; span.muted { "公式：" (fw.in_words(&i.formula)) "（" (i.unit) "，" (if i.polarity == "higher" { "越高越好" } else if i.polarity == "lower" { "越低越好" } else { i.polarity }) "）" }
                                            @if !i.suggestion.is_empty() { br; span.muted.suggestion { "整改建议：" (i.suggestion) } } }
                                        td { (i.department) }
                                        td { (i.rule_text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "指标体系", "/framework"),
        body,
    ))
}

/// The framework as a table, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let who = v.0.authorize::<cap::Structure>()?;
    let fw = structure::framework(&state.ctx, &who, q.year).await?;
    let t = view::tree(&fw);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for d in &t.dimensions {
        for m in &d.domains {
            for i in &m.indicators {
                rows.push(vec![
                    d.name.as_str().into(),
                    m.name.as_str().into(),
                    i.code.as_str().into(),
                    i.name.as_str().into(),
                    i.effective_weight.into(),
                    i.max.into(),
                    i.unit.as_str().into(),
                    i.department.as_str().into(),
                    i.definition.as_str().into(),
                    i.formula.as_str().into(),
                    i.rule_text.as_str().into(),
                    i.suggestion.as_str().into(),
                    (if i.provisional { "待定" } else { "" }).into(),
                ]);
            }
        }
    }
    let headers = [
        "维度",
        "领域",
        "代码",
        "指标",
        "综合权重",
        "满分",
        "单位",
        "责任部门",
        "定义",
        "公式",
        "计分规则",
        "整改建议",
        "备注",
    ];
    let bytes = xlsx::workbook(&v.0, "指标体系", &headers, rows)?;
    Ok(xlsx::download(&format!("{}.xlsx", t.name), bytes))
}

//! 修改报告 / 修改通知书: the office edits the words of each section of a
//! region's 测评报告 or 问题整改通知书 before issuing (issue 20). Every save
//! is a version (the history is listed under each section); an empty text
//! puts the generated words back. Tables and charts are not edited: they
//! are the stored results.

use crate::AppState;
use crate::kit::forms::{Fields, Flash, back, urlencode};
use crate::kit::layout::{self, Frame};
use crate::kit::{PageResult, Viewer, fmt, pick_year};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::html;
use pingan_service::{ServiceError, cap, report_edits};

pub fn routes() -> Router<AppState> {
    Router::new().route("/report/{code}/edit", get(page).post(save))
}

#[derive(serde::Deserialize)]
struct EditQuery {
    year: Option<i32>,
    kind: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Path(code): Path<String>,
    Query(q): Query<EditQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Notices>()?;
    let year = pick_year(&state.ctx, q.year).await;
    let notice = q.kind.as_deref() == Some("notice");
    let kind = if notice { "notice" } else { "report" };
    let e = report_edits::editing(&state.ctx, &who, year, &code, notice).await?;
    let view = format!("/report/{}?year={year}&kind={kind}", urlencode(&code));
    let body = html! {
        p.muted {
            "逐段修改后保存；每次保存都留有版本并记入审计日志，打印、Word、Excel、PDF 均按最新版本生成。"
            "清空后保存即恢复为系统生成的文字。表格和图表来自已审定的测评结果，不能修改。"
            " " a href=(view) { "查看" (e.title) }
        }
        @for ((key, heading, words), (_, _, generated)) in e.current.iter().zip(&e.generated) {
            @let versions: Vec<_> = e.history.iter().filter(|h| &h.section == key).collect();
            section.card id=(format!("edit-{key}")) {
                h2 { @if heading.is_empty() { "开头（主送机关后）" } @else { (heading) } }
                form method="post" action=(format!("/report/{}/edit", urlencode(&code))) {
                    input type="hidden" name="year" value=(year);
                    input type="hidden" name="kind" value=(kind);
                    input type="hidden" name="section" value=(key);
                    textarea name="text" rows="8" style="width: 100%" aria-label=(format!("{heading} 的文字")) { (words) }
                    div.actions { button.btn.primary type="submit" { "保存本段" } }
                }
                details {
                    summary { "系统生成的文字" }
                    pre style="white-space: pre-wrap" { (generated) }
                }
                @if !versions.is_empty() {
                    table.data.compact {
                        thead { tr { th { "版本" } th { "修改人" } th { "时间" } th { "字数" } } }
                        tbody {
                            @for h in versions.iter().rev() {
                                tr {
                                    td.num { (h.version) }
                                    td { (h.edited_by) }
                                    td { (fmt::local_time(&h.edited_at)) }
                                    td.num { @if h.text.is_empty() { "（恢复生成）" } @else { (h.text.chars().count()) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = if notice {
        "修改整改通知书"
    } else {
        "修改测评报告"
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title,
            active: "/",
            crumbs: vec![(e.title.clone(), Some(view.clone())), (title.into(), None)],
            pickers: None,
            banner: flash.0,
        },
        body,
    ))
}

async fn save(
    State(state): State<AppState>,
    v: Viewer,
    Path(code): Path<String>,
    body: String,
) -> PageResult {
    let who = v.0.authorize::<cap::Notices>()?;
    let f = Fields::parse(&body);
    let notice = f.get("kind") == "notice";
    let (shown, year) = super::report::form_year(&f.get("year"));
    let section = f.get("section");
    let to = format!(
        "/report/{}/edit?{shown}kind={}#edit-{}",
        urlencode(&code),
        if notice { "notice" } else { "report" },
        urlencode(&section)
    );
    let result = async {
        let year = year?;
        // Not trimmed by Fields::get beyond its ends: the lines are kept.
        let text =
            f.0.iter()
                .find(|(n, _)| n == "text")
                .map(|(_, t)| t.as_str())
                .unwrap_or("");
        let saved =
            report_edits::save(&state.ctx, &who, year, &code, notice, &section, text).await?;
        Ok(if saved.text.is_empty() {
            format!("已恢复为系统生成的文字（第 {} 版）", saved.version)
        } else {
            format!("已保存（第 {} 版）", saved.version)
        })
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

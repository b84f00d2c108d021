//! 网页填报: one department, period and region as an input grid prefilled
//! with the latest values; the changed cells are checked whole, then go
//! through the values import under the department's source.

use crate::AppState;
use crate::kit::forms::{Fields, urlencode};
use crate::kit::{PageError, PageResult, Viewer, card, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_service::submit::{self, FormScope};
use pingan_service::values::{self, ImportOptions};
use pingan_service::{Caller, cap};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/submit/form", get(form_page).post(form_submit))
}

#[derive(serde::Deserialize, Default)]
pub struct FormQuery {
    pub department: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
}

/// The form's scope; any refusal (another department, too many rows) is
/// shown as a request that cannot be served as asked.
async fn scope(state: &AppState, c: &Caller, q: &FormQuery) -> Result<FormScope, PageError> {
    let who = c.authorize::<cap::Submit>()?;
    submit::form(
        &state.ctx,
        &who,
        q.department.as_deref(),
        q.period.as_deref(),
        q.region.as_deref(),
    )
    .await
    .map_err(PageError::unprocessable)
}

fn num_text(v: f64) -> String {
    pingan_core::num::fmt_num(v, 6)
}

/// What a cell may hold, for the browser to say while typing (the server
/// checks again on submit): counts are whole and not negative, and the
/// hard range rules of `pingan check` bound the rest.
struct CellRule {
    whole: bool,
    min: Option<f64>,
    max: Option<f64>,
}

fn cell_rules(s: &FormScope) -> HashMap<usize, CellRule> {
    let rules = pingan_core::quality::rules::RuleSet::default_for(&s.fw);
    let mut out = HashMap::new();
    for &e in &s.elements {
        let el = &s.fw.elements[e];
        let whole = el.is_count();
        let mut min = whole.then_some(0.0);
        let mut max = whole.then_some(pingan_core::bounds::MAX_COUNT);
        for r in rules.ranges.iter().filter(|r| {
            r.importance == pingan_core::quality::rules::Importance::High && r.elements.contains(&e)
        }) {
            if let Some(lo) = r.min {
                min = Some(min.map_or(lo, |m: f64| m.max(lo)));
            }
            if let Some(hi) = r.max {
                max = Some(max.map_or(hi, |m: f64| m.min(hi)));
            }
        }
        out.insert(e, CellRule { whole, min, max });
    }
    out
}

/// Why a row cannot be edited, or what stage it is in: shown in the grid.
fn set_cell(set: Option<&pingan_store::DataSet>) -> Markup {
    match set {
        Some(d) if d.state == pingan_core::review::State::Approved => html! {
            span.tag.ok.locked title=(format!("{} 于 {} 三级审核确认后锁定；如需修改，请测评办管理员解锁", d.level3_by.clone().unwrap_or_default(), fmt::local_time(&d.updated_at))) {
                "已锁定"
            }
        },
        Some(d) => html! {
            a href=(format!("/review/set?department={}&region={}&period={}", urlencode(&d.key.department), d.key.region, d.key.period)) title=(d.reason) {
                (super::review::state_tag(d.state))
            }
        },
        None => html! {},
    }
}

fn form_body(
    c: &Caller,
    s: &FormScope,
    entered: &HashMap<String, String>,
    result: Option<Markup>,
) -> Markup {
    let values = &s.values;
    let checks = cell_rules(s);
    html! {
        @if let Some(r) = result { (r) }
        (card(&format!("{} {} 数据填报（{} 个地区）", s.department, s.period.label(), s.regions.len()), None, html! {
            form method="post" action="/submit/form" id="entry" {
                input type="hidden" name="department" value=(s.department);
                input type="hidden" name="period" value=(s.period.to_string());
                @if let Some(r) = &s.region {
                    input type="hidden" name="region" value=(r);
                }
                div.table-wrap {
                    table.data id="entry-grid" {
                        thead { tr {
                            th { "地区" }
                            th { "审核状态" }
                            @for &e in &s.elements {
                                @let el = &s.fw.elements[e];
                                th { (el.name) @if !el.unit.is_empty() { br; span.muted { "（" (el.unit) "）" } } }
                            }
                        } }
                        tbody {
                            @for &r in &s.regions {
                                @let reg = s.tree.get(r);
                                @let set = s.sets.get(&reg.code);
                                @let locked = set.is_some_and(|d| d.state == pingan_core::review::State::Approved);
                                tr {
                                    td { (reg.name) br; span.muted { (reg.code) } }
                                    td { (set_cell(set)) }
                                    @for &e in &s.elements {
                                        @let key = format!("v.{}.{}", reg.code, s.fw.elements[e].code);
                                        @let old = values.get(&(r, e)).map(|v| num_text(*v)).unwrap_or_default();
                                        @let shown = entered.get(&key).cloned().unwrap_or_else(|| old.clone());
                                        @let rule = &checks[&e];
                                        td {
                                            input type="text" inputmode=(if rule.whole { "numeric" } else { "decimal" }) size="7" name=(key) value=(shown) readonly[locked]
                                                data-check="" data-whole=[rule.whole.then_some("1")]
                                                data-min=[rule.min.map(num_text)] data-max=[rule.max.map(num_text)]
                                                data-label=(format!("{} {}", reg.name, s.fw.elements[e].name));
                                            input type="hidden" name=(format!("o.{}.{}", reg.code, s.fw.elements[e].code)) value=(old);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                label { input type="checkbox" name="dry_run" value="1"; " 只检查，不写入（试运行）" }
                " "
                (super::submit::review_choice(c))
                " "
                button.btn.primary type="submit" { "提交" }
                " "
                span.entry-errors id="entry-errors" role="status" aria-live="polite" {}
                p.muted { "只提交改动过的格子；留空表示未报送。填写时即检查数字、整数和取值范围（标红的格子须改正才能提交）；提交后再整体检查，有任何错误都不写入。" }
            }
        }))
    }
}

/// GET /submit/form: the grid of one department, period and region.
async fn form_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<FormQuery>,
) -> PageResult {
    let c = &v.0;
    let s = scope(&state, c, &q).await?;
    Ok(layout::page(
        super::submit::frame(c),
        form_body(c, &s, &HashMap::new(), None),
    ))
}

/// POST /submit/form: the changed cells, checked whole, then imported.
async fn form_submit(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Submit>()?;
    let f = Fields::parse(&body);
    let q = FormQuery {
        department: f.opt("department"),
        period: f.opt("period"),
        region: f.opt("region"),
    };
    let s = scope(&state, c, &q).await?;
    let dry_run = f.has("dry_run");
    let mut changed: Vec<(usize, usize, String)> = Vec::new();
    for &r in &s.regions {
        let reg = s.tree.get(r);
        for &e in &s.elements {
            let key = format!("{}.{}", reg.code, s.fw.elements[e].code);
            let new = f.get(&format!("v.{key}"));
            let old = f.get(&format!("o.{key}"));
            if new != old && !new.is_empty() {
                changed.push((r, e, new));
            }
        }
    }
    let entered: HashMap<String, String> =
        f.0.iter()
            .filter(|(k, _)| k.starts_with("v."))
            .cloned()
            .collect();
    let outcome: Result<String, Vec<String>> = async {
        let batch = submit::form_batch(&state.ctx, &who, &s, &changed)
            .await
            .map_err(super::submit::import_errors)?;
        let options = ImportOptions {
            dry_run,
            review: f.has("review"),
            ..Default::default()
        };
        let x = values::import(&state.ctx, &who, batch, options)
            .await
            .map_err(super::submit::import_errors)?;
        Ok(format!(
            "{}：{} 个数值，新增 {}，更新 {}，未变 {}{}",
            if dry_run {
                "试运行通过（未写入）"
            } else {
                "已提交"
            },
            x.rows,
            x.imported,
            x.updated,
            x.ignored,
            super::submit::review_note(&x)
        ))
    }
    .await;
    let result = match &outcome {
        Ok(m) => html! { div.banner.ok id="entry-result" { (m) } },
        Err(errs) => html! {
            div.banner.error id="entry-result" {
                "未写入任何数据：" ul.errors { @for e in errs { li { (e) } } }
            }
        },
    };
    // After a real import the form shows the stored values again.
    let (s, entered) = if outcome.is_ok() && !dry_run {
        (scope(&state, c, &q).await?, HashMap::new())
    } else {
        (s, entered)
    };
    Ok(layout::page(
        super::submit::frame(c),
        form_body(c, &s, &entered, Some(result)),
    ))
}

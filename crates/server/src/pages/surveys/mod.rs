//! 群众调查 (issue 17): per region, drilled down like the overview, what
//! came back (invitations, received, valid, 有效回收率, why answers were
//! invalid) and each index with its 95 % interval, last year's beside it
//! and whether the change is significant. The office manages the year's
//! questionnaire, frame, margins, plan and answers (`manage`).

mod answer;
mod collect;
mod comments;
mod export;
mod export_xlsx;
mod fieldwork;
mod invitations;
mod manage;
mod opinion;

use crate::AppState;
use crate::kit::forms::{Flash, urlencode};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, fmt, layout, pick_region};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::RegionTree;
use pingan_core::access::Cap;
use pingan_core::survey::compare::{Change, change};
use pingan_core::survey::estimate::{ElementEstimate, RegionEstimate};
use pingan_service::surveys::{self, Board, Tally};
use pingan_service::{Caller, cap};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(page))
        .route("/surveys/export.xlsx", get(export))
        .merge(manage::routes())
        .merge(answer::routes())
        .merge(collect::routes())
        .merge(comments::routes())
        .merge(opinion::routes())
        .merge(invitations::routes())
        .merge(fieldwork::routes())
        .merge(export::routes())
        .merge(export_xlsx::routes())
}

#[derive(Deserialize, Default)]
pub struct SurveyQuery {
    pub year: Option<i32>,
    pub region: Option<String>,
    pub min_n: Option<usize>,
}

/// The year asked for, else the newest with a questionnaire.
async fn pick_year(
    state: &AppState,
    asked: Option<i32>,
) -> Result<(Vec<i32>, Option<i32>), PageError> {
    let years = surveys::survey_years(&state.ctx).await?;
    let year = asked.or(years.first().copied());
    Ok((years, year))
}

fn min_n(q: &SurveyQuery) -> Result<usize, PageError> {
    match q.min_n {
        None => Ok(30),
        Some(n) if (1..=100_000).contains(&n) => Ok(n),
        Some(_) => Err(PageError::bad_request(
            "最少样本（min_n）应在 1 到 100000 之间",
        )),
    }
}

fn of<'a>(est: &'a [RegionEstimate], code: &str) -> Option<&'a RegionEstimate> {
    est.iter().find(|r| r.region == code)
}

fn element<'a>(r: Option<&'a RegionEstimate>, e: &str) -> Option<&'a ElementEstimate> {
    r?.elements.iter().find(|x| x.element == e)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), fmt::percent)
}

/// Decimals for an index: two on a 1–5 scale, one on 0–100 (a standard
/// error one more).
fn digits(b: &Board) -> usize {
    match b.form.form.score_range() {
        Some((_, hi)) if hi <= 10.0 => 2,
        _ => 1,
    }
}

fn estimate_cell(e: Option<&ElementEstimate>, d: usize) -> Markup {
    match e {
        Some(ElementEstimate {
            estimate: Some(v),
            ci_low: Some(lo),
            ci_high: Some(hi),
            ..
        }) => html! {
            span title=(format!("95% 置信区间 {} – {}", fmt::num(*lo, d + 1), fmt::num(*hi, d + 1))) { (fmt::num(*v, d)) }
        },
        Some(e) if e.reason.is_some() => {
            html! { span.tag.warn title=(format!("样本 {} 人，不足以估计", e.n)) { "样本不足" } }
        }
        _ => html! { span.muted { "—" } },
    }
}

fn change_tag(c: Option<Change>) -> Markup {
    match c {
        None => html! { span.muted { "—" } },
        Some(c) => {
            let class = match (c.significant, c.diff > 0.0) {
                (true, true) => "tag ok",
                (true, false) => "tag danger",
                _ => "tag",
            };
            html! {
                span class=(class) title=(format!("差值 95% 置信区间 {} – {}", fmt::num(c.ci_low, 3), fmt::num(c.ci_high, 3))) {
                    (c.words())
                }
            }
        }
    }
}

fn signed(x: f64, d: usize) -> String {
    if x > 0.0 {
        format!("+{}", fmt::num(x, d))
    } else {
        fmt::num(x, d)
    }
}

fn stats(t: &Tally, planned: bool) -> Markup {
    html! {
        div.stats id="survey-stats" {
            @if planned {
                div.stat { div.n { (t.target) } div.l { "计划样本" } }
                div.stat { div.n { (t.invitations) } div.l { "发放邀请" } }
            }
            div.stat { div.n id="received" { (t.received) } div.l { "收到答卷" } }
            div.stat { div.n id="valid" { (t.valid) } div.l { "有效答卷" } }
            div.stat { div.n id="valid-rate" { (pct(t.valid_rate())) } div.l { "有效回收率" } }
            @if planned {
                div.stat { div.n { (pct(t.completion())) } div.l { "完成率（有效 ÷ 计划）" } }
            }
        }
        table.data.compact id="invalid-reasons" {
            thead { tr { th { "无效原因" } th.num { "份数" } th { "说明" } } }
            tbody {
                tr { td { "用时过短" } td.num { (t.too_fast) } td.muted { "提交与开始相隔少于问卷规定的最短时长" } }
                tr { td { "必答题未答" } td.num { (t.incomplete) } td.muted { "有应答的必答题留空" } }
                tr { td { "答案不符合约束" } td.num { (t.constraint) } td.muted { "答案违反题目约束，或回答了不适用的题" } }
                tr { td { "整齐划一作答" } td.num { (t.straightlining) } td.muted { "8 道以上计分题全选同一项：只报告，不判无效" } }
            }
        }
    }
}

/// The indices of one region with their intervals, and last year's.
fn indices(b: &Board, code: &str) -> (Markup, serde_json::Value) {
    let now = of(&b.estimates.regions, code);
    let before = b.before.as_ref().and_then(|e| of(&e.regions, code));
    let point = |e: Option<&ElementEstimate>| match e {
        Some(ElementEstimate {
            estimate: Some(v),
            ci_low: Some(lo),
            ci_high: Some(hi),
            ..
        }) => json!({"est": v, "low": lo, "high": hi}),
        _ => serde_json::Value::Null,
    };
    let d = digits(b);
    let (lo, hi) = b.form.form.score_range().unwrap_or((0.0, 100.0));
    let chart = json!({
        "min": lo, "max": hi, "digits": d,
        "names": b.elements.iter().map(|(_, n)| n).collect::<Vec<_>>(),
        "now": b.elements.iter().map(|(e, _)| point(element(now, e))).collect::<Vec<_>>(),
        "before": b.before.as_ref().map(|_| b.elements.iter().map(|(e, _)| point(element(before, e))).collect::<Vec<_>>()),
        "label_now": format!("{} 年", b.year),
        "label_before": format!("{} 年", b.year - 1),
    });
    let table = html! {
        div.table-wrap {
            table.data id="indices" {
                thead { tr {
                    th { "指标" } th.num { "估计值" } th.num { "95% 置信区间" } th.num { "标准误" }
                    th.num { "样本量" } th.num { "有效样本量" } th.num { "设计效应" }
                    @if b.before.is_some() { th.num { (b.year - 1) " 年" } th.num { "变化" } th { "显著性" } }
                } }
                tbody {
                    @for (code, name) in &b.elements {
                        @let e = element(now, code);
                        @let last = element(before, code);
                        tr data-element=(code) {
                            td { (name) br; span.muted { (code) } }
                            td.num { (estimate_cell(e, d)) }
                            td.num { @if let Some(ElementEstimate { ci_low: Some(lo), ci_high: Some(hi), .. }) = e { (fmt::num(*lo, d)) " – " (fmt::num(*hi, d)) } @else { "—" } }
                            td.num { (e.and_then(|e| e.se).map_or("—".into(), |x| fmt::num(x, d + 1))) }
                            td.num { (e.map_or(0, |e| e.n)) }
                            td.num { (e.and_then(|e| e.n_eff).map_or("—".into(), |x| fmt::num(x, 1))) }
                            td.num { (e.and_then(|e| e.deff).map_or("—".into(), |x| fmt::num(x, 2))) }
                            @if b.before.is_some() {
                                @let c = e.zip(last).and_then(|(a, z)| change(a, z));
                                td.num { (estimate_cell(last, d)) }
                                td.num { (c.map_or("—".into(), |c| signed(c.diff, d))) }
                                td { (change_tag(c)) }
                            }
                        }
                    }
                }
            }
        }
    };
    (table, chart)
}

fn children_table(
    b: &Board,
    tree: &RegionTree,
    c: &Caller,
    root: usize,
    link: &dyn Fn(&str) -> String,
) -> Markup {
    let kids: Vec<usize> = tree
        .children(root)
        .iter()
        .copied()
        .filter(|&k| c.sees(tree, k))
        .collect();
    html! {
        @if kids.is_empty() {
            div.empty { "没有下级地区" }
        } @else {
            div.table-wrap {
                table.data id="children" data-page-size="50" data-filter="true" {
                    thead { tr {
                        th data-sort="text" { "地区" }
                        th.num data-sort="num" { "收到" }
                        th.num data-sort="num" { "有效" }
                        th.num data-sort="num" { "有效回收率" }
                        @if b.plan.is_some() { th.num data-sort="num" { "完成率" } }
                        @for (_, name) in &b.elements { th.num data-sort="num" { (name) } }
                    } }
                    tbody {
                        @for &k in &kids {
                            @let r = tree.get(k);
                            @let t = &b.tallies[k];
                            @let est = of(&b.estimates.regions, &r.code);
                            tr data-region=(r.code) {
                                td { a href=(link(&r.code)) { (r.name) } }
                                td.num { (t.received) }
                                td.num { (t.valid) }
                                td.num { (pct(t.valid_rate())) }
                                @if b.plan.is_some() { td.num { (pct(t.completion())) } }
                                @for (e, _) in &b.elements { td.num { (estimate_cell(element(est, e), digits(b))) } }
                            }
                        }
                    }
                }
            }
            p.muted { "数值为加权估计（按抽样框人口的基础权重，有加权边际的县按性别×年龄组校准）；悬停可见 95% 置信区间。有效样本少于 " (b.min_n) " 人的地区标为“样本不足”，不作估计。" }
        }
    }
}

/// The year picker of the survey pages (`action` the page's path).
pub(super) fn pickers(action: &str, years: &[i32], year: i32, region: &str) -> Markup {
    html! {
        form.inline method="get" action=(action) id="pickers" {
            label for="s-year" { "年度" }
            select id="s-year" name="year" {
                @for y in years { option value=(y) selected[*y == year] { (y) "年" } }
            }
            input type="hidden" name="region" value=(region);
            button.btn.small type="submit" { "查看" }
        }
    }
}

fn crumbs(
    tree: &RegionTree,
    c: &Caller,
    i: usize,
    link: &dyn Fn(&str) -> String,
) -> Vec<(String, Option<String>)> {
    let mut path = vec![i];
    let mut at = i;
    while let Some(p) = tree.get(at).parent {
        if !c.sees(tree, p) {
            break;
        }
        path.push(p);
        at = p;
    }
    let mut out = vec![("群众调查".to_string(), None)];
    for (k, &r) in path.iter().rev().enumerate() {
        let last = k + 1 == path.len();
        let reg = tree.get(r);
        out.push((reg.name.clone(), (!last).then(|| link(&reg.code))));
    }
    out
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<SurveyQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Surveys>()?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let code = tree.get(root).code.clone();
    let (years, year) = pick_year(&state, q.year).await?;
    let min_n = min_n(&q)?;
    let manage = c.can(Cap::SurveyManage);
    let Some(year) = year else {
        let body = html! {
            (card("群众调查", None, html! {
                div.empty { "还没有导入任何年度的调查问卷。" }
                @if manage { p { "请在下方“调查管理”中下载默认问卷模板或导入问卷，再导入抽样框、加权边际和答卷。" } }
            }))
            @if manage { (manage::tools(None, &code)) }
        };
        return Ok(layout::page(
            Frame::simple(c, "群众调查", "/surveys").banner(flash.0),
            body,
        ));
    };
    let b = match surveys::board(&state.ctx, &who, year, min_n).await {
        Ok(b) => b,
        Err(e) => {
            let body = html! {
                (card(&format!("{year} 年群众调查"), None, html! { div.banner.warn id="not-ready" { (e.to_string()) } }))
                @if manage { (manage::tools(Some(year), &code)) }
            };
            return Ok(layout::page(
                Frame {
                    caller: c,
                    title: "群众调查",
                    active: "/surveys",
                    crumbs: vec![("群众调查".into(), None)],
                    pickers: Some(pickers("/surveys", &years, year, &code)),
                    banner: flash.0,
                },
                body,
            ));
        }
    };
    let link = |r: &str| format!("/surveys?year={year}&region={}", urlencode(r));
    let here = tree.get(root);
    // The answers an export holds: the caller's whole scope, whichever
    // region the page shows.
    let scope_answers = pick_region(c, &tree, &None)
        .ok()
        .and_then(|s| b.tallies.get(s))
        .map_or(0, |t| t.received);
    let (table, chart) = indices(&b, &code);
    let export = format!(
        "/surveys/export.xlsx?year={year}&region={}&min_n={min_n}",
        urlencode(&code)
    );
    let body = html! {
        (card(&format!("{} {} 年调查概况", here.name, year), None, html! {
            p.muted {
                "问卷 " (b.form.form.title) "（" (b.form.form.id) "，版本 " (b.form.form.version) "）　"
                a href=(format!("/surveys/fieldwork?year={year}&region={}", urlencode(&code))) id="fieldwork-link" { "调查进度（每日答卷、配额）" }
                "　"
                a href=(format!("/surveys/comments?year={year}&region={}", urlencode(&code))) id="comments-link" { "群众意见（关键词）" }
                "　"
                @if scope_answers <= export_xlsx::DIRECT_MAX {
                    a href=(format!("/surveys/responses.csv?year={year}")) id="responses-export" download { "导出答卷（CSV）" }
                    "　"
                    a href=(format!("/surveys/responses.xlsx?year={year}")) id="responses-xlsx" download { "导出答卷（Excel）" }
                }
            }
            @if scope_answers > export_xlsx::DIRECT_MAX {
                div.inline-form {
                    form.inline method="post" action=(format!("/surveys/responses.csv?year={year}")) id="prepare-responses-csv" {
                        button.btn.small.export type="submit" { "导出答卷（CSV，后台生成）" }
                    }
                    form.inline method="post" action=(format!("/surveys/responses.xlsx?year={year}")) id="prepare-responses" {
                        button.btn.small.export type="submit" { "导出答卷（Excel，后台生成）" }
                    }
                    span.hint { "超过 " (export_xlsx::DIRECT_MAX) " 份，在后台生成，完成后到“下载中心”下载" }
                }
            }
            (stats(&b.tallies[root], b.plan.is_some()))
        }))
        (card(&format!("{} 各项指数（加权估计与 95% 置信区间）", here.name),
            Some(html! { a.btn.small.export href=(export) download { "导出 Excel" } }),
            html! {
                (layout::data_script("ci-data", &chart))
                div.chart.tall data-chart="ci" data-source="ci-data" role="img" aria-label="各项指数及其 95% 置信区间" {}
                (table)
                @if b.before.is_some() {
                    p.muted { "显著性：两年估计之差的 95% 置信区间（标准误 √(se₁² + se₀²)）不含 0 时为显著。" }
                } @else {
                    p.muted { (year - 1) " 年没有调查问卷，无法比较。" }
                }
            }))
        (card("下级地区", None, children_table(&b, &tree, c, root, &link)))
        @if manage { (manage::tools(Some(year), &code)) }
    };
    Ok(layout::page(
        Frame {
            caller: c,
            title: "群众调查",
            active: "/surveys",
            crumbs: crumbs(&tree, c, root, &link),
            pickers: Some(pickers("/surveys", &years, year, &code)),
            banner: flash.0,
        },
        body,
    ))
}

/// The region's subtree as Excel: per region its tallies and each index
/// with its interval, last year's and the significance.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<SurveyQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Surveys>()?;
    let tree = state.ctx.tree().await?;
    let root = pick_region(c, &tree, &q.region)?;
    let (_, year) = pick_year(&state, q.year).await?;
    let year = year.ok_or_else(|| PageError::not_found("还没有调查问卷"))?;
    let b = surveys::board(&state.ctx, &who, year, min_n(&q)?).await?;
    let mut headers: Vec<String> = [
        "地区代码",
        "地区",
        "层级",
        "计划样本",
        "发放邀请",
        "收到答卷",
        "有效答卷",
        "有效回收率%",
        "用时过短",
        "必答题未答",
        "不符合约束",
        "整齐划一作答",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (_, name) in &b.elements {
        for h in [
            "估计值",
            "置信下限",
            "置信上限",
            "标准误",
            "样本量",
            "设计效应",
        ] {
            headers.push(format!("{name}·{h}"));
        }
        if b.before.is_some() {
            headers.push(format!("{name}·{} 年", year - 1));
            headers.push(format!("{name}·显著性"));
        }
    }
    let opt = |x: Option<f64>| x.map_or(Cell::Text(String::new()), Cell::Num);
    let mut rows = Vec::new();
    for i in 0..tree.len() {
        if !tree.is_within(i, root) || !c.sees(&tree, i) {
            continue;
        }
        let r = tree.get(i);
        let t = &b.tallies[i];
        let mut row: Vec<Cell> = vec![
            r.code.as_str().into(),
            r.name.as_str().into(),
            r.level.label().into(),
            Cell::Num(t.target as f64),
            Cell::Num(t.invitations as f64),
            Cell::Num(t.received as f64),
            Cell::Num(t.valid as f64),
            opt(t.valid_rate()),
            Cell::Num(t.too_fast as f64),
            Cell::Num(t.incomplete as f64),
            Cell::Num(t.constraint as f64),
            Cell::Num(t.straightlining as f64),
        ];
        let now = of(&b.estimates.regions, &r.code);
        let before = b.before.as_ref().and_then(|e| of(&e.regions, &r.code));
        for (e, _) in &b.elements {
            let x = element(now, e);
            match x {
                Some(x) if x.estimate.is_none() && x.reason.is_some() => {
                    row.push("样本不足".into())
                }
                _ => row.push(opt(x.and_then(|x| x.estimate))),
            }
            row.push(opt(x.and_then(|x| x.ci_low)));
            row.push(opt(x.and_then(|x| x.ci_high)));
            row.push(opt(x.and_then(|x| x.se)));
            row.push(Cell::Num(x.map_or(0, |x| x.n) as f64));
            row.push(opt(x.and_then(|x| x.deff)));
            if b.before.is_some() {
                let last = element(before, e);
                row.push(opt(last.and_then(|x| x.estimate)));
                let c = x.zip(last).and_then(|(a, z)| change(a, z));
                row.push(c.map_or("—", |c| c.words()).into());
            }
        }
        rows.push(row);
    }
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let bytes = xlsx::workbook(c, &format!("群众调查{year}"), &headers, rows)?;
    Ok(xlsx::download(
        &format!("survey-{year}-{}.xlsx", tree.get(root).code),
        bytes,
    ))
}

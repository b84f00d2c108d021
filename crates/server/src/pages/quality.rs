//! 数据质量 (seed §3.4, §6.1): run the checks, the follow-up queue by
//! region and kind, and one flag with its numbers and the resolve forms.

use crate::AppState;
use crate::kit::fmt::local_time;
use crate::kit::forms::{Fields, Flash, back, some, urlencode};
use crate::kit::xlsx::{self, Cell};
use crate::kit::{Frame, PageError, PageResult, Viewer, card, layout};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::Framework;
use pingan_core::access::Cap;
use pingan_core::labels::FlagStatus;
use pingan_core::num::fmt_num;
use pingan_core::quality::FlagKind;
use pingan_core::region::RegionTree;
use pingan_service::quality::{self, FlagQuery, ResolveInput, sort_by_severity};
use pingan_service::{Caller, cap, structure};
use pingan_store::StoredFlag;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quality", get(page).post(super::quality_run::action))
        .route("/quality/{id}", get(detail).post(resolve))
        .route("/export/flags.xlsx", get(export))
}

#[derive(Deserialize, Default, Clone)]
pub struct QualityQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub page: Option<usize>,
}

const PAGE: usize = 50;

fn status_tag(s: FlagStatus) -> Markup {
    let class = match s {
        FlagStatus::Open => "tag warn",
        FlagStatus::Corrected => "tag danger",
        FlagStatus::Explained => "tag ok",
    };
    html! { span class=(class) { (s.label()) } }
}

/// The queue query the page's filters make (status defaults to 待核查;
/// `all` shows every status).
fn to_query(q: &QualityQuery) -> Result<FlagQuery, PageError> {
    let status = match some(&q.status).as_deref() {
        None => Some("open".to_string()),
        Some("all") => None,
        Some(s) => Some(s.to_string()),
    };
    Ok(FlagQuery::parse(
        status.as_deref(),
        some(&q.kind).as_deref(),
        some(&q.period).as_deref(),
        None,
        some(&q.region).as_deref(),
        None,
    )?)
}

fn element_name(fw: &Framework, code: &str) -> String {
    fw.element_index(code)
        .map(|i| fw.elements[i].name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// The child of `root` whose subtree holds region `i` (None: `root` itself).
fn branch(tree: &RegionTree, root: usize, i: usize) -> Option<usize> {
    let mut at = i;
    while let Some(p) = tree.get(at).parent {
        if p == root {
            return Some(at);
        }
        at = p;
    }
    None
}

fn may_review(c: &Caller) -> bool {
    c.can(Cap::Check)
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<QualityQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Quality>()?;
    let fq = to_query(&q)?;
    let (tree, mut flags) = quality::list(&state.ctx, &who, &fq).await?;
    let fw = structure::known_codes(&state.ctx).await?;
    sort_by_severity(&mut flags);
    // One cause is one item: a region's element keeps its flags together,
    // at the place of its most severe one.
    let mut rank: std::collections::HashMap<(String, String), usize> = Default::default();
    for (i, f) in flags.iter().enumerate() {
        rank.entry((f.region.clone(), f.element.clone()))
            .or_insert(i);
    }
    let items = rank.len();
    flags.sort_by_key(|f| rank[&(f.region.clone(), f.element.clone())]);
    let years = state
        .ctx
        .years()
        .await
        .map(|y| y.as_ref().clone())
        .unwrap_or_default();
    let latest = years.last().copied();
    // The level the summary breaks down: the filter's region, else the
    // caller's scope, else the root.
    let root = some(&q.region)
        .or(c.region.clone())
        .and_then(|r| tree.find(&r))
        .or_else(|| tree.root_index());
    let kinds = FlagKind::ALL;
    // One count per kind: a new kind widens the table by itself.
    let mut rows: Vec<(Option<usize>, [usize; FlagKind::ALL.len()], usize)> = Vec::new();
    if let Some(root) = root {
        for f in &flags {
            let Some(i) = tree.find(&f.region) else {
                continue;
            };
            let b = branch(&tree, root, i);
            let k = kinds.iter().position(|x| *x == f.kind).unwrap_or(0);
            match rows.iter_mut().find(|r| r.0 == b) {
                Some(r) => {
                    r.1[k] += 1;
                    r.2 += 1;
                }
                None => {
                    let mut counts = [0; FlagKind::ALL.len()];
                    counts[k] = 1;
                    rows.push((b, counts, 1));
                }
            }
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    let link = |region: Option<&str>, kind: Option<&str>, p: usize| {
        let mut s = format!("/quality?page={p}");
        let status = some(&q.status);
        for (k, v) in [
            ("status", status.as_deref()),
            ("kind", kind),
            ("period", some(&q.period).as_deref()),
            ("region", region),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        s
    };
    let pages = flags.len().div_ceil(PAGE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    let shown = &flags[(page_no - 1) * PAGE..(page_no * PAGE).min(flags.len())];
    let cur_region = some(&q.region);
    let cur_kind = some(&q.kind);
    let export = link(cur_region.as_deref(), cur_kind.as_deref(), 1).replacen(
        "/quality?page=1",
        "/export/flags.xlsx?",
        1,
    );
    let banner = flash.0;
    let last = super::quality_run::last(&state, c).await;
    let body = html! {
        @if may_review(c) {
            (super::quality_run::form(latest, &last))
        }
        (card("筛选", None, html! {
            form.inline method="get" action="/quality" id="flag-filter" {
                label for="f-status" { "状态" }
                select id="f-status" name="status" {
                    @for (code, label) in [("open", "待核查"), ("corrected", "已更正"), ("explained", "已说明"), ("all", "全部")] {
                        option value=(code) selected[some(&q.status).as_deref().unwrap_or("open") == code] { (label) }
                    }
                }
                label for="f-kind" { "类型" }
                select id="f-kind" name="kind" {
                    option value="" { "全部" }
                    @for k in kinds {
                        option value=(k.code()) selected[cur_kind.as_deref() == Some(k.code())] { (k.label()) }
                    }
                }
                label for="f-period" { "期间" }
                input type="text" id="f-period" name="period" size="8" value=[some(&q.period)] placeholder="如 2024-06";
                label for="f-region" { "地区代码" }
                input type="text" id="f-region" name="region" size="10" value=[cur_region.clone()];
                button.btn.primary type="submit" { "查询" }
                a.btn href="/quality" { "重置" }
            }
        }))
        (card("按地区和类型汇总", None, html! {
            @if rows.is_empty() {
                div.empty { "没有符合条件的问题" }
            } @else {
                div.table-wrap {
                    table.data id="flag-summary" {
                        thead { tr {
                            th { "地区" }
                            @for k in kinds { th.num { (k.label()) } }
                            th.num { "合计" }
                        } }
                        tbody {
                            @for (b, counts, total) in &rows {
                                @let (code, name) = match b {
                                    Some(i) => (tree.get(*i).code.clone(), tree.get(*i).name.clone()),
                                    None => (root.map(|r| tree.get(r).code.clone()).unwrap_or_default(), "本级".to_string()),
                                };
                                tr {
                                    td { a href=(link(Some(&code), cur_kind.as_deref(), 1)) { (name) } }
                                    @for (k, n) in kinds.iter().zip(counts.iter()) {
                                        td.num {
                                            @if *n > 0 { a href=(link(Some(&code), Some(k.code()), 1)) { (n) } } @else { "–" }
                                        }
                                    }
                                    td.num { (total) }
                                }
                            }
                        }
                    }
                }
            }
        }))
        (card(&format!("待核查问题（共 {} 条，归并为 {} 个地区数据项；逻辑错误、多来源差异、时效问题在前，其余按统计证据排列，出现概率越小越靠前）", flags.len(), items), Some(html! {
            a.btn.small.export href=(export) download { "导出 Excel" }
        }), html! {
            @if flags.is_empty() {
                div.empty { "没有符合条件的问题" }
            } @else {
                div.table-wrap {
                    table.data id="flags" {
                        thead { tr { th { "地区" } th { "数据项" } th { "期间" } th { "类型" } th.num { "分值" } th { "说明" } th { "状态" } th { "操作" } } }
                        tbody {
                            @for (i, f) in shown.iter().enumerate() {
                                @let same = i > 0 && shown[i - 1].region == f.region && shown[i - 1].element == f.element;
                                tr data-kind=(f.kind.code()) class=[same.then_some("same-item")] {
                                    @if same {
                                        td.muted colspan="2" title="与上一行为同一地区的同一数据项" { "〃 同上" }
                                    } @else {
                                        td { (layout::region_name(&tree, &f.region)) br; span.muted { (f.region) } }
                                        td { (element_name(&fw, &f.element)) }
                                    }
                                    td { (f.period) }
                                    td { a href=(format!("/help#{}", f.kind.code())) title="术语解释" { (f.kind.label()) } @if !f.rule.is_empty() { " " span.muted { (f.rule) } } }
                                    td.num { (fmt_num(f.score, 2)) }
                                    td.reason { (f.message) }
                                    td { (status_tag(f.status)) }
                                    td { a href=(format!("/quality/{}", f.id)) { @if f.status == FlagStatus::Open && may_review(c) { "处理" } @else { "查看" } } }
                                }
                            }
                        }
                    }
                }
                @if pages > 1 {
                    div.pager {
                        "第 " (page_no) " / " (pages) " 页"
                        @if page_no > 1 { a.btn.small href=(link(cur_region.as_deref(), cur_kind.as_deref(), page_no - 1)) { "上一页" } }
                        @if page_no < pages { a.btn.small href=(link(cur_region.as_deref(), cur_kind.as_deref(), page_no + 1)) { "下一页" } }
                    }
                }
            }
        }))
    };
    Ok(layout::page(
        Frame::simple(c, "数据质量", "/quality").banner(banner),
        body,
    ))
}

fn detail_body(
    c: &Caller,
    f: &StoredFlag,
    fw: &Framework,
    tree: &RegionTree,
    values: &[pingan_store::StoredValue],
    series: &[(String, f64)],
) -> Markup {
    let reported = values.first().map(|v| v.value);
    let number = |k: &str| f.numbers.0.iter().find(|(n, _)| n == k).map(|x| x.1);
    let label = |p: &str| {
        p.parse::<pingan_core::Period>()
            .map_or(p.to_string(), |p| p.label())
    };
    let at = series.iter().position(|(p, _)| *p == f.period);
    let chart = serde_json::json!({
        "periods": series.iter().map(|(p, _)| label(p)).collect::<Vec<_>>(),
        "values": series.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "at": at,
        "expected": number("expected"),
        "sd": number("expected_sd"),
        "expected_label": if f.kind == FlagKind::Share { "按此前比例预计" } else { "预计（±2 标准差）" },
    });
    html! {
        (card("问题", None, html! {
            dl.kv {
                dt { "地区" } dd { (layout::region_name(tree, &f.region)) "（" (f.region) "）" }
                dt { "数据项" } dd { (element_name(fw, &f.element)) "（" (f.element) "）" }
                dt { "期间" } dd { (f.period.parse::<pingan_core::Period>().map_or(f.period.clone(), |p| p.label())) }
                dt { "类型" } dd { a href=(format!("/help#{}", f.kind.code())) title="术语解释" { (f.kind.label()) } @if !f.rule.is_empty() { "（规则 " (f.rule) "）" } }
                dt { "分值" } dd { (fmt_num(f.score, 4)) }
                dt { "说明" } dd.reason { (f.message) }
                @if !f.sources.is_empty() {
                    dt { "来源" } dd { (f.sources.iter().map(|s| if s.is_empty() { "（未注明）".to_string() } else { s.clone() }).collect::<Vec<_>>().join("、")) }
                }
                dt { "状态" } dd { (status_tag(f.status)) }
                dt { "发现" } dd { (local_time(&f.found_at)) "，" (f.found_by) }
                @if let Some(at) = &f.resolved_at {
                    dt { "处理" } dd { (local_time(at)) "，" (f.resolved_by.clone().unwrap_or_default()) }
                    dt { @if f.status == FlagStatus::Corrected { "更正原因" } @else { "情况说明" } } dd { (f.resolution) }
                    @if let Some(v) = f.corrected_value { dt { "更正后数值" } dd { (fmt_num(v, 6)) } }
                }
            }
        }))
        @if series.len() > 1 && at.is_some() {
            (card("该数据项的序列", None, html! {
                (layout::data_script("flag-series", &chart))
                div.chart data-chart="flag" data-source="flag-series" role="img"
                    aria-label=(format!("{}历年各期数值，标出本问题所在期间", element_name(fw, &f.element))) {}
            }))
        }
        @if !f.numbers.0.is_empty() {
            (card("判断依据", None, html! {
                table.data id="numbers" {
                    tbody {
                        @for (k, v) in &f.numbers.0 {
                            tr { th { (number_label(f.kind, k)) } td.num { (fmt_num(*v, 4)) } }
                        }
                    }
                }
            }))
        }
        (card("已存数据（含来源）", None, html! {
            @if values.is_empty() {
                div.empty { "数据库中没有该期间的数值" }
            } @else {
                table.data id="stored" {
                    thead { tr { th { "来源" } th.num { "数值" } th { "说明" } th { "报送人" } th { "报送时间" } } }
                    tbody {
                        @for v in values {
                            tr {
                                td { @if v.source.is_empty() { "（未注明）" } @else { (v.source) } }
                                td.num { (fmt_num(v.value, 6)) }
                                td { (v.note) }
                                td { (v.submitted_by) }
                                td { (local_time(&v.submitted_at)) }
                            }
                        }
                    }
                }
            }
        }))
        @if f.status == FlagStatus::Open && c.can(Cap::Check) {
            (card("处理", None, html! {
                div.grid {
                    form.stack method="post" action=(format!("/quality/{}", f.id)) id="correct" {
                        h4 { "确认有误，更正数值" }
                        input type="hidden" name="resolution" value="corrected";
                        label for="r-value" { "更正后的数值" }
                        input type="text" id="r-value" name="value" required inputmode="decimal" value=[reported.map(|x| fmt_num(x, 6))];
                        label for="r-reason" { "更正原因" }
                        textarea id="r-reason" name="reason" required rows="3" placeholder="如：核对原始台账，6 月误录入 5 月数据" {}
                        button.btn.primary type="submit" { "提交更正" }
                    }
                    form.stack method="post" action=(format!("/quality/{}", f.id)) id="explain" {
                        h4 { "数据无误，填写情况说明" }
                        input type="hidden" name="resolution" value="explained";
                        label for="r-note" { "情况说明" }
                        textarea id="r-note" name="note" required rows="3" placeholder="如：当月开展专项行动，受理量集中上升" {}
                        button.btn type="submit" { "提交说明" }
                    }
                }
            }))
        }
        @if c.can(Cap::Field) {
            (card("实地核查", None, html! {
                form.inline method="post" action="/verify" id="to-field" {
                    input type="hidden" name="op" value="from_flag";
                    input type="hidden" name="flag" value=(f.id);
                    button.btn type="submit" { "生成实地核查任务" }
                    span.muted { "由实地核查组双人到现场核实该数据项，核查值将与报送值比对。" }
                }
            }))
        }
    }
}

fn number_label(kind: FlagKind, k: &str) -> &str {
    match k {
        "expected" if kind == FlagKind::Share => "按此前比例的预计值",
        "part" => "组成部分数值",
        "whole" => "总数",
        "share" => "本期占比",
        "share_before" => "此前 6 期占比",
        "months" => "连续偏离期数",
        "value" => "本期数值",
        "mean" => "历史均值",
        "sd" => "历史标准差",
        "median" => "历史中位数",
        "history" => "历史期数",
        "previous" => "上期数值",
        "change_pct" => "环比变化（%）",
        "line" => "判断线（均值 + 标准差）",
        "expected" => "季节基线预计值",
        "expected_sd" => "预计值的标准差",
        "surprise" => "异常强度（−log₁₀ 概率）",
        "run" => "连续期数",
        "peer_median" => "同级中位数",
        "peers" => "同级地区数",
        "left" => "规则左侧",
        "right" => "规则右侧",
        "bound" => "范围界限",
        "high" => "较大来源数值",
        "low" => "较小来源数值",
        other => other,
    }
}

async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Path(id): Path<i64>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Quality>()?;
    let quality::FlagDetail {
        flag: f,
        values,
        series,
    } = quality::detail(&state.ctx, &who, id).await?;
    let tree = state.ctx.tree().await?;
    let fw = structure::known_codes(&state.ctx).await?;
    let banner = flash.0;
    let title = format!("问题 #{id}");
    Ok(layout::page(
        Frame {
            caller: c,
            title: &title,
            active: "/quality",
            crumbs: vec![
                ("数据质量".into(), Some("/quality".into())),
                (title.clone(), None),
            ],
            pickers: None,
            banner,
        },
        detail_body(c, &f, &fw, &tree, &values, &series),
    ))
}

/// POST /quality/{id}: resolve the flag.
async fn resolve(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    body: String,
) -> PageResult {
    let who = v.0.authorize::<cap::Check>()?;
    let f = Fields::parse(&body);
    let input = ResolveInput {
        resolution: f.get("resolution"),
        value: f.opt("value").map(serde_json::Value::String),
        reason: f.opt("reason"),
        note: f.opt("note"),
    };
    let result = quality::resolve(&state.ctx, &who, id, &input)
        .await
        .map(|done| format!("已处理：{}", done.status.label()))
        .map_err(|e| e.to_string());
    Ok(back(&format!("/quality/{id}"), result).into_response())
}

/// The queue as the page's filters select it, as Excel.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<QualityQuery>,
) -> PageResult {
    let who = v.0.authorize::<cap::Quality>()?;
    let (tree, flags) = quality::list(&state.ctx, &who, &to_query(&q)?).await?;
    let fw = structure::known_codes(&state.ctx).await?;
    let rows = flags
        .iter()
        .map(|f| {
            vec![
                Cell::Num(f.id as f64),
                f.region.as_str().into(),
                layout::region_name(&tree, &f.region).into(),
                f.element.as_str().into(),
                element_name(&fw, &f.element).into(),
                f.period.as_str().into(),
                f.kind.label().into(),
                f.rule.as_str().into(),
                f.score.into(),
                f.message.as_str().into(),
                f.status.label().into(),
                f.resolution.as_str().into(),
                f.corrected_value.into(),
            ]
        })
        .collect();
    let headers = [
        "编号",
        "地区代码",
        "地区",
        "数据项代码",
        "数据项",
        "期间",
        "类型",
        "规则",
        "分值",
        "说明",
        "状态",
        "处理说明",
        "更正后数值",
    ];
    let bytes = xlsx::workbook(&v.0, "待核查问题", &headers, rows)?;
    Ok(xlsx::download("数据质量问题.xlsx", bytes))
}

//! 风险预警 (issue 22, forecast.md §3): the kept risk run — how well each
//! element's forecasts did in the backtest, the map of expected points
//! lost, and the warnings (region, indicator, forecast, thresholds,
//! probabilities, the model's MASE beside it), the highest expected loss
//! first; a warning's chart (its years, the forecast with its interval and
//! the rule's thresholds; each element's months and forecast); the
//! office sends a warning to the region (a notice on its home page,
//! optionally a field task) and recomputes the run.

use super::map::{Shaded, Shading, chart};
use crate::AppState;
use crate::kit::forms::{Flash, back};
use crate::kit::upload::AnyForm;
use crate::kit::{Frame, PageResult, Viewer, card, data_script, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::access::Cap;
use pingan_service::risk::{self, RiskView, Warning};
use pingan_service::{ServiceError, cap};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/risk", get(page).post(act))
}

#[derive(Deserialize, Default)]
struct RiskQuery {
    period: Option<String>,
    region: Option<String>,
    /// The warning shown in detail: `region:indicator`.
    w: Option<String>,
}

/// Warnings listed at most (the table pages them).
const LISTED: usize = 300;

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    flash: Flash,
    Query(q): Query<RiskQuery>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let ctx = &state.ctx;
    let tree = ctx.tree().await?;
    let root = match q.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => c.region_in_scope(&tree, r)?,
        None => match &c.region {
            Some(r) => c.region_in_scope(&tree, r)?,
            None => tree.root_index().unwrap_or(0),
        },
    };
    let office = c.can(Cap::Notices);
    let view = risk::view(ctx, &who, q.period.as_deref().filter(|p| !p.is_empty())).await?;
    let Some(view) = view else {
        let body = html! {
            (card("风险预警", None, html! {
                div.empty {
                    "还没有风险评估结果。风险预警每日由定时任务重算（pingan risk --db … --refresh），"
                    "也可由测评办公室在本页立即重算。"
                }
                @if office { (refresh_form(None)) }
            }))
        };
        return Ok(layout::page(
            Frame {
                banner: flash.0,
                ..Frame::simple(c, "风险预警", "/risk")
            },
            body,
        )
        .into_response());
    };
    let root_code = tree.get(root).code.clone();
    let within = |code: &str| {
        tree.find(code)
            .is_some_and(|i| tree.is_within(i, root) && c.sees(&tree, i))
    };
    let listed: Vec<&Warning> = view
        .warnings
        .iter()
        .filter(|w| within(&w.region))
        .take(LISTED)
        .collect();
    let chosen =
        q.w.as_deref()
            .and_then(|k| k.split_once(':'))
            .and_then(|(r, i)| {
                listed
                    .iter()
                    .find(|w| w.region == r && w.indicator == i)
                    .copied()
            })
            .or_else(|| listed.first().copied());

    // The map: the level below the chosen region by expected loss.
    let kids: Vec<usize> = match tree.children(root) {
        [] => vec![root],
        k => k.to_vec(),
    };
    let shading = Shading {
        title: format!("{}年预计失分", view.year),
        unit: "分",
        better: "lower",
        rows: kids
            .iter()
            .map(|&i| {
                let r = tree.get(i);
                Shaded {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    value: view.totals.iter().find(|t| t.0 == r.code).map(|t| t.1),
                    note: String::new(),
                }
            })
            .collect(),
    };
    let period = view.period.clone();
    let map = chart(&state, "map-risk", &shading, |code| {
        format!("/risk?period={period}&region={code}")
    })
    .await?;
    let detail = match chosen {
        Some(w) => Some(detail(&state, &who, &view, w).await?),
        None => None,
    };
    let sent = pingan_service::risk::sent_to(ctx, &who, &root_code).await?;
    let region = tree.get(root);
    let banner = flash.0.or_else(|| {
        view.stale.then(|| {
            (
                "warn",
                "本次风险评估之后数据已有变动：结果将在下次定时重算时更新。".to_string(),
            )
        })
    });
    let body = html! {
        p.muted id="risk-run" {
            (view.year) "年风险评估：自 " (view.period) " 起，训练数据截至 " (view.train_end) "；"
            (view.series) " 个序列（跳过 " (view.skipped) " 个不足 24 个月的序列），蒙特卡洛模拟 "
            (view.draws) " 次，用时 " (fmt::num(view.seconds, 1)) " 秒"
            @if !view.phases.is_empty() {
                "（" @for (k, (phase, secs)) in view.phases.iter().enumerate() { @if k > 0 { "，" } (phase) " " (fmt::num(*secs, 1)) " 秒" } "）"
            }
            "；"
            (fmt::local_time(&view.made_at)) " 由 " (view.made_by) " 计算。"
        }
        @if let Some(c) = &view.calibration {
            p.muted id="risk-calibration" {
                "失分概率已按 " (c.year) " 年校准：以该年之前的数据预测 " (c.year) " 年，与其实际得分比较（"
                (c.n) " 个地区×指标，实际失分 " (fmt::percent(c.base_rate * 100.0)) "）；模型概率的 Brier 分数 "
                (fmt::num(c.brier_model, 3)) "，始终报实际比例为 " (fmt::num(c.brier_base, 3))
                "，校准后 " (fmt::num(c.brier_recalibrated, 3)) "（越小越好）。"
            }
        } @else {
            p.muted id="risk-calibration" { "没有可用于校准的上一年度数据：失分概率为模型原始概率。" }
        }
        @if office { (refresh_form(Some(&view))) }
        @if !sent.is_empty() {
            div.banner.warn id="risk-sent" style="margin-top:12px" {
                "已向" (region.name) "下发风险预警 " (sent.len()) " 条："
                @for (k, s) in sent.iter().take(3).enumerate() {
                    @if k > 0 { "；" }
                    (s.message)
                }
            }
        }
        div.grid {
            (card(&format!("{}风险地图（预计失分）", region.name), None, html! {
                @match &map {
                    Some((data, _)) => {
                        (data_script("risk-map-data", data))
                        div.chart.map data-chart="map" data-source="risk-map-data" role="img"
                            aria-label=(format!("{}各地区预计失分地图", region.name)) {}
                        p.muted { "颜色越红，预计失分越多；点击地区查看其下级。" }
                    }
                    None => { div.empty { "还没有地区边界（pingan import boundaries）；各地区的预计失分见下表。" } }
                }
            }))
            (card("预测模型回测（与季节朴素预测比较）", None, backtest(&view)))
        }
        (card(&format!("{}预警清单（按预计失分排序）", region.name), None, html! {
            @if listed.is_empty() {
                div.empty { "本地区没有失分概率达到 5% 的指标。" }
            } @else {
                (warnings(&view, &listed, &root_code, office))
            }
        }))
        @if let Some(d) = detail { (d) }
    };
    let mut crumbs = vec![(
        "风险预警".to_string(),
        Some(format!("/risk?period={}", view.period)),
    )];
    if tree.get(root).parent.is_some() {
        crumbs.push((region.name.clone(), None));
    }
    Ok(layout::page(
        Frame {
            caller: c,
            title: "风险预警",
            active: "/risk",
            crumbs,
            pickers: None,
            banner,
        },
        body,
    )
    .into_response())
}

fn refresh_form(view: Option<&RiskView>) -> Markup {
    html! {
        form.inline-form method="post" action="/risk" id="risk-refresh" {
            input type="hidden" name="do" value="refresh";
            @if let Some(v) = view { input type="hidden" name="period" value=(v.period); }
            button.btn.small type="submit" { "立即重算" }
            span.muted { " 全省约需数秒至一分钟" }
        }
    }
}

fn mase(x: Option<f64>) -> String {
    x.map_or("—".into(), |x| fmt::num(x, 3))
}

fn backtest(v: &RiskView) -> Markup {
    html! {
        div.table-wrap {
            table.data id="risk-backtest" {
                thead { tr {
                    th { "数据项" }
                    th.num { "序列" }
                    th.num title="所选模型在留出年份上的平均绝对标度误差，小于 1 即优于“同月上年值”" { "所选模型 MASE" }
                    th.num { "季节朴素 MASE" }
                    th.num title="留出月份落在 80% 预测区间内的比例" { "区间覆盖率" }
                    th.num { "选用 MSTL" }
                } }
                tbody {
                    @for b in &v.backtest {
                        tr {
                            td { (b.name) }
                            td.num { (b.series) }
                            td.num { (mase(b.mase)) }
                            td.num { (mase(b.naive_mase)) }
                            td.num { @match b.coverage { Some(c) => (fmt::percent(c * 100.0)), None => "—" } }
                            td.num { (fmt::percent(b.mstl_share * 100.0)) }
                        }
                    }
                }
            }
        }
        p.muted { "MASE：预测误差与“同月上年值”误差之比，越小越好；区间覆盖率为校准前模型区间的回测结果，预测区间已按回测误差放宽。" }
    }
}

fn warnings(v: &RiskView, listed: &[&Warning], root: &str, office: bool) -> Markup {
    html! {
        div.table-wrap {
            table.data id="risk-warnings" data-page-size="20" data-filter="true" {
                thead { tr {
                    th data-sort="text" { "地区" }
                    th data-sort="text" { "指标" }
                    th.num { "预测值（80%区间）" }
                    th.num { "满分线 / 否决线" }
                    th.num data-sort="num" { "失分概率" }
                    th.num data-sort="num" { "否决概率" }
                    th.num data-sort="num" { "预计失分" }
                    th { "模型（回测 MASE）" }
                    @if office { th { "下发" } }
                } }
                tbody {
                    @for w in listed {
                        tr data-region=(w.region) data-indicator=(w.indicator) {
                            td { (w.region_name) }
                            td { a href=(format!("/risk?period={}&region={root}&w={}:{}#risk-detail", v.period, w.region, w.indicator)) { (w.indicator_name) } }
                            td.num {
                                (fmt::value(w.value, &w.unit))
                                @if let (Some(lo), Some(hi)) = (w.low, w.high) {
                                    br; span.muted { (fmt::num(lo, 2)) "–" (fmt::num(hi, 2)) }
                                }
                            }
                            td.num {
                                @for (k, (x, label)) in w.thresholds.iter().enumerate() {
                                    @if k > 0 { br; }
                                    span title=(label) { (label) " " (fmt::num(*x, 2)) }
                                }
                                @if w.thresholds.is_empty() { "—" }
                            }
                            td.num data-value=(w.p_loss) title=(format!("模型原始概率 {}", fmt::percent(w.p_model * 100.0))) { (fmt::percent(w.p_loss * 100.0)) }
                            td.num data-value=(w.p_veto) { (fmt::percent(w.p_veto * 100.0)) }
                            td.num data-value=(w.expected_loss) { (fmt::num(w.expected_loss, 3)) " / " (fmt::num(w.max, 2)) }
                            td {
                                @for (k, e) in w.elements.iter().enumerate() {
                                    @if k > 0 { br; }
                                    span title=(format!("{}：季节朴素 MASE {}", e.name, mase(e.naive_mase))) {
                                        (model_name(&e.model)) " " (mase(e.mase))
                                    }
                                }
                            }
                            @if office {
                                td {
                                    form.inline-form method="post" action="/risk" {
                                        input type="hidden" name="do" value="send";
                                        input type="hidden" name="period" value=(v.period);
                                        input type="hidden" name="region" value=(w.region);
                                        input type="hidden" name="indicator" value=(w.indicator);
                                        input type="hidden" name="back" value=(root);
                                        label { input type="checkbox" name="task" value="1"; " 实地核查" }
                                        button.btn.small type="submit" { "下发" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn model_name(m: &str) -> &str {
    match m {
        "seasonal_naive" => "季节朴素",
        "mstl_ets" => "MSTL",
        other => other,
    }
}

/// One warning: its years with the forecast and the rule's thresholds,
/// and each element's months with its forecast.
async fn detail(
    state: &AppState,
    who: &pingan_service::Authorized<'_, cap::Scores>,
    v: &RiskView,
    w: &Warning,
) -> Result<Markup, ServiceError> {
    let mut years: Vec<String> = w.years.iter().map(|y| y.to_string()).collect();
    years.push(format!("{}（预测）", v.year));
    let chart = json!({
        "years": years,
        "history": w.history,
        "value": w.value,
        "low": w.low,
        "high": w.high,
        "unit": w.unit,
        "thresholds": w.thresholds.iter().map(|(x, l)| json!({"value": x, "label": l})).collect::<Vec<_>>(),
    });
    let mut series = Vec::new();
    for e in &w.elements {
        if let Some(f) = risk::forecast_of(&state.ctx, who, &w.region, &e.code).await? {
            series.push((e, f));
        }
    }
    Ok(html! {
        section.card id="risk-detail" {
            h2 { (w.region_name) "：" (w.indicator_name) }
            div.body {
                p {
                    "预测值 " (fmt::value(w.value, &w.unit))
                    @if let (Some(lo), Some(hi)) = (w.low, w.high) { "（80% 区间 " (fmt::num(lo, 2)) "–" (fmt::num(hi, 2)) "）" }
                    "；失分概率 " (fmt::percent(w.p_loss * 100.0))
                    "，否决概率 " (fmt::percent(w.p_veto * 100.0))
                    "，预计失分 " (fmt::num(w.expected_loss, 3)) " 分（满分 " (fmt::num(w.max, 2)) "）。"
                }
                (data_script("risk-chart-data", &chart))
                div.chart data-chart="risk" data-source="risk-chart-data" role="img"
                    aria-label=(format!("{}历年值、预测与阈值", w.indicator_name)) {}
                div.grid {
                    @for (k, (e, f)) in series.iter().enumerate() {
                        @let id = format!("risk-series-{k}");
                        div {
                            h3 { (e.name) " · " (model_name(&f.model)) "（回测 MASE " (mase(e.mase)) "，季节朴素 " (mase(e.naive_mase)) "）" }
                            (data_script(&id, &json!({"months": f.months, "history": f.history, "ahead": f.ahead,
                                "point": f.point, "lo": f.lo, "hi": f.hi})))
                            div.chart data-chart="forecast" data-source=(id) role="img"
                                aria-label=(format!("{}逐月值与预测", e.name)) {}
                        }
                    }
                }
            }
        }
    })
}

async fn act(State(state): State<AppState>, v: Viewer, form: AnyForm) -> PageResult {
    let who = v.0.authorize::<cap::Notices>()?;
    let f = form.fields;
    let period = f.get("period");
    let back_region = f.get("back");
    let to = format!(
        "/risk?period={}{}",
        period,
        if back_region.is_empty() {
            String::new()
        } else {
            format!("&region={back_region}")
        }
    );
    let result = async {
        let ctx = &state.ctx;
        if f.get("do") == "refresh" {
            let p = match period.trim() {
                "" => None,
                p => Some(
                    p.parse()
                        .map_err(|e| ServiceError::invalid(format!("起始月份：{e}")))?,
                ),
            };
            let view = risk::refresh(ctx, &who, p, pingan_core::risk::DEFAULT_DRAWS).await?;
            return Ok(format!(
                "已重算：{} 个序列，{} 条预警，用时 {} 秒",
                view.series,
                view.warnings.len(),
                fmt::num(view.seconds, 1)
            ));
        }
        let w = risk::send(
            ctx,
            &who,
            &period,
            &f.get("region"),
            &f.get("indicator"),
            f.get("task") == "1",
        )
        .await?;
        Ok(match w.field_task {
            Some(t) => format!("已下发预警，并创建实地核查任务 {t}"),
            None => "已下发预警".to_string(),
        })
    }
    .await
    .map_err(|e: ServiceError| e.to_string());
    Ok(back(&to, result))
}

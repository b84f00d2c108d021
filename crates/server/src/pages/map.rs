//! 平安热力图 (issue 22): the level below a region drawn on its map and
//! coloured by the total score, by the newest risk run's expected points
//! lost, or by any indicator's 得分率; a click drills down to the region's
//! own level below. The outlines are those `pingan import boundaries` kept
//! (the demo generates its own); the 测评总览 shows the score map too.

use super::place::{Place, Scope, scope};
use crate::AppState;
use crate::kit::{Frame, PageResult, Viewer, card, data_script, fmt, layout};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use pingan_core::score::RegionResult;
use pingan_service::{Authorized, cap, scores};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/map", get(page))
}

#[derive(Deserialize, Default)]
pub struct By {
    /// `score` (default), `risk`, or an indicator's code.
    pub by: Option<String>,
}

/// One region on the map.
pub struct Shaded {
    pub code: String,
    pub name: String,
    pub value: Option<f64>,
    /// What the table shows beside the value (grade, value with unit…).
    pub note: String,
}

/// What a map colours by, and its regions.
pub struct Shading {
    pub title: String,
    pub unit: &'static str,
    /// `higher`: green is high; `lower`: green is low.
    pub better: &'static str,
    pub rows: Vec<Shaded>,
}

/// The regions a map of `s` draws: its level below, or for a township its
/// parent's townships.
pub fn shown(s: &Scope) -> (usize, Vec<usize>) {
    let kids = s.tree.children(s.region);
    if !kids.is_empty() {
        return (s.region, kids.to_vec());
    }
    match s.up {
        Some(p) => (p, s.tree.children(p).to_vec()),
        None => (s.region, vec![s.region]),
    }
}

/// The ECharts `map` chart's data: outlines of `rows` (those that have
/// one) and their values; None when no region shown has an outline.
pub async fn chart(
    state: &AppState,
    key: &str,
    shading: &Shading,
    link: impl Fn(&str) -> String,
) -> Result<Option<(Value, usize)>, pingan_service::ServiceError> {
    let shapes = pingan_service::boundaries::shapes(&state.ctx).await?;
    let features: Vec<Value> = shading
        .rows
        .iter()
        .filter_map(|r| {
            shapes
                .get(&r.code)
                .map(|g| json!({"type": "Feature", "properties": {"name": r.code}, "geometry": g}))
        })
        .collect();
    if features.is_empty() {
        return Ok(None);
    }
    let missing = shading.rows.len() - features.len();
    let values: Vec<f64> = shading.rows.iter().filter_map(|r| r.value).collect();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let (min, max) = if values.is_empty() {
        (0.0, 1.0)
    } else if max - min < 1e-9 {
        (min - 1.0, max + 1.0)
    } else {
        (min, max)
    };
    Ok(Some((
        json!({
            "key": key,
            "geo": {"type": "FeatureCollection", "features": features},
            "title": shading.title,
            "unit": shading.unit,
            "better": shading.better,
            "min": (min * 100.0).floor() / 100.0,
            "max": (max * 100.0).ceil() / 100.0,
            "values": shading.rows.iter().map(|r| json!({
                "name": r.code, "label": r.name, "value": r.value,
            })).collect::<Vec<_>>(),
            "links": shading.rows.iter().map(|r| (r.code.clone(), Value::String(link(&r.code))))
                .collect::<serde_json::Map<String, Value>>(),
        }),
        missing,
    )))
}

/// The regions coloured by their total score.
pub fn by_score(results: &[RegionResult]) -> Shading {
    Shading {
        title: "总分".into(),
        unit: "分",
        better: "higher",
        rows: results
            .iter()
            .map(|r| Shaded {
                code: r.region.clone(),
                name: r.name.clone(),
                value: Some(r.total),
                note: format!("{}{}", r.grade, if r.veto { "（一票否决）" } else { "" }),
            })
            .collect(),
    }
}

fn by_indicator(results: &[RegionResult], code: &str) -> Option<Shading> {
    let first = results
        .iter()
        .find_map(|r| r.indicators.iter().find(|i| i.code == code))?;
    Some(Shading {
        title: format!("{}得分率", first.name),
        unit: "%",
        better: "higher",
        rows: results
            .iter()
            .map(|r| {
                let i = r.indicators.iter().find(|i| i.code == code);
                Shaded {
                    code: r.region.clone(),
                    name: r.name.clone(),
                    value: i.filter(|i| i.max > 0.0).map(|i| i.points / i.max * 100.0),
                    note: i
                        .map(|i| match i.value {
                            Some(v) => format!("{}{}", fmt::fixed(v), i.unit),
                            None => "缺报".into(),
                        })
                        .unwrap_or_default(),
                }
            })
            .collect(),
    })
}

async fn by_risk(
    state: &AppState,
    who: &Authorized<'_, cap::Scores>,
    results: &[RegionResult],
) -> Result<Option<Shading>, pingan_service::ServiceError> {
    let Some(v) = pingan_service::risk::view(&state.ctx, who, None).await? else {
        return Ok(None);
    };
    let total = |code: &str| v.totals.iter().find(|t| t.0 == code).map(|t| t.1);
    Ok(Some(Shading {
        title: format!("{}年预计失分", v.year),
        unit: "分",
        better: "lower",
        rows: results
            .iter()
            .map(|r| Shaded {
                code: r.region.clone(),
                name: r.name.clone(),
                value: total(&r.region),
                note: format!("评估自 {}", v.period),
            })
            .collect(),
    }))
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(place): Query<Place>,
    Query(by): Query<By>,
) -> PageResult {
    let c = &v.0;
    let who = c.authorize::<cap::Scores>()?;
    let s = scope(&state, c, &place).await?;
    let ctx = &state.ctx;
    let (focus, _) = shown(&s);
    let focus_code = s.tree.get(focus).code.clone();
    let results = scores::children(ctx, &who, s.period(), &focus_code).await?;
    let by = by
        .by
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "score".into());
    let (shading, note) = match by.as_str() {
        "score" => (Some(by_score(&results)), None),
        "risk" => match by_risk(&state, &who, &results).await? {
            Some(x) => (Some(x), None),
            None => (
                None,
                Some("还没有风险评估结果：请在“风险预警”页重算，或运行 pingan risk --refresh"),
            ),
        },
        code => match by_indicator(&results, code) {
            Some(x) => (Some(x), None),
            None => (None, Some("该年度的得分中没有这个指标")),
        },
    };
    let indicators: Vec<(String, String)> = results
        .first()
        .map(|r| {
            r.indicators
                .iter()
                .map(|i| (i.code.clone(), i.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let year = s.year;
    let by_q = by.clone();
    let map = match &shading {
        Some(sh) => {
            chart(&state, "map-main", sh, |code| {
                format!("/map?region={code}&period={year}&by={by_q}")
            })
            .await?
        }
        None => None,
    };
    let region = s.tree.get(focus);
    let body = html! {
        form.inline method="get" action="/map" id="map-by" {
            input type="hidden" name="region" value=(s.code());
            input type="hidden" name="period" value=(year);
            label for="by" { "着色依据" }
            select id="by" name="by" data-submit {
                option value="score" selected[by == "score"] { "总分" }
                option value="risk" selected[by == "risk"] { "风险（预计失分）" }
                optgroup label="指标得分率" {
                    @for (code, name) in &indicators {
                        option value=(code) selected[by == *code] { (name) }
                    }
                }
            }
            noscript { button.btn.small type="submit" { "查看" } }
        }
        @if let Some(n) = note {
            div.banner.info style="margin-top:12px" { (n) }
        }
        @if let Some(sh) = &shading {
            (card(&format!("{}{}地图：{}（{}年）", region.name,
                    s.tree.children(focus).first().map(|i| s.tree.get(*i).level.label()).unwrap_or(""),
                    sh.title, year), None, html! {
                @match &map {
                    Some((data, missing)) => {
                        (data_script("map-data", data))
                        div.chart.map data-chart="map" data-source="map-data" role="img"
                            aria-label=(format!("{}地图，按{}着色", region.name, sh.title)) {}
                        p.muted { "点击地区进入其下级地图。" @if *missing > 0 { " " (missing) " 个地区没有边界，未画出（见下表）。" } }
                    }
                    None => {
                        div.empty { "还没有地区边界：请导入 GeoJSON（pingan import boundaries 文件.geojson --db …）。下表列出各地区的数值。" }
                    }
                }
                (table(sh, year, &by))
            }))
        }
    };
    let mut crumbs = s.crumbs(c, true);
    crumbs.push(("平安热力图".into(), None));
    Ok(layout::page(
        Frame {
            caller: c,
            title: "平安热力图",
            active: "/map",
            crumbs,
            pickers: None,
            banner: None,
        },
        body,
    )
    .into_response())
}

fn table(sh: &Shading, year: i32, by: &str) -> Markup {
    let mut rows: Vec<&Shaded> = sh.rows.iter().collect();
    rows.sort_by(|a, b| {
        let (x, y) = (a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN));
        if sh.better == "higher" {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        }
    });
    html! {
        div.table-wrap {
            table.data id="map-table" data-page-size="20" {
                thead { tr {
                    th data-sort="text" { "地区" }
                    th.num data-sort="num" { (sh.title) "（" (sh.unit) "）" }
                    th { "说明" }
                } }
                tbody {
                    @for r in rows {
                        tr data-region=(r.code) {
                            td { a href=(format!("/map?region={}&period={year}&by={by}", r.code)) { (r.name) } }
                            td.num data-value=(r.value.map(|v| v.to_string()).unwrap_or_default()) { @match r.value { Some(v) => (fmt::fixed(v)), None => "—" } }
                            td { (r.note) }
                        }
                    }
                }
            }
        }
    }
}

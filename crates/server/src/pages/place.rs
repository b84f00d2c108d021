//! Where the overview and region pages look: a region in the caller's
//! scope and a year, from `?region=&period=`, with the year and region
//! pickers and the breadcrumb.

use crate::AppState;
use crate::kit::PageError;
use axum::http::StatusCode;
use maud::{Markup, html};
use pingan_core::{Period, RegionTree};
use pingan_service::Caller;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct Place {
    pub region: Option<String>,
    pub period: Option<String>,
    /// `1`: score the values still in review too (a preview, never official).
    #[serde(default)]
    pub preview: Option<String>,
}

/// The region (within the caller's scope) and year a page shows.
pub struct Scope {
    pub tree: Arc<RegionTree>,
    pub years: Arc<Vec<i32>>,
    pub year: i32,
    pub region: usize,
    /// The region above, when the viewer may open it (a county official's
    /// picker offers no way up into a 403).
    pub up: Option<usize>,
}

impl Scope {
    pub fn period(&self) -> Period {
        Period::Year(self.year)
    }

    pub fn code(&self) -> &str {
        &self.tree.get(self.region).code
    }

    /// Breadcrumb from the caller's scope root down to the region.
    pub fn crumbs(&self, caller: &Caller, last_link: bool) -> Vec<(String, Option<String>)> {
        let mut path = Vec::new();
        let mut i = Some(self.region);
        while let Some(n) = i {
            path.push(n);
            if caller
                .region
                .as_deref()
                .is_some_and(|r| self.tree.get(n).code == r)
            {
                break;
            }
            i = self.tree.get(n).parent;
        }
        path.reverse();
        let mut out = vec![(
            "测评总览".to_string(),
            Some(format!("/?period={}", self.year)),
        )];
        for (k, n) in path.iter().enumerate() {
            let r = self.tree.get(*n);
            let link = (k + 1 < path.len() || last_link)
                .then(|| format!("/?region={}&period={}", r.code, self.year));
            out.push((r.name.clone(), link));
        }
        out
    }
}

/// Resolve `?region=&period=` for a caller: 403 outside the scope, 404
/// unknown, the latest year with values by default.
pub async fn scope(state: &AppState, caller: &Caller, place: &Place) -> Result<Scope, PageError> {
    let tree = state.ctx.tree().await?;
    let years = state.ctx.years().await?;
    if tree.is_empty() || years.is_empty() {
        return Err(PageError::not_found(
            "数据库中还没有地区或数据：请先导入（pingan import）或运行 pingan demo",
        ));
    }
    let year = match place.period.as_deref().filter(|p| !p.is_empty()) {
        None => *years.last().unwrap_or(&2024),
        Some(p) => match p.parse::<Period>() {
            Ok(per) => per.year(),
            Err(e) => {
                return Err(PageError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("参数 period：{e}"),
                ));
            }
        },
    };
    let code = match place.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        None => match &caller.region {
            Some(r) => r.clone(),
            None => tree
                .regions()
                .iter()
                .find(|r| r.parent.is_none())
                .map(|r| r.code.clone())
                .unwrap_or_default(),
        },
    };
    let region = caller.region_in_scope(&tree, &code)?;
    let up = tree.get(region).parent.filter(|&p| caller.sees(&tree, p));
    Ok(Scope {
        tree,
        years,
        year,
        region,
        up,
    })
}

/// The year picker (and the region's own name), as a GET form.
pub fn pickers(s: &Scope, action: &str) -> Markup {
    let r = s.tree.get(s.region);
    html! {
        form.inline method="get" action=(action) id="pickers" {
            label for="period" { "测评年度" }
            select id="period" name="period" data-submit {
                @for y in s.years.iter().rev() {
                    option value=(y) selected[*y == s.year] { (y) "年" }
                }
            }
            @if action == "/" { input type="hidden" name="region" value=(r.code); }
            label for="region-picker" { "地区" }
            select id="region-picker" data-go {
                option value=(format!("/?region={}&period={}", r.code, s.year)) selected { (r.name) "（" (r.level.label()) "）" }
                @if let Some(p) = s.up {
                    @let pr = s.tree.get(p);
                    option value=(format!("/?region={}&period={}", pr.code, s.year)) { "↑ 上级：" (pr.name) }
                }
                @for c in s.tree.children(s.region) {
                    @let cr = s.tree.get(*c);
                    option value=(format!("/?region={}&period={}", cr.code, s.year)) { "↓ " (cr.name) }
                }
            }
            noscript { button.btn.small type="submit" { "查看" } }
        }
    }
}

/// A region's total and dimensions in each year that has values, as the
/// trend chart reads them.
pub fn trend(history: &[(i32, Option<pingan_core::score::RegionResult>)]) -> serde_json::Value {
    let mut years = Vec::new();
    let mut totals = Vec::new();
    let mut dims: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    for (y, r) in history {
        years.push(format!("{y}年"));
        totals.push(r.as_ref().map(|r| r.total));
        if let Some(r) = &r {
            for d in &r.dimensions {
                if !dims.iter().any(|(n, _)| *n == d.name) {
                    dims.push((d.name.clone(), Vec::new()));
                }
            }
        }
        for (name, v) in dims.iter_mut() {
            v.resize(years.len() - 1, None);
            v.push(
                r.as_ref()
                    .and_then(|r| r.dimensions.iter().find(|d| d.name == *name))
                    .map(|d| d.percent),
            );
        }
    }
    serde_json::json!({"years": years, "total": totals,
        "dimensions": dims.into_iter().map(|(n, v)| serde_json::json!({"name": n, "percent": v})).collect::<Vec<_>>()})
}

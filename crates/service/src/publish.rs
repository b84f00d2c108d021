//! Publishing a year's results (issue 21, api.md): the approved results
//! as they stand — ranking, totals, grades, dimension scores per region —
//! kept as a snapshot, so the public sees exactly what was published, and
//! the 公示 window it opens (7 days unless the office says otherwise).

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, scores};
use pingan_core::Period;
use pingan_core::region::Level;
use pingan_store::Publication;
use serde::{Deserialize, Serialize};

/// Days the 公示 window stays open by default.
pub const WINDOW_DAYS: i64 = 7;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublicPart {
    pub code: String,
    pub name: String,
    pub points: f64,
    pub max: f64,
    pub percent: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublicRegion {
    pub region: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
    /// Rank among the region's peers (same parent) and among its level.
    pub rank: usize,
    pub peers: usize,
    pub level_rank: usize,
    pub level_peers: usize,
    pub total: f64,
    pub grade: String,
    pub veto: bool,
    pub dimensions: Vec<PublicPart>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PublicYear {
    pub year: i32,
    /// 公示中 while the window is open, then 已发布.
    pub status: &'static str,
    pub published_at: String,
    pub window_ends: String,
    pub results: Vec<PublicRegion>,
}

fn level_order(l: &str) -> usize {
    [Level::Province, Level::City, Level::County, Level::Township]
        .iter()
        .position(|x| x.code() == l)
        .unwrap_or(9)
}

/// Publish `year`'s approved results, opening a window of `days` days.
pub async fn publish(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Publish>,
    year: i32,
    days: i64,
) -> Result<Publication> {
    if !(1..=90).contains(&days) {
        return Err(ServiceError::invalid("公示期应为 1–90 天"));
    }
    let reader = who.caller().authorize::<cap::Scores>()?;
    let head = ctx.store.audit_head().await?;
    let q = scores::ScoreQuery {
        period: Period::Year(year),
        level: None,
        parent: None,
    };
    let mut results: Vec<PublicRegion> = scores::official(ctx, &reader, &q)
        .await?
        .results
        .into_iter()
        .map(|r| PublicRegion {
            region: r.region,
            name: r.name,
            level: r.level,
            parent: r.parent,
            rank: r.rank,
            peers: r.peers,
            level_rank: r.level_rank,
            level_peers: r.level_peers,
            total: r.total,
            grade: r.grade,
            veto: r.veto,
            dimensions: r
                .dimensions
                .into_iter()
                .map(|d| PublicPart {
                    code: d.code,
                    name: d.name,
                    points: d.points,
                    max: d.max,
                    percent: d.percent,
                })
                .collect(),
        })
        .collect();
    if results.is_empty() {
        return Err(ServiceError::not_found(format!(
            "{year} 年没有已审定的测评结果"
        )));
    }
    results.sort_by(|a, b| {
        level_order(&a.level)
            .cmp(&level_order(&b.level))
            .then(a.level_rank.cmp(&b.level_rank))
    });
    let ends = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    // As `pingan_store::now` writes times, so that they compare as text.
    let ends = ends
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let json =
        serde_json::to_string(&results).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ctx
        .store
        .publish(year, &ends, head.0, &json, results.len(), &who.actor())
        .await?)
}

/// What the public sees of `year`; None if it is not published. No login.
pub async fn public(ctx: &Ctx, year: i32) -> Result<Option<PublicYear>> {
    let Some(p) = ctx.store.publication(year).await? else {
        return Ok(None);
    };
    let results: Vec<PublicRegion> =
        serde_json::from_str(&p.results).map_err(|e| ServiceError::Internal(e.to_string()))?;
    // RFC 3339 times of one offset compare as text.
    let open = pingan_store::now() < p.window_ends;
    Ok(Some(PublicYear {
        year,
        status: if open { "公示中" } else { "已发布" },
        published_at: p.published_at,
        window_ends: p.window_ends,
        results,
    }))
}

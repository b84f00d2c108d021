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
    /// When the office made it final after the 公示 ('' before).
    pub final_at: String,
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
        // The seed publishes the 市县 ranking: townships are the counties'
        // own business (and would make the page ten times as heavy).
        .filter(|r| r.level != Level::Township.code())
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

/// What the public's view of a publication depends on: served bodies made
/// for another key are stale.
pub fn state_key(p: &Publication) -> String {
    format!("{}|{}|{}", p.published_at, p.final_at, status(p))
}

/// What the public sees of `year`; None if it is not published. No login.
/// A publication as kept in memory: the row and its parsed results.
pub type Kept = Option<(Publication, Vec<PublicRegion>)>;

/// The publication of `year`, read and parsed once per publication.
pub async fn kept(ctx: &Ctx, year: i32) -> Result<std::sync::Arc<Kept>> {
    // The page will be linked from the government website: the snapshot is
    // read and parsed once per publication (kept until the next `publish`
    // entry of the ledger, which every instance sees), not once per visit.
    ctx.versioned(
        &format!("public:{year}"),
        &[pingan_core::labels::LedgerAction::Publish],
        async {
            let Some(p) = ctx.store.publication(year).await? else {
                return Ok(None);
            };
            let results: Vec<PublicRegion> = serde_json::from_str(&p.results)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            Ok(Some((p, results)))
        },
    )
    .await
}

/// 公示中 while the window is open, then 已发布.
pub fn status(p: &Publication) -> &'static str {
    // RFC 3339 times of one offset compare as text.
    if pingan_store::now() < p.window_ends {
        "公示中"
    } else {
        "已发布"
    }
}

/// What the public sees of `year`; None if it is not published. No login.
pub async fn public(ctx: &Ctx, year: i32) -> Result<Option<PublicYear>> {
    let kept = kept(ctx, year).await?;
    let Some((p, results)) = kept.as_ref() else {
        return Ok(None);
    };
    Ok(Some(PublicYear {
        year,
        status: status(p),
        published_at: p.published_at.clone(),
        window_ends: p.window_ends.clone(),
        final_at: p.final_at.clone(),
        results: results.clone(),
    }))
}

/// The 正式发布 after the 公示: only once the window has ended, every
/// objection is answered, and every upheld one was followed by a
/// correction and a new publication (its answer older than the snapshot).
pub async fn finalize(ctx: &Ctx, who: &Authorized<'_, cap::Publish>, year: i32) -> Result<String> {
    let p = ctx
        .store
        .publication(year)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("{year} 年的测评结果尚未公开")))?;
    if pingan_store::now() < p.window_ends {
        return Err(ServiceError::invalid(format!(
            "公示期至 {} 结束，期满后再正式发布",
            crate::report::beijing(&p.window_ends).0
        )));
    }
    let objections = ctx.store.objections(year).await?;
    let open = objections.iter().filter(|o| o.state == "open").count();
    if open > 0 {
        return Err(ServiceError::invalid(format!(
            "还有 {open} 件异议未答复：答复后再正式发布"
        )));
    }
    if let Some(o) = objections
        .iter()
        .find(|o| o.state == "upheld" && o.answered_at > p.published_at)
    {
        return Err(ServiceError::invalid(format!(
            "异议 {} 已认定成立：更正数据并重新公开（pingan publish）后再正式发布",
            o.id
        )));
    }
    Ok(ctx.store.publish_final(year, &who.actor()).await?)
}

/// A short 解读 of a published region in words: its total and grade, its
/// place among its peers and its level, its strongest and weakest
/// dimensions by their share of the points.
pub fn interpret(r: &PublicRegion) -> String {
    use pingan_core::num::fmt_num;
    let mut s = format!("总分 {} 分，等级“{}”", fmt_num(r.total, 2), r.grade);
    if r.veto {
        s.push_str("（触发一票否决）");
    }
    if r.level_peers > 1 {
        s.push_str(&format!(
            "，在全省 {} 个同级地区中列第 {} 位",
            r.level_peers, r.level_rank
        ));
    }
    if r.peers > 1 && r.peers != r.level_peers {
        s.push_str(&format!(
            "、在同一上级的 {} 个地区中列第 {} 位",
            r.peers, r.rank
        ));
    }
    let mut dims: Vec<&PublicPart> = r.dimensions.iter().collect();
    dims.sort_by(|a, b| b.percent.total_cmp(&a.percent));
    if let (Some(best), Some(worst)) = (dims.first(), dims.last())
        && dims.len() > 1
    {
        s.push_str(&format!(
            "。{}得分率最高（{}%），{}得分率最低（{}%），是下一步整改提升的重点。",
            best.name,
            fmt_num(best.percent, 1),
            worst.name,
            fmt_num(worst.percent, 1)
        ));
    } else {
        s.push('。');
    }
    s
}

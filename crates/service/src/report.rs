//! The 测评报告 of one region and year (issue 20): made from the stored
//! official results only (scored from approved values), with the ledger
//! head at the time, so anyone can make the same report again from the
//! same ledger.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, scores};
use pingan_core::Period;
use pingan_core::report::{Report, build};

pub struct RegionReport {
    pub report: Report,
    /// The ledger's head (sequence number, hash) the report was made at.
    pub ledger: (i64, String),
}

pub async fn region(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<RegionReport> {
    // The head before and after reading: equal, no write came between, and
    // the report is the ledger's state at that head (else read again).
    let mut tries = 0;
    loop {
        let before = ctx.store.audit_head().await?;
        let report = made(ctx, who, year, code).await?;
        let after = ctx.store.audit_head().await?;
        tries += 1;
        if before == after || tries == 3 {
            return Ok(RegionReport {
                report,
                ledger: after,
            });
        }
    }
}

async fn made(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Report> {
    // Every year's result once (the year's own among them).
    let years = scores::history(ctx, who, code).await?;
    let history: Vec<(i32, f64)> = years
        .iter()
        .filter_map(|(y, r)| r.as_ref().map(|r| (*y, r.total)))
        .filter(|(y, _)| *y <= year)
        .collect();
    let me = years
        .into_iter()
        .find(|(y, _)| *y == year)
        .and_then(|(_, r)| r)
        .ok_or_else(|| ServiceError::not_found(format!("{code} 在 {year} 年没有测评结果")))?;
    let peers = scores::peers(ctx, who, Period::Year(year), code).await?;
    let fw = scores::version(ctx, year).await?.framework;
    Ok(build(&fw, year, &me, &peers, &history))
}

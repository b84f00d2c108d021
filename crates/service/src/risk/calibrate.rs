//! `pingan risk --calibrate`: a year that already has values assessed as
//! if it were next year — forecasts from the months before it only — and
//! the probabilities compared with what it then scored: the model's own,
//! and (where the year before can be assessed too) the model's passed
//! through the map fitted on the year before, as a run shows them. This is
//! the out-of-sample test of that map. Nothing is kept.

use super::{load, recalibration};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::Period;
use pingan_core::calibration::{Calibration, pairs, summarize};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct CalibrationReport {
    /// The model's probabilities against the year's scores.
    pub model: Calibration,
    /// The same passed through the map fitted on the year before.
    pub recalibrated: Option<Calibration>,
    /// The year the map was fitted on.
    pub map_year: Option<i32>,
}

/// Assess the year of `period` (a month) from the months before it and
/// compare with its scores.
pub async fn calibrate(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    period: Period,
    draws: usize,
) -> Result<CalibrationReport> {
    let _permit = ctx.heavy_permit().await?;
    let input = load(ctx, Some(period), draws).await?;
    if !ctx.years().await?.contains(&input.year) {
        return Err(ServiceError::invalid(format!(
            "{} 年还没有数据，无法与实际得分比较：请选择已有数据的年份（如 --period {}-01）",
            input.year,
            input.year - 1
        )));
    }
    tokio::task::spawn_blocking(move || {
        let (_, _, risks) = input.assess(input.year, input.from_month, &input.history, None)?;
        let found = pairs(&risks, &input.fw, &input.tree, &input.data, input.year)
            .map_err(|e| ServiceError::invalid(e.to_string()))?;
        let map = recalibration(&input)?;
        let recalibrated = map.as_ref().map(|c| {
            let mapped: Vec<_> = found
                .iter()
                .map(|p| (c.map.apply(p.0), p.1, p.2, p.3))
                .collect();
            summarize(&mapped, input.year)
        });
        Ok(CalibrationReport {
            model: summarize(&found, input.year),
            recalibrated,
            map_year: map.map(|c| c.year),
        })
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("risk task: {e}")))?
}

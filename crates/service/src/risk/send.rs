//! Warnings the office sends to a region: a notice on its 测评总览 and,
//! when asked, a 实地核查 task over the indicator's elements.

use super::view;
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};

/// Send a warning of the kept run to its region: a notice on the region's
/// home page and, when asked, a field task over the indicator's elements.
pub async fn send(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    period: &str,
    region: &str,
    indicator: &str,
    with_task: bool,
) -> Result<pingan_store::RiskWarning> {
    let scores_who = who.caller().authorize::<cap::Scores>()?;
    let Some(v) = view(ctx, &scores_who, Some(period)).await? else {
        return Err(ServiceError::not_found(format!("没有 {period} 的风险评估")));
    };
    let tree = ctx.tree().await?;
    who.caller().region_in_scope(&tree, region)?;
    let Some(w) = v
        .warnings
        .iter()
        .find(|w| w.region == region && w.indicator == indicator)
    else {
        return Err(ServiceError::not_found(format!(
            "{period} 的风险评估中没有 {region} 的指标 {indicator}"
        )));
    };
    let message = format!(
        "{}年{}：预测值 {}{}，失分概率 {:.0}%{}，预计失分 {:.2} 分。请提前核查并采取措施。",
        v.year,
        w.indicator_name,
        w.value.map_or("—".into(), |x| format!("{x:.2}")),
        w.unit,
        w.p_loss * 100.0,
        if w.p_veto > 0.0 {
            format!("，触发一票否决概率 {:.0}%", w.p_veto * 100.0)
        } else {
            String::new()
        },
        w.expected_loss
    );
    let field_task = if with_task {
        let field = who.caller().authorize::<cap::Field>()?;
        let last = ctx
            .latest_year()
            .await
            .ok_or_else(|| ServiceError::invalid("还没有任何年度的数据"))?;
        let task = crate::field::create(
            ctx,
            &field,
            crate::field::TaskInput {
                region: region.to_string(),
                period: last.to_string(),
                elements: w.elements.iter().map(|e| e.code.clone()).collect(),
                checklist: Vec::new(),
                note: format!("风险预警核查：{message}"),
            },
        )
        .await?;
        Some(task.id)
    } else {
        None
    };
    let warning = pingan_store::RiskWarning {
        period: period.to_string(),
        region: region.to_string(),
        indicator: indicator.to_string(),
        message,
        field_task,
        sent_by: who.actor().user.clone(),
        sent_at: pingan_store::now(),
    };
    ctx.store.save_risk_warning(&warning, &who.actor()).await?;
    Ok(warning)
}

/// The warnings sent to `region` (its home page's notice).
pub async fn sent_to(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Scores>,
    region: &str,
) -> Result<Vec<pingan_store::RiskWarning>> {
    Ok(ctx.store.risk_warnings(Some(region)).await?)
}

//! 异议 to published results (issue 21): filed in the 公示 window by the
//! public (name and contact, no login) or by an account, about a published
//! region; answered by the office — upheld (the results are corrected and
//! published again) or not upheld — every step in the ledger.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, Caller, cap, publish};
use pingan_store::{NewObjection, Objection};

/// The longest text of a field (characters).
const MAX: usize = 2_000;

fn check(name: &str, v: &str, required: bool, max: usize) -> Result<()> {
    if required && v.trim().is_empty() {
        return Err(ServiceError::invalid(format!("请填写{name}")));
    }
    if v.chars().count() > max {
        return Err(ServiceError::invalid(format!("{name}过长：最多 {max} 字")));
    }
    Ok(())
}

/// What an objection says.
pub struct Filing<'a> {
    pub region: &'a str,
    pub name: &'a str,
    pub contact: &'a str,
    pub content: &'a str,
    pub evidence: &'a str,
    /// The filer's network address (kept only as a digest).
    pub address: &'a str,
}

/// Objections one address may file in a day: enough for a region's
/// several points, too few to flood the office.
pub const PER_ADDRESS_DAY: i64 = 5;

/// File an objection to `year`'s published results: only while its 公示
/// window is open, only about a published region. `account` is the
/// signed-in caller, None for the public.
pub async fn file(ctx: &Ctx, account: Option<&Caller>, year: i32, f: &Filing<'_>) -> Result<i64> {
    let p = publish::public(ctx, year)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("{year} 年的测评结果尚未公开")))?;
    if p.status != "公示中" {
        return Err(ServiceError::invalid("公示期已结束，不再受理异议"));
    }
    if !p.results.iter().any(|r| r.region == f.region) {
        return Err(ServiceError::invalid("请选择公开结果中的地区"));
    }
    let name = match account {
        Some(c) => c.name(),
        None => f.name.trim().to_string(),
    };
    check("姓名或单位", &name, true, 100)?;
    check("联系方式", f.contact, account.is_none(), 100)?;
    check("异议内容", f.content, true, MAX)?;
    check("依据", f.evidence, false, MAX)?;
    let address = pingan_store::sha256_hex(format!("objection-address:{}", f.address).as_bytes());
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let since = since
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if ctx.store.objections_from(&address, &since).await? >= PER_ADDRESS_DAY {
        return Err(ServiceError::invalid(format!(
            "同一网络地址一天内最多提出 {PER_ADDRESS_DAY} 件异议，请明天再提交或联系测评办"
        )));
    }
    let actor = match account {
        Some(c) => c.actor(),
        None => Caller::public(f.region).actor(),
    };
    Ok(ctx
        .store
        .file_objection(
            &NewObjection {
                year,
                region: f.region,
                filed_by: &name,
                account: &account.map(|c| c.name()).unwrap_or_default(),
                contact: f.contact.trim(),
                content: f.content.trim(),
                evidence: f.evidence.trim(),
                address: &address,
            },
            &actor,
        )
        .await?)
}

pub async fn list(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Publish>,
    year: i32,
) -> Result<Vec<Objection>> {
    Ok(ctx.store.objections(year).await?)
}

/// The office's answer: upheld (correct the data, then publish again) or
/// not, always with its reasons.
pub async fn answer(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Publish>,
    id: i64,
    upheld: bool,
    text: &str,
    correction: &str,
) -> Result<()> {
    check("答复", text, true, MAX)?;
    // An upheld objection names the correction it led to (the values
    // import or quality correction that rescored), then publish again.
    check("更正情况", correction, upheld, MAX)?;
    let correction = if upheld { correction.trim() } else { "" };
    Ok(ctx
        .store
        .answer_objection(id, upheld, text.trim(), correction, &who.actor())
        .await?)
}

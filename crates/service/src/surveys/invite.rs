//! One-time invitation links (issue 18): `/i/{year}.{township}.{serial}.{mac}`
//! where `mac` is HMAC-SHA-256 of the rest under the year's key (80 bits
//! shown). The plan says how many invitations each township gets; a link
//! beyond that count, or with a wrong mac, opens nothing. The links can be
//! listed and printed again at any time (nothing about them is stored but
//! the key); a link is used by the first answer it brings, and a replay by
//! another answer is refused. A link names no person.

use super::{OpenYear, Paradata, ResponsesSummary, answer_one, open_year, year_plan};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, Caller, cap};
use hmac::{Hmac, KeyInit, Mac};
use pingan_input::survey::Item;
use pingan_store::Claim;
use std::sync::Arc;

/// Hex digits of the mac in a link: 80 bits, beyond guessing.
const MAC_HEX: usize = 20;

fn mac(key: &str, body: &str) -> Hmac<sha2::Sha256> {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    m.update(body.as_bytes());
    m
}

/// The link token of invitation `serial` of `region` in `year`.
pub fn token(key: &str, year: i32, region: &str, serial: u64) -> String {
    let body = format!("{year}.{region}.{serial}");
    let full = hex::encode(mac(key, &body).finalize().into_bytes());
    format!("{body}.{}", &full[..MAC_HEX])
}

/// An invitation a link stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub year: i32,
    pub region: String,
    pub serial: u64,
    /// The answer that used it, if one did.
    pub used_by: Option<String>,
}

fn invalid() -> ServiceError {
    ServiceError::not_found("邀请链接无效：请核对链接是否完整")
}

/// What `token` opens, or why nothing.
pub async fn open(ctx: &Ctx, token: &str) -> Result<(Invitation, Arc<OpenYear>)> {
    let mut parts = token.rsplitn(2, '.');
    let (Some(given), Some(body)) = (parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let mut f = body.splitn(3, '.');
    let (Some(year), Some(region), Some(serial)) = (f.next(), f.next(), f.next()) else {
        return Err(invalid());
    };
    let (Ok(year), Ok(serial)) = (year.parse::<i32>(), serial.parse::<u64>()) else {
        return Err(invalid());
    };
    if given.len() != MAC_HEX || !(2000..=2100).contains(&year) {
        return Err(invalid());
    }
    let Ok(given) = hex::decode(given) else {
        return Err(invalid());
    };
    let key = ctx.store.survey_key(year).await?;
    // Constant time: a wrong mac says nothing about the right one.
    mac(&key, body)
        .verify_truncated_left(&given)
        .map_err(|_| invalid())?;
    let open = open_year(ctx, year).await?;
    let plan = open.plan.as_ref().as_ref().ok_or_else(invalid)?;
    let allowed = plan
        .rows
        .iter()
        .find(|r| open.tree.get(r.region).code == region)
        .map_or(0, |r| r.invitations);
    if serial == 0 || serial > allowed {
        return Err(invalid());
    }
    let used_by = ctx
        .store
        .invitation_use(year, region, serial as i64)
        .await?;
    Ok((
        Invitation {
            year,
            region: region.to_string(),
            serial,
            used_by,
        },
        open,
    ))
}

/// The answer an invitation brings: the invitation is taken first (so two
/// answers racing on one link cannot both count), given back if the
/// answer is refused.
pub async fn answer(
    ctx: &Ctx,
    inv: &Invitation,
    open: &OpenYear,
    item: &Item<'_>,
    sha256: String,
) -> Result<ResponsesSummary> {
    let instance = item.head.instance_id;
    let serial = inv.serial as i64;
    match ctx
        .store
        .claim_invitation(inv.year, &inv.region, serial, instance)
        .await?
    {
        Claim::Taken => {
            return Err(ServiceError::Conflict(
                "该邀请链接已被使用：每个链接只能提交一份答卷".into(),
            ));
        }
        Claim::Fresh | Claim::Same => {}
    }
    let public = Caller::public(&inv.region);
    let who = public.authorize::<cap::SurveyAnswers>()?;
    let out = answer_one(ctx, &who, open, item, Paradata::default(), sha256).await;
    if out.is_err() {
        ctx.store
            .release_invitation(inv.year, &inv.region, serial, instance)
            .await?;
    }
    out
}

/// A person's stable channel id (a WeChat openid) as kept: its HMAC under
/// the year's key, never the id itself.
pub async fn respondent_digest(ctx: &Ctx, year: i32, raw: &str) -> Result<String> {
    let key = ctx.store.survey_key(year).await?;
    Ok(hex::encode(
        mac(&key, &format!("respondent:{raw}"))
            .finalize()
            .into_bytes(),
    ))
}

/// Store an answer as `store` does, unless the same person (by channel
/// id) already answered this year: one answer per person.
pub async fn once_per_person<F, Fut>(
    ctx: &Ctx,
    year: i32,
    respondent: Option<&str>,
    instance: &str,
    store: F,
) -> Result<ResponsesSummary>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<ResponsesSummary>>,
{
    let Some(raw) = respondent.map(str::trim).filter(|r| !r.is_empty()) else {
        return store().await;
    };
    if raw.chars().count() > 200 {
        return Err(ServiceError::invalid("respondent 过长"));
    }
    let digest = respondent_digest(ctx, year, raw).await?;
    if ctx.store.claim_respondent(year, &digest, instance).await? == Claim::Taken {
        return Err(ServiceError::Conflict(
            "您已参与过本次调查，每人只能提交一份答卷".into(),
        ));
    }
    let out = store().await;
    if out.is_err() {
        ctx.store
            .release_respondent(year, &digest, instance)
            .await?;
    }
    out
}

/// Every invitation link of the year's plan (of one township when given),
/// as (township code, serial, token).
pub async fn links(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    township: Option<&str>,
) -> Result<Vec<(String, u64, String)>> {
    let plan = year_plan(ctx, year).await?;
    let plan = plan.as_ref().as_ref().ok_or_else(|| {
        ServiceError::invalid(format!("尚未制定 {year} 年抽样方案：邀请数由方案决定"))
    })?;
    let tree = ctx.tree().await?;
    let key = ctx.store.survey_key(year).await?;
    let mut out = Vec::new();
    for r in &plan.rows {
        let code = &tree.get(r.region).code;
        if township.is_some_and(|t| t != code) {
            continue;
        }
        for serial in 1..=r.invitations {
            out.push((code.clone(), serial, token(&key, year, code, serial)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_keyed_and_distinct() {
        let a = super::token("k1", 2024, "990101001", 1);
        assert!(a.starts_with("2024.990101001.1.") && a.len() == "2024.990101001.1.".len() + 20);
        assert_ne!(a, super::token("k2", 2024, "990101001", 1));
        assert_ne!(a, super::token("k1", 2024, "990101001", 2));
        assert_eq!(a, super::token("k1", 2024, "990101001", 1));
    }
}

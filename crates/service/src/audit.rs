//! The audit ledger for those who may read it: entries by filter, and the
//! hash chain recomputed.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_store::{AuditFilter, Entry, Verification};

/// Which entries; `to` as a bare date means the whole day.
#[derive(Clone, Debug, Default)]
pub struct LedgerQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
    /// Part of the object's text.
    pub object: Option<String>,
}

/// The entries a query selects, oldest first.
pub async fn entries(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Ledger>,
    q: &LedgerQuery,
) -> Result<Vec<Entry>> {
    let from = bound("from", q.from.as_deref(), false)?;
    let to = bound("to", q.to.as_deref(), true)?;
    let f = AuditFilter {
        from,
        to,
        user: q.user.clone(),
        action: q.action.clone(),
    };
    let mut all = ctx.store.audit_entries(&f, None).await?;
    if let Some(o) = &q.object {
        all.retain(|e| e.object.contains(o.as_str()));
    }
    Ok(all)
}

/// A time bound as the ledger stores times (UTC, milliseconds, `Z`): a
/// bare date is the start of that day (`from`) or its end (`to`); an RFC
/// 3339 time in any offset is converted. Anything else is a 400.
fn bound(name: &str, raw: Option<&str>, end: bool) -> Result<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ServiceError::BadRequest(format!(
            "参数 {name}“{raw}”无效：应为日期（如 2024-06-01）或 RFC 3339 时间（如 2024-06-01T08:00:00+08:00）"
        ))
    };
    if raw.len() == 10 {
        let d = pingan_core::period::Date::parse(raw, pingan_core::period::YearEnd::Start)
            .map_err(|_| bad())?;
        let time = if end { "23:59:59.999" } else { "00:00:00.000" };
        return Ok(Some(format!(
            "{}-{:02}-{:02}T{time}Z",
            d.year, d.month, d.day
        )));
    }
    let t = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?
        .to_offset(time::UtcOffset::UTC);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    Ok(Some(t.format(&f).map_err(|_| bad())?))
}

/// Recompute the chain; with `head` (a hash kept outside the database),
/// truncation shows too.
pub async fn verify(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Ledger>,
    head: Option<&str>,
) -> Result<Verification> {
    Ok(ctx.store.audit_verify(head).await?)
}

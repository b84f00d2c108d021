//! The audit ledger for those who may read it: entries by filter, and the
//! hash chain recomputed.

use crate::ctx::Ctx;
use crate::error::Result;
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
    // A bare date means the whole day.
    let to = q.to.clone().map(|t| {
        if t.len() == 10 {
            format!("{t}T23:59:59.999Z")
        } else {
            t
        }
    });
    let f = AuditFilter {
        from: q.from.clone(),
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

/// Recompute the chain; with `head` (a hash kept outside the database),
/// truncation shows too.
pub async fn verify(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Ledger>,
    head: Option<&str>,
) -> Result<Verification> {
    Ok(ctx.store.audit_verify(head).await?)
}

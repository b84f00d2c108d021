//! The download centre (下载中心): exports too large to make while the
//! browser waits are made in the background and kept until fetched. A file
//! is its owner's alone: the rows in it are what the owner's scope let them
//! read when they asked, so nobody else may fetch it.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, Caller, Capability};
use pingan_store::ExportFile;

/// Bytes per kept part: small enough that a part is one ordinary row on
/// either backend, large enough that a big file is a few dozen rows.
pub const PART_BYTES: usize = 4 << 20;

/// Record an export of `kind` that `who` asked for (made afterwards with
/// `add_part` and `end`); the request goes in the ledger.
pub async fn start<C: Capability>(
    ctx: &Ctx,
    who: &Authorized<'_, C>,
    kind: &str,
    title: &str,
    params: &str,
) -> Result<i64> {
    Ok(ctx
        .store
        .create_export(kind, title, params, &who.actor())
        .await?)
}

/// Keep the next part of export `id` (`rows` written so far).
pub async fn add_part(ctx: &Ctx, id: i64, n: i64, bytes: &[u8], rows: i64) -> Result<()> {
    Ok(ctx.store.add_export_part(id, n, bytes, rows).await?)
}

/// Export `id` is still being made, `rows` written so far (its sign of life
/// while nothing is ready to keep).
pub async fn progress(ctx: &Ctx, id: i64, rows: i64) -> Result<()> {
    Ok(ctx.store.touch_export(id, rows).await?)
}

/// Export `id` is complete, or failed with `error`.
pub async fn end(ctx: &Ctx, id: i64, rows: i64, error: Option<&str>) -> Result<()> {
    Ok(ctx.store.end_export(id, rows, error).await?)
}

/// The caller's files, newest first.
pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<ExportFile>> {
    Ok(ctx.store.exports_of(&caller.name()).await?)
}

/// The caller's file `id`; another's is not found, as if it did not exist.
pub async fn file(ctx: &Ctx, caller: &Caller, id: i64) -> Result<ExportFile> {
    match ctx.store.export_file(id).await? {
        Some(f) if f.owner == caller.name() => Ok(f),
        _ => Err(ServiceError::NotFound(format!(
            "没有编号为 {id} 的导出文件"
        ))),
    }
}

/// Part `n` of a file `file` returned (its owner checked there).
pub async fn part(ctx: &Ctx, f: &ExportFile, n: i64) -> Result<Option<Vec<u8>>> {
    Ok(ctx.store.export_part(f.id, n).await?)
}

//! Region boundaries (issue 22): a GeoJSON FeatureCollection matched to the
//! regions by a code property, checked whole and kept all or nothing.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};

/// Import the outlines in `bytes`; how many regions got one. `dry_run`
/// checks without writing.
pub async fn import(
    ctx: &Ctx,
    who: &Authorized<'_, cap::DirectImport>,
    file: &str,
    bytes: &[u8],
    property: &str,
    dry_run: bool,
) -> Result<usize> {
    let tree = ctx.tree().await?;
    if tree.is_empty() {
        return Err(ServiceError::invalid(
            "数据库中还没有地区：请先导入（pingan import regions）",
        ));
    }
    let read = pingan_input::boundaries::read_boundaries(file, bytes, &tree, property)
        .map_err(|e| ServiceError::invalid(e.to_string()))?;
    if !dry_run {
        let rows: Vec<(String, String)> =
            read.into_iter().map(|b| (b.region, b.geometry)).collect();
        let n = rows.len();
        ctx.store
            .save_boundaries(file, &pingan_store::sha256_hex(bytes), &rows, &who.actor())
            .await?;
        return Ok(n);
    }
    Ok(read.len())
}

/// Every kept outline by region code, parsed once per import (the maps
/// read them on every view).
pub async fn shapes(
    ctx: &Ctx,
) -> Result<std::sync::Arc<std::collections::HashMap<String, serde_json::Value>>> {
    ctx.versioned(
        "boundaries",
        &[pingan_core::labels::LedgerAction::ImportBoundaries],
        async {
            Ok(ctx
                .store
                .boundaries()
                .await?
                .into_iter()
                .filter_map(|(r, g)| serde_json::from_str(&g).ok().map(|v| (r, v)))
                .collect())
        },
    )
    .await
}

//! The evaluation's structure: the region tree within the caller's scope
//! and the framework in force for a year.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::Framework;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct RegionItem {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// Children of a region (the top of the caller's scope when `parent` is
/// None).
pub async fn regions(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Structure>,
    parent: Option<&str>,
) -> Result<Vec<RegionItem>> {
    let tree = ctx.tree().await?;
    let list: Vec<usize> = match parent {
        Some(code) => {
            let p = who.region_in_scope(&tree, code)?;
            tree.children(p).to_vec()
        }
        None => match who.region.as_deref().and_then(|r| tree.find(r)) {
            Some(root) => vec![root],
            None => (0..tree.len())
                .filter(|&i| tree.get(i).parent.is_none())
                .collect(),
        },
    };
    Ok(list
        .into_iter()
        .map(|i| {
            let r = tree.get(i);
            RegionItem {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.map(|p| tree.get(p).code.clone()),
                level: r.level.code().to_string(),
                valid_from: r.valid_from.map(|d| d.to_string()),
                valid_to: r.valid_to.map(|d| d.to_string()),
            }
        })
        .collect())
}

/// The framework in force for `year` (the latest version when None).
pub async fn framework(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Structure>,
    year: Option<i32>,
) -> Result<Framework> {
    ctx.store
        .framework_for_year(year.unwrap_or(i32::MAX))
        .await?
        .ok_or_else(|| {
            ServiceError::not_found("没有适用的指标体系：请先导入（pingan import framework）")
        })
}

/// Every stored framework version, newest first.
pub async fn framework_versions(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Structure>,
) -> Result<Vec<pingan_store::frameworks::FrameworkRecord>> {
    Ok(ctx.store.framework_records().await?)
}

/// Every element and benchmark any stored version knows: the names pages
/// show for codes, and what an import may name.
pub async fn known_codes(ctx: &Ctx) -> Result<Framework> {
    Ok(ctx.store.known_codes().await?)
}

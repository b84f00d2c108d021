//! `page` and `page_size` on list answers.

use crate::api::ApiError;
use serde::{Deserialize, Serialize};

/// The first page unless another is asked for (serde default).
pub fn one() -> usize {
    1
}

/// Fifty items a page unless said (serde default).
pub fn fifty() -> usize {
    50
}

/// The page asked for: 1 first, 50 a page unless said. Query types carry
/// `page` and `page_size` themselves (`deny_unknown_fields` cannot be
/// flattened) and hand them over as this.
#[derive(Deserialize, Clone, Copy)]
pub struct PageQuery {
    pub page: usize,
    pub page_size: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

pub fn page<T>(all: Vec<T>, q: PageQuery) -> Result<Page<T>, ApiError> {
    let (page, size) = (q.page, q.page_size);
    if page == 0 || !(1..=1000).contains(&size) {
        return Err(ApiError::invalid(
            "page 应从 1 开始，page_size 应在 1 到 1000 之间",
        ));
    }
    let total = all.len();
    // A page far past the end is empty, not an overflow.
    let items = all
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    Ok(Page {
        items,
        total,
        page,
        page_size: size,
    })
}

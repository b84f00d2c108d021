//! Read-mostly data kept between requests. Every write to the store appends
//! to the audit ledger, so the ledger head's sequence number is a version
//! for everything: when it moves, the cache is dropped. Several instances
//! each keep their own copy and stay correct.

use crate::{ApiError, AppState};
use pingan_core::RegionTree;
use std::collections::HashMap;
use std::sync::Arc;

/// (period, level, parent) of a `/scores` request.
pub type ScoresKey = (String, Option<String>, Option<String>);

#[derive(Default)]
pub struct Cache {
    seq: i64,
    tree: Option<Arc<RegionTree>>,
    /// (period, level, parent) → the `/scores` body for an unscoped caller.
    scores: HashMap<ScoresKey, axum::body::Bytes>,
}

impl AppState {
    /// The cache, emptied first if anything was written since it was filled.
    async fn fresh(&self) -> Result<tokio::sync::MutexGuard<'_, Cache>, ApiError> {
        let (seq, _) = self.store.audit_head().await?;
        let mut c = self.cache.lock().await;
        if c.seq != seq {
            *c = Cache {
                seq,
                ..Cache::default()
            };
        }
        Ok(c)
    }

    pub async fn tree(&self) -> Result<Arc<RegionTree>, ApiError> {
        let mut c = self.fresh().await?;
        if let Some(t) = &c.tree {
            return Ok(t.clone());
        }
        let t = Arc::new(self.store.region_tree().await?);
        c.tree = Some(t.clone());
        Ok(t)
    }

    pub async fn cached_scores(
        &self,
        key: &ScoresKey,
    ) -> Result<Option<axum::body::Bytes>, ApiError> {
        Ok(self.fresh().await?.scores.get(key).cloned())
    }

    pub async fn keep_scores(
        &self,
        key: ScoresKey,
        body: axum::body::Bytes,
    ) -> Result<(), ApiError> {
        self.fresh().await?.scores.insert(key, body);
        Ok(())
    }
}

//! Read-mostly data kept between requests. Every write to the store appends
//! to the audit ledger, so the ledger head's sequence number is a version
//! for everything: when it moves, the cache is dropped. Several instances
//! each keep their own copy and stay correct.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use pingan_core::RegionTree;
use std::collections::HashMap;
use std::sync::Arc;

/// (period, level, parent) of a `/scores` request.
pub type ScoresKey = (String, Option<String>, Option<String>);

#[derive(Default)]
pub struct Cache {
    seq: i64,
    tree: Option<Arc<RegionTree>>,
    years: Option<Arc<Vec<i32>>>,
    /// (period, level, parent) → the `/scores` body for an unscoped caller.
    scores: HashMap<ScoresKey, Body>,
    /// year → what each department reported (the 报送进度 board).
    submissions: HashMap<i32, Arc<Vec<pingan_store::Submission>>>,
    /// period → the preview scoring with pending values (every level).
    previews: HashMap<String, Arc<pingan_core::score::ScoreReport>>,
}

/// A response body kept as is and gzip'd, compressed once when it is kept
/// rather than on every request.
#[derive(Clone)]
pub struct Body {
    pub raw: Bytes,
    pub gzip: Bytes,
}

impl Body {
    pub fn new(raw: Bytes) -> Body {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(
            Vec::with_capacity(raw.len() / 8),
            flate2::Compression::new(6),
        );
        // Writing to a Vec cannot fail.
        let gzip = z
            .write_all(&raw)
            .and_then(|_| z.finish())
            .map(Bytes::from)
            .unwrap_or_default();
        Body { raw, gzip }
    }
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
        self.tree_in(&mut c).await
    }

    async fn tree_in(&self, c: &mut Cache) -> Result<Arc<RegionTree>, ApiError> {
        if let Some(t) = &c.tree {
            return Ok(t.clone());
        }
        let t = Arc::new(self.store.region_tree().await?);
        c.tree = Some(t.clone());
        Ok(t)
    }

    /// What each department reported in `year`, kept until the next write.
    /// The cache is not held while the store groups a year of values (2–4 s
    /// on the full province), so other requests are not kept waiting.
    pub async fn submissions(
        &self,
        year: i32,
    ) -> Result<Arc<Vec<pingan_store::Submission>>, ApiError> {
        let seq = {
            let c = self.fresh().await?;
            if let Some(s) = c.submissions.get(&year) {
                return Ok(s.clone());
            }
            c.seq
        };
        let s = Arc::new(self.store.submissions(year).await?);
        let mut c = self.cache.lock().await;
        if c.seq == seq {
            c.submissions.insert(year, s.clone());
        }
        Ok(s)
    }

    /// The preview of `period` (pending values included, nothing stored),
    /// kept until the next write: scoring the full province takes seconds.
    pub async fn preview(
        &self,
        period: pingan_core::Period,
    ) -> Result<Arc<pingan_core::score::ScoreReport>, ApiError> {
        let key = period.to_string();
        let seq = {
            let c = self.fresh().await?;
            if let Some(p) = c.previews.get(&key) {
                return Ok(p.clone());
            }
            c.seq
        };
        let p = Arc::new(self.store.preview_scores(period, None).await?);
        let mut c = self.cache.lock().await;
        if c.seq == seq {
            c.previews.insert(key, p.clone());
        }
        Ok(p)
    }

    /// The years that have values (for the period pickers and trends).
    pub async fn years(&self) -> Result<Arc<Vec<i32>>, ApiError> {
        let mut c = self.fresh().await?;
        if let Some(y) = &c.years {
            return Ok(y.clone());
        }
        let y = Arc::new(self.store.value_years().await?);
        c.years = Some(y.clone());
        Ok(y)
    }

    /// The region tree and, if kept, the `/scores` body: one look at the
    /// ledger head for both, as this is the busiest path.
    pub async fn tree_and_scores(
        &self,
        key: &ScoresKey,
    ) -> Result<(Arc<RegionTree>, Option<Body>), ApiError> {
        let mut c = self.fresh().await?;
        let tree = self.tree_in(&mut c).await?;
        Ok((tree, c.scores.get(key).cloned()))
    }

    pub async fn keep_scores(&self, key: ScoresKey, body: Body) -> Result<(), ApiError> {
        self.fresh().await?.scores.insert(key, body);
        Ok(())
    }
}

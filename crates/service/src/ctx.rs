//! What every operation runs with: the store and what is kept between
//! calls. Every write appends to the audit ledger, so the ledger head's
//! sequence number versions everything kept: when it moves, the cache is
//! emptied. Several server instances each keep their own copy and stay
//! correct.

use crate::error::Result;
use pingan_core::score::ScoreReport;
use pingan_core::{Period, RegionTree};
use pingan_store::Store;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    cache: Arc<tokio::sync::Mutex<Cache>>,
    /// Sessions this instance touched lately (secret → when), so that a
    /// burst of requests on one session writes `last_seen` once, not once
    /// each.
    touched: Arc<std::sync::Mutex<HashMap<String, std::time::Instant>>>,
}

#[derive(Default)]
struct Cache {
    seq: i64,
    tree: Option<Arc<RegionTree>>,
    years: Option<Arc<Vec<i32>>>,
    /// year → what each department reported (the 报送进度 board).
    submissions: HashMap<i32, Arc<Vec<pingan_store::Submission>>>,
    /// period → the preview scoring with pending values (every level).
    previews: HashMap<String, Arc<ScoreReport>>,
}

impl Ctx {
    pub fn new(store: Store) -> Ctx {
        Ctx {
            store,
            cache: Arc::default(),
            touched: Arc::default(),
        }
    }

    /// True for the first caller in a minute for this session on this
    /// instance; the others skip the write that caller makes.
    pub(crate) fn claim_touch(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        let mut t = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        if t.get(id).is_some_and(|at| now.duration_since(*at) < minute) {
            return false;
        }
        if t.len() > 10_000 {
            t.retain(|_, at| now.duration_since(*at) < minute);
        }
        t.insert(id.to_string(), now);
        true
    }

    /// The cache, emptied first if anything was written since it was filled.
    async fn fresh(&self) -> Result<tokio::sync::MutexGuard<'_, Cache>> {
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

    pub async fn tree(&self) -> Result<Arc<RegionTree>> {
        Ok(self.versioned_tree().await?.1)
    }

    /// The ledger head's sequence number and the region tree, with one look
    /// at the head: the busiest path keeps its own data by that version.
    pub async fn versioned_tree(&self) -> Result<(i64, Arc<RegionTree>)> {
        let mut c = self.fresh().await?;
        if let Some(t) = &c.tree {
            return Ok((c.seq, t.clone()));
        }
        let t = Arc::new(self.store.region_tree().await?);
        c.tree = Some(t.clone());
        Ok((c.seq, t))
    }

    /// The years that have values (for the period pickers and trends).
    pub async fn years(&self) -> Result<Arc<Vec<i32>>> {
        let mut c = self.fresh().await?;
        if let Some(y) = &c.years {
            return Ok(y.clone());
        }
        let y = Arc::new(self.store.value_years().await?);
        c.years = Some(y.clone());
        Ok(y)
    }

    /// The newest year with values.
    pub async fn latest_year(&self) -> Option<i32> {
        self.years().await.ok().and_then(|y| y.last().copied())
    }

    /// What each department reported in `year`, kept until the next write.
    /// The cache is not held while the store groups a year of values (2–4 s
    /// on the full province), so other requests are not kept waiting.
    pub(crate) async fn submissions(
        &self,
        year: i32,
    ) -> Result<Arc<Vec<pingan_store::Submission>>> {
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
    /// made by `make` and kept until the next write: scoring the full
    /// province takes seconds.
    pub(crate) async fn preview<F>(&self, period: Period, make: F) -> Result<Arc<ScoreReport>>
    where
        F: Future<Output = Result<ScoreReport>>,
    {
        let key = period.to_string();
        let seq = {
            let c = self.fresh().await?;
            if let Some(p) = c.previews.get(&key) {
                return Ok(p.clone());
            }
            c.seq
        };
        let p = Arc::new(make.await?);
        let mut c = self.cache.lock().await;
        if c.seq == seq {
            c.previews.insert(key, p.clone());
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn one_touch_per_session_per_minute() {
        let db = pingan_store::testing::sqlite().await;
        let ctx = super::Ctx::new(db.store.clone());
        assert!(ctx.claim_touch("a"));
        assert!(!ctx.claim_touch("a"), "the second request skips the write");
        assert!(ctx.claim_touch("b"));
        db.done().await;
    }
}

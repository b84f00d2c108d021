//! What every operation runs with: the store and what is kept between
//! calls. Every write appends to the audit ledger, so the ledger head's
//! sequence number versions everything kept: when it moves, the cache is
//! emptied. Several server instances each keep their own copy and stay
//! correct.

use crate::error::{Result, ServiceError};
use pingan_core::labels::LedgerAction;
use pingan_core::score::ScoreReport;
use pingan_core::{Period, RegionTree};
use pingan_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Today in China Standard Time (UTC+8): the day that decides whether a
/// period has begun or a date has happened.
pub fn today() -> pingan_core::period::Date {
    let t = time::OffsetDateTime::now_utc() + time::Duration::hours(8);
    pingan_core::period::Date {
        year: t.year(),
        month: u8::from(t.month()),
        day: t.day(),
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    cache: Arc<tokio::sync::Mutex<Cache>>,
    heavy: Arc<Heavy>,
    /// Sessions this instance touched lately (secret → when), so that a
    /// burst of requests on one session writes `last_seen` once, not once
    /// each.
    touched: Arc<std::sync::Mutex<HashMap<String, std::time::Instant>>>,
    /// The values scorings read, kept across writes (see `kept`).
    pub(crate) kept_values: Arc<tokio::sync::Mutex<crate::held::Kept>>,
    /// The 报送进度 boards, kept the same way.
    pub(crate) kept_boards: Arc<tokio::sync::Mutex<crate::held::KeptBoards>>,
    /// (year, min_n) → the survey estimates and the survey version they
    /// were made at (`Store::survey_version`): only survey writes move it.
    pub(crate) kept_surveys: Arc<tokio::sync::Mutex<KeptSurveys>>,
    /// Data kept until one of a few kinds of write (see `versioned`):
    /// key → (the version it was made at, the data).
    versioned: Arc<tokio::sync::Mutex<HashMap<String, (i64, Shared)>>>,
    /// Shared state of this instance's named queues (`lane`), as `Any` so
    /// that the context does not depend on the modules that queue.
    lanes: Arc<std::sync::Mutex<HashMap<&'static str, Shared>>>,
    /// (score run, level) → its stored results, parsed once. A run's rows
    /// are written with it and never changed (a rescore is a new run), so
    /// keeping them cannot go stale, whichever instance wrote them.
    runs: Arc<std::sync::Mutex<KeptRuns>>,
}

/// (run id, level code) → its results.
type KeptRuns = HashMap<(i64, Option<&'static str>), RunResults>;

/// A score run's results at one level (or all).
pub(crate) type RunResults = Arc<Vec<pingan_core::score::RegionResult>>;

/// Runs × levels kept; past this the keeping starts over.
const RUNS_KEPT: usize = 64;

/// Data of any type kept in the context.
type Shared = Arc<dyn std::any::Any + Send + Sync>;

type KeptSurveys = HashMap<(i32, usize), (i64, Arc<pingan_core::survey::run::Estimates>)>;

/// Heavy computations at once on one instance: one leaves the second core
/// to everyone else.
pub const HEAVY_AT_ONCE: usize = 1;
/// Heavy computations that may wait for it; more are answered `Busy`.
pub const HEAVY_QUEUE: usize = 4;
pub use crate::error::BUSY_RETRY_SECS;

struct Heavy {
    permits: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    flights: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Leave to compute; dropped when done.
pub struct HeavyPermit(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

impl Heavy {
    fn new(at_once: usize, queue: usize) -> Heavy {
        Heavy {
            permits: Arc::new(tokio::sync::Semaphore::new(at_once)),
            waiting: AtomicUsize::new(0),
            queue,
            flights: Default::default(),
        }
    }

    async fn permit(&self) -> Result<HeavyPermit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(HeavyPermit(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::Busy {
                retry_after: BUSY_RETRY_SECS,
            });
        }
        // Counted down however the wait ends (the request may be dropped).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _w = Waiting(&self.waiting);
        let p = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Internal("heavy semaphore closed".into()))?;
        Ok(HeavyPermit(p))
    }
}

#[derive(Default)]
struct Cache {
    seq: i64,
    tree: Option<Arc<RegionTree>>,
    years: Option<Arc<Vec<i32>>>,
    /// period → the preview scoring with pending values (every level).
    previews: HashMap<String, Arc<ScoreReport>>,
    /// person → what waits for them (工作台 and the menu's badges), kept
    /// as `Any` so that the cache does not depend on the work module.
    todos: HashMap<String, Arc<dyn std::any::Any + Send + Sync>>,
}

impl Ctx {
    pub fn new(store: Store) -> Ctx {
        Ctx {
            store,
            cache: Arc::default(),
            heavy: Arc::new(Heavy::new(HEAVY_AT_ONCE, HEAVY_QUEUE)),
            touched: Arc::default(),
            kept_values: Arc::default(),
            kept_boards: Arc::default(),
            kept_surveys: Arc::default(),
            versioned: Arc::default(),
            lanes: Arc::default(),
            runs: Arc::default(),
        }
    }

    /// A stored run's results at `level` (all levels when None), read from
    /// the database the first time only.
    pub(crate) async fn run_results(
        &self,
        run: i64,
        level: Option<pingan_core::Level>,
    ) -> Result<RunResults> {
        let key = (run, level.map(|l| l.code()));
        if let Some(r) = self.runs.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(r);
        }
        let results = Arc::new(self.store.score_results(run, level, None).await?);
        if let Ok(mut m) = self.runs.lock() {
            if m.len() >= RUNS_KEPT {
                m.clear();
            }
            m.insert(key, results.clone());
        }
        Ok(results)
    }

    /// Leave to run one heavy computation (scoring a period, the quality
    /// checks, a year's 报送进度): `HEAVY_AT_ONCE` run on this instance at
    /// a time and `HEAVY_QUEUE` wait; anyone beyond is told to come back
    /// (`Busy`, 503 with Retry-After) rather than queued behind them, so the
    /// other requests keep their threads and pool connections.
    pub async fn heavy_permit(&self) -> Result<HeavyPermit> {
        self.heavy.permit().await
    }

    /// How many wait for a heavy permit now (for tests and metrics).
    pub fn heavy_waiting(&self) -> usize {
        self.heavy.waiting.load(Ordering::SeqCst)
    }

    /// Held while one request computes `key` (`score:2024`): the others
    /// asking for the same key wait here, then find it kept and compute
    /// nothing (single flight).
    pub(crate) async fn flight(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut m = self.heavy.flights.lock().unwrap_or_else(|e| e.into_inner());
            if m.len() > 1000 {
                m.retain(|_, l| Arc::strong_count(l) > 1);
            }
            m.entry(key.to_string()).or_default().clone()
        };
        lock.lock_owned().await
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

    /// The cache, emptied first if anything was written since it was filled
    /// (the region tree stays unless regions were imported: answers to the
    /// public survey write all day and each would read the tree again).
    async fn fresh(&self) -> Result<tokio::sync::MutexGuard<'_, Cache>> {
        let seq = self.store.ledger_seq().await?;
        let mut c = self.cache.lock().await;
        if c.seq != seq {
            let mut tree = c.tree.take();
            if tree.is_some()
                && self
                    .store
                    .last_entry_of(&[LedgerAction::ImportRegions, LedgerAction::Restore])
                    .await?
                    > c.seq
            {
                tree = None;
            }
            *c = Cache {
                seq,
                tree,
                ..Cache::default()
            };
        }
        Ok(c)
    }

    /// The queue named `name` on this instance, made on first use.
    pub(crate) fn lane<T: Default + Send + Sync + 'static>(&self, name: &'static str) -> Arc<T> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let any = lanes
            .entry(name)
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        any.downcast::<T>()
            .unwrap_or_else(|_| unreachable!("lane {name} holds one type"))
    }

    /// `make`'s value under `key`, kept on this instance until one of
    /// `writes` is in the ledger again (single flight under `key`).
    pub(crate) async fn versioned<T, F>(
        &self,
        key: &str,
        writes: &[LedgerAction],
        make: F,
    ) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T>>,
    {
        let version = self.store.last_entry_of(writes).await?;
        self.versioned_at(key, version, make).await
    }

    /// `make`'s value under `key`, kept while `version` stays the same.
    pub(crate) async fn versioned_at<T, F>(
        &self,
        key: &str,
        version: i64,
        make: F,
    ) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T>>,
    {
        let look = async || {
            self.versioned
                .lock()
                .await
                .get(key)
                .filter(|(v, _)| *v == version)
                .and_then(|(_, x)| x.clone().downcast::<T>().ok())
        };
        if let Some(x) = look().await {
            return Ok(x);
        }
        let _one = self.flight(key).await;
        if let Some(x) = look().await {
            return Ok(x);
        }
        let x = Arc::new(make.await?);
        self.versioned
            .lock()
            .await
            .insert(key.to_string(), (version, x.clone()));
        Ok(x)
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

    /// The preview of `period` (pending values included, nothing stored),
    /// made by `make` and kept until the next write: scoring the full
    /// province takes seconds.
    pub(crate) async fn preview<F>(&self, period: Period, make: F) -> Result<Arc<ScoreReport>>
    where
        F: Future<Output = Result<ScoreReport>>,
    {
        let key = period.to_string();
        self.kept(
            &format!("preview:{key}"),
            |c| c.previews.get(&key).cloned(),
            |c, v| {
                c.previews.insert(key.clone(), v);
            },
            make,
        )
        .await
    }

    /// What waits for `who`, made by `make` and kept until the next write.
    pub(crate) async fn per_person<T, F>(&self, who: &str, make: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T>>,
    {
        self.kept(
            &format!("todos:{who}"),
            |c| {
                c.todos
                    .get(who)
                    .cloned()
                    .and_then(|a| a.downcast::<T>().ok())
            },
            |c, v| {
                c.todos.insert(who.to_string(), v);
            },
            make,
        )
        .await
    }

    /// A value kept in the cache until the next write: read with `get`,
    /// else made once (single flight under `flight_key`; `make` takes the
    /// heavy permit it needs) and stored with `put` — unless a write came
    /// meanwhile.
    async fn kept<T, F>(
        &self,
        flight_key: &str,
        get: impl Fn(&Cache) -> Option<Arc<T>>,
        put: impl FnOnce(&mut Cache, Arc<T>),
        make: F,
    ) -> Result<Arc<T>>
    where
        F: Future<Output = Result<T>>,
    {
        let cached = async || -> Result<Result<Arc<T>, i64>> {
            let c = self.fresh().await?;
            Ok(get(&c).ok_or(c.seq))
        };
        if let Ok(v) = cached().await? {
            return Ok(v);
        }
        let _one = self.flight(flight_key).await;
        let seq = match cached().await? {
            Ok(v) => return Ok(v),
            Err(seq) => seq,
        };
        let v = Arc::new(make.await?);
        let mut c = self.cache.lock().await;
        if c.seq == seq {
            put(&mut c, v.clone());
        }
        Ok(v)
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

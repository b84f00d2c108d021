//! The ledger head as this instance last read it, kept current by
//! PostgreSQL's LISTEN/NOTIFY (`Store::watch_ledger`), so that the busiest
//! reads need not ask the database on every request whether anything was
//! written. Every commit that moves the ledger notifies `CHANNEL`; on each
//! notification the watching instance reads the head again. A lost
//! connection, a refused LISTEN, or SQLite: no hint, and every caller asks.

use std::sync::{Arc, Mutex, Weak};

/// The channel every ledger-moving commit notifies on PostgreSQL.
pub(crate) const CHANNEL: &str = "pingan_ledger";

/// The head's sequence number as last read, when that read is still
/// known to be current.
#[derive(Debug)]
pub(crate) struct HeadHint {
    inner: Mutex<Hint>,
    /// Told `true` by `Store::close`: the watching task ends. Dropping the
    /// hint (the last `Store` gone) ends it too.
    stop: tokio::sync::watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Hint {
    /// A task watches the channel (only then is a hint ever set).
    watching: bool,
    /// Bumped when a read begins: only the latest-begun read may set
    /// `seq`. It began after every commit known at that moment, so what it
    /// read is at least that new.
    generation: u64,
    seq: Option<i64>,
}

impl Default for HeadHint {
    fn default() -> Self {
        HeadHint {
            inner: Mutex::default(),
            stop: tokio::sync::watch::channel(false).0,
        }
    }
}

impl HeadHint {
    fn lock(&self) -> std::sync::MutexGuard<'_, Hint> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The head's sequence number, if known to be current.
    pub(crate) fn get(&self) -> Option<i64> {
        self.lock().seq
    }

    pub(crate) fn watching(&self) -> bool {
        self.lock().watching
    }

    /// Forget the hint and start a read; returns the read's generation.
    pub(crate) fn begin_read(&self) -> u64 {
        let mut h = self.lock();
        h.generation += 1;
        h.seq = None;
        h.generation
    }

    /// Keep what a read found, unless a later one has begun since.
    pub(crate) fn finish_read(&self, generation: u64, seq: i64) {
        let mut h = self.lock();
        if h.watching && h.generation == generation {
            h.seq = Some(seq);
        }
    }

    fn set_watching(&self, on: bool) {
        let mut h = self.lock();
        h.watching = on;
        h.generation += 1;
        h.seq = None;
    }

    pub(crate) fn stop(&self) {
        self.set_watching(false);
        self.stop.send_replace(true);
    }
}

/// Watch `CHANNEL` on `url` (a connection of its own, outside the pool)
/// and keep `hint` current until the store closes. Returns at once; the
/// watching runs on the current tokio runtime.
pub(crate) fn spawn(url: String, pool: sqlx::PgPool, hint: &Arc<HeadHint>) {
    let weak: Weak<HeadHint> = Arc::downgrade(hint);
    let mut stop = hint.stop.subscribe();
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "ledger watch: no connection; every read asks the database");
                return;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "ledger watch: LISTEN refused; every read asks the database");
            return;
        }
        match weak.upgrade() {
            Some(h) => {
                h.set_watching(true);
                refresh(&pool, &h).await;
            }
            None => return,
        }
        loop {
            let event = tokio::select! {
                _ = stop.changed() => return,
                n = listener.try_recv() => n,
            };
            let Some(hint) = weak.upgrade() else { return };
            match event {
                // Many commits in a burst: one read covers them all.
                Ok(Some(_)) => while listener.next_buffered().is_some() {},
                // The connection was lost and made again: notifications
                // in between are gone, so read the head afresh.
                Ok(None) => tracing::info!("ledger watch: connection restored"),
                Err(e) => {
                    hint.begin_read();
                    drop(hint);
                    tracing::warn!(error = %e, "ledger watch: connection lost; retrying");
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            }
            refresh(&pool, &hint).await;
        }
    });
}

/// Read the head and keep it in `hint` (if no later read began meanwhile).
pub(crate) async fn refresh(pool: &sqlx::PgPool, hint: &HeadHint) {
    let generation = hint.begin_read();
    let read: Result<(i64,), sqlx::Error> =
        sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(pool)
            .await;
    if let Ok((seq,)) = read {
        hint.finish_read(generation, seq);
    }
}

#[cfg(test)]
mod tests {
    use super::HeadHint;

    #[test]
    fn only_the_latest_read_is_kept() {
        let h = HeadHint::default();
        let g = h.begin_read();
        h.finish_read(g, 5);
        assert_eq!(h.get(), None, "not watching: never a hint");
        h.set_watching(true);
        let first = h.begin_read();
        let second = h.begin_read();
        h.finish_read(second, 8);
        assert_eq!(h.get(), Some(8));
        // The earlier read ends last: it may have begun before a commit.
        h.finish_read(first, 7);
        assert_eq!(h.get(), Some(8));
        h.begin_read();
        assert_eq!(h.get(), None, "a read in flight: callers ask");
        h.stop();
        let g = h.begin_read();
        h.finish_read(g, 9);
        assert_eq!(h.get(), None);
    }

    /// A write through another instance reaches the watching one by
    /// notification; its own writes it sees at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_watching_instance_sees_every_write() {
        use crate::{Actor, NewEntry, Store};
        use pingan_core::labels::LedgerAction;
        let Some(fresh) = crate::testing::postgres().await else {
            return;
        };
        let entry = || NewEntry::new(LedgerAction::Restore, "t", serde_json::json!({}));
        let settled = |s: &Store, want: i64| {
            let s = s.clone();
            async move {
                for _ in 0..500 {
                    if s.head.get() == Some(want) {
                        return true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                false
            }
        };
        let watching = Store::open(&fresh.url).await.unwrap();
        assert!(watching.watch_ledger());
        let start = fresh.store.audit_head().await.unwrap().0;
        assert!(settled(&watching, start).await, "the first read");
        assert_eq!(watching.ledger_seq().await.unwrap(), start);

        fresh.store.audit(&Actor::cli("t"), &entry()).await.unwrap();
        assert!(settled(&watching, start + 1).await, "told by the other");
        assert_eq!(watching.ledger_seq().await.unwrap(), start + 1);

        // Its own write: the next answer has it at once (from the hint, or
        // asked while its own notification is being read), then the hint.
        watching.audit(&Actor::cli("t"), &entry()).await.unwrap();
        assert_eq!(watching.ledger_seq().await.unwrap(), start + 2);
        assert!(settled(&watching, start + 2).await, "its own write");

        // Not watching (the other instance): always asked.
        assert_eq!(fresh.store.head.get(), None);
        assert_eq!(fresh.store.ledger_seq().await.unwrap(), start + 2);

        watching.close().await;
        assert_eq!(watching.head.get(), None, "closed: no hint");
        fresh.done().await;
    }
}

//! A transaction on either backend. Every write of the store runs in one,
//! and every write appends its ledger entry in the same one (`append`), so
//! a change and its record commit together or not at all.

use crate::db::{Pool, Store};
use crate::ledger::{HashAlgo, NewEntry, entry_hash};
use crate::{Actor, Result};

pub(crate) enum Conn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// An open transaction and the ledger's hash algorithm.
pub(crate) struct Tx {
    pub(crate) conn: Conn,
    algo: HashAlgo,
    /// The sequence number of the ledger entry this transaction appended.
    seq: Option<i64>,
    /// (region, period) whose values this transaction wrote: recorded in
    /// `value_changes` under `seq` at commit, so a kept grid of values can
    /// re-read just those (see `Store::value_changes`).
    touched: std::collections::BTreeSet<(String, String)>,
    last_touch: Option<(String, String)>,
    /// Some value written counts in official scores (approved, not in review).
    official: bool,
    /// This instance's turn to hold the review lock (`Store::begin_locked`).
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
    /// The ledger moved (an append, a restore): other instances are told at
    /// commit, and this one's head hint is read again.
    ledger_moved: bool,
    /// On a PostgreSQL that takes NOTIFY: the instance's head hint, and the
    /// pool to read the head again with.
    head: Option<(std::sync::Arc<crate::watch::HeadHint>, sqlx::PgPool)>,
}

/// Run `$body` with `$c` bound to the transaction's connection
/// (`&mut *$c` is an executor); the body is compiled once per backend.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::tx::Conn::Sqlite($c) => $body,
            $crate::tx::Conn::Pg($c) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Rows per INSERT: well under both backends' parameter limits.
pub(crate) const BATCH: usize = 1000;

/// `($1,$2),($3,$4)` for PostgreSQL; `(?,?),(?,?)` for SQLite, where sqlx
/// looks each `$n` up by name — quadratic in a statement's parameters.
pub(crate) fn placeholders(rows: usize, cols: usize, numbered: bool) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            if numbered {
                s.push('$');
                s.push_str(&(r * cols + c + 1).to_string());
            } else {
                s.push('?');
            }
        }
        s.push(')');
    }
    s
}

/// `$1,$2,…,$n`: an IN list (both backends read `$n`).
pub(crate) fn numbered_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// A new transaction, with the ledger's algorithm read first.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        let algo = self.hash_algo().await?;
        let (conn, head) = match &self.pool {
            Pool::Sqlite(p) => (Conn::Sqlite(p.begin().await?), None),
            Pool::Pg(p) => (
                Conn::Pg(p.begin().await?),
                self.notify.then(|| (self.head.clone(), p.clone())),
            ),
        };
        Ok(Tx {
            conn,
            algo,
            seq: None,
            touched: Default::default(),
            last_touch: None,
            official: false,
            _turn: None,
            ledger_moved: false,
            head,
        })
    }

    /// A transaction holding the review lock (`Tx::lock_sets`). Its
    /// writers wait their turn in the instance first, two at a time, not on
    /// the database's lock with a pooled connection each: with many
    /// writers those would hold every connection while reads wait for one.
    pub(crate) async fn begin_locked(&self) -> Result<Tx> {
        // Never closed, so acquiring cannot fail.
        let turn = self.writers.clone().acquire_owned().await.ok();
        let mut tx = self.begin().await?;
        tx._turn = turn;
        tx.lock_sets().await?;
        Ok(tx)
    }
}

impl Tx {
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.record_changes().await?;
        let moved = self.ledger_moved;
        if moved
            && self.head.is_some()
            && let Conn::Pg(c) = &mut self.conn
        {
            // Delivered at commit, and not at all on a rollback.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(crate::watch::CHANNEL)
                .execute(&mut **c)
                .await?;
        }
        let head = self.head.take();
        match self.conn {
            Conn::Sqlite(t) => t.commit().await?,
            Conn::Pg(t) => t.commit().await?,
        }
        // This instance's own notification may be read before or after the
        // caller answers: read the head now, so its next request sees the write.
        if moved
            && let Some((hint, pool)) = head
            && hint.watching()
        {
            crate::watch::refresh(&pool, &hint).await;
        }
        Ok(())
    }

    /// The ledger was rewritten other than by `append` (a restore).
    pub(crate) fn ledger_moved(&mut self) {
        self.ledger_moved = true;
    }

    /// PostgreSQL numbers its placeholders (`$1`); see `placeholders`.
    pub(crate) fn numbered(&self) -> bool {
        matches!(self.conn, Conn::Pg(_))
    }

    /// Append `entry` to the ledger inside this transaction; returns its
    /// hash. Taking the head row's write lock first serialises appends on
    /// both backends, so several instances keep one chain.
    /// Undo everything (dropping the transaction does too; this says so).
    pub(crate) async fn rollback(self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(t) => t.rollback().await?,
            Conn::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Take the ledger head's write lock now, before reading what the
    /// transaction decides on: every write appends to the ledger, so the
    /// check and the write that follow it cannot interleave with another.
    pub(crate) async fn hold(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub(crate) async fn append(&mut self, actor: &Actor, entry: &NewEntry) -> Result<String> {
        let algo = self.algo;
        on_tx!(self, c => sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let (seq, prev): (i64, String) = on_tx!(self, c => sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        ).fetch_one(&mut **c).await)?;
        let at = crate::now();
        let detail = entry.detail.to_string();
        let action = entry.action.code();
        let hash = entry_hash(
            algo,
            &prev,
            seq,
            &at,
            &actor.user,
            action,
            &entry.object,
            &detail,
            &entry.reason,
            &actor.client,
        );
        on_tx!(self, c => sqlx::query(
            "INSERT INTO audit (id, at, user_name, action, object, detail, reason, client, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(seq).bind(&at).bind(&actor.user).bind(action).bind(&entry.object).bind(&detail)
        .bind(&entry.reason).bind(&actor.client).bind(&prev).bind(&hash)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&hash).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        self.seq = Some(seq);
        self.ledger_moved = true;
        Ok(hash)
    }

    /// Values of `region` and `period` were written in this transaction;
    /// `official` when they count in official scores (approved).
    pub(crate) fn touch(&mut self, region: &str, period: &str, official: bool) {
        self.official |= official;
        // Rows come grouped by region and period: most calls name the pair
        // just recorded and allocate nothing.
        if self
            .last_touch
            .as_ref()
            .is_some_and(|(r, p)| r == region && p == period)
        {
            return;
        }
        let pair = (region.to_string(), period.to_string());
        self.touched.insert(pair.clone());
        self.last_touch = Some(pair);
    }

    /// Write the touched keys under the ledger entry's number. Appends are
    /// serialised by the head's lock, held until commit, so numbers commit
    /// in order: a reader who saw head `h` has every change up to `h`.
    async fn record_changes(&mut self) -> Result<()> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let seq = match self.seq {
            Some(s) => s,
            // Every write appends to the ledger; should one ever not, its
            // changes go under the next number so no reader misses them.
            None => {
                self.hold().await?;
                let (s,): (i64,) = on_tx!(self, c => sqlx::query_as(
                    "SELECT seq + 1 FROM audit_head WHERE id = 1"
                ).fetch_one(&mut **c).await)?;
                s
            }
        };
        let touched: Vec<(String, String)> =
            std::mem::take(&mut self.touched).into_iter().collect();
        let numbered = self.numbered();
        let official = self.official;
        for chunk in touched.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO value_changes (seq, region, period, year, official) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 5, numbered)
            );
            on_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (region, period) in chunk {
                    let year: i32 = period.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
                    q = q.bind(seq).bind(region).bind(period).bind(year).bind(official);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Drop stored scores whose inputs changed: every period from the
    /// earliest changed year on (prev(), nested, reads any number of years
    /// back).
    pub(crate) async fn invalidate_years(&mut self, years: &[i32]) -> Result<()> {
        if let Some(first) = years.iter().min() {
            on_tx!(self, c => sqlx::query("DELETE FROM score_runs WHERE period >= $1")
                .bind(first.to_string()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}

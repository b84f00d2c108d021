//! The audit ledger (seed §3.4 痕迹化管理): every write appends one entry (`tx::Tx::append`),
//! each entry's hash covering its content and the previous hash (SM3 by
//! default, SHA-256 on request), so a changed, removed or reordered entry
//! breaks the chain. Appends take the head row's lock first, so several
//! server instances on one database keep one chain.

use crate::db::{Store, on_pool};
use crate::ledger::{Entry, HashAlgo, Verification, verify_chain};
use crate::tx::on_tx;
use crate::{Actor, NewEntry, Result, StoreError};
use pingan_core::labels::LedgerAction;

/// Filters for `audit list` and the API.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
}

impl Store {
    pub async fn hash_algo(&self) -> Result<HashAlgo> {
        Ok(match self.meta("audit_hash").await? {
            Some(s) => HashAlgo::parse(&s).unwrap_or(HashAlgo::Sm3),
            None => HashAlgo::Sm3,
        })
    }

    /// Fix the ledger's hash algorithm (at `init`); refused once entries exist
    /// under another one.
    pub async fn set_hash_algo(&self, algo: HashAlgo) -> Result<()> {
        let current = self.meta("audit_hash").await?;
        let entries = self.audit_count().await?;
        match current.as_deref().and_then(HashAlgo::parse) {
            Some(c) if c != algo && entries > 0 => Err(StoreError::Invalid(format!(
                "审计日志已使用 {} 算法，不能改为 {}",
                c.name(),
                algo.name()
            ))),
            _ => self.set_meta("audit_hash", algo.name()).await,
        }
    }

    pub async fn audit_count(&self) -> Result<i64> {
        let (n,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM audit").fetch_one(p).await)?;
        Ok(n)
    }

    /// Append one entry in its own transaction.
    pub async fn audit(&self, actor: &Actor, entry: &NewEntry) -> Result<String> {
        let mut tx = self.begin().await?;
        let hash = tx.append(actor, entry).await?;
        tx.commit().await?;
        Ok(hash)
    }

    /// The id of the newest entry of any of `actions` (0 for none): what
    /// data kept in memory is versioned by when only those writes change it
    /// (the region tree by imports of regions, a survey's setup by its
    /// questionnaire, frame and plan), so other writes leave it kept.
    pub async fn last_entry_of(&self, actions: &[LedgerAction]) -> Result<i64> {
        // These writes are rare, so the `audit (action, id)` index finds
        // them at once however long the ledger.
        let list = (1..=actions.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT MAX(id) FROM audit WHERE action IN ({list})");
        let (v,): (Option<i64>,) = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for a in actions {
                q = q.bind(a.code());
            }
            q.fetch_one(p).await
        })?;
        Ok(v.unwrap_or(0))
    }

    /// The newest hash, to be kept outside the database.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?,
        )
    }

    /// The latest entry of `action`, if there is one.
    pub async fn last_audit_entry(&self, action: LedgerAction) -> Result<Option<Entry>> {
        let sql = "SELECT id, at, user_name, action, object, detail, reason, client, prev_hash, hash FROM audit \
                   WHERE action = $1 ORDER BY id DESC LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(action.code())
            .fetch_optional(p)
            .await)?)
    }

    pub async fn audit_entries(&self, f: &Filter, limit: Option<i64>) -> Result<Vec<Entry>> {
        let sql = "SELECT id, at, user_name, action, object, detail, reason, client, prev_hash, hash FROM audit \
                   WHERE ($1 IS NULL OR at >= $1) AND ($2 IS NULL OR at <= $2) \
                   AND ($3 IS NULL OR user_name = $3) AND ($4 IS NULL OR action = $4) \
                   ORDER BY id LIMIT $5";
        let limit = limit.unwrap_or(i64::MAX);
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(&f.from)
            .bind(&f.to)
            .bind(&f.user)
            .bind(&f.action)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// Recompute the chain. With `head`, a hash kept outside the database,
    /// truncation (entries removed from the end, head row rewritten) shows too.
    /// Entries and head are read in one snapshot, so appends running
    /// meanwhile cannot look like a truncation.
    pub async fn audit_verify(&self, head: Option<&str>) -> Result<Verification> {
        let algo = self.hash_algo().await?;
        let mut tx = self.begin().await?;
        if tx.numbered() {
            on_tx!(tx, c => sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        let (entries, seq, head_hash) = tx.read_ledger().await?;
        tx.commit().await?;
        Ok(verify_chain(algo, &entries, seq, &head_hash, head))
    }
}

impl crate::tx::Tx {
    /// Every ledger entry in id order and the head row.
    pub(crate) async fn read_ledger(&mut self) -> Result<(Vec<Entry>, i64, String)> {
        let entries: Vec<Entry> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, at, user_name, action, object, detail, reason, client, prev_hash, hash FROM audit ORDER BY id",
        )
        .fetch_all(&mut **c)
        .await)?;
        let (seq, hash): (i64, String) = on_tx!(self, c => sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        )
        .fetch_one(&mut **c)
        .await)?;
        Ok((entries, seq, hash))
    }
}

//! The audit ledger (seed §3.4 痕迹化管理): every write appends one entry,
//! each entry's hash covering its content and the previous hash (SM3 by
//! default, SHA-256 on request), so a changed, removed or reordered entry
//! breaks the chain. Appends take the head row's lock first, so several
//! server instances on one database keep one chain.

use crate::db::{Store, on_pool};
use crate::{Actor, Result, StoreError};
use serde::Serialize;
use sqlx::Row;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    Sm3,
    Sha256,
}

impl HashAlgo {
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Sm3 => "sm3",
            HashAlgo::Sha256 => "sha256",
        }
    }

    pub fn parse(s: &str) -> Option<HashAlgo> {
        match s {
            "sm3" => Some(HashAlgo::Sm3),
            "sha256" | "sha-256" => Some(HashAlgo::Sha256),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> String {
        match self {
            HashAlgo::Sm3 => {
                use sm3::Digest;
                hex::encode(sm3::Sm3::digest(data))
            }
            HashAlgo::Sha256 => {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(data))
            }
        }
    }
}

/// What a caller records; who and when are added on append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub action: String,
    pub object: String,
    /// before/after, or for bulk imports the row count and content SHA-256.
    pub detail: serde_json::Value,
    pub reason: String,
}

impl NewEntry {
    pub fn new(action: &str, object: &str, detail: serde_json::Value) -> Self {
        NewEntry {
            action: action.to_string(),
            object: object.to_string(),
            detail,
            reason: String::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub user: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub reason: String,
    pub client: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: H(prev_hash ‖ "\n" ‖ JSON array of its fields).
#[allow(clippy::too_many_arguments)]
pub(crate) fn entry_hash(
    algo: HashAlgo,
    prev_hash: &str,
    id: i64,
    at: &str,
    user: &str,
    action: &str,
    object: &str,
    detail: &str,
    reason: &str,
    client: &str,
) -> String {
    let fields = serde_json::to_string(&[
        &id.to_string(),
        at,
        user,
        action,
        object,
        detail,
        reason,
        client,
    ])
    .unwrap_or_default();
    algo.digest(format!("{prev_hash}\n{fields}").as_bytes())
}

/// Append inside an open transaction `$tx` (so the write and its record
/// commit together). Taking the head row's write lock first serialises
/// appends on both backends.
macro_rules! append_in {
    ($tx:expr, $algo:expr, $actor:expr, $entry:expr) => {{
        let tx = &mut $tx;
        sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
            .execute(&mut **tx)
            .await?;
        let (seq, prev): (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
        let at = $crate::now();
        let e: &$crate::audit::NewEntry = $entry;
        let actor: &$crate::Actor = $actor;
        let detail = e.detail.to_string();
        let hash = $crate::audit::entry_hash(
            $algo, &prev, seq, &at, &actor.user, &e.action, &e.object, &detail, &e.reason, &actor.client,
        );
        sqlx::query(
            "INSERT INTO audit (id, at, user_name, action, object, detail, reason, client, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(seq)
        .bind(&at)
        .bind(&actor.user)
        .bind(&e.action)
        .bind(&e.object)
        .bind(&detail)
        .bind(&e.reason)
        .bind(&actor.client)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
        hash
    }};
}
pub(crate) use append_in;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VerifyError {
    /// The first entry found wrong (or the entry after which the chain ends).
    pub id: i64,
    /// `changed`, `removed`, `reordered`, `truncated`.
    pub kind: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub algorithm: &'static str,
    pub entries: usize,
    pub head: String,
    pub ok: bool,
    pub problem: Option<VerifyError>,
}

pub(crate) fn row_entry(r: &impl RowLike) -> Entry {
    r.entry()
}

/// Decoding a ledger row the same way on both backends.
pub(crate) trait RowLike {
    fn entry(&self) -> Entry;
}

macro_rules! impl_row_like {
    ($row:ty) => {
        impl RowLike for $row {
            fn entry(&self) -> Entry {
                Entry {
                    id: self.get("id"),
                    at: self.get("at"),
                    user: self.get("user_name"),
                    action: self.get("action"),
                    object: self.get("object"),
                    detail: self.get("detail"),
                    reason: self.get("reason"),
                    client: self.get("client"),
                    prev_hash: self.get("prev_hash"),
                    hash: self.get("hash"),
                }
            }
        }
    };
}
impl_row_like!(sqlx::sqlite::SqliteRow);
impl_row_like!(sqlx::postgres::PgRow);

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
        let algo = self.hash_algo().await?;
        let hash = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let h = append_in!(tx, algo, actor, entry);
            tx.commit().await?;
            h
        });
        Ok(hash)
    }

    /// The newest hash, to be kept outside the database.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?,
        )
    }

    pub async fn audit_entries(&self, f: &Filter, limit: Option<i64>) -> Result<Vec<Entry>> {
        let sql = "SELECT id, at, user_name, action, object, detail, reason, client, prev_hash, hash FROM audit \
                   WHERE ($1 IS NULL OR at >= $1) AND ($2 IS NULL OR at <= $2) \
                   AND ($3 IS NULL OR user_name = $3) AND ($4 IS NULL OR action = $4) \
                   ORDER BY id LIMIT $5";
        let limit = limit.unwrap_or(i64::MAX);
        let rows = on_pool!(self, p => sqlx::query(sql)
            .bind(&f.from)
            .bind(&f.to)
            .bind(&f.user)
            .bind(&f.action)
            .bind(limit)
            .fetch_all(p)
            .await
            .map(|rows| rows.iter().map(row_entry).collect::<Vec<_>>()))?;
        Ok(rows)
    }

    /// Recompute the chain. With `head`, a hash kept outside the database,
    /// truncation (entries removed from the end, head row rewritten) shows too.
    /// Entries and head are read in one snapshot, so appends running
    /// meanwhile cannot look like a truncation.
    pub async fn audit_verify(&self, head: Option<&str>) -> Result<Verification> {
        let algo = self.hash_algo().await?;
        let pg = self.backend() == crate::Backend::Postgres;
        let (entries, seq, head_hash) = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if pg {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
            }
            let (entries, seq, hash) = read_ledger!(tx);
            tx.commit().await?;
            (entries, seq, hash)
        });
        Ok(verify_chain(algo, &entries, seq, &head_hash, head))
    }
}

/// Every ledger entry in id order and the head row, inside transaction `$tx`.
macro_rules! read_ledger {
    ($tx:expr) => {{
        let rows = sqlx::query(
            "SELECT id, at, user_name, action, object, detail, reason, client, prev_hash, hash FROM audit ORDER BY id",
        )
        .fetch_all(&mut *$tx)
        .await?;
        let entries: Vec<$crate::audit::Entry> = rows.iter().map($crate::audit::row_entry).collect();
        let (seq, hash): (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *$tx)
            .await?;
        (entries, seq, hash)
    }};
}
pub(crate) use read_ledger;

/// Check a ledger read in one snapshot: each entry's hash, gapless ids,
/// links to the previous hash, the head row, and an outside head if given.
pub(crate) fn verify_chain(
    algo: HashAlgo,
    entries: &[Entry],
    seq: i64,
    head_hash: &str,
    head: Option<&str>,
) -> Verification {
    let mut problem = None;
    let mut prev_hash = String::new();
    let mut prev_id = 0i64;
    for e in entries {
        let recomputed = entry_hash(
            algo,
            &e.prev_hash,
            e.id,
            &e.at,
            &e.user,
            &e.action,
            &e.object,
            &e.detail,
            &e.reason,
            &e.client,
        );
        if recomputed != e.hash {
            problem = Some(VerifyError {
                id: e.id,
                kind: "changed",
                message: format!("第 {} 条记录的内容被修改或位置被调换（哈希不符）", e.id),
            });
            break;
        }
        if e.id != prev_id + 1 {
            problem = Some(VerifyError {
                id: prev_id + 1,
                kind: "removed",
                message: format!(
                    "第 {} 条记录被删除（编号从 {} 跳到 {}）",
                    prev_id + 1,
                    prev_id,
                    e.id
                ),
            });
            break;
        }
        if e.prev_hash != prev_hash {
            problem = Some(VerifyError {
                id: e.id,
                kind: "reordered",
                message: format!("第 {} 条记录与前一条不相连（记录被调换或替换）", e.id),
            });
            break;
        }
        prev_hash = e.hash.clone();
        prev_id = e.id;
    }
    if problem.is_none() && (seq != prev_id || head_hash != prev_hash) {
        problem = Some(VerifyError {
            id: prev_id + 1,
            kind: "truncated",
            message: format!("日志头记录为第 {seq} 条，实际只有 {prev_id} 条：末尾记录被删除"),
        });
    }
    if problem.is_none()
        && let Some(h) = head
        && !entries.iter().any(|e| e.hash == h)
    {
        problem = Some(VerifyError {
            id: prev_id + 1,
            kind: "truncated",
            message: format!("保存的日志头 {h} 不在链中：日志被截断或改写（当前共 {prev_id} 条）"),
        });
    }
    Verification {
        algorithm: algo.name(),
        entries: entries.len(),
        head: prev_hash,
        ok: problem.is_none(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_algorithm_specific() {
        let h = |a| {
            entry_hash(
                a,
                "",
                1,
                "2024-01-01T00:00:00.000Z",
                "u",
                "import",
                "values.csv",
                "{}",
                "",
                "cli",
            )
        };
        assert_eq!(h(HashAlgo::Sm3).len(), 64);
        assert_ne!(h(HashAlgo::Sm3), h(HashAlgo::Sha256));
        assert_eq!(h(HashAlgo::Sm3), h(HashAlgo::Sm3));
        // SM3 of "abc" (GB/T 32905 test vector).
        assert_eq!(
            HashAlgo::Sm3.digest(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}

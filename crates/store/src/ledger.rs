//! The audit ledger's entries and hash chain (seed §3.4 痕迹化管理): each
//! entry's hash covers its content and the previous hash (SM3 by default,
//! SHA-256 on request), so a changed, removed or reordered entry breaks the
//! chain. Pure: the tables are `audit`'s, appends are `tx`'s.

use pingan_core::labels::LedgerAction;
use serde::Serialize;

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

    pub(crate) fn digest(self, data: &[u8]) -> String {
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
    pub action: LedgerAction,
    pub object: String,
    /// before/after, or for bulk imports the row count and content SHA-256.
    pub detail: serde_json::Value,
    pub reason: String,
}

impl NewEntry {
    pub fn new(action: LedgerAction, object: &str, detail: serde_json::Value) -> Self {
        NewEntry {
            action,
            object: object.to_string(),
            detail,
            reason: String::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    #[sqlx(rename = "user_name")]
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

//! Callback sampling of mediation cases (回访抽查, issue 8): the mediation
//! register is imported (`pingan import cases`), a seeded share of a
//! region's successful cases is drawn for a telephone callback, each
//! callback's answer is recorded, and the share the parties confirmed is
//! set beside the reported 矛盾纠纷化解成功率 (D3.2.1) as evidence.
//!
//! Only cases recorded as 调解成功 are drawn: a callback asks a party
//! whether a dispute counted as resolved really was, which is what the
//! numerator `disputes_resolved` claims. An unsuccessful case has nothing
//! to confirm.
//!
//! The draw is reproducible by anyone holding the register: each eligible
//! case gets the key SHA-256("{seed}:{case_id}") (lowercase hex), the cases
//! are sorted by key, and the first ⌈rate × eligible⌉ are taken. The order
//! of the file does not matter, and cases imported later do not displace
//! the ones already drawn unless their key sorts before them.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::imports::{BATCH, ImportKind, ImportSummary, placeholders};
use crate::{Actor, Result, StoreError, sha256_hex};
use pingan_core::period::Period;
use pingan_core::region::RegionTree;
use pingan_input::{Outcome, read_cases};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use serde_json::json;

/// The share of a region's successful cases called back unless another is
/// given (the evaluation plan's 30 %).
pub const DEFAULT_CALLBACK_RATE: f64 = 0.30;

/// The indicator the callbacks give evidence on, and its elements.
pub const SUCCESS_INDICATOR: &str = "D3.2.1";

/// Seeds stay below 2^53 so that a browser's JSON numbers carry them exactly.
pub const MAX_SEED: i64 = (1 << 53) - 1;

/// A case from the mediation register.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub case_id: String,
    pub region: String,
    pub date: String,
    pub year: i32,
    /// 纠纷类型.
    #[serde(rename = "type")]
    pub kind: String,
    /// 调解成功, 调解不成功, 调解中 or 终止调解.
    pub outcome: String,
    pub agreement: bool,
    pub fulfilled: bool,
    pub note: String,
    pub import_id: Option<i64>,
    pub imported_by: String,
    pub imported_at: String,
}

/// A party's answer on the telephone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackResult {
    /// 属实: the dispute was resolved as recorded.
    Confirmed,
    /// 不属实: it was not (or not as recorded).
    NotConfirmed,
    /// 未接通: nobody reached; may be called again.
    Unreachable,
}

impl CallbackResult {
    pub const ALL: [CallbackResult; 3] = [
        CallbackResult::Confirmed,
        CallbackResult::NotConfirmed,
        CallbackResult::Unreachable,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CallbackResult::Confirmed => "confirmed",
            CallbackResult::NotConfirmed => "not_confirmed",
            CallbackResult::Unreachable => "unreachable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CallbackResult::Confirmed => "属实",
            CallbackResult::NotConfirmed => "不属实",
            CallbackResult::Unreachable => "未接通",
        }
    }

    /// The code or the Chinese label.
    pub fn parse(s: &str) -> Option<CallbackResult> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s || r.label() == s)
    }
}

/// One drawn case and its callback so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DrawnCase {
    /// Position in the draw (0 first).
    pub ord: i64,
    pub case: Case,
    /// None until called.
    pub result: Option<CallbackResult>,
    pub note: String,
    pub called_by: Option<String>,
    pub called_at: Option<String>,
}

/// A draw for one region and year.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Draw {
    pub id: i64,
    pub region: String,
    pub year: i32,
    pub rate: f64,
    pub seed: i64,
    /// Successful cases in the region's subtree that year, when drawn.
    pub eligible: i64,
    pub drawn_at: String,
    pub drawn_by: String,
    pub items: Vec<DrawnCase>,
}

/// What the callbacks show for a region and year, beside what was reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallbackEvidence {
    pub region: String,
    pub year: i32,
    /// Cases in the register for the region's subtree that year.
    pub cases: usize,
    /// Of them recorded as 调解成功 (the ones that can be drawn).
    pub successful: usize,
    /// successful / cases × 100: the register's own success rate.
    pub register_rate: Option<f64>,
    /// Draws within the region (its own and its subregions').
    pub draws: Vec<i64>,
    /// Distinct cases drawn.
    pub drawn: usize,
    /// Drawn cases with an answer recorded (未接通 included).
    pub called: usize,
    pub confirmed: usize,
    pub not_confirmed: usize,
    pub unreachable: usize,
    /// confirmed / (confirmed + not_confirmed) × 100; 未接通 is no answer.
    pub confirmed_share: Option<f64>,
    /// The 矛盾纠纷化解成功率 of the stored scores (disputes_resolved /
    /// disputes × 100) for the region and year.
    pub reported_rate: Option<f64>,
    /// Why there is no reported rate, when there is none.
    pub reported_note: Option<String>,
}

/// ⌈rate × n⌉, at least one when there is any; the small tolerance keeps
/// 0.3 × 10 at 3 (it is 3.0000000000000004 in floating point).
pub fn sample_size(rate: f64, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let k = (rate * n as f64 - 1e-9).ceil();
    (k.max(1.0) as usize).min(n)
}

/// The draw's order: SHA-256("{seed}:{case_id}"), as hex.
pub fn draw_key(seed: i64, case_id: &str) -> String {
    sha256_hex(format!("{seed}:{case_id}").as_bytes())
}

/// The first ⌈rate × n⌉ of `ids` by key: the whole draw rule.
pub fn choose(ids: &[String], rate: f64, seed: i64) -> Vec<String> {
    let mut keyed: Vec<(String, &String)> = ids.iter().map(|id| (draw_key(seed, id), id)).collect();
    keyed.sort();
    keyed
        .into_iter()
        .take(sample_size(rate, ids.len()))
        .map(|(_, id)| id.clone())
        .collect()
}

pub fn check_rate(rate: f64) -> Result<f64> {
    if rate.is_finite() && rate > 0.0 && rate <= 1.0 {
        Ok(rate)
    } else {
        Err(StoreError::Invalid(format!(
            "抽取比例 {rate} 无效：应大于 0 且不超过 1（如 0.3 表示 30%）"
        )))
    }
}

fn check_seed(seed: i64) -> Result<i64> {
    if (0..=MAX_SEED).contains(&seed) {
        Ok(seed)
    } else {
        Err(StoreError::Invalid(format!(
            "随机种子 {seed} 无效：应为 0 到 {MAX_SEED} 之间的整数"
        )))
    }
}

fn random_seed() -> i64 {
    let mut b = [0u8; 4];
    // The OS random source failing is not something we can recover from.
    getrandom::fill(&mut b).expect("系统随机数不可用");
    i64::from(u32::from_le_bytes(b))
}

/// Codes of `root` and every region below it.
fn subtree(tree: &RegionTree, root: usize) -> FxHashSet<String> {
    (0..tree.len())
        .filter(|&i| tree.is_within(i, root))
        .map(|i| tree.get(i).code.clone())
        .collect()
}

type CaseRowDb = (
    String,
    String,
    String,
    i32,
    String,
    String,
    bool,
    bool,
    String,
    Option<i64>,
    String,
    String,
);

const CASE_COLUMNS: &str = "case_id, region, date, year, kind, outcome, agreement, fulfilled, note, \
     import_id, imported_by, imported_at";

fn case_of(r: CaseRowDb) -> Case {
    Case {
        case_id: r.0,
        region: r.1,
        date: r.2,
        year: r.3,
        kind: r.4,
        outcome: r.5,
        agreement: r.6,
        fulfilled: r.7,
        note: r.8,
        import_id: r.9,
        imported_by: r.10,
        imported_at: r.11,
    }
}

/// What a stored case says, to tell an unchanged row from a changed one.
type Content = (String, String, String, String, bool, bool, String);
/// The same with its case id, as read.
type StoredContent = (String, String, String, String, String, bool, bool, String);

impl Store {
    /// The mediation register: checked whole (every bad row named
    /// `file:line`), then written in one transaction with one ledger entry,
    /// or nothing. Idempotent on the case id: an unchanged row is ignored,
    /// a changed one updated.
    pub async fn import_cases(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let tree = self.region_tree().await?;
        if tree.is_empty() {
            return Err(StoreError::Invalid(
                "数据库中还没有地区：请先导入地区（pingan import regions）".into(),
            ));
        }
        let rows = read_cases(file, bytes, &tree)?;
        let mut s = ImportSummary::new(ImportKind::Cases, file, dry_run, sha256_hex(bytes));
        s.rows = rows.len();
        let stored: Vec<StoredContent> = on_pool!(self, p => sqlx::query_as(
            "SELECT case_id, region, date, kind, outcome, agreement, fulfilled, note FROM cases"
        ).fetch_all(p).await)?;
        let stored: FxHashMap<String, Content> = stored
            .into_iter()
            .map(|r| (r.0, (r.1, r.2, r.3, r.4, r.5, r.6, r.7)))
            .collect();
        // Cases already drawn for a callback are evidence: not rewritten.
        let drawn: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT case_id FROM callbacks"
        ).fetch_all(p).await)?;
        let drawn: rustc_hash::FxHashSet<String> = drawn.into_iter().map(|r| r.0).collect();
        let mut refused: Vec<String> = Vec::new();
        let mut write = Vec::new();
        let mut years = Vec::new();
        for r in rows {
            let content: Content = (
                tree.get(r.region).code.clone(),
                r.date.to_string(),
                r.kind,
                r.outcome.label().to_string(),
                r.agreement,
                r.fulfilled,
                r.note,
            );
            match stored.get(&r.case_id) {
                Some(old) if *old == content => {
                    s.ignored += 1;
                    continue;
                }
                // A case stays in the region that registered it, so an
                // account scoped to one region never rewrites another's.
                Some(old) if old.0 != content.0 => {
                    refused.push(format!(
                        "{file}:{}: 案件 {} 已登记在地区 {}，不能改到地区 {}",
                        r.line, r.case_id, old.0, content.0
                    ));
                    continue;
                }
                Some(_) if drawn.contains(&r.case_id) => {
                    refused.push(format!(
                        "{file}:{}: 案件 {} 已被抽取回访，不能再修改",
                        r.line, r.case_id
                    ));
                    continue;
                }
                Some(_) => s.updated += 1,
                None => s.imported += 1,
            }
            years.push(r.date.year);
            write.push((r.case_id, r.date.year, content));
        }
        if !refused.is_empty() {
            let n = refused.len();
            refused.truncate(20);
            return Err(StoreError::Conflict(format!(
                "{}\n未写入任何数据（共 {n} 个案件不能修改）",
                refused.join("\n")
            )));
        }
        years.sort();
        years.dedup();
        if dry_run || write.is_empty() {
            return Ok(s);
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let numbered = self.backend() == crate::Backend::Postgres;
        let import_id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (import_id,): (i64,) = sqlx::query_as(
                "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind("cases").bind(file).bind(&s.sha256).bind(s.rows as i64).bind(s.imported as i64)
            .bind(s.updated as i64).bind(s.ignored as i64).bind(&actor.user).bind(&actor.client).bind(&at)
            .fetch_one(&mut *tx).await?;
            for chunk in write.chunks(BATCH) {
                let sql = format!(
                    "INSERT INTO cases ({CASE_COLUMNS}) VALUES {} ON CONFLICT (case_id) DO UPDATE SET \
                     region = excluded.region, date = excluded.date, year = excluded.year, kind = excluded.kind, \
                     outcome = excluded.outcome, agreement = excluded.agreement, fulfilled = excluded.fulfilled, \
                     note = excluded.note, import_id = excluded.import_id, imported_by = excluded.imported_by, \
                     imported_at = excluded.imported_at",
                    placeholders(chunk.len(), 12, numbered)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, year, c) in chunk {
                    q = q.bind(id).bind(&c.0).bind(&c.1).bind(*year).bind(&c.2).bind(&c.3).bind(c.4)
                        .bind(c.5).bind(&c.6).bind(import_id).bind(&actor.user).bind(&at);
                }
                q.execute(&mut *tx).await?;
            }
            s.import_id = Some(import_id);
            let mut detail = s.detail();
            detail["years"] = json!(years);
            let entry = NewEntry::new("import_cases", &format!("cases:{file}"), detail);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            import_id
        });
        s.import_id = Some(import_id);
        Ok(s)
    }

    /// Cases of `year` in the subtree of `region` (everything when None),
    /// by region and date.
    pub async fn cases(&self, region: Option<&str>, year: Option<i32>) -> Result<Vec<Case>> {
        let keep = match region {
            Some(code) => {
                let tree = self.region_tree().await?;
                let root = tree
                    .find(code)
                    .ok_or_else(|| StoreError::NotFound(format!("地区 {code} 不存在")))?;
                Some(subtree(&tree, root))
            }
            None => None,
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 IS NULL OR year = $1) ORDER BY region, date, case_id"
        );
        let rows: Vec<CaseRowDb> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(year).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .filter(|r| keep.as_ref().is_none_or(|k| k.contains(&r.1)))
            .map(case_of)
            .collect())
    }

    /// Draw ⌈rate × n⌉ of the n successful cases of `year` under `region`
    /// for a callback (see the module notes for the rule). One draw per
    /// region and year: asking again with the same (or no) rate and seed
    /// returns the draw already made, with `false`; other parameters are a
    /// conflict, so nobody can redraw until the sample looks good.
    pub async fn draw_callbacks(
        &self,
        region: &str,
        year: i32,
        rate: Option<f64>,
        seed: Option<i64>,
        actor: &Actor,
    ) -> Result<(Draw, bool)> {
        let rate = check_rate(rate.unwrap_or(DEFAULT_CALLBACK_RATE))?;
        if let Some(s) = seed {
            check_seed(s)?;
        }
        let tree = self.region_tree().await?;
        let root = tree
            .find(region)
            .ok_or_else(|| StoreError::NotFound(format!("地区 {region} 不存在")))?;
        if let Some(d) = self.draw_for(region, year).await? {
            let same_seed = seed.is_none_or(|s| s == d.seed);
            if same_seed && (rate - d.rate).abs() < 1e-12 {
                return Ok((d, false));
            }
            return Err(StoreError::Conflict(format!(
                "{region} {year} 年已抽取过（第 {} 号，比例 {}，种子 {}）：同一地区、年度只能抽取一次",
                d.id, d.rate, d.seed
            )));
        }
        let seed = seed.unwrap_or_else(random_seed);
        let keep = subtree(&tree, root);
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT case_id, region FROM cases WHERE year = $1 AND outcome = $2"
        ).bind(year).bind(Outcome::Success.label()).fetch_all(p).await)?;
        let ids: Vec<String> = rows
            .into_iter()
            .filter(|r| keep.contains(&r.1))
            .map(|r| r.0)
            .collect();
        if ids.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{} {year} 年没有“调解成功”的案件可供抽取：请先导入调解案件（pingan import cases）",
                tree.get(root).name
            )));
        }
        let chosen = choose(&ids, rate, seed);
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let entry = NewEntry::new(
            "callback_draw",
            &format!("callbacks:{region}@{year}"),
            json!({"region": region, "year": year, "rate": rate, "seed": seed,
                   "eligible": ids.len(), "drawn": chosen.len(), "cases": chosen}),
        );
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // A concurrent draw of the same region and year finds the
            // unique key taken: 409, and nothing of this one is kept.
            let won: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO callback_draws (region, year, rate, seed, eligible, drawn_at, drawn_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region, year) DO NOTHING RETURNING id"
            )
            .bind(region).bind(year).bind(rate).bind(seed).bind(ids.len() as i64).bind(&at).bind(&actor.user)
            .fetch_optional(&mut *tx).await?;
            // Another request drew this region and year a moment ago.
            let Some((id,)) = won else {
                return Err(StoreError::Conflict(
                    "该地区本年度刚刚已完成抽取，请刷新后查看".into(),
                ));
            };
            for (ord, case_id) in chosen.iter().enumerate() {
                sqlx::query("INSERT INTO callbacks (draw_id, case_id, ord) VALUES ($1, $2, $3)")
                    .bind(id).bind(case_id).bind(ord as i64).execute(&mut *tx).await?;
            }
            let mut entry = entry;
            entry.detail["draw"] = json!(id);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            id
        });
        let d = self
            .draw(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("抽取 {id} 不存在")))?;
        Ok((d, true))
    }

    async fn draw_for(&self, region: &str, year: i32) -> Result<Option<Draw>> {
        let id: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM callback_draws WHERE region = $1 AND year = $2"
        ).bind(region).bind(year).fetch_optional(p).await)?;
        match id {
            Some((id,)) => self.draw(id).await,
            None => Ok(None),
        }
    }

    /// A draw with its cases in drawn order.
    pub async fn draw(&self, id: i64) -> Result<Option<Draw>> {
        type Head = (i64, String, i32, f64, i64, i64, String, String);
        let head: Option<Head> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, region, year, rate, seed, eligible, drawn_at, drawn_by FROM callback_draws WHERE id = $1"
        ).bind(id).fetch_optional(p).await)?;
        let Some(h) = head else { return Ok(None) };
        type Item = (i64, Option<String>, String, Option<String>, Option<String>);
        let sql = format!(
            "SELECT cb.ord, cb.result, cb.note, cb.called_by, cb.called_at, {} \
             FROM callbacks cb JOIN cases c ON c.case_id = cb.case_id WHERE cb.draw_id = $1 ORDER BY cb.ord",
            CASE_COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<(Item, CaseRowDb)> = on_pool!(self, p => {
            use sqlx::Row;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_all(p).await?;
            rows.iter().map(|r| -> std::result::Result<_, sqlx::Error> {
                Ok((
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?),
                    (r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?, r.try_get(10)?,
                     r.try_get(11)?, r.try_get(12)?, r.try_get(13)?, r.try_get(14)?, r.try_get(15)?, r.try_get(16)?),
                ))
            }).collect::<std::result::Result<Vec<_>, _>>()
        })?;
        Ok(Some(Draw {
            id: h.0,
            region: h.1,
            year: h.2,
            rate: h.3,
            seed: h.4,
            eligible: h.5,
            drawn_at: h.6,
            drawn_by: h.7,
            items: rows
                .into_iter()
                .map(|(i, c)| DrawnCase {
                    ord: i.0,
                    case: case_of(c),
                    result: i.1.as_deref().and_then(CallbackResult::parse),
                    note: i.2,
                    called_by: i.3,
                    called_at: i.4,
                })
                .collect(),
        }))
    }

    /// Every draw (without its cases), newest first; `year` filters.
    pub async fn draws(&self, year: Option<i32>) -> Result<Vec<Draw>> {
        type Head = (i64, String, i32, f64, i64, i64, String, String);
        let rows: Vec<Head> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, region, year, rate, seed, eligible, drawn_at, drawn_by FROM callback_draws \
             WHERE ($1 IS NULL OR year = $1) ORDER BY id DESC"
        ).bind(year).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|h| Draw {
                id: h.0,
                region: h.1,
                year: h.2,
                rate: h.3,
                seed: h.4,
                eligible: h.5,
                drawn_at: h.6,
                drawn_by: h.7,
                items: Vec::new(),
            })
            .collect())
    }

    /// Record (or correct) the answer of one drawn case. 不属实 needs a
    /// note saying what the party said; the earlier answer, if any, stays in
    /// the ledger.
    pub async fn record_callback(
        &self,
        draw_id: i64,
        case_id: &str,
        result: CallbackResult,
        note: &str,
        actor: &Actor,
    ) -> Result<DrawnCase> {
        let note = note.trim();
        if result == CallbackResult::NotConfirmed && note.is_empty() {
            return Err(StoreError::Invalid(
                "回访结果为“不属实”时请填写说明（当事人反映的情况）".into(),
            ));
        }
        if note.chars().count() > 1000 {
            return Err(StoreError::Invalid("说明不能超过 1000 个字符".into()));
        }
        let before: Option<(Option<String>, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT result, note FROM callbacks WHERE draw_id = $1 AND case_id = $2"
        ).bind(draw_id).bind(case_id).fetch_optional(p).await)?;
        let Some(before) = before else {
            return Err(StoreError::NotFound(format!(
                "案件 {case_id} 不在第 {draw_id} 号抽取中"
            )));
        };
        let algo = self.hash_algo().await?;
        let at = crate::now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE callbacks SET result = $1, note = $2, called_by = $3, called_at = $4 \
                 WHERE draw_id = $5 AND case_id = $6"
            )
            .bind(result.code()).bind(note).bind(&actor.user).bind(&at).bind(draw_id).bind(case_id)
            .execute(&mut *tx).await?;
            let mut entry = NewEntry::new(
                "callback_record",
                &format!("callback:{draw_id}/{case_id}"),
                json!({"draw": draw_id, "case": case_id,
                       "before": {"result": before.0, "note": before.1},
                       "after": {"result": result.code(), "note": note}}),
            );
            entry.reason = note.to_string();
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        let d = self
            .draw(draw_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("抽取 {draw_id} 不存在")))?;
        d.items
            .into_iter()
            .find(|i| i.case.case_id == case_id)
            .ok_or_else(|| StoreError::NotFound(format!("案件 {case_id} 不存在")))
    }

    /// The callbacks of every draw within `region` for `year` (a case drawn
    /// twice, by a city's and a county's draw, counts once with its latest
    /// answer), the register's counts, and the reported success rate from
    /// the stored scores (computed now if missing, as a scores read is).
    pub async fn callback_evidence(
        &self,
        region: &str,
        year: i32,
        actor: &Actor,
    ) -> Result<CallbackEvidence> {
        let tree = self.region_tree().await?;
        let root = tree
            .find(region)
            .ok_or_else(|| StoreError::NotFound(format!("地区 {region} 不存在")))?;
        let keep = subtree(&tree, root);
        let counts: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT region, outcome FROM cases WHERE year = $1"
        ).bind(year).fetch_all(p).await)?;
        let in_scope: Vec<&(String, String)> =
            counts.iter().filter(|r| keep.contains(&r.0)).collect();
        let cases = in_scope.len();
        let successful = in_scope
            .iter()
            .filter(|r| r.1 == Outcome::Success.label())
            .count();
        type Row = (i64, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT d.id, d.region, cb.case_id, cb.result, cb.called_at \
             FROM callback_draws d JOIN callbacks cb ON cb.draw_id = d.id WHERE d.year = $1 ORDER BY d.id"
        ).bind(year).fetch_all(p).await)?;
        let mut draws: Vec<i64> = Vec::new();
        let mut latest: FxHashMap<String, (Option<String>, Option<CallbackResult>)> =
            FxHashMap::default();
        for (id, r, case_id, result, called_at) in rows {
            if !keep.contains(&r) {
                continue;
            }
            if draws.last() != Some(&id) {
                draws.push(id);
            }
            let result = result.as_deref().and_then(CallbackResult::parse);
            let e = latest.entry(case_id).or_insert((None, None));
            if result.is_some() && called_at > e.0 {
                *e = (called_at, result);
            }
        }
        let count = |want: CallbackResult| latest.values().filter(|v| v.1 == Some(want)).count();
        let confirmed = count(CallbackResult::Confirmed);
        let not_confirmed = count(CallbackResult::NotConfirmed);
        let unreachable = count(CallbackResult::Unreachable);
        let pct = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64 * 100.0);
        let (reported_rate, reported_note) =
            match self.region_score(Period::Year(year), region, actor).await {
                Ok(Some(r)) => match r.indicators.iter().find(|i| i.code == SUCCESS_INDICATOR) {
                    Some(i) if i.value.is_some() => (i.value, None),
                    Some(_) => (
                        None,
                        Some(format!("{year} 年 {SUCCESS_INDICATOR} 缺少数据")),
                    ),
                    None => (
                        None,
                        Some(format!("{year} 年的指标体系中没有 {SUCCESS_INDICATOR}")),
                    ),
                },
                Ok(None) => (None, Some(format!("{year} 年没有该地区的得分"))),
                Err(e) => (None, Some(format!("{year} 年暂未计分：{e}"))),
            };
        Ok(CallbackEvidence {
            region: region.to_string(),
            year,
            cases,
            successful,
            register_rate: pct(successful, cases),
            draws,
            drawn: latest.len(),
            called: confirmed + not_confirmed + unreachable,
            confirmed,
            not_confirmed,
            unreachable,
            confirmed_share: pct(confirmed, confirmed + not_confirmed),
            reported_rate,
            reported_note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_sizes_round_up() {
        assert_eq!(sample_size(0.3, 10), 3);
        assert_eq!(sample_size(0.3, 11), 4);
        assert_eq!(sample_size(0.3, 1), 1);
        assert_eq!(sample_size(0.01, 5), 1);
        assert_eq!(sample_size(1.0, 7), 7);
        assert_eq!(sample_size(0.3, 0), 0);
    }

    #[test]
    fn the_draw_depends_on_the_seed_not_the_order() {
        let ids: Vec<String> = (0..40).map(|i| format!("C{i:03}")).collect();
        let mut reversed = ids.clone();
        reversed.reverse();
        let a = choose(&ids, 0.3, 7);
        assert_eq!(a.len(), 12);
        assert_eq!(a, choose(&reversed, 0.3, 7));
        assert_ne!(a, choose(&ids, 0.3, 8));
        // A larger rate keeps the smaller draw as its prefix.
        assert_eq!(choose(&ids, 0.5, 7)[..12], a[..]);
        assert_eq!(
            draw_key(7, "C000"),
            sha256_hex(b"7:C000"),
            "the key anyone can recompute"
        );
    }

    #[test]
    fn results_read_codes_and_labels() {
        assert_eq!(
            CallbackResult::parse("属实"),
            Some(CallbackResult::Confirmed)
        );
        assert_eq!(
            CallbackResult::parse("not_confirmed"),
            Some(CallbackResult::NotConfirmed)
        );
        assert_eq!(CallbackResult::parse("maybe"), None);
        assert!(
            check_rate(0.0).is_err() && check_rate(1.5).is_err() && check_rate(f64::NAN).is_err()
        );
        assert!(check_seed(-1).is_err() && check_seed(MAX_SEED + 1).is_err());
    }
}

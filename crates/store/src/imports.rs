//! `pingan import framework|regions|values|benchmarks`: the same formats and
//! errors as `pingan score`, checked whole first, then written in one
//! transaction with one ledger entry (row count and content SHA-256).
//! Re-importing the same file changes nothing.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::review::SetKey;
use crate::scores::invalidate_years_in;
use crate::{Actor, Result, StoreError, sha256_hex};
use pingan_core::framework::check;
use pingan_core::period::Period;
use pingan_core::region::RegionTree;
use pingan_core::review::State;
use pingan_input::{
    InputError, InputErrors, decode, for_each_value, read_benchmark_rows, read_regions,
};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Framework,
    Regions,
    Values,
    Benchmarks,
    Cases,
}

impl ImportKind {
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Framework => "指标体系",
            ImportKind::Regions => "地区",
            ImportKind::Values => "数据",
            ImportKind::Benchmarks => "基准值",
            ImportKind::Cases => "调解案件",
        }
    }
}

/// What an import did or (dry run) would do, DHIS2-style.
#[derive(Clone, Debug, Serialize)]
pub struct ImportSummary {
    pub kind: ImportKind,
    pub file: String,
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub updated: usize,
    pub ignored: usize,
    pub sha256: String,
    pub import_id: Option<i64>,
    /// Periods whose stored scores were recomputed afterwards.
    pub rescored: Vec<String>,
    /// Values: `approved` (counted at once) or `pending` (in review).
    pub review: &'static str,
    /// Values: the data sets (department × region × period) changed.
    pub data_sets: usize,
    pub notes: Vec<String>,
}

impl ImportSummary {
    pub(crate) fn new(kind: ImportKind, file: &str, dry_run: bool, sha256: String) -> Self {
        ImportSummary {
            kind,
            file: file.to_string(),
            dry_run,
            rows: 0,
            imported: 0,
            updated: 0,
            ignored: 0,
            sha256,
            import_id: None,
            rescored: Vec::new(),
            review: "approved",
            data_sets: 0,
            notes: Vec::new(),
        }
    }

    pub(crate) fn detail(&self) -> serde_json::Value {
        json!({"file": self.file, "sha256": self.sha256, "rows": self.rows, "imported": self.imported,
               "updated": self.updated, "ignored": self.ignored, "import_id": self.import_id})
    }
}

/// Rows per INSERT: well under both backends' parameter limits.
pub(crate) const BATCH: usize = 1000;

/// A test hook: stop after this many batches, mid-transaction, so a test
/// can kill the process there and check nothing was kept.
fn pause_after() -> Option<usize> {
    std::env::var("PINGAN_TEST_PAUSE_AFTER_BATCHES")
        .ok()?
        .parse()
        .ok()
}

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

/// How values enter: the office's direct import counts at once; a
/// department's submission waits for the three-level review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intake {
    Direct,
    Pending,
}

impl Intake {
    pub fn review(self) -> &'static str {
        match self {
            Intake::Direct => "approved",
            Intake::Pending => "pending",
        }
    }
}

/// The data sets (department, region, period) that `records` change.
fn touched_sets(records: &[ValueRecord], fw: &pingan_core::Framework) -> Vec<SetKey> {
    let mut sets: Vec<SetKey> = records
        .iter()
        .map(|r| SetKey::of(fw, &r.region, &r.period, &r.element))
        .collect();
    sets.sort();
    sets.dedup();
    sets
}

/// An approved set is locked: refuse the whole import, naming the sets.
/// The office's direct import may not slip approved values into a set that
/// is moving through the review either: it would count before the levels
/// saw it.
fn refuse_locked(
    sets: &[SetKey],
    states: &FxHashMap<SetKey, State>,
    tree: &RegionTree,
    intake: Intake,
) -> Result<()> {
    let name = |v: &[&SetKey]| {
        let named: Vec<String> = v.iter().take(5).map(|k| k.describe(tree)).collect();
        format!(
            "{}{}",
            named.join("；"),
            if v.len() > 5 {
                format!(" 等 {} 个数据集", v.len())
            } else {
                String::new()
            }
        )
    };
    let locked: Vec<&SetKey> = sets
        .iter()
        .filter(|k| states.get(*k) == Some(&State::Approved))
        .collect();
    if !locked.is_empty() {
        return Err(StoreError::Conflict(format!(
            "数据已审核锁定，未写入任何数据：{}。如需修改，请测评办管理员先解锁（注明原因）",
            name(&locked)
        )));
    }
    if intake == Intake::Direct {
        let moving: Vec<&SetKey> = sets
            .iter()
            .filter(|k| states.get(*k).is_some_and(|s| s.in_review()))
            .collect();
        if !moving.is_empty() {
            return Err(StoreError::Conflict(format!(
                "数据集正在三级审核中，不能直接导入，未写入任何数据：{}。请改为提交审核（--review 或勾选“提交三级审核”），或待审核结束",
                name(&moving)
            )));
        }
    }
    Ok(())
}

/// One values row ready to store.
struct ValueRecord {
    region: String,
    period: String,
    year: i32,
    element: String,
    source: String,
    value: f64,
    note: String,
}

impl Store {
    /// A framework version, from its `year` (or `year` given) on.
    pub async fn import_framework(
        &self,
        file: &str,
        bytes: &[u8],
        year: Option<i32>,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let text = decode(bytes).into_owned();
        let report = check(&text);
        let Some(fw) = report.framework else {
            return Err(StoreError::Input(InputErrors(
                report
                    .errors
                    .iter()
                    .map(|e| InputError {
                        file: file.to_string(),
                        line: e.line,
                        message: e.message.clone(),
                    })
                    .collect(),
            )));
        };
        let year_from = year.or(fw.year).ok_or_else(|| {
            StoreError::Invalid(format!(
                "{file}: 指标体系缺少 year（适用的起始年度），请在文件中写明或用 --year 指定"
            ))
        })?;
        let sha = sha256_hex(text.as_bytes());
        let mut s = ImportSummary::new(ImportKind::Framework, file, dry_run, sha.clone());
        s.rows = 1;
        let latest: Option<(i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, sha256 FROM frameworks WHERE year_from = $1 ORDER BY id DESC LIMIT 1"
        ).bind(year_from).fetch_optional(p).await)?;
        if latest.as_ref().is_some_and(|l| l.1 == sha) {
            s.ignored = 1;
            return Ok(s);
        }
        if latest.is_some() {
            s.updated = 1;
        } else {
            s.imported = 1;
        }
        if dry_run {
            return Ok(s);
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let previous = latest.map(|l| l.1);
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO frameworks (code, name, year_from, source, sha256, imported_at, imported_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&fw.code).bind(&fw.name).bind(year_from).bind(&text).bind(&sha).bind(&at).bind(&actor.user)
            .fetch_one(&mut *tx).await?;
            for e in &fw.elements {
                sqlx::query("INSERT INTO elements (framework_id, code, name, unit, department) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(&e.code).bind(&e.name).bind(&e.unit).bind(&e.department)
                    .execute(&mut *tx).await?;
                if !e.department.is_empty() {
                    sqlx::query("INSERT INTO departments (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                        .bind(&e.department).execute(&mut *tx).await?;
                }
            }
            // Every period from this year on is now scored with this version.
            sqlx::query("DELETE FROM score_runs WHERE period >= $1")
                .bind(year_from.to_string()).execute(&mut *tx).await?;
            s.import_id = Some(id);
            let mut detail = s.detail();
            detail["framework"] = json!(fw.code);
            detail["year_from"] = json!(year_from);
            detail["previous_sha256"] = json!(previous);
            let entry = NewEntry::new("import_framework", &format!("framework:{}@{year_from}", fw.code), detail);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            id
        });
        s.import_id = Some(id);
        Ok(s)
    }

    /// Regions: upserted by code; regions absent from the file stay (history).
    pub async fn import_regions(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let tree = read_regions(file, bytes)?;
        let mut s = ImportSummary::new(ImportKind::Regions, file, dry_run, sha256_hex(bytes));
        type Row = (
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            i64,
        );
        let existing: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT code, name, parent, level, valid_from, valid_to, ord FROM regions"
        ).fetch_all(p).await)?;
        let existing: FxHashMap<String, Row> =
            existing.into_iter().map(|r| (r.0.clone(), r)).collect();
        let mut write: Vec<Row> = Vec::new();
        for (i, r) in tree.regions().iter().enumerate() {
            let row: Row = (
                r.code.clone(),
                r.name.clone(),
                r.parent.map(|p| tree.get(p).code.clone()),
                r.level.code().to_string(),
                r.valid_from.map(|d| d.to_string()),
                r.valid_to.map(|d| d.to_string()),
                i as i64,
            );
            s.rows += 1;
            match existing.get(&r.code) {
                None => {
                    s.imported += 1;
                    write.push(row);
                }
                Some(old) if *old != row => {
                    s.updated += 1;
                    write.push(row);
                }
                Some(_) => s.ignored += 1,
            }
        }
        // The stored tree with this file applied must still be a tree.
        let mut merged: Vec<pingan_core::region::RegionRow> = tree
            .regions()
            .iter()
            .map(|r| pingan_core::region::RegionRow {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.map(|p| tree.get(p).code.clone()),
                level: r.level,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
            })
            .collect();
        for (code, (_, name, parent, level, from, to, _)) in &existing {
            if tree.find(code).is_none() {
                merged.push(crate::scores::region_row(
                    code.clone(),
                    name.clone(),
                    parent.clone(),
                    level,
                    from.clone(),
                    to.clone(),
                ));
            }
        }
        if let Err(e) = RegionTree::new(merged) {
            return Err(StoreError::Invalid(format!(
                "{file}: 与数据库中已有地区合并后：{}",
                e.message
            )));
        }
        if dry_run || write.is_empty() {
            return Ok(s);
        }
        let algo = self.hash_algo().await?;
        let numbered = self.backend() == crate::Backend::Postgres;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in write.chunks(BATCH) {
                let sql = format!(
                    "INSERT INTO regions (code, name, parent, level, valid_from, valid_to, ord) VALUES {} \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent, \
                     level = excluded.level, valid_from = excluded.valid_from, valid_to = excluded.valid_to, ord = excluded.ord",
                    placeholders(chunk.len(), 7, numbered)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(&r.0).bind(&r.1).bind(&r.2).bind(&r.3).bind(&r.4).bind(&r.5).bind(r.6);
                }
                q.execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM score_runs").execute(&mut *tx).await?;
            let entry = NewEntry::new("import_regions", &format!("regions:{file}"), s.detail());
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(s)
    }

    /// Values with provenance; idempotent on (region, period, element, source).
    /// Approved on import: the office's own data entry.
    pub async fn import_values(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        self.import_values_as(file, bytes, dry_run, Intake::Direct, actor)
            .await
    }

    /// Values through a channel: `Intake::Pending` stores them for the
    /// three-level review (they count in official scores once approved).
    /// Either way a value in an approved, locked data set is never changed.
    pub async fn import_values_as(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        intake: Intake,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let fw = self.known_codes().await?;
        let tree = self.region_tree().await?;
        if tree.is_empty() {
            return Err(StoreError::Invalid(
                "数据库中还没有地区：请先导入地区（pingan import regions）".into(),
            ));
        }
        let mut s = ImportSummary::new(ImportKind::Values, file, dry_run, sha256_hex(bytes));
        // Rows keyed by (region, period, element, source id).
        let mut sources: FxHashMap<String, u32> = FxHashMap::default();
        let mut first_line: FxHashMap<(usize, Period, usize, u32), usize> = FxHashMap::default();
        let mut parsed: Vec<(usize, Period, usize, u32, f64, String)> = Vec::new();
        for_each_value(file, bytes, &fw, &tree, |row| {
            let n = sources.len() as u32;
            let src = *sources.entry(row.source.to_string()).or_insert(n);
            if let Some(first) =
                first_line.insert((row.region, row.period, row.element, src), row.line)
            {
                return Err(format!(
                    "与第 {first} 行重复（同一地区、期间、数据项、来源只能有一个值）"
                ));
            }
            parsed.push((
                row.region,
                row.period,
                row.element,
                src,
                row.value,
                row.note.to_string(),
            ));
            Ok(())
        })?;
        drop(first_line);
        s.rows = parsed.len();
        let mut years: Vec<i32> = parsed.iter().map(|r| r.1.year()).collect();
        years.sort();
        years.dedup();

        // What is already stored for these years, to tell new from changed:
        // a submission compares with the key's pending row where there is
        // one (else the approved one), a direct import with the approved row.
        let mut existing: FxHashMap<(usize, Period, usize, u32), (f64, String)> =
            FxHashMap::default();
        for &y in &years {
            let rows: Vec<(String, String, String, String, f64, String, String)> = on_pool!(self, p => sqlx::query_as(
                "SELECT region, period, element, source, value, note, review FROM data_values WHERE year = $1"
            ).bind(y).fetch_all(p).await)?;
            for (region, per, element, source, value, note, review) in rows {
                let pending = review == "pending";
                if pending && intake == Intake::Direct {
                    continue;
                }
                let (Some(r), Ok(per), Some(e), Some(&src)) = (
                    tree.find(&region),
                    per.parse::<Period>(),
                    fw.element_index(&element),
                    sources.get(&source),
                ) else {
                    continue;
                };
                let key = (r, per, e, src);
                if pending || !existing.contains_key(&key) {
                    existing.insert(key, (value, note));
                }
            }
        }
        let source_names: Vec<String> = {
            let mut v = vec![String::new(); sources.len()];
            for (name, id) in &sources {
                v[*id as usize] = name.clone();
            }
            v
        };
        let mut records = Vec::new();
        for (r, per, e, src, value, note) in parsed {
            match existing.get(&(r, per, e, src)) {
                Some((old, old_note)) if *old == value && *old_note == note => {
                    s.ignored += 1;
                    continue;
                }
                Some(_) => s.updated += 1,
                None => s.imported += 1,
            }
            records.push(ValueRecord {
                region: tree.get(r).code.clone(),
                period: per.to_string(),
                year: per.year(),
                element: fw.elements[e].code.clone(),
                source: source_names[src as usize].clone(),
                value,
                note,
            });
        }
        drop(existing);
        let sets = touched_sets(&records, &fw);
        let states = self.set_states(&years).await?;
        refuse_locked(&sets, &states, &tree, intake)?;
        s.review = intake.review();
        s.data_sets = sets.len();
        if dry_run || records.is_empty() {
            return Ok(s);
        }
        let review = intake.review();
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let pause = pause_after();
        let numbered = self.backend() == crate::Backend::Postgres;
        let import_id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            crate::review::lock_sets_in!(tx, numbered);
            let (import_id,): (i64,) = sqlx::query_as(
                "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind("values").bind(file).bind(&s.sha256).bind(s.rows as i64).bind(s.imported as i64)
            .bind(s.updated as i64).bind(s.ignored as i64).bind(&actor.user).bind(&actor.client).bind(&at)
            .fetch_one(&mut *tx).await?;
            // Checked again now that no review step can run alongside: a set
            // approved since the check above is locked for this import too.
            let states = crate::review::set_states_in!(tx, &years);
            refuse_locked(&sets, &states, &tree, intake)?;
            for (n, chunk) in records.chunks(BATCH).enumerate() {
                if pause == Some(n) {
                    eprintln!("PINGAN_TEST_PAUSED");
                    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                }
                let sql = format!(
                    "INSERT INTO data_values (region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review) \
                     VALUES {} ON CONFLICT (region, period, element, source, review) DO UPDATE SET value = excluded.value, \
                     note = excluded.note, year = excluded.year, submitted_by = excluded.submitted_by, \
                     submitted_at = excluded.submitted_at, import_id = excluded.import_id",
                    placeholders(chunk.len(), 11, numbered)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(&r.region).bind(&r.period).bind(r.year).bind(&r.element).bind(&r.source)
                        .bind(r.value).bind(&r.note).bind(&actor.user).bind(&at).bind(import_id).bind(review);
                }
                q.execute(&mut *tx).await?;
            }
            if intake == Intake::Pending {
                crate::review::submit_sets_in!(tx, &sets, &states, &actor.user, &at, numbered);
            }
            if intake == Intake::Direct {
                invalidate_years_in!(tx, &years);
            }
            s.import_id = Some(import_id);
            let mut detail = s.detail();
            detail["years"] = json!(years);
            detail["review"] = json!(review);
            detail["data_sets"] = json!(sets.len());
            let entry = NewEntry::new("import_values", &format!("values:{file}"), detail);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            import_id
        });
        s.import_id = Some(import_id);
        // Pending values do not count yet, so official scores are unchanged.
        if intake == Intake::Direct {
            self.rescore(&years, actor, &mut s).await;
        }
        Ok(s)
    }

    /// Benchmarks by (code, period).
    pub async fn import_benchmarks(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let fw = self.known_codes().await?;
        let rows = read_benchmark_rows(file, bytes, &fw)?;
        let mut s = ImportSummary::new(ImportKind::Benchmarks, file, dry_run, sha256_hex(bytes));
        let existing: Vec<(String, String, f64)> = on_pool!(self, p => sqlx::query_as("SELECT code, period, value FROM benchmarks").fetch_all(p).await)?;
        let existing: FxHashMap<(String, String), f64> =
            existing.into_iter().map(|(c, p, v)| ((c, p), v)).collect();
        let mut write = Vec::new();
        let mut years = Vec::new();
        for r in rows {
            s.rows += 1;
            let key = (
                fw.benchmarks[r.benchmark].code.clone(),
                r.period.to_string(),
            );
            match existing.get(&key) {
                Some(v) if *v == r.value => {
                    s.ignored += 1;
                    continue;
                }
                Some(_) => s.updated += 1,
                None => s.imported += 1,
            }
            years.push(r.period.year());
            write.push((key.0, key.1, r.period.year(), r.value));
        }
        years.sort();
        years.dedup();
        if dry_run || write.is_empty() {
            return Ok(s);
        }
        let algo = self.hash_algo().await?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (code, period, year, value) in &write {
                sqlx::query(
                    "INSERT INTO benchmarks (code, period, year, value) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code, period) DO UPDATE SET value = excluded.value, year = excluded.year",
                )
                .bind(code).bind(period).bind(year).bind(value).execute(&mut *tx).await?;
            }
            invalidate_years_in!(tx, &years);
            let entry = NewEntry::new("import_benchmarks", &format!("benchmarks:{file}"), s.detail());
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        self.rescore(&years, actor, &mut s).await;
        Ok(s)
    }

    /// Recompute the yearly scores an import touched; a year that cannot be
    /// scored yet (no benchmark, no framework) is noted, not an error.
    async fn rescore(&self, years: &[i32], actor: &Actor, s: &mut ImportSummary) {
        for &y in years {
            let period = Period::Year(y);
            match self.compute_scores(period, actor).await {
                Ok(_) => s.rescored.push(period.to_string()),
                Err(e) => s.notes.push(format!("{y} 年暂未计分：{e}")),
            }
        }
    }
}

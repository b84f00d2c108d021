//! Imports of the evaluation's reference data — framework versions,
//! regions, benchmarks — with the same formats and errors as `pingan
//! score`: checked whole first, each compared with what is stored (new /
//! changed / unchanged), then written in one transaction with one ledger
//! entry. Re-importing the same file changes nothing. Values and cases
//! have their own modules (`values`, `callbacks`).

use crate::ctx::Ctx;
use crate::error::{Loc, Problem, Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::framework::check;
use pingan_core::labels::ValueState;
use pingan_core::region::{RegionRow, RegionTree};
use pingan_store::{NewFramework, RegionRecord, sha256_hex};
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
    pub review: ValueState,
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
            review: ValueState::Approved,
            data_sets: 0,
            notes: Vec::new(),
        }
    }

    /// The ledger entry's detail: counts and the content's SHA-256, not
    /// the rows (the store adds the import id it assigns).
    pub(crate) fn detail(&self) -> serde_json::Value {
        json!({"file": self.file, "sha256": self.sha256, "rows": self.rows, "imported": self.imported,
               "updated": self.updated, "ignored": self.ignored, "import_id": self.import_id})
    }

    /// Count one row as new, changed or unchanged; true when it is to be
    /// written.
    pub(crate) fn count<T: PartialEq>(&mut self, old: Option<&T>, new: &T) -> bool {
        match old {
            Some(o) if o == new => {
                self.ignored += 1;
                false
            }
            Some(_) => {
                self.updated += 1;
                true
            }
            None => {
                self.imported += 1;
                true
            }
        }
    }
}

/// A framework version, from its `year` (or `year` given) on.
pub async fn framework(
    ctx: &Ctx,
    who: &Authorized<'_, cap::DirectImport>,
    file: &str,
    bytes: &[u8],
    year: Option<i32>,
    dry_run: bool,
) -> Result<ImportSummary> {
    let text = pingan_input::decode(bytes).into_owned();
    let report = check(&text);
    let Some(fw) = report.framework else {
        return Err(ServiceError::Rejected(
            report
                .errors
                .iter()
                .map(|e| {
                    Problem::new(
                        Loc::File {
                            file: file.to_string(),
                            line: e.line,
                        },
                        e.message.clone(),
                    )
                })
                .collect(),
        ));
    };
    let year_from = year.or(fw.year).ok_or_else(|| {
        ServiceError::invalid(format!(
            "{file}: 指标体系缺少 year（适用的起始年度），请在文件中写明或用 --year 指定"
        ))
    })?;
    let sha = sha256_hex(text.as_bytes());
    let mut s = ImportSummary::new(
        super::imports::ImportKind::Framework,
        file,
        dry_run,
        sha.clone(),
    );
    s.rows = 1;
    let latest = ctx.store.latest_framework(year_from).await?;
    if !s.count(latest.as_ref().map(|l| &l.1), &sha) || dry_run {
        return Ok(s);
    }
    let mut detail = s.detail();
    detail["framework"] = json!(fw.code);
    detail["year_from"] = json!(year_from);
    detail["previous_sha256"] = json!(latest.map(|l| l.1));
    let id = ctx
        .store
        .insert_framework(
            &NewFramework {
                framework: &fw,
                year_from,
                source: &text,
                sha256: &sha,
            },
            detail,
            &who.actor(),
        )
        .await?;
    s.import_id = Some(id);
    Ok(s)
}

/// Regions: upserted by code; regions absent from the file stay (history).
pub async fn regions(
    ctx: &Ctx,
    who: &Authorized<'_, cap::DirectImport>,
    file: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportSummary> {
    let tree = pingan_input::read_regions(file, bytes)?;
    let mut s = ImportSummary::new(ImportKind::Regions, file, dry_run, sha256_hex(bytes));
    let existing: FxHashMap<String, RegionRecord> = ctx
        .store
        .region_records()
        .await?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();
    let mut write = Vec::new();
    for (i, r) in tree.regions().iter().enumerate() {
        let row = RegionRecord {
            code: r.code.clone(),
            name: r.name.clone(),
            parent: r.parent.map(|p| tree.get(p).code.clone()),
            level: r.level.code().to_string(),
            valid_from: r.valid_from.map(|d| d.to_string()),
            valid_to: r.valid_to.map(|d| d.to_string()),
            ord: i as i64,
        };
        s.rows += 1;
        if s.count(existing.get(&r.code), &row) {
            write.push(row);
        }
    }
    // The stored tree with this file applied must still be a tree.
    let mut merged: Vec<RegionRow> = tree
        .regions()
        .iter()
        .map(|r| RegionRow {
            code: r.code.clone(),
            name: r.name.clone(),
            parent: r.parent.map(|p| tree.get(p).code.clone()),
            level: r.level,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        })
        .collect();
    for (code, old) in &existing {
        if tree.find(code).is_none() {
            merged.push(old.to_core());
        }
    }
    if let Err(e) = RegionTree::new(merged) {
        return Err(ServiceError::invalid(format!(
            "{file}: 与数据库中已有地区合并后：{}",
            e.message
        )));
    }
    if dry_run || write.is_empty() {
        return Ok(s);
    }
    ctx.store
        .upsert_regions(&write, s.detail(), &who.actor())
        .await?;
    Ok(s)
}

/// Benchmarks by (code, period); the years they touch are rescored.
pub async fn benchmarks(
    ctx: &Ctx,
    who: &Authorized<'_, cap::DirectImport>,
    file: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportSummary> {
    let fw = ctx.store.known_codes().await?;
    let rows = pingan_input::read_benchmark_rows(file, bytes, &fw)?;
    let mut s = ImportSummary::new(ImportKind::Benchmarks, file, dry_run, sha256_hex(bytes));
    let existing: FxHashMap<(String, String), f64> = ctx
        .store
        .benchmark_records()
        .await?
        .into_iter()
        .map(|b| ((b.code, b.period), b.value))
        .collect();
    let mut write = Vec::new();
    let mut years = Vec::new();
    for r in rows {
        s.rows += 1;
        let key = (
            fw.benchmarks[r.benchmark].code.clone(),
            r.period.to_string(),
        );
        if s.count(existing.get(&key), &r.value) {
            years.push(r.period.year());
            write.push(pingan_store::BenchmarkRecord {
                code: key.0,
                period: key.1,
                year: r.period.year(),
                value: r.value,
            });
        }
    }
    years.sort();
    years.dedup();
    if dry_run || write.is_empty() {
        return Ok(s);
    }
    ctx.store
        .upsert_benchmarks(&write, &years, s.detail(), &who.actor())
        .await?;
    crate::scores::rescore(ctx, &years, &who.actor(), &mut s.rescored, &mut s.notes).await;
    Ok(s)
}

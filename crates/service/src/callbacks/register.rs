//! The mediation register (调解案件台账): cases checked row by row from a
//! cases.csv or the API's JSON, imported whole and idempotently, and read
//! within the caller's scope.

use super::subtree;
use crate::ctx::Ctx;
use crate::error::{Loc, Problem, Result, ServiceError};
use crate::imports::{ImportKind, ImportSummary};
use crate::intake::{At, Channel};
use crate::{Authorized, cap};
use pingan_core::RegionTree;
use pingan_input::CaseRow;
use pingan_store::{Case, CaseRecord, CasesWrite, sha256_hex};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;
use std::sync::Arc;

/// Cases on their way in, from a cases.csv or the API's JSON: each
/// checked as `pingan_input` checks a row, against the caller's scope and
/// for repeated case ids, with problems where they are.
pub struct CaseIntake {
    caller: crate::Caller,
    channel: Channel,
    tree: Arc<RegionTree>,
    first: FxHashMap<String, At>,
    rows: Vec<(At, CaseRow)>,
    refusals: Vec<Problem>,
    problems: Vec<Problem>,
}

/// A checked register, ready for `import`.
pub struct CaseBatch {
    pub name: String,
    pub sha256: String,
    channel: Channel,
    tree: Arc<RegionTree>,
    rows: Vec<(At, CaseRow)>,
}

fn loc(channel: &Channel, at: At) -> Loc {
    match (channel, at) {
        (Channel::File { name }, At::Line(line)) => Loc::File {
            file: name.clone(),
            line: Some(line),
        },
        (_, At::Index(index)) => Loc::Index { index },
        _ => Loc::Whole,
    }
}

/// Where a row is, for a message: `file:line` or `cases[i]`.
fn place(channel: &Channel, at: At) -> String {
    match loc(channel, at) {
        Loc::File {
            file,
            line: Some(l),
        } => format!("{file}:{l}"),
        Loc::Index { index } => format!("cases[{index}]"),
        _ => String::new(),
    }
}

impl CaseIntake {
    pub async fn open(
        ctx: &Ctx,
        who: &Authorized<'_, cap::CaseImport>,
        channel: Channel,
    ) -> Result<CaseIntake> {
        let tree = ctx.tree().await?;
        if tree.is_empty() {
            return Err(ServiceError::invalid(
                "数据库中还没有地区：请先导入地区（pingan import regions）",
            ));
        }
        Ok(CaseIntake {
            caller: who.caller().clone(),
            channel,
            tree,
            first: FxHashMap::default(),
            rows: Vec::new(),
            refusals: Vec::new(),
            problems: Vec::new(),
        })
    }

    /// A case's eight text fields (`case_id, region, date, type, outcome,
    /// agreement, fulfilled, note`).
    pub fn push(&mut self, at: Option<At>, fields: [String; 8]) {
        let at = at.unwrap_or(At::Index(self.rows.len()));
        if let Some(r) = self.tree.find(&fields[1])
            && !self.caller.sees(&self.tree, r)
        {
            self.refuse(at, format!("无权报送地区 {} 的案件", fields[1]));
            return;
        }
        let first = self.first.get(&fields[0]).copied();
        let mut problems = Vec::new();
        if let Some(f) = first {
            problems.push(format!(
                "案件编号“{}”与{}重复",
                fields[0],
                match f {
                    At::Line(l) => format!("第 {l} 行"),
                    At::Index(i) => format!("cases[{i}]"),
                    _ => "前文".into(),
                }
            ));
        }
        let row = pingan_input::case_row(&fields, &self.tree).and_then(|row| {
            pingan_core::bounds::check_date(row.date, crate::ctx::today(), "受理日期")
                .map(|_| row)
                .map_err(|m| vec![m])
        });
        match row {
            Ok(row) if problems.is_empty() => {
                self.first.insert(row.case_id.clone(), at);
                self.rows.push((at, row));
            }
            Ok(_) => {}
            Err(ms) => {
                if first.is_none() && !fields[0].is_empty() {
                    self.first.insert(fields[0].clone(), at);
                }
                problems.extend(ms);
            }
        }
        for m in problems {
            if self.problems.len() < pingan_input::MAX_ERRORS {
                self.problems.push(Problem::new(loc(&self.channel, at), m));
            }
        }
    }

    /// A case that cannot be sent as it is (a field of the wrong type).
    pub fn refuse(&mut self, at: At, message: impl Into<String>) {
        let p = Problem::new(loc(&self.channel, at), message);
        crate::intake::push_refusal(&mut self.refusals, p);
    }

    pub fn finish(self, name: &str, sha256: String) -> Result<CaseBatch> {
        if !self.refusals.is_empty() {
            return Err(ServiceError::Rejected(self.refusals));
        }
        if !self.problems.is_empty() {
            return Err(ServiceError::Rejected(self.problems));
        }
        Ok(CaseBatch {
            name: name.to_string(),
            sha256,
            channel: self.channel,
            tree: self.tree,
            rows: self.rows,
        })
    }
}

/// A cases.csv (English or Chinese headers) as a batch.
pub async fn csv(
    ctx: &Ctx,
    who: &Authorized<'_, cap::CaseImport>,
    file: &str,
    bytes: &[u8],
) -> Result<CaseBatch> {
    let intake = CaseIntake::open(
        ctx,
        who,
        Channel::File {
            name: file.to_string(),
        },
    )
    .await?;
    let rows = pingan_input::read_cases(file, bytes, &intake.tree)?;
    let mut intake = intake;
    for r in rows {
        let at = At::Line(r.line);
        // The same scope as a JSON case: a file is no way around it.
        if !intake.caller.sees(&intake.tree, r.region) {
            let code = intake.tree.get(r.region).code.clone();
            intake.refuse(at, format!("无权报送地区 {code} 的案件"));
            continue;
        }
        intake.rows.push((at, r));
    }
    intake.finish(file, sha256_hex(bytes))
}

/// The register: idempotent on the case id (an unchanged row is ignored, a
/// changed one updated). A case keeps the region that registered it, and a
/// case already drawn for a callback is evidence, never rewritten.
pub async fn import(
    ctx: &Ctx,
    who: &Authorized<'_, cap::CaseImport>,
    batch: CaseBatch,
    dry_run: bool,
) -> Result<ImportSummary> {
    let mut s = ImportSummary::new(
        ImportKind::Cases,
        &batch.name,
        dry_run,
        batch.sha256.clone(),
    );
    s.rows = batch.rows.len();
    let stored: FxHashMap<String, CaseRecord> = ctx
        .store
        .case_records()
        .await?
        .into_iter()
        .map(|c| (c.case_id.clone(), c))
        .collect();
    let drawn: FxHashSet<String> = ctx.store.drawn_case_ids().await?.into_iter().collect();
    let mut refused: Vec<String> = Vec::new();
    let mut write = Vec::new();
    let mut years = Vec::new();
    for (at, r) in batch.rows {
        let rec = CaseRecord {
            case_id: r.case_id.clone(),
            region: batch.tree.get(r.region).code.clone(),
            date: r.date.to_string(),
            year: r.date.year,
            kind: r.kind,
            outcome: r.outcome.label().to_string(),
            agreement: r.agreement,
            fulfilled: r.fulfilled,
            note: r.note,
        };
        let old = stored.get(&r.case_id);
        let place = place(&batch.channel, at);
        match old {
            // A case stays in the region that registered it, so an account
            // scoped to one region never rewrites another's.
            Some(o) if o.region != rec.region => {
                refused.push(format!(
                    "{place}: 案件 {} 已登记在地区 {}，不能改到地区 {}",
                    rec.case_id, o.region, rec.region
                ));
                continue;
            }
            Some(o) if o.content() != rec.content() && drawn.contains(&rec.case_id) => {
                refused.push(format!(
                    "{place}: 案件 {} 已被抽取回访，不能再修改",
                    rec.case_id
                ));
                continue;
            }
            _ => {}
        }
        if s.count(old.map(|o| o.content()).as_ref(), &rec.content()) {
            years.push(rec.year);
            write.push(rec);
        }
    }
    if !refused.is_empty() {
        let n = refused.len();
        refused.truncate(20);
        return Err(ServiceError::conflict(format!(
            "{}\n未写入任何数据（共 {n} 个案件不能修改）",
            refused.join("\n")
        )));
    }
    years.sort();
    years.dedup();
    if dry_run || write.is_empty() {
        return Ok(s);
    }
    let mut detail = s.detail();
    detail["years"] = json!(years);
    let id = ctx
        .store
        .write_cases(
            &CasesWrite {
                file: &batch.name,
                sha256: &s.sha256,
                counts: [s.rows, s.imported, s.updated, s.ignored],
                cases: &write,
            },
            detail,
            &who.actor(),
        )
        .await?;
    s.import_id = Some(id);
    Ok(s)
}

/// Cases of `year` in the subtree of `region` (the caller's scope when
/// None), by region and date.
pub async fn list(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Cases>,
    region: Option<&str>,
    year: Option<i32>,
) -> Result<Vec<Case>> {
    let tree = ctx.tree().await?;
    let root = match region {
        Some(r) => Some(who.region_in_scope(&tree, r)?),
        None => match &who.region {
            Some(r) => Some(who.region_in_scope(&tree, r)?),
            None => None,
        },
    };
    let keep = root.map(|r| subtree(&tree, r));
    Ok(ctx
        .store
        .cases(year)
        .await?
        .into_iter()
        .filter(|c| keep.as_ref().is_none_or(|k| k.contains(&c.region)))
        .collect())
}

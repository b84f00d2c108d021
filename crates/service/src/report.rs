//! The documents of issue 20 — the 测评报告 of a region, the province's
//! summary (the report of the root region) and the 问题整改通知书 — made
//! from the stored official results only (scored from approved values),
//! each with the ledger head it was made at, so anyone can make the same
//! document again from the same ledger.

use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap, scores};
use pingan_core::Period;
use pingan_core::region::{Level, RegionTree};
use pingan_core::report::doc::Doc;
use pingan_core::report::notice::NoticeHead;
use pingan_core::report::summary::summary_doc;
use pingan_core::report::{Head, Report, build};
use pingan_core::score::RegionResult;
use pingan_store::{EditKey, NewNotice, ReportEdit};
use std::collections::HashMap;

/// Suggestions a report prints at most.
pub const SUGGESTIONS: usize = 8;
/// Days to file the rectification plan (seed §5.4), and to put the
/// problems right unless the office says otherwise.
pub const PLAN_DAYS: i64 = 30;
pub const DEADLINE_DAYS: i64 = 90;

pub struct RegionReport {
    pub report: Report,
    /// The ledger's head (sequence number, hash) the report was made at.
    pub ledger: (i64, String),
}

/// `at` (RFC 3339) in Beijing time: the date (YYYY-MM-DD) and the minute.
pub fn beijing(at: &str) -> (String, String) {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(at, &Rfc3339) else {
        return (at.get(..10).unwrap_or(at).to_string(), at.to_string());
    };
    let t = t.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let date = format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
    let minute = format!("{date} {:02}:{:02}", t.hour(), t.minute());
    (date, minute)
}

/// `date` (YYYY-MM-DD) plus `days`; None if it is no date.
pub fn add_days(date: &str, days: i64) -> Option<String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(date, &fmt).ok()?;
    let d = d.checked_add(time::Duration::days(days))?;
    d.format(&fmt).ok()
}

/// Read with `read` between two looks at the ledger's head; equal, no
/// write came between and the result is the ledger's state at that head
/// (else read again, three times at most).
async fn at_head<T, F, Fut>(ctx: &Ctx, read: F) -> Result<(T, (i64, String))>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        let before = ctx.store.audit_head().await?;
        let got = read().await?;
        let after = ctx.store.audit_head().await?;
        tries += 1;
        if before == after || tries == 3 {
            return Ok((got, after));
        }
    }
}

fn head(ledger: &(i64, String)) -> Head {
    Head {
        seq: ledger.0,
        hash: ledger.1.clone(),
        made_at: beijing(&pingan_store::now()).1,
    }
}

pub async fn region(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<RegionReport> {
    let (report, ledger) = at_head(ctx, || made(ctx, who, year, code)).await?;
    Ok(RegionReport { report, ledger })
}

async fn made(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Report> {
    // Every year's result once (the year's own among them).
    let years = scores::history(ctx, who, code).await?;
    let history: Vec<(i32, f64)> = years
        .iter()
        .filter_map(|(y, r)| r.as_ref().map(|r| (*y, r.total)))
        .filter(|(y, _)| *y <= year)
        .collect();
    let me = years
        .into_iter()
        .find(|(y, _)| *y == year)
        .and_then(|(_, r)| r)
        .ok_or_else(|| ServiceError::not_found(format!("{code} 在 {year} 年没有测评结果")))?;
    let peers = scores::peers(ctx, who, Period::Year(year), code).await?;
    let fw = scores::version(ctx, year).await?.framework;
    let tree = ctx.tree().await?;
    let mut r = build(&fw, year, &me, &peers, &history);
    let sources = crate::report_findings::Sources::read(ctx, year).await?;
    r.findings = Some(sources.findings(ctx, &tree, code).await?);
    Ok(r)
}

/// The 测评报告 of `code` as blocks, with the office's edits; of the root
/// region, the province's summary (every city and county in rank order).
pub async fn report_doc(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Doc> {
    let mut doc = generated_report(ctx, who, year, code).await?;
    apply_saved(ctx, year, code, false, &mut doc).await?;
    Ok(doc)
}

/// The report as made from the results, before the office's edits.
pub(crate) async fn generated_report(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Doc> {
    let tree = ctx.tree().await?;
    let i = who.region_in_scope(&tree, code)?;
    if tree.get(i).parent.is_none() {
        let (results, ledger) = at_head(ctx, || year_results(ctx, who, year)).await?;
        let fw = scores::version(ctx, year).await?.framework;
        return Ok(summary_doc(
            &fw,
            year,
            &tree.get(i).name,
            &results,
            &head(&ledger),
        ));
    }
    let made = region(ctx, who, year, code).await?;
    Ok(made.report.doc(&head(&made.ledger), SUGGESTIONS))
}

async fn year_results(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
) -> Result<Vec<RegionResult>> {
    let q = scores::ScoreQuery {
        period: Period::Year(year),
        level: None,
        parent: None,
    };
    Ok(scores::official(ctx, who, &q).await?.results)
}

/// Who issues notices and whom the 版记 copies: the root region's
/// 平安建设领导小组办公室 and its 委政法委.
fn organs(tree: &RegionTree) -> (String, String) {
    let root = tree.root().map_or("", |r| r.name.as_str());
    (
        format!("{root}平安建设领导小组办公室"),
        format!("{root}委政法委"),
    )
}

/// The 问题整改通知书 of `code`: issued (numbered in the year's sequence,
/// in the ledger) the first time, the same notice after. `deadline`
/// (YYYY-MM-DD) only counts the first time; default 90 days on.
pub async fn notice_doc(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    code: &str,
    deadline: Option<&str>,
) -> Result<Doc> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let tree = ctx.tree().await?;
    let i = reader.region_in_scope(&tree, code)?;
    if tree.get(i).parent.is_none() {
        return Err(ServiceError::invalid(
            "整改通知书发给市、县（区）：请选择下级地区",
        ));
    }
    // The report first: no notice for a region without a result. Issuing
    // changes no result, so the same report serves the notice after it.
    let report = made(ctx, &reader, year, code).await?;
    let (today, _) = beijing(&pingan_store::now());
    let deadline = match deadline {
        Some(d) => {
            let ok = add_days(d, 0).filter(|d| d.as_str() > today.as_str());
            ok.ok_or_else(|| {
                ServiceError::invalid(format!("整改期限“{d}”应为今天以后的日期（YYYY-MM-DD）"))
            })?
        }
        None => add_days(&today, DEADLINE_DAYS).unwrap_or_default(),
    };
    let plan_due = add_days(&today, PLAN_DAYS).unwrap_or_default();
    let stored = ctx
        .store
        .issue_notice(
            &NewNotice {
                year,
                region: code,
                issued_on: &today,
                plan_due: &plan_due,
                deadline: &deadline,
            },
            &who.actor(),
        )
        .await?;
    let made = RegionReport {
        report,
        ledger: ctx.store.audit_head().await?,
    };
    let mut doc = stored_notice(&made, &tree, stored);
    apply_saved(ctx, year, code, true, &mut doc).await?;
    Ok(doc)
}

/// The notice `stored` of the region `made` reports on.
fn stored_notice(made: &RegionReport, tree: &RegionTree, stored: pingan_store::Notice) -> Doc {
    let (organ, copy_to) = organs(tree);
    let n = NoticeHead {
        organ,
        copy_to,
        year: stored.year,
        number: stored.number,
        issued_on: stored.issued_on,
        plan_due: stored.plan_due,
        deadline: stored.deadline,
    };
    made.report.notice_doc(&n, &head(&made.ledger))
}

/// The region's notice of the year with the office's edits if one was
/// issued (the region's own officials read theirs), None if not yet.
pub async fn issued_notice(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Option<Doc>> {
    let mut doc = generated_notice(ctx, who, year, code).await?;
    if let Some(d) = doc.as_mut() {
        apply_saved(ctx, year, code, true, d).await?;
    }
    Ok(doc)
}

/// The issued notice as made, before the office's edits.
pub(crate) async fn generated_notice(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Scores>,
    year: i32,
    code: &str,
) -> Result<Option<Doc>> {
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, code)?;
    match ctx.store.notice(year, code).await? {
        Some(n) => {
            let made = region(ctx, who, year, code).await?;
            Ok(Some(stored_notice(&made, &tree, n)))
        }
        None => Ok(None),
    }
}

/// Which document's edits: `report` or `notice`.
pub(crate) fn edit_key(year: i32, code: &str, notice: bool) -> EditKey<'_> {
    EditKey {
        year,
        region: code,
        kind: if notice { "notice" } else { "report" },
    }
}

/// The newest version of each section, applied to `doc`.
pub(crate) async fn apply_saved(
    ctx: &Ctx,
    year: i32,
    code: &str,
    notice: bool,
    doc: &mut Doc,
) -> Result<()> {
    let all = ctx
        .store
        .report_edits(&edit_key(year, code, notice))
        .await?;
    // Oldest first per section: the last one of each wins.
    let mut newest: Vec<&ReportEdit> = Vec::new();
    for e in &all {
        match newest.iter_mut().find(|n| n.section == e.section) {
            Some(n) => *n = e,
            None => newest.push(e),
        }
    }
    for e in newest.into_iter().filter(|e| !e.text.trim().is_empty()) {
        doc.apply_edit(&e.section, &e.text);
    }
    Ok(())
}

/// One region's document in a batch.
pub struct Batched {
    pub code: String,
    pub name: String,
    pub doc: Doc,
}

/// Every region of `level` in the caller's scope: their reports (or
/// notices, issuing those not yet issued), made from one reading of the
/// year's and earlier years' results, all at one ledger head.
pub async fn batch(
    ctx: &Ctx,
    who: &Authorized<'_, cap::Notices>,
    year: i32,
    level: Level,
    notices: bool,
) -> Result<Vec<Batched>> {
    let reader = who.caller().authorize::<cap::Scores>()?;
    let tree = ctx.tree().await?;
    let codes: Vec<(String, String)> = tree
        .regions()
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            r.level == level && reader.sees(&tree, *i) && r.valid_in(Period::Year(year))
        })
        .map(|(_, r)| (r.code.clone(), r.name.clone()))
        .collect();
    if notices {
        let mut out = Vec::new();
        for (code, name) in codes {
            let doc = notice_doc(ctx, who, year, &code, None).await?;
            out.push(Batched { code, name, doc });
        }
        return Ok(out);
    }
    let fw = scores::version(ctx, year).await?.framework;
    let years: Vec<i32> = ctx
        .years()
        .await?
        .iter()
        .copied()
        .filter(|y| *y <= year)
        .collect();
    let read = || async {
        let mut by_year = Vec::new();
        for y in &years {
            // A year that cannot be scored has no results to show.
            if let Ok(r) = year_results(ctx, &reader, *y).await {
                by_year.push((*y, r));
            }
        }
        Ok(by_year)
    };
    let (by_year, ledger) = at_head(ctx, read).await?;
    let sources = crate::report_findings::Sources::read(ctx, year).await?;
    let head = head(&ledger);
    let this: Vec<RegionResult> = by_year
        .iter()
        .find(|(y, _)| *y == year)
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    let mut totals: HashMap<&str, Vec<(i32, f64)>> = HashMap::new();
    for (y, rs) in &by_year {
        for r in rs {
            totals
                .entry(r.region.as_str())
                .or_default()
                .push((*y, r.total));
        }
    }
    let mut siblings: HashMap<Option<&str>, Vec<RegionResult>> = HashMap::new();
    for r in &this {
        siblings
            .entry(r.parent.as_deref())
            .or_default()
            .push(r.clone());
    }
    let mut out = Vec::new();
    for (code, name) in codes {
        let Some(me) = this.iter().find(|r| r.region == code) else {
            continue;
        };
        let peers = siblings.get(&me.parent.as_deref()).map_or(&[][..], |v| v);
        let history = totals.get(code.as_str()).map_or(&[][..], |v| v);
        let mut r = build(&fw, year, me, peers, history);
        r.findings = Some(sources.findings(ctx, &tree, &code).await?);
        let mut doc = r.doc(&head, SUGGESTIONS);
        apply_saved(ctx, year, &code, false, &mut doc).await?;
        out.push(Batched { code, name, doc });
    }
    Ok(out)
}

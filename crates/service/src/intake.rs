//! Values on their way in. Every channel (a values.csv, the API's
//! `dataValueSets`, a filled Excel template, the web form) turns its input
//! into typed rows through an `Intake`, which checks each row the same way
//! — its fields, the caller's region and department scope, repeats — and
//! says what is wrong in the channel's own coordinates. The finished
//! `ValueBatch` goes to `values::import` whole.

use crate::caller::Caller;
use crate::ctx::Ctx;
use crate::error::{Loc, Problem, Result};
use pingan_core::{Framework, Period, RegionTree};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Where a row came from, compactly (a file can have millions of rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Line of the file named by the channel.
    Line(usize),
    /// Item of the JSON array.
    Index(usize),
    /// Sheet (by position among the channel's sheets), row and column,
    /// 0-based as calamine counts them.
    Cell { sheet: u32, row: u32, col: u32 },
    /// A form cell: region and element.
    Form { region: usize, element: usize },
}

/// The channel a batch came through, to turn `At` into a `Loc`.
#[derive(Clone, Debug)]
pub enum Channel {
    File { name: String },
    Json,
    Workbook { name: String, sheets: Vec<String> },
    Form,
}

/// One value ready to store.
#[derive(Clone, Debug)]
pub struct ValueIn {
    pub at: At,
    pub region: usize,
    pub period: Period,
    pub element: usize,
    pub value: f64,
    /// Index into `ValueBatch::sources`.
    pub source: u32,
    pub note: String,
}

/// Checked rows of one submission, with the framework and tree their
/// indices refer to.
pub struct ValueBatch {
    pub name: String,
    pub sha256: String,
    pub channel: Channel,
    pub fw: Arc<Framework>,
    pub tree: Arc<RegionTree>,
    pub sources: Vec<String>,
    pub rows: Vec<ValueIn>,
}

impl ValueBatch {
    pub fn loc(&self, at: At) -> Loc {
        loc(&self.channel, &self.fw, &self.tree, at)
    }
}

fn loc(channel: &Channel, fw: &Framework, tree: &RegionTree, at: At) -> Loc {
    match (channel, at) {
        (Channel::File { name }, At::Line(line)) => Loc::File {
            file: name.clone(),
            line: Some(line),
        },
        (Channel::Workbook { sheets, .. }, At::Cell { sheet, row, col }) => Loc::Cell {
            sheet: sheets.get(sheet as usize).cloned().unwrap_or_default(),
            cell: format!("{}{}", pingan_input::excel::column_name(col), row + 1),
        },
        (_, At::Index(index)) => Loc::Index { index },
        (_, At::Form { region, element }) => Loc::Field {
            label: format!(
                "{}（{}）{}",
                tree.get(region).name,
                tree.get(region).code,
                fw.elements[element].name
            ),
        },
        (Channel::File { name }, _) | (Channel::Workbook { name, .. }, _) => Loc::File {
            file: name.clone(),
            line: None,
        },
        _ => Loc::Whole,
    }
}

/// How a repeated row names the first one, in the channel's words.
fn first_named(at: At) -> String {
    match at {
        At::Line(l) => format!("第 {l} 行"),
        At::Index(i) => format!("dataValues[{i}]"),
        At::Cell { row, col, .. } => {
            format!("{}{}", pingan_input::excel::column_name(col), row + 1)
        }
        At::Form { .. } => "同一格".into(),
    }
}

/// Builds a `ValueBatch` row by row. Rows outside the caller's scope are
/// refused before anything else is looked at: a department learns first
/// that it may not send a value, not what else is wrong with it.
pub struct Intake {
    caller: Caller,
    channel: Channel,
    fw: Arc<Framework>,
    tree: Arc<RegionTree>,
    sources: FxHashMap<String, u32>,
    /// Each source as sent → its id, or why it cannot be used (a file
    /// repeats a handful of sources over millions of rows).
    raw_sources: FxHashMap<String, Result<u32, String>>,
    first: FxHashMap<(usize, Period, usize, u32), At>,
    rows: Vec<ValueIn>,
    refusals: Vec<Problem>,
    problems: Vec<Problem>,
    today: pingan_core::period::Date,
}

impl Intake {
    /// An intake for `caller` through `channel`, against every element any
    /// stored framework version knows and the stored regions.
    pub async fn open(ctx: &Ctx, caller: &Caller, channel: Channel) -> Result<Intake> {
        let fw = Arc::new(ctx.store.known_codes().await?);
        let tree = ctx.tree().await?;
        Intake::over(caller, channel, fw, tree)
    }

    /// An intake against a framework and tree already read: a template
    /// resolved against them keeps its indices even if an import commits
    /// in between.
    pub fn over(
        caller: &Caller,
        channel: Channel,
        fw: Arc<Framework>,
        tree: Arc<RegionTree>,
    ) -> Result<Intake> {
        if tree.is_empty() {
            return Err(crate::ServiceError::invalid(
                "数据库中还没有地区：请先导入地区（pingan import regions）",
            ));
        }
        Ok(Intake {
            caller: caller.clone(),
            channel,
            fw,
            tree,
            sources: FxHashMap::default(),
            raw_sources: FxHashMap::default(),
            first: FxHashMap::default(),
            rows: Vec::new(),
            refusals: Vec::new(),
            problems: Vec::new(),
            today: crate::ctx::today(),
        })
    }

    pub fn framework(&self) -> &Arc<Framework> {
        &self.fw
    }

    pub fn tree(&self) -> &Arc<RegionTree> {
        &self.tree
    }

    fn loc(&self, at: At) -> Loc {
        loc(&self.channel, &self.fw, &self.tree, at)
    }

    /// Scope refusals of a row whose region and element are known (by
    /// index or, for text, if they name one).
    fn check_scope(&mut self, at: At, region: Option<usize>, element: Option<usize>) -> bool {
        let mut ok = true;
        if let Some(r) = region
            && !self.caller.sees(&self.tree, r)
        {
            let m = format!("无权报送地区 {} 的数据", self.tree.get(r).code);
            self.refuse(at, m);
            ok = false;
        }
        if let Some(e) = element
            && !self.caller.submits_for(&self.fw.elements[e].department)
        {
            let m = format!("数据项 {} 不属于本部门", self.fw.elements[e].code);
            self.refuse(at, m);
            ok = false;
        }
        ok
    }

    /// A row whose fields are text: checked field by field.
    #[allow(clippy::too_many_arguments)]
    pub fn push_text(
        &mut self,
        at: At,
        region: &str,
        period: &str,
        element: &str,
        value: &str,
        source: &str,
        note: &str,
    ) {
        let (r, e) = (
            self.tree.find(region.trim()),
            self.fw.element_index(element.trim()),
        );
        if !self.check_scope(at, r, e) {
            return;
        }
        match pingan_input::value_fields(region, period, element, value, &self.fw, &self.tree) {
            Ok((r, p, e, v)) => {
                if let Err(m) = self.push(at, r, p, e, v, source, note) {
                    self.problem(at, m);
                }
            }
            Err(ms) => {
                for m in ms {
                    self.problem(at, m);
                }
            }
        }
    }

    /// A parsed row: checked against the caller's scope and the rows so
    /// far. A repeat's message is returned (a file parser collects it with
    /// its own), not kept.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        at: At,
        region: usize,
        period: Period,
        element: usize,
        value: f64,
        source: &str,
        note: &str,
    ) -> Result<(), String> {
        if !self.check_scope(at, Some(region), Some(element)) {
            return Ok(());
        }
        // Named by region, period and element: a cell or an index alone
        // does not say which value it is.
        let place = |m: String| {
            format!(
                "{} {} {}：{m}",
                self.tree.get(region).name,
                period.label(),
                self.fw.elements[element].name
            )
        };
        pingan_core::bounds::check_period(period, self.today, self.fw.year).map_err(place)?;
        pingan_core::bounds::check_value(&self.fw.elements[element], value).map_err(place)?;
        let src = match self.raw_sources.get(source) {
            Some(r) => r.clone()?,
            None => {
                let r = crate::text::clean(crate::text::SOURCE, source)
                    .map_err(|e| e.to_string())
                    .map(|name| {
                        let n = self.sources.len() as u32;
                        *self.sources.entry(name).or_insert(n)
                    });
                self.raw_sources.insert(source.to_string(), r.clone());
                r?
            }
        };
        let note = if note.is_empty() {
            String::new()
        } else {
            crate::text::clean(crate::text::NOTE.named("备注"), note).map_err(|e| e.to_string())?
        };
        if let Some(first) = self.first.get(&(region, period, element, src)) {
            return Err(format!(
                "与{}重复（同一地区、期间、数据项、来源只能有一个值）",
                first_named(*first)
            ));
        }
        self.first.insert((region, period, element, src), at);
        self.rows.push(ValueIn {
            at,
            region,
            period,
            element,
            value,
            source: src,
            note,
        });
        Ok(())
    }

    /// The rows so far as values.csv lines, for a content hash.
    pub fn rows_as_csv(&self) -> Vec<String> {
        let mut names = vec![""; self.sources.len()];
        for (n, id) in &self.sources {
            names[*id as usize] = n;
        }
        self.rows
            .iter()
            .map(|r| {
                format!(
                    "{},{},{},{},{}\n",
                    self.tree.get(r.region).code,
                    r.period,
                    self.fw.elements[r.element].code,
                    r.value,
                    names[r.source as usize]
                )
            })
            .collect()
    }

    /// A problem of the input at `at`.
    pub fn problem(&mut self, at: At, message: impl Into<String>) {
        if self.problems.len() < pingan_input::MAX_ERRORS {
            let at = self.loc(at);
            self.problems.push(Problem::new(at, message));
        }
    }

    /// A problem already named where it is (a workbook's cell).
    pub fn problem_whole(&mut self, message: impl Into<String>) {
        if self.problems.len() < pingan_input::MAX_ERRORS {
            self.problems.push(Problem::new(Loc::Whole, message));
        }
    }

    /// A row the caller may not send (or cannot send as it is): reported
    /// alone, before the other problems.
    pub fn refuse(&mut self, at: At, message: impl Into<String>) {
        let at = self.loc(at);
        push_refusal(&mut self.refusals, Problem::new(at, message));
    }

    /// The input as a whole may not be sent (another department's template).
    pub fn refuse_whole(&mut self, message: impl Into<String>) {
        let at = match &self.channel {
            Channel::File { name } | Channel::Workbook { name, .. } => Loc::File {
                file: name.clone(),
                line: None,
            },
            _ => Loc::Whole,
        };
        push_refusal(&mut self.refusals, Problem::new(at, message));
    }

    /// The batch, or why not: the refusals if any, else every problem —
    /// with the hard breaches of the validation rules among the rows that
    /// read well, so that one round of corrections fixes the file.
    pub fn finish(mut self, name: &str, sha256: String) -> Result<ValueBatch> {
        if !self.refusals.is_empty() {
            return Err(crate::ServiceError::Rejected(self.refusals));
        }
        if !self.problems.is_empty() {
            let breaches = breaches(&self.fw, &self.tree, &self.rows);
            for b in breaches.into_iter().filter(|b| b.hard) {
                let at = self.rows[b.row].at;
                self.problem(at, b.message);
            }
            return Err(crate::ServiceError::Rejected(self.problems));
        }
        let mut sources = vec![String::new(); self.sources.len()];
        for (name, id) in self.sources {
            sources[id as usize] = name;
        }
        Ok(ValueBatch {
            name: name.to_string(),
            sha256,
            channel: self.channel,
            fw: self.fw,
            tree: self.tree,
            sources,
            rows: self.rows,
        })
    }
}

/// Keeps a refusal unless its message was already given or the list is
/// full: one out-of-scope region or a wrong template refuses every row, and
/// the first place each reason occurs says enough.
pub(crate) fn push_refusal(list: &mut Vec<Problem>, p: Problem) {
    if list.len() < pingan_input::MAX_ERRORS && !list.iter().any(|q| q.message == p.message) {
        list.push(p);
    }
}

/// A values.csv (UTF-8 or GB18030) as a batch: every bad row named
/// `file:line`, repeats included.
pub async fn csv(ctx: &Ctx, caller: &Caller, file: &str, bytes: &[u8]) -> Result<ValueBatch> {
    let mut intake = Intake::open(
        ctx,
        caller,
        Channel::File {
            name: file.to_string(),
        },
    )
    .await?;
    let (fw, tree) = (intake.fw.clone(), intake.tree.clone());
    let read = pingan_input::for_each_value(file, bytes, &fw, &tree, |row| {
        intake.push(
            At::Line(row.line),
            row.region,
            row.period,
            row.element,
            row.value,
            row.source,
            row.note,
        )
    });
    if let Err(errs) = read {
        // Rows that could not be read are named with the rules' breaches
        // among those that could (`finish`); a file unreadable as a whole
        // is refused as it is.
        if errs.0.iter().any(|e| e.line.is_none()) {
            return Err(errs.into());
        }
        for e in errs.0 {
            intake.problem(At::Line(e.line.unwrap_or(0)), e.message);
        }
    }
    intake.finish(file, pingan_store::sha256_hex(bytes))
}

/// The validation rules (`pingan_core::quality::intake`) on rows of one
/// submission: every breach, with the row it is at.
pub(crate) fn breaches(
    fw: &pingan_core::Framework,
    tree: &pingan_core::RegionTree,
    rows: &[ValueIn],
) -> Vec<pingan_core::quality::intake::Breach> {
    use pingan_core::quality::intake::{Row, check_rows};
    let rules = pingan_core::quality::rules::RuleSet::default_for(fw);
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            region: r.region,
            period: r.period,
            element: r.element,
            value: r.value,
        })
        .collect();
    check_rows(fw, tree, &rules, &rows)
}

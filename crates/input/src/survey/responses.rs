//! Responses: `responses.csv` as ODK and KoboToolbox export it, and the
//! same rows handed in as items (the API's JSON batches). Both go through
//! one `Checker`, so a row means the same whichever way it came.

use super::rows::{Next, next_record, reader};
use crate::decode::decode;
use crate::error::{Collector, InputErrors};
use pingan_core::RegionTree;
use pingan_core::survey::form::{Form, Kind};
use pingan_core::survey::response::{AnswerSet, Channel, parse_time};
use pingan_core::survey::run::Response;
use std::borrow::Cow;

/// Distinct responses and how many identical repeats were dropped.
#[derive(Clone, Debug, Default)]
pub struct Responses {
    pub rows: Vec<Response>,
    pub duplicates: usize,
}

const FIXED: [&str; 6] = [
    "instance_id",
    "form_version",
    "region",
    "channel",
    "started",
    "submitted",
];

/// The six fixed fields of one response, trimmed.
pub struct Head<'a> {
    pub instance_id: &'a str,
    pub form_version: &'a str,
    pub region: &'a str,
    pub channel: &'a str,
    pub started: &'a str,
    pub submitted: &'a str,
}

/// Checks rows one at a time against the form, the tree and the frame,
/// keeping the distinct ones. `at` is a row's place (a file line, or an
/// item's index); `unit` names it in messages ("行" or "条").
struct Checker<'a> {
    form: &'a Form,
    tree: &'a RegionTree,
    in_frame: &'a dyn Fn(usize) -> bool,
    unit: &'static str,
    ids: rustc_hash::FxHashMap<String, usize>,
    last_region: Option<(String, usize)>,
    out: Responses,
}

impl<'a> Checker<'a> {
    fn new(
        form: &'a Form,
        tree: &'a RegionTree,
        in_frame: &'a dyn Fn(usize) -> bool,
        unit: &'static str,
        rows: usize,
    ) -> Self {
        let mut out = Responses::default();
        out.rows.reserve(rows);
        Checker {
            form,
            tree,
            in_frame,
            unit,
            // Sized up front: rehashing half a million ids cost 7 %.
            ids: rustc_hash::FxHashMap::with_capacity_and_hasher(rows, Default::default()),
            last_region: None,
            out,
        }
    }

    /// One row: `answers` as (question index, raw text). Every problem goes
    /// to `fail`; a row with none is kept (or counted as a duplicate).
    fn row<'r>(
        &mut self,
        at: usize,
        h: &Head<'r>,
        answers: impl Iterator<Item = (usize, &'r str)>,
        fail: &mut dyn FnMut(String),
    ) {
        let form = self.form;
        if h.instance_id.is_empty() {
            return fail("缺少 instance_id".into());
        }
        let bad = std::cell::Cell::new(false);
        let mut fail = |m: String| {
            bad.set(true);
            fail(m)
        };
        if h.form_version != form.version {
            fail(format!(
                "问卷版本“{}”与问卷（版本 {}）不符",
                h.form_version, form.version
            ));
        }
        let region = self.region(h.region, &mut fail);
        let channel = Channel::parse(h.channel);
        if channel.is_none() {
            fail(format!(
                "未知的渠道“{}”：应为 online、interview、paper 或 hotline",
                h.channel
            ));
        }
        let (started, submitted) = (parse_time(h.started), parse_time(h.submitted));
        for (name, raw, t) in [
            ("started", h.started, started),
            ("submitted", h.submitted, submitted),
        ] {
            if t.is_none() {
                fail(format!(
                    "{name}“{raw}”不是时间：应为 RFC 3339 或 YYYY-MM-DD HH:MM:SS"
                ));
            }
        }
        // Borrowed where they can be; one buffer at the end.
        let mut given: Vec<Cow<str>> = vec![Cow::Borrowed(""); form.questions.len()];
        for (q, raw) in answers {
            let a: Cow<str> = match form.questions[q].kind {
                Kind::SelectMultiple(_) => {
                    Cow::Owned(raw.split_whitespace().collect::<Vec<_>>().join(" "))
                }
                // Phone and ID numbers never reach the store.
                Kind::Text => pingan_core::redact::redact(raw),
                _ => Cow::Borrowed(raw),
            };
            if let Err(m) = form.check_answer(q, &a) {
                fail(m);
            }
            given[q] = a;
        }
        let (Some(region), Some(channel), Some(s), Some(t), false) =
            (region, channel, started, submitted, bad.get())
        else {
            return;
        };
        let row = Response {
            line: at,
            instance_id: h.instance_id.to_string(),
            region,
            channel,
            started: h.started.to_string(),
            submitted: h.submitted.to_string(),
            seconds: t - s,
            answers: AnswerSet::new(&given),
        };
        match self.ids.get(h.instance_id) {
            Some(&k) => {
                let first = &self.out.rows[k];
                let same = first.region == row.region
                    && first.channel == row.channel
                    && first.started == row.started
                    && first.submitted == row.submitted
                    && first.answers == row.answers;
                if same {
                    self.out.duplicates += 1;
                } else {
                    fail(format!(
                        "instance_id“{}”与第 {} {}重复但内容不同",
                        h.instance_id, first.line, self.unit
                    ));
                }
            }
            None => {
                self.ids
                    .insert(row.instance_id.clone(), self.out.rows.len());
                self.out.rows.push(row);
            }
        }
    }

    fn region(&mut self, code: &str, fail: &mut dyn FnMut(String)) -> Option<usize> {
        if let Some((c, r)) = &self.last_region
            && c == code
        {
            return Some(*r);
        }
        match crate::values::find_region(self.tree, code) {
            Ok(r) if (self.in_frame)(r) => {
                self.last_region = Some((code.to_string(), r));
                Some(r)
            }
            Ok(_) => {
                fail(format!("地区“{code}”不在抽样框中"));
                None
            }
            Err(m) => {
                fail(m);
                None
            }
        }
    }
}

/// `responses.csv` against the form, the tree and the frame (regions in
/// the sample). An `instance_id` repeated with identical content is a
/// duplicate, counted once; with different content, an error.
pub fn read_responses(
    file: &str,
    bytes: &[u8],
    form: &Form,
    tree: &RegionTree,
    in_frame: &dyn Fn(usize) -> bool,
) -> Result<Responses, InputErrors> {
    let text = decode(bytes);
    let mut errs = Collector::new(file);
    let mut rdr = reader(&text);
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let mut check = Checker::new(form, tree, in_frame, "行", lines);
    // Column → question index (None for the fixed six).
    let mut header: Option<(Vec<usize>, Vec<Option<usize>>)> = None;
    let mut rec = csv::StringRecord::new();
    loop {
        let line = match next_record(&mut rdr, &mut rec, &mut errs) {
            Next::Row(line) => line,
            Next::Skip => continue,
            Next::Stop => break,
        };
        let Some((fixed, questions)) = &header else {
            header = Some(read_header(&rec, form, line, &mut errs));
            if !errs.errors.is_empty() {
                return Err(InputErrors(errs.errors));
            }
            continue;
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() != questions.len() {
            errs.push(
                Some(line),
                format!(
                    "本行有 {} 列，表头有 {} 列（检查逗号和引号）",
                    rec.len(),
                    questions.len()
                ),
            );
        } else {
            let f = |i: usize| rec.get(fixed[i]).unwrap_or("").trim();
            let head = Head {
                instance_id: f(0),
                form_version: f(1),
                region: f(2),
                channel: f(3),
                started: f(4),
                submitted: f(5),
            };
            let answers = questions
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.map(|q| (q, rec.get(i).unwrap_or("").trim())));
            check.row(line, &head, answers, &mut |m| errs.push(Some(line), m));
        }
        if errs.full() {
            break;
        }
    }
    if header.is_none() && errs.errors.is_empty() {
        errs.push(Some(1), "文件为空：缺少表头");
    }
    errs.finish(check.out)
}

/// The header: where the fixed six are, and each other column's question.
fn read_header(
    rec: &csv::StringRecord,
    form: &Form,
    line: usize,
    errs: &mut Collector,
) -> (Vec<usize>, Vec<Option<usize>>) {
    let names: Vec<&str> = rec
        .iter()
        .map(|f| f.trim().trim_start_matches('\u{feff}'))
        .collect();
    let mut fixed = Vec::new();
    for n in FIXED {
        match names.iter().position(|f| *f == n) {
            Some(i) => fixed.push(i),
            None => errs.push(Some(line), format!("缺少必需的列“{n}”")),
        }
    }
    let mut questions = vec![None; names.len()];
    let mut seen = std::collections::HashSet::new();
    for (i, n) in names.iter().enumerate() {
        if !seen.insert(*n) {
            errs.push(Some(line), format!("列“{n}”重复"));
        }
        // Metadata columns, as KoboToolbox exports them (`_id`, `_uuid`,
        // `_submission_time`) and as our export adds them (`_verdict`).
        if FIXED.contains(n) || n.starts_with('_') {
            continue;
        }
        match form.question(n) {
            Some(q) if form.questions[q].kind.answered() => questions[i] = Some(q),
            _ => errs.push(Some(line), format!("未知的列“{n}”：问卷中没有这道题")),
        }
    }
    (fixed, questions)
}

/// One response handed in as an item (the API's JSON): the fixed six and
/// its answers by question name.
pub struct Item<'a> {
    pub head: Head<'a>,
    pub answers: Vec<(&'a str, &'a str)>,
}

/// Items checked as `read_responses` checks rows; problems as (index, message),
/// at most `crate::MAX_ERRORS`. `line` of each row is its index.
pub fn check_items(
    items: &[Item<'_>],
    form: &Form,
    tree: &RegionTree,
    in_frame: &dyn Fn(usize) -> bool,
) -> Result<Responses, Vec<(usize, String)>> {
    let mut check = Checker::new(form, tree, in_frame, "条", items.len());
    let mut errs: Vec<(usize, String)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut answers = Vec::with_capacity(item.answers.len());
        let mut seen = std::collections::HashSet::new();
        for (name, raw) in &item.answers {
            if !seen.insert(*name) {
                errs.push((i, format!("题目“{name}”重复")));
            }
            match form.question(name) {
                Some(q) if form.questions[q].kind.answered() => answers.push((q, raw.trim())),
                _ => errs.push((i, format!("未知的题目“{name}”：问卷中没有这道题"))),
            }
        }
        check.row(i, &item.head, answers.into_iter(), &mut |m| {
            errs.push((i, m))
        });
        if errs.len() >= crate::MAX_ERRORS {
            errs.truncate(crate::MAX_ERRORS);
            break;
        }
    }
    if errs.is_empty() {
        Ok(check.out)
    } else {
        Err(errs)
    }
}

//! Reading the sheets for `Form::from_sheets`: settings, choices, then the
//! survey rows, each problem named by sheet and cell.

use super::{Choice, ChoiceList, FormError, Kind, Question, Sheet, column_letter};
use crate::survey::expr::{self, Expr};
use std::collections::HashMap;

const MAX_ERRORS: usize = 200;

/// The problems found, in the order found, at most `MAX_ERRORS`.
#[derive(Default)]
pub(super) struct Errors(Vec<FormError>);

impl Errors {
    fn push(&mut self, sheet: &str, cell: String, message: String) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FormError {
                sheet: sheet.into(),
                cell,
                message,
            });
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn into_vec(self) -> Vec<FormError> {
        self.0
    }
}

fn cell(row: usize, col: usize) -> String {
    format!("{}{}", column_letter(col), row + 1)
}

/// Header name → column, for a sheet; `label::中文 (zh)` counts as `label`
/// when there is no plain `label`.
fn columns(sheet: &Sheet) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    if let Some(h) = sheet.rows.first() {
        for (i, name) in h.iter().enumerate() {
            let n = name.trim().to_lowercase();
            if n.is_empty() {
                continue;
            }
            let key = if n.starts_with("label::") {
                "label".to_string()
            } else if n.starts_with("hint::") {
                "hint".to_string()
            } else if n.starts_with("constraint_message::") || n.starts_with("constraint message::")
            {
                "constraint_message".to_string()
            } else {
                n.replace(' ', "_")
            };
            out.entry(key).or_insert(i);
        }
    }
    out
}

fn get(row: &[String], col: Option<usize>) -> &str {
    col.and_then(|c| row.get(c)).map_or("", |s| s.trim())
}

/// An XML name, as XLSForm requires of question and choice names.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_blank(row: &[String]) -> bool {
    row.iter().all(|x| x.trim().is_empty())
}

/// The settings sheet's second row.
pub(super) struct Settings {
    pub id: String,
    pub version: String,
    pub title: String,
    pub min_seconds: f64,
}

pub(super) fn settings(sheet: Option<&Sheet>, errs: &mut Errors) -> Settings {
    let mut out = Settings {
        id: String::new(),
        version: String::new(),
        title: String::new(),
        min_seconds: 60.0,
    };
    let Some(s) = sheet else {
        errs.push(
            "settings",
            String::new(),
            "缺少 settings 工作表（须有 form_id 和 version）".into(),
        );
        return out;
    };
    let c = columns(s);
    let row = s.rows.get(1).cloned().unwrap_or_default();
    out.id = get(&row, c.get("form_id").copied()).to_string();
    out.version = get(&row, c.get("version").copied()).to_string();
    out.title = get(&row, c.get("form_title").copied()).to_string();
    for (key, val) in [("form_id", &out.id), ("version", &out.version)] {
        if val.is_empty() {
            let at = c.get(key).map_or(String::new(), |&col| cell(1, col));
            errs.push("settings", at, format!("缺少 {key}"));
        }
    }
    if let Some(v) = min_seconds(&row, c.get("min_seconds").copied(), errs) {
        out.min_seconds = v;
    }
    out
}

/// The `min_seconds` setting when given and valid.
fn min_seconds(row: &[String], col: Option<usize>, errs: &mut Errors) -> Option<f64> {
    let col = col?;
    let t = get(row, Some(col));
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
        _ => {
            errs.push(
                "settings",
                cell(1, col),
                format!("min_seconds 应为不小于 0 的数字，而不是“{t}”"),
            );
            None
        }
    }
}

/// The choice lists, in the order they first appear.
pub(super) fn choices(sheet: Option<&Sheet>, errs: &mut Errors) -> Vec<ChoiceList> {
    let mut lists: Vec<ChoiceList> = Vec::new();
    let Some(ch) = sheet else {
        return lists;
    };
    let c = columns(ch);
    let list_col = c.get("list_name").copied();
    let (name_col, label_col, score_col) = (
        c.get("name").copied(),
        c.get("label").copied(),
        c.get("score").copied(),
    );
    for (key, col) in [
        ("list_name", list_col),
        ("name", name_col),
        ("label", label_col),
    ] {
        if col.is_none() {
            errs.push("choices", "A1".into(), format!("缺少 {key} 列"));
        }
    }
    for (r, row) in ch.rows.iter().enumerate().skip(1) {
        if is_blank(row) {
            continue;
        }
        let list = get(row, list_col);
        let name = get(row, name_col);
        if list.is_empty() || name.is_empty() {
            let col = if list.is_empty() { list_col } else { name_col };
            errs.push(
                "choices",
                cell(r, col.unwrap_or(0)),
                "选项缺少列表名或名称".into(),
            );
            continue;
        }
        let score = choice_score(r, get(row, score_col), score_col, errs);
        let i = list_index(&mut lists, list);
        if lists[i].get(name).is_some() {
            errs.push(
                "choices",
                cell(r, name_col.unwrap_or(0)),
                format!("选项列表 “{list}” 中选项 “{name}” 重复"),
            );
            continue;
        }
        lists[i].choices.push(Choice {
            name: name.to_string(),
            label: get(row, label_col).to_string(),
            score,
        });
    }
    lists
}

/// A choice's score; blank, or not a score (which is an error), is none.
fn choice_score(
    r: usize,
    score_text: &str,
    score_col: Option<usize>,
    errs: &mut Errors,
) -> Option<f64> {
    if score_text.is_empty() {
        return None;
    }
    match score_text.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Some(v),
        _ => {
            errs.push(
                "choices",
                cell(r, score_col.unwrap_or(0)),
                format!("score 应为 0 到 100 之间的数字，而不是“{score_text}”"),
            );
            None
        }
    }
}

/// The list named `list`, added when new.
fn list_index(lists: &mut Vec<ChoiceList>, list: &str) -> usize {
    match lists.iter().position(|l| l.name == list) {
        Some(i) => i,
        None => {
            lists.push(ChoiceList {
                name: list.to_string(),
                choices: Vec::new(),
            });
            lists.len() - 1
        }
    }
}

/// The questions and their index by name; None when the sheet has no
/// `type` column, as no row can be read without it.
pub(super) fn survey(
    sheet: &Sheet,
    lists: &[ChoiceList],
    known_element: &dyn Fn(&str) -> bool,
    errs: &mut Errors,
) -> Option<(Vec<Question>, HashMap<String, usize>)> {
    let mut reader = SurveyReader {
        columns: columns(sheet),
        lists,
        known_element,
        questions: Vec::new(),
        index: HashMap::new(),
        open: Vec::new(),
        pending: Vec::new(),
    };
    for key in ["type", "name", "label"] {
        if reader.col(key).is_none() {
            errs.push("survey", "A1".into(), format!("缺少 {key} 列"));
        }
    }
    if !errs.is_empty() && reader.col("type").is_none() {
        return None;
    }
    for (r, row) in sheet.rows.iter().enumerate().skip(1) {
        if !is_blank(row) {
            reader.row(r, row, errs);
        }
    }
    reader.check_groups_closed(errs);
    reader.check_pending(errs);
    reader.check_answered(errs);
    Some((reader.questions, reader.index))
}

/// An expression that parsed: its question, column and text.
struct Pending {
    question: usize,
    col: usize,
    src: String,
    key: &'static str,
}

struct SurveyReader<'a> {
    columns: HashMap<String, usize>,
    lists: &'a [ChoiceList],
    known_element: &'a dyn Fn(&str) -> bool,
    questions: Vec<Question>,
    index: HashMap<String, usize>,
    /// The groups begun and not yet ended, outermost first.
    open: Vec<usize>,
    // Expressions are checked for names once every name is known.
    pending: Vec<Pending>,
}

impl SurveyReader<'_> {
    fn col(&self, key: &str) -> Option<usize> {
        self.columns.get(key).copied()
    }

    /// The cell of column `key` in row `r`.
    fn cell(&self, r: usize, key: &str) -> String {
        cell(r, self.col(key).unwrap_or(0))
    }

    fn row(&mut self, r: usize, row: &[String], errs: &mut Errors) {
        let Some(kind) = self.kind(r, row, errs) else {
            return;
        };
        if kind == Kind::EndGroup {
            self.end_group(r, errs);
            return;
        }
        let Some(name) = self.name(r, row, errs) else {
            return;
        };
        let label = get(row, self.col("label")).to_string();
        if label.is_empty() && kind != Kind::BeginGroup {
            errs.push(
                "survey",
                self.cell(r, "label"),
                format!("题目“{name}”缺少题干（label）"),
            );
        }
        let required = self.required(r, row, errs);
        let element = self.element(r, row, &kind, &name, errs);
        let relevant = self.expr("relevant", r, row, errs);
        let constraint = self.expr("constraint", r, row, errs);
        let i = self.questions.len();
        self.index.insert(name.clone(), i);
        self.questions.push(Question {
            name,
            label,
            hint: get(row, self.col("hint")).to_string(),
            kind: kind.clone(),
            required,
            relevant,
            constraint,
            constraint_message: get(row, self.col("constraint_message")).to_string(),
            element,
            groups: self.open.clone(),
            row: r + 1,
        });
        if kind == Kind::BeginGroup {
            self.open.push(i);
        }
    }

    /// The row's question type; None (with the error) when it has none or
    /// one not supported.
    fn kind(&self, r: usize, row: &[String], errs: &mut Errors) -> Option<Kind> {
        let type_cell = self.cell(r, "type");
        let ty = get(row, self.col("type"));
        let mut words = ty.split_whitespace();
        let head = words.next().unwrap_or("").to_lowercase();
        let arg = words.next().unwrap_or("");
        match (head.as_str(), ty.to_lowercase().as_str()) {
            ("select_one", _) => self.list(ty, arg, &type_cell, errs).map(Kind::SelectOne),
            ("select_multiple", _) => self
                .list(ty, arg, &type_cell, errs)
                .map(Kind::SelectMultiple),
            ("integer", _) => Some(Kind::Integer),
            ("decimal", _) => Some(Kind::Decimal),
            ("text", _) => Some(Kind::Text),
            ("note", _) => Some(Kind::Note),
            ("date", _) => Some(Kind::Date),
            ("begin_group", _) | (_, "begin group") => Some(Kind::BeginGroup),
            ("end_group", _) | (_, "end group") => Some(Kind::EndGroup),
            ("", _) => {
                errs.push("survey", type_cell, "缺少题型".into());
                None
            }
            _ => {
                errs.push(
                    "survey",
                    type_cell,
                    format!(
                        "不支持的题型“{ty}”：可用 select_one、select_multiple、integer、decimal、text、note、date、begin_group、end_group"
                    ),
                );
                None
            }
        }
    }

    /// The choice list a select type `ty` names (`arg`).
    fn list(&self, ty: &str, arg: &str, type_cell: &str, errs: &mut Errors) -> Option<usize> {
        if arg.is_empty() {
            errs.push(
                "survey",
                type_cell.to_string(),
                format!("“{ty}” 缺少选项列表名"),
            );
            return None;
        }
        let found = self.lists.iter().position(|l| l.name == arg);
        if found.is_none() {
            errs.push(
                "survey",
                type_cell.to_string(),
                format!("未知的选项列表 \"{arg}\""),
            );
        }
        found
    }

    fn end_group(&mut self, r: usize, errs: &mut Errors) {
        if self.open.pop().is_none() {
            errs.push(
                "survey",
                self.cell(r, "type"),
                "end_group 没有对应的 begin_group".into(),
            );
        }
        self.questions.push(Question {
            name: String::new(),
            label: String::new(),
            hint: String::new(),
            kind: Kind::EndGroup,
            required: false,
            relevant: None,
            constraint: None,
            constraint_message: String::new(),
            element: None,
            groups: self.open.clone(),
            row: r + 1,
        });
    }

    /// The question's name; None when it is missing or taken (the row is
    /// then skipped).
    fn name(&self, r: usize, row: &[String], errs: &mut Errors) -> Option<String> {
        let name = get(row, self.col("name")).to_string();
        let name_cell = self.cell(r, "name");
        if name.is_empty() {
            errs.push("survey", name_cell, "缺少题目名称（name）".into());
            return None;
        }
        if !is_name(&name) {
            errs.push(
                "survey",
                name_cell.clone(),
                format!("题目名称“{name}”须以字母或下划线开头，只含字母、数字、_ - ."),
            );
        }
        if self.index.contains_key(&name) {
            errs.push("survey", name_cell, format!("题目名称“{name}”重复"));
            return None;
        }
        Some(name)
    }

    fn required(&self, r: usize, row: &[String], errs: &mut Errors) -> bool {
        let req = get(row, self.col("required")).to_lowercase();
        match req.as_str() {
            "yes" | "true" | "true()" => true,
            "" | "no" | "false" | "false()" => false,
            _ => {
                errs.push(
                    "survey",
                    self.cell(r, "required"),
                    format!("required 应为 yes 或留空，而不是“{req}”"),
                );
                false
            }
        }
    }

    /// The framework element the question feeds, when given and allowed.
    fn element(
        &self,
        r: usize,
        row: &[String],
        kind: &Kind,
        name: &str,
        errs: &mut Errors,
    ) -> Option<String> {
        let element = get(row, self.col("element"));
        if element.is_empty() {
            None
        } else if !matches!(kind, Kind::SelectOne(_)) {
            let ty = get(row, self.col("type"));
            errs.push(
                "survey",
                self.cell(r, "element"),
                format!("只有单选题（select_one）可以计入数据项，题目“{name}”是“{ty}”"),
            );
            None
        } else if !(self.known_element)(element) {
            errs.push(
                "survey",
                self.cell(r, "element"),
                format!("未知的数据项代码“{element}”（指标体系中没有）"),
            );
            None
        } else {
            Some(element.to_string())
        }
    }

    /// The expression in column `key` of the question being read (the
    /// next in `questions`).
    fn expr(
        &mut self,
        key: &'static str,
        r: usize,
        row: &[String],
        errs: &mut Errors,
    ) -> Option<Expr> {
        let src = get(row, self.col(key));
        if src.is_empty() {
            return None;
        }
        match expr::parse(src) {
            Ok(e) => {
                self.pending.push(Pending {
                    question: self.questions.len(),
                    col: self.col(key).unwrap_or(0),
                    src: src.to_string(),
                    key,
                });
                Some(e)
            }
            Err(e) => {
                errs.push("survey", self.cell(r, key), format!("{key} 无法解析：{e}"));
                None
            }
        }
    }

    fn check_groups_closed(&self, errs: &mut Errors) {
        if let Some(&g) = self.open.last() {
            errs.push(
                "survey",
                self.cell(self.questions[g].row - 1, "type"),
                "begin_group 没有对应的 end_group".into(),
            );
        }
    }

    /// Every name an expression refers to is a question's.
    fn check_pending(&self, errs: &mut Errors) {
        for Pending {
            question,
            col,
            src,
            key,
        } in &self.pending
        {
            let e = expr::parse(src).ok();
            for name in e.iter().flat_map(|e| e.refs()) {
                if !self.index.contains_key(name) {
                    errs.push(
                        "survey",
                        cell(self.questions[*question].row - 1, *col),
                        format!("{key} 引用了不存在的题目 ${{{name}}}"),
                    );
                }
            }
        }
    }

    fn check_answered(&self, errs: &mut Errors) {
        if !self.questions.iter().any(|q| q.kind.answered()) {
            errs.push("survey", String::new(), "问卷中没有任何题目".into());
        }
    }
}

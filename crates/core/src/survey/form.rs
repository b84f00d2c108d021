//! The questionnaire (survey.md §1): XLSForm's `survey`, `choices` and
//! `settings` sheets, read from plain text grids (the xlsx reader lives in
//! `pingan-input`), with pingan's `element` and `score` columns. Every
//! problem is named by sheet and cell (`survey!C7: …`).

use super::expr::{self, Expr};
use std::collections::HashMap;
use std::fmt;

/// One sheet as text: `rows[0]` is the header row (Excel row 1).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormError {
    pub sheet: String,
    /// `C7`, or empty for the sheet as a whole.
    pub cell: String,
    pub message: String,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cell.is_empty() {
            write!(f, "{}: {}", self.sheet, self.message)
        } else {
            write!(f, "{}!{}: {}", self.sheet, self.cell, self.message)
        }
    }
}

/// `A`, `B`, … `Z`, `AA` for a 0-based column.
pub fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn cell(row: usize, col: usize) -> String {
    format!("{}{}", column_letter(col), row + 1)
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// The index of its choice list.
    SelectOne(usize),
    SelectMultiple(usize),
    Integer,
    Decimal,
    Text,
    Note,
    Date,
    BeginGroup,
    EndGroup,
}

impl Kind {
    /// Whether the question takes an answer (a column in the responses).
    pub fn answered(&self) -> bool {
        !matches!(self, Kind::Note | Kind::BeginGroup | Kind::EndGroup)
    }
}

#[derive(Clone, Debug)]
pub struct Question {
    pub name: String,
    pub label: String,
    pub hint: String,
    pub kind: Kind,
    pub required: bool,
    /// Its own `relevant` (the enclosing groups' are in `groups`).
    pub relevant: Option<Expr>,
    pub constraint: Option<Expr>,
    pub constraint_message: String,
    /// The framework element this item feeds (select_one items only).
    pub element: Option<String>,
    /// The enclosing groups, outermost first (indices into `questions`).
    pub groups: Vec<usize>,
    /// Excel row (1-based) in the survey sheet.
    pub row: usize,
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub name: String,
    pub label: String,
    /// 0–100; None: counts as no answer when scoring (说不清).
    pub score: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
}

impl ChoiceList {
    pub fn get(&self, name: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.name == name)
    }
}

#[derive(Clone, Debug)]
pub struct Form {
    pub id: String,
    pub version: String,
    pub title: String,
    pub min_seconds: f64,
    pub questions: Vec<Question>,
    pub lists: Vec<ChoiceList>,
    index: HashMap<String, usize>,
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

impl Form {
    /// The form from its three sheets. `known_element` says which element
    /// codes exist (the framework's).
    pub fn from_sheets(
        survey: Option<&Sheet>,
        choices: Option<&Sheet>,
        settings: Option<&Sheet>,
        known_element: &dyn Fn(&str) -> bool,
    ) -> Result<Form, Vec<FormError>> {
        let mut errs: Vec<FormError> = Vec::new();
        let err = |errs: &mut Vec<FormError>, sheet: &str, cell: String, m: String| {
            if errs.len() < 200 {
                errs.push(FormError {
                    sheet: sheet.into(),
                    cell,
                    message: m,
                });
            }
        };
        let Some(survey) = survey else {
            return Err(vec![FormError {
                sheet: "survey".into(),
                cell: String::new(),
                message: "缺少 survey 工作表".into(),
            }]);
        };

        // settings
        let (mut id, mut version, mut title, mut min_seconds) =
            (String::new(), String::new(), String::new(), 60.0);
        match settings {
            None => err(
                &mut errs,
                "settings",
                String::new(),
                "缺少 settings 工作表（须有 form_id 和 version）".into(),
            ),
            Some(s) => {
                let c = columns(s);
                let row = s.rows.get(1).cloned().unwrap_or_default();
                id = get(&row, c.get("form_id").copied()).to_string();
                version = get(&row, c.get("version").copied()).to_string();
                title = get(&row, c.get("form_title").copied()).to_string();
                for (key, val) in [("form_id", &id), ("version", &version)] {
                    if val.is_empty() {
                        let at = c.get(key).map_or(String::new(), |&col| cell(1, col));
                        err(&mut errs, "settings", at, format!("缺少 {key}"));
                    }
                }
                if let Some(&col) = c.get("min_seconds") {
                    let t = get(&row, Some(col));
                    if !t.is_empty() {
                        match t.parse::<f64>() {
                            Ok(v) if v.is_finite() && v >= 0.0 => min_seconds = v,
                            _ => err(
                                &mut errs,
                                "settings",
                                cell(1, col),
                                format!("min_seconds 应为不小于 0 的数字，而不是“{t}”"),
                            ),
                        }
                    }
                }
            }
        }

        // choices
        let mut lists: Vec<ChoiceList> = Vec::new();
        if let Some(ch) = choices {
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
                    err(&mut errs, "choices", "A1".into(), format!("缺少 {key} 列"));
                }
            }
            for (r, row) in ch.rows.iter().enumerate().skip(1) {
                if row.iter().all(|x| x.trim().is_empty()) {
                    continue;
                }
                let list = get(row, list_col);
                let name = get(row, name_col);
                if list.is_empty() || name.is_empty() {
                    let col = if list.is_empty() { list_col } else { name_col };
                    err(
                        &mut errs,
                        "choices",
                        cell(r, col.unwrap_or(0)),
                        "选项缺少列表名或名称".into(),
                    );
                    continue;
                }
                let score_text = get(row, score_col);
                let score = if score_text.is_empty() {
                    None
                } else {
                    match score_text.parse::<f64>() {
                        Ok(v) if (0.0..=100.0).contains(&v) => Some(v),
                        _ => {
                            err(
                                &mut errs,
                                "choices",
                                cell(r, score_col.unwrap_or(0)),
                                format!("score 应为 0 到 100 之间的数字，而不是“{score_text}”"),
                            );
                            None
                        }
                    }
                };
                let i = match lists.iter().position(|l| l.name == list) {
                    Some(i) => i,
                    None => {
                        lists.push(ChoiceList {
                            name: list.to_string(),
                            choices: Vec::new(),
                        });
                        lists.len() - 1
                    }
                };
                if lists[i].get(name).is_some() {
                    err(
                        &mut errs,
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
        }

        // survey
        let c = columns(survey);
        let col = |k: &str| c.get(k).copied();
        for key in ["type", "name", "label"] {
            if col(key).is_none() {
                err(&mut errs, "survey", "A1".into(), format!("缺少 {key} 列"));
            }
        }
        if !errs.is_empty() && col("type").is_none() {
            return Err(errs);
        }
        let mut questions: Vec<Question> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut open: Vec<usize> = Vec::new();
        // Expressions are checked for names once every name is known.
        let mut pending: Vec<(usize, usize, String, &'static str)> = Vec::new();
        for (r, row) in survey.rows.iter().enumerate().skip(1) {
            if row.iter().all(|x| x.trim().is_empty()) {
                continue;
            }
            let type_cell = cell(r, col("type").unwrap_or(0));
            let ty = get(row, col("type"));
            let mut words = ty.split_whitespace();
            let head = words.next().unwrap_or("").to_lowercase();
            let arg = words.next().unwrap_or("");
            let list_of = |errs: &mut Vec<FormError>| -> Option<usize> {
                if arg.is_empty() {
                    err(
                        errs,
                        "survey",
                        type_cell.clone(),
                        format!("“{ty}” 缺少选项列表名"),
                    );
                    return None;
                }
                let found = lists.iter().position(|l| l.name == arg);
                if found.is_none() {
                    err(
                        errs,
                        "survey",
                        type_cell.clone(),
                        format!("未知的选项列表 \"{arg}\""),
                    );
                }
                found
            };
            let kind = match (head.as_str(), ty.to_lowercase().as_str()) {
                ("select_one", _) => list_of(&mut errs).map(Kind::SelectOne),
                ("select_multiple", _) => list_of(&mut errs).map(Kind::SelectMultiple),
                ("integer", _) => Some(Kind::Integer),
                ("decimal", _) => Some(Kind::Decimal),
                ("text", _) => Some(Kind::Text),
                ("note", _) => Some(Kind::Note),
                ("date", _) => Some(Kind::Date),
                ("begin_group", _) | (_, "begin group") => Some(Kind::BeginGroup),
                ("end_group", _) | (_, "end group") => Some(Kind::EndGroup),
                ("", _) => {
                    err(&mut errs, "survey", type_cell.clone(), "缺少题型".into());
                    None
                }
                _ => {
                    err(
                        &mut errs,
                        "survey",
                        type_cell.clone(),
                        format!(
                            "不支持的题型“{ty}”：可用 select_one、select_multiple、integer、decimal、text、note、date、begin_group、end_group"
                        ),
                    );
                    None
                }
            };
            let Some(kind) = kind else { continue };
            if kind == Kind::EndGroup {
                if open.pop().is_none() {
                    err(
                        &mut errs,
                        "survey",
                        type_cell,
                        "end_group 没有对应的 begin_group".into(),
                    );
                }
                questions.push(Question {
                    name: String::new(),
                    label: String::new(),
                    hint: String::new(),
                    kind,
                    required: false,
                    relevant: None,
                    constraint: None,
                    constraint_message: String::new(),
                    element: None,
                    groups: open.clone(),
                    row: r + 1,
                });
                continue;
            }
            let name = get(row, col("name")).to_string();
            let name_cell = cell(r, col("name").unwrap_or(0));
            if name.is_empty() {
                err(
                    &mut errs,
                    "survey",
                    name_cell,
                    "缺少题目名称（name）".into(),
                );
                continue;
            }
            if !is_name(&name) {
                err(
                    &mut errs,
                    "survey",
                    name_cell.clone(),
                    format!("题目名称“{name}”须以字母或下划线开头，只含字母、数字、_ - ."),
                );
            }
            if index.contains_key(&name) {
                err(
                    &mut errs,
                    "survey",
                    name_cell,
                    format!("题目名称“{name}”重复"),
                );
                continue;
            }
            let label = get(row, col("label")).to_string();
            if label.is_empty() && kind != Kind::BeginGroup {
                err(
                    &mut errs,
                    "survey",
                    cell(r, col("label").unwrap_or(0)),
                    format!("题目“{name}”缺少题干（label）"),
                );
            }
            let req = get(row, col("required")).to_lowercase();
            let required = match req.as_str() {
                "yes" | "true" | "true()" => true,
                "" | "no" | "false" | "false()" => false,
                _ => {
                    err(
                        &mut errs,
                        "survey",
                        cell(r, col("required").unwrap_or(0)),
                        format!("required 应为 yes 或留空，而不是“{req}”"),
                    );
                    false
                }
            };
            let element = get(row, col("element"));
            let element = if element.is_empty() {
                None
            } else if !matches!(kind, Kind::SelectOne(_)) {
                err(
                    &mut errs,
                    "survey",
                    cell(r, col("element").unwrap_or(0)),
                    format!("只有单选题（select_one）可以计入数据项，题目“{name}”是“{ty}”"),
                );
                None
            } else if !known_element(element) {
                err(
                    &mut errs,
                    "survey",
                    cell(r, col("element").unwrap_or(0)),
                    format!("未知的数据项代码“{element}”（指标体系中没有）"),
                );
                None
            } else {
                Some(element.to_string())
            };
            let i = questions.len();
            let mut expr_of = |key: &'static str, errs: &mut Vec<FormError>| -> Option<Expr> {
                let src = get(row, col(key));
                if src.is_empty() {
                    return None;
                }
                match expr::parse(src) {
                    Ok(e) => {
                        pending.push((i, col(key).unwrap_or(0), src.to_string(), key));
                        Some(e)
                    }
                    Err(e) => {
                        err(
                            errs,
                            "survey",
                            cell(r, col(key).unwrap_or(0)),
                            format!("{key} 无法解析：{e}"),
                        );
                        None
                    }
                }
            };
            let relevant = expr_of("relevant", &mut errs);
            let constraint = expr_of("constraint", &mut errs);
            index.insert(name.clone(), i);
            questions.push(Question {
                name,
                label,
                hint: get(row, col("hint")).to_string(),
                kind: kind.clone(),
                required,
                relevant,
                constraint,
                constraint_message: get(row, col("constraint_message")).to_string(),
                element,
                groups: open.clone(),
                row: r + 1,
            });
            if kind == Kind::BeginGroup {
                open.push(i);
            }
        }
        if let Some(&g) = open.last() {
            err(
                &mut errs,
                "survey",
                cell(questions[g].row - 1, col("type").unwrap_or(0)),
                "begin_group 没有对应的 end_group".into(),
            );
        }
        for (q, c, src, key) in pending {
            let e = expr::parse(&src).ok();
            for name in e.iter().flat_map(|e| e.refs()) {
                if !index.contains_key(name) {
                    err(
                        &mut errs,
                        "survey",
                        cell(questions[q].row - 1, c),
                        format!("{key} 引用了不存在的题目 ${{{name}}}"),
                    );
                }
            }
        }
        if !questions.iter().any(|q| q.kind.answered()) {
            err(
                &mut errs,
                "survey",
                String::new(),
                "问卷中没有任何题目".into(),
            );
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Form {
            id,
            version,
            title,
            min_seconds,
            questions,
            lists,
            index,
        })
    }

    /// A question by name.
    pub fn question(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The elements the form feeds, in the order they first appear.
    pub fn elements(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.questions.iter().filter_map(|q| q.element.as_ref()) {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        out
    }

    /// The lowest and highest choice score of the scored items: the scale
    /// the estimates are on (1–5 for mean scores, 0–100 for percent
    /// favourable).
    pub fn score_range(&self) -> Option<(f64, f64)> {
        let scores = self
            .questions
            .iter()
            .filter(|q| q.element.is_some())
            .filter_map(|q| match q.kind {
                Kind::SelectOne(l) => Some(&self.lists[l]),
                _ => None,
            });
        let mut range: Option<(f64, f64)> = None;
        for c in scores.flat_map(|l| &l.choices).filter_map(|c| c.score) {
            range = Some(range.map_or((c, c), |(lo, hi)| (lo.min(c), hi.max(c))));
        }
        range
    }

    /// Whether `text` can be the answer to question `q` (blank always
    /// can); else what is wrong, in words.
    pub fn check_answer(&self, q: usize, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Ok(());
        }
        let question = &self.questions[q];
        match &question.kind {
            Kind::SelectOne(l) => {
                if self.lists[*l].get(text).is_none() {
                    return Err(format!(
                        "题目 {} 的选项“{text}”不在选项列表 {} 中",
                        question.name, self.lists[*l].name
                    ));
                }
            }
            Kind::SelectMultiple(l) => {
                for t in text.split_whitespace() {
                    if self.lists[*l].get(t).is_none() {
                        return Err(format!(
                            "题目 {} 的选项“{t}”不在选项列表 {} 中",
                            question.name, self.lists[*l].name
                        ));
                    }
                }
            }
            Kind::Integer => {
                let ok = text
                    .strip_prefix('-')
                    .unwrap_or(text)
                    .chars()
                    .all(|c| c.is_ascii_digit())
                    && text.trim_start_matches('-').len() <= 15
                    && text != "-";
                if !ok {
                    return Err(format!("题目 {} 应为整数，而不是“{text}”", question.name));
                }
            }
            Kind::Decimal => {
                if !text.parse::<f64>().is_ok_and(|v| v.is_finite())
                    || text.chars().any(|c| c.is_alphabetic())
                {
                    return Err(format!("题目 {} 应为数字，而不是“{text}”", question.name));
                }
            }
            Kind::Text | Kind::Date | Kind::Note | Kind::BeginGroup | Kind::EndGroup => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        Sheet {
            name: name.into(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    #[test]
    fn a_form_reads_and_its_errors_name_cells() {
        let survey = sheet(
            "survey",
            &[
                &["type", "name", "label", "required", "relevant", "element"],
                &["select_one sex", "sex", "性别", "yes", "", ""],
                &["begin_group", "g", "", "", "${sex} = 'f'", ""],
                &[
                    "select_one safe5",
                    "q1",
                    "安全吗",
                    "yes",
                    "",
                    "safety_index",
                ],
                &["end_group", "", "", "", "", ""],
            ],
        );
        let choices = sheet(
            "choices",
            &[
                &["list_name", "name", "label", "score"],
                &["sex", "m", "男", ""],
                &["sex", "f", "女", ""],
                &["safe5", "1", "很安全", "100"],
                &["safe5", "9", "说不清", ""],
            ],
        );
        let settings = sheet("settings", &[&["form_id", "version"], &["s2024", "1"]]);
        let known = |e: &str| e == "safety_index";
        let f = Form::from_sheets(Some(&survey), Some(&choices), Some(&settings), &known).unwrap();
        assert_eq!(f.elements(), vec!["safety_index"]);
        assert_eq!(f.questions[f.question("q1").unwrap()].groups, vec![1]);
        assert_eq!(f.min_seconds, 60.0);

        let bad = sheet(
            "survey",
            &[
                &["type", "name", "label", "relevant", "element"],
                &["select_one safe6", "q1", "安全吗", "", ""],
                &["geopoint", "loc", "位置", "", ""],
                &["integer", "age", "年龄", "${nope} > 1", "safety_index"],
                &["text", "age", "again", "", ""],
            ],
        );
        let e = Form::from_sheets(Some(&bad), Some(&choices), Some(&settings), &known).unwrap_err();
        let all: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        for want in [
            "survey!A2: 未知的选项列表 \"safe6\"",
            "survey!A3: 不支持的题型“geopoint”",
            "survey!D4: relevant 引用了不存在的题目 ${nope}",
            "survey!E4: 只有单选题",
            "survey!B5: 题目名称“age”重复",
        ] {
            assert!(all.iter().any(|m| m.starts_with(want)), "{want}\n{all:#?}");
        }
    }

    #[test]
    fn columns_are_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27 * 26), "AAA");
    }
}

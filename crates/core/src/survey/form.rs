//! The questionnaire (survey.md §1): XLSForm's `survey`, `choices` and
//! `settings` sheets, read from plain text grids (the xlsx reader lives in
//! `pingan-input`), with pingan's `element` and `score` columns. Every
//! problem is named by sheet and cell (`survey!C7: …`).

mod read;

use super::expr::Expr;
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

impl Form {
    /// The form from its three sheets. `known_element` says which element
    /// codes exist (the framework's).
    pub fn from_sheets(
        survey: Option<&Sheet>,
        choices: Option<&Sheet>,
        settings: Option<&Sheet>,
        known_element: &dyn Fn(&str) -> bool,
    ) -> Result<Form, Vec<FormError>> {
        let Some(survey) = survey else {
            return Err(vec![FormError {
                sheet: "survey".into(),
                cell: String::new(),
                message: "缺少 survey 工作表".into(),
            }]);
        };
        let mut errs = read::Errors::default();
        let read::Settings {
            id,
            version,
            title,
            min_seconds,
        } = read::settings(settings, &mut errs);
        let lists = read::choices(choices, &mut errs);
        let Some((questions, index)) = read::survey(survey, &lists, known_element, &mut errs)
        else {
            return Err(errs.into_vec());
        };
        if !errs.is_empty() {
            return Err(errs.into_vec());
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

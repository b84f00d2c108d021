//! The questionnaire as the answering page needs it (JSON): each question
//! with its choices, the page it is on (a top-level group is a page), and
//! its conditions as the parsed trees `assets/survey.js` evaluates the
//! way the server does.

use super::expr::Expr;
use super::form::{Form, Kind};
use serde::Serialize;

#[derive(Serialize)]
pub struct ClientForm<'a> {
    pub id: &'a str,
    pub version: &'a str,
    pub title: &'a str,
    pub min_seconds: f64,
    pub pages: Vec<String>,
    pub questions: Vec<ClientQuestion<'a>>,
}

#[derive(Serialize)]
pub struct ClientChoice<'a> {
    pub name: &'a str,
    pub label: &'a str,
}

/// One condition of a question's relevance: its groups' (read with no
/// answer of their own) and its own (`.` is its answer).
#[derive(Serialize)]
pub struct Condition<'a> {
    pub expr: &'a Expr,
    pub own: bool,
}

#[derive(Serialize)]
pub struct ClientQuestion<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub hint: &'a str,
    /// select_one, select_multiple, integer, decimal, text, note or date.
    pub kind: &'static str,
    pub choices: Vec<ClientChoice<'a>>,
    pub required: bool,
    pub relevant: Vec<Condition<'a>>,
    pub constraint: Option<&'a Expr>,
    pub constraint_message: &'a str,
    pub page: usize,
}

impl Form {
    /// The form for the answering page; groups become pages (questions
    /// outside any group share a page with their neighbours).
    pub fn client(&self) -> ClientForm<'_> {
        let mut pages: Vec<String> = Vec::new();
        let mut key: Option<Option<usize>> = None;
        let mut questions = Vec::new();
        for (q, question) in self.questions.iter().enumerate() {
            let kind = match question.kind {
                Kind::SelectOne(_) => "select_one",
                Kind::SelectMultiple(_) => "select_multiple",
                Kind::Integer => "integer",
                Kind::Decimal => "decimal",
                Kind::Text => "text",
                Kind::Note => "note",
                Kind::Date => "date",
                Kind::BeginGroup | Kind::EndGroup => continue,
            };
            let top = question.groups.first().copied();
            if key != Some(top) {
                key = Some(top);
                pages.push(
                    top.map_or_else(|| self.title.clone(), |g| self.questions[g].label.clone()),
                );
            }
            let choices = match question.kind {
                Kind::SelectOne(l) | Kind::SelectMultiple(l) => self.lists[l]
                    .choices
                    .iter()
                    .map(|c| ClientChoice {
                        name: &c.name,
                        label: &c.label,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let relevant = question
                .groups
                .iter()
                .chain(std::iter::once(&q))
                .filter_map(|&g| {
                    self.questions[g]
                        .relevant
                        .as_ref()
                        .map(|expr| Condition { expr, own: g == q })
                })
                .collect();
            questions.push(ClientQuestion {
                name: &question.name,
                label: &question.label,
                hint: &question.hint,
                kind,
                choices,
                required: question.required,
                relevant,
                constraint: question.constraint.as_ref(),
                constraint_message: &question.constraint_message,
                page: pages.len() - 1,
            });
        }
        ClientForm {
            id: &self.id,
            version: &self.version,
            title: &self.title,
            min_seconds: self.min_seconds,
            pages,
            questions,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_form_has_a_page_per_group() {
        let fw = crate::default_framework();
        let f = crate::survey::default::form(&|e| fw.element_index(e).is_some()).unwrap();
        let c = f.client();
        assert_eq!(
            c.pages.first().map(String::as_str),
            Some(f.title.as_str()),
            "the intro note"
        );
        assert!(c.pages.contains(&"安全感".to_string()), "{:?}", c.pages);
        let elderly = c
            .questions
            .iter()
            .find(|q| q.name == "q_elderly_child")
            .unwrap();
        assert_eq!(
            elderly.relevant.len(),
            1,
            "shown only to those with dependants"
        );
        assert!(c.questions.iter().all(|q| q.kind != "begin_group"));
        assert_eq!(
            c.questions
                .iter()
                .find(|q| q.name == "sex")
                .unwrap()
                .choices
                .len(),
            2
        );
    }
}

//! The questionnaire that ships with the product (`frameworks/survey-2024/`,
//! one tab-separated file per XLSForm sheet, so that changes read as
//! diffs): the nine survey elements of the default framework in the
//! official five-point style, demographic questions for weighting and two
//! free-text questions. `pingan survey template` writes it as `.xlsx`.

use super::form::{Form, FormError, Sheet};

pub const SURVEY_TSV: &str = include_str!("../../../../frameworks/survey-2024/survey.tsv");
pub const CHOICES_TSV: &str = include_str!("../../../../frameworks/survey-2024/choices.tsv");
pub const SETTINGS_TSV: &str = include_str!("../../../../frameworks/survey-2024/settings.tsv");

fn sheet(name: &str, tsv: &str) -> Sheet {
    Sheet {
        name: name.to_string(),
        rows: tsv
            .lines()
            .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
            .collect(),
    }
}

/// The three sheets: survey, choices, settings.
pub fn sheets() -> [Sheet; 3] {
    [
        sheet("survey", SURVEY_TSV),
        sheet("choices", CHOICES_TSV),
        sheet("settings", SETTINGS_TSV),
    ]
}

/// The default questionnaire, checked against the framework's elements.
pub fn form(known_element: &dyn Fn(&str) -> bool) -> Result<Form, Vec<FormError>> {
    let [s, c, t] = sheets();
    Form::from_sheets(Some(&s), Some(&c), Some(&t), known_element)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_questionnaire_feeds_the_nine_survey_elements() {
        let fw = crate::default_framework();
        let f = super::form(&|e| fw.element_index(e).is_some()).unwrap();
        let mut got = f.elements();
        got.sort();
        let mut want: Vec<String> = fw
            .elements
            .iter()
            .filter(|e| e.department == "群众调查")
            .map(|e| e.code.clone())
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            (f.id.as_str(), f.version.as_str(), f.min_seconds),
            ("safety2024", "1", 60.0)
        );
        assert_eq!(f.score_range(), Some((1.0, 5.0)), "mean scores on 1–5");
        for q in ["sex", "age_group", "occupation", "residence", "problems"] {
            assert!(f.question(q).is_some(), "{q}");
        }
    }
}

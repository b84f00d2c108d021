//! What checking a framework found: errors that stop it from being used,
//! warnings an evaluation office must see, and the usable framework when
//! there is no error. Written by the compiler, read by `lint::check`'s
//! callers.

use super::Framework;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Issue {
    pub kind: &'static str,
    /// Where in the framework: an indicator code and key, `framework`, …
    pub path: String,
    pub message: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    pub kind: &'static str,
    pub message: String,
    /// The codes the warning is about (provisional indicators, unused elements).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LintReport {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Warning>,
    pub public_opinion_share: Option<f64>,
    /// The usable framework, present exactly when there are no errors.
    #[serde(skip)]
    pub framework: Option<Framework>,
}

impl LintReport {
    /// `file:line: message` lines, for the terminal and for input errors.
    pub fn error_lines(&self, file: &str) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| match e.line {
                Some(l) => format!("{file}:{l}: {}", e.message),
                None => format!("{file}: {}", e.message),
            })
            .collect()
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    src.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

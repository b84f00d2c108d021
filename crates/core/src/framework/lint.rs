//! `pingan framework check`: errors that stop a framework from being used
//! and warnings an evaluation office must see (scoring.md §1).

use super::Framework;
use super::compile::Compiler;
use super::doc::Doc;
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

/// Parse and check a framework file.
pub fn check(src: &str) -> LintReport {
    let doc: Doc = match toml::from_str(src) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| line_of(src, s.start));
            // Without the input, the error's text names the key path
            // (`in dimension.weight`) instead of drawing the line.
            let mut bare = e.clone();
            bare.set_input(None);
            let message = bare
                .to_string()
                .trim()
                .replace("\nin `", "（键 `")
                .replace('\n', "；");
            let message = if message.contains("（键 `") {
                format!("{message}）")
            } else {
                message
            };
            return LintReport {
                errors: vec![Issue {
                    kind: "parse",
                    path: String::new(),
                    message: format!("无法解析指标体系文件：{message}"),
                    line,
                }],
                warnings: Vec::new(),
                public_opinion_share: None,
                framework: None,
            };
        }
    };
    Compiler::new(src).run(doc)
}

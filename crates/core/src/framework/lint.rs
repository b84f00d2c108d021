//! `pingan framework check`: errors that stop a framework from being used
//! and warnings an evaluation office must see (scoring.md §1).

use super::compile::Compiler;
use super::doc::Doc;
use super::issues::{Issue, LintReport, line_of};

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

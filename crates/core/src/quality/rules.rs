//! The rules file (三审三查): validation rules `left operator right` over
//! element expressions, value ranges, timeliness and the anomaly settings.
//! Every error names its line.

use super::Params;
use crate::formula::{self, Expr};
use crate::framework::Framework;
use serde::Deserialize;
use toml::Spanned;

pub const DEFAULT_RULES_TOML: &str = include_str!("../../../../frameworks/pingan-2024.rules.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// Both sides reported, or neither (DHIS2's compulsory pair).
    CompulsoryPair,
}

impl Operator {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "==" => Operator::Eq,
            "!=" => Operator::Ne,
            ">" => Operator::Gt,
            ">=" => Operator::Ge,
            "<" => Operator::Lt,
            "<=" => Operator::Le,
            "compulsory_pair" => Operator::CompulsoryPair,
            _ => return None,
        })
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::CompulsoryPair => "compulsory_pair",
        }
    }

    /// Whether `a op b` holds; equality within 1e-9 so 0.1 + 0.2 == 0.3.
    pub fn holds(self, a: f64, b: f64) -> bool {
        let eq = (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        match self {
            Operator::Eq => eq,
            Operator::Ne => !eq,
            Operator::Gt => a > b && !eq,
            Operator::Ge => a > b || eq,
            Operator::Lt => a < b && !eq,
            Operator::Le => a < b || eq,
            Operator::CompulsoryPair => true,
        }
    }
}

/// What to do when an element of a rule has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Skip the rule if any element is missing (the default).
    SkipIfAny,
    /// Skip only if every element is missing; the missing ones count as 0.
    SkipIfAll,
    /// Never skip; missing elements count as 0.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn code(self) -> &'static str {
        match self {
            Importance::High => "high",
            Importance::Medium => "medium",
            Importance::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Importance::High => "高",
            Importance::Medium => "中",
            Importance::Low => "低",
        }
    }
}

/// Which periods a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Periods with a reported value of one of the rule's elements.
    Reported,
    /// Years, from the rolled-up values (scoring.md §3) — for checks that
    /// only make sense over a whole year.
    Year,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub code: String,
    pub name: String,
    pub left: Expr,
    pub left_src: String,
    pub operator: Operator,
    pub right: Expr,
    pub right_src: String,
    pub missing: Missing,
    pub importance: Importance,
    pub applies: Applies,
    pub line: usize,
}

impl Rule {
    /// The element a flag is filed under: the first one the left side reads.
    pub fn principal(&self) -> Option<usize> {
        self.left
            .elements()
            .first()
            .or(self.right.elements().first())
            .copied()
    }
}

#[derive(Clone, Debug)]
pub struct Range {
    pub code: String,
    pub name: String,
    pub elements: Vec<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub importance: Importance,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub ranges: Vec<Range>,
    /// A period's values are due this many days after it ends.
    pub deadline_days: u32,
    pub params: Params,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    timeliness: Option<Spanned<TimelinessDoc>>,
    #[serde(default)]
    anomaly: Option<Spanned<Params>>,
    #[serde(default)]
    range: Vec<Spanned<RangeDoc>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelinessDoc {
    deadline_days: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ElementsDoc {
    All(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeDoc {
    code: String,
    name: String,
    elements: ElementsDoc,
    min: Option<f64>,
    max: Option<f64>,
    importance: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    code: String,
    name: String,
    left: String,
    operator: String,
    right: String,
    missing: Option<String>,
    importance: Option<String>,
    period: Option<String>,
}

/// The line `[anomaly]`'s `key` is written on (toml_edit keeps each key's
/// span), or the table's own line when it is not written there (a default
/// out of range cannot be).
fn key_line(src: &str, table: std::ops::Range<usize>, key: &str) -> usize {
    toml_edit::Document::parse(src)
        .ok()
        .and_then(|doc| {
            let (k, _) = doc.get("anomaly")?.as_table_like()?.get_key_value(key)?;
            k.span()
        })
        .map_or_else(|| line_of(src, table.start), |at| line_of(src, at.start))
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn importance(s: Option<&str>) -> Result<Importance, String> {
    match s.unwrap_or("medium") {
        "high" => Ok(Importance::High),
        "medium" => Ok(Importance::Medium),
        "low" => Ok(Importance::Low),
        o => Err(format!("重要程度“{o}”无效：应为 high、medium 或 low")),
    }
}

impl RuleSet {
    /// (part, whole): the rules `a <= b` between two single elements (resolved
    /// disputes of disputes), which the folding and the share test read.
    pub fn parts(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.rules
            .iter()
            .filter(|r| r.operator == Operator::Le)
            .filter_map(|r| match (&r.left, &r.right) {
                (Expr::Elem(a), Expr::Elem(b)) if a != b => Some((*a, *b)),
                _ => None,
            })
    }

    /// Parse a rules file against `fw`'s elements. All errors are returned,
    /// each as `file:line: message`.
    pub fn parse(file: &str, src: &str, fw: &Framework) -> Result<RuleSet, Vec<RuleError>> {
        let err = |line: usize, message: String| RuleError {
            file: file.to_string(),
            line,
            message,
        };
        let doc: Doc = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s.start)).unwrap_or(1);
            let mut bare = e.clone();
            bare.set_input(None);
            let msg = bare.to_string().trim().replace('\n', "；");
            vec![err(line, format!("规则文件格式错误：{msg}"))]
        })?;
        let mut errors = Vec::new();
        let lookup = |code: &str| fw.element_index(code);
        let mut params = Params::default();
        if let Some(a) = doc.anomaly {
            let span = a.span();
            params = a.into_inner();
            if let Err((key, m)) = params.validate() {
                errors.push(err(key_line(src, span, key), m));
            }
        }
        let deadline_days = doc
            .timeliness
            .map(|t| t.into_inner().deadline_days)
            .unwrap_or(15);
        let mut codes = std::collections::HashSet::new();
        let mut ranges = Vec::new();
        for r in doc.range {
            let line = line_of(src, r.span().start);
            let r = r.into_inner();
            if !codes.insert(r.code.clone()) {
                errors.push(err(line, format!("规则代码“{}”重复", r.code)));
            }
            let elements = match r.elements {
                ElementsDoc::All(s) if s == "*" => (0..fw.elements.len()).collect(),
                ElementsDoc::All(s) => {
                    errors.push(err(
                        line,
                        format!("elements 应为 \"*\"（全部数据项）或数据项代码列表，而不是“{s}”"),
                    ));
                    Vec::new()
                }
                ElementsDoc::List(list) => {
                    let mut out = Vec::new();
                    for code in list {
                        match lookup(&code) {
                            Some(i) => out.push(i),
                            None => errors.push(err(
                                line,
                                format!("范围规则 {} 引用了未知的数据项“{code}”", r.code),
                            )),
                        }
                    }
                    out
                }
            };
            if r.min.is_none() && r.max.is_none() {
                errors.push(err(
                    line,
                    format!("范围规则 {} 至少要有 min 或 max", r.code),
                ));
            }
            if let (Some(a), Some(b)) = (r.min, r.max)
                && a > b
            {
                errors.push(err(line, format!("范围规则 {} 的 min 大于 max", r.code)));
            }
            let imp = importance(r.importance.as_deref()).unwrap_or_else(|m| {
                errors.push(err(line, m));
                Importance::Medium
            });
            ranges.push(Range {
                code: r.code,
                name: r.name,
                elements,
                min: r.min,
                max: r.max,
                importance: imp,
                line,
            });
        }
        let mut rules = Vec::new();
        for r in doc.rule {
            let line = line_of(src, r.span().start);
            let r = r.into_inner();
            if !codes.insert(r.code.clone()) {
                errors.push(err(line, format!("规则代码“{}”重复", r.code)));
            }
            let mut side = |label: &str, text: &str| match formula::parse(text, &lookup) {
                Ok(e) if e.prev_depth() > 0 => {
                    errors.push(err(
                        line,
                        format!(
                            "规则 {} 的{label}不能使用 prev()：校验只看同一期的数据",
                            r.code
                        ),
                    ));
                    None
                }
                Ok(e) => Some(e),
                Err(e) => {
                    errors.push(err(line, format!("规则 {} 的{label}“{text}”：{e}", r.code)));
                    None
                }
            };
            let left = side("左侧", &r.left);
            let right = side("右侧", &r.right);
            let operator = Operator::parse(&r.operator);
            if operator.is_none() {
                errors.push(err(
                    line,
                    format!(
                        "规则 {} 的运算符“{}”无效：应为 == != > >= < <= 或 compulsory_pair",
                        r.code, r.operator
                    ),
                ));
            }
            let missing = match r.missing.as_deref().unwrap_or("skip_if_any") {
                "skip_if_any" => Some(Missing::SkipIfAny),
                "skip_if_all" => Some(Missing::SkipIfAll),
                "never" => Some(Missing::Never),
                o => {
                    errors.push(err(
                        line,
                        format!("缺失值策略“{o}”无效：应为 skip_if_any、skip_if_all 或 never"),
                    ));
                    None
                }
            };
            let applies = match r.period.as_deref().unwrap_or("reported") {
                "reported" => Some(Applies::Reported),
                "year" => Some(Applies::Year),
                o => {
                    errors.push(err(
                        line,
                        format!(
                            "period“{o}”无效：应为 reported（有报送的期间）或 year（年度汇总）"
                        ),
                    ));
                    None
                }
            };
            let imp = importance(r.importance.as_deref()).unwrap_or_else(|m| {
                errors.push(err(line, m));
                Importance::Medium
            });
            if let (Some(left), Some(right), Some(operator), Some(missing), Some(applies)) =
                (left, right, operator, missing, applies)
            {
                rules.push(Rule {
                    code: r.code,
                    name: r.name,
                    left,
                    left_src: r.left,
                    operator,
                    right,
                    right_src: r.right,
                    missing,
                    importance: imp,
                    applies,
                    line,
                });
            }
        }
        if errors.is_empty() {
            Ok(RuleSet {
                rules,
                ranges,
                deadline_days,
                params,
            })
        } else {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }

    /// The rules for `fw` when no file is given: the shipped defaults when
    /// every element they name exists, otherwise only "no element is negative".
    pub fn default_for(fw: &Framework) -> RuleSet {
        RuleSet::parse("pingan-2024.rules.toml", DEFAULT_RULES_TOML, fw).unwrap_or_else(|_| {
            RuleSet {
                rules: Vec::new(),
                ranges: vec![Range {
                    code: "N01".into(),
                    name: "各数据项不得为负数".into(),
                    elements: (0..fw.elements.len()).collect(),
                    min: Some(0.0),
                    max: None,
                    importance: Importance::High,
                    line: 0,
                }],
                deadline_days: 15,
                params: Params::default(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_framework;

    #[test]
    fn the_shipped_rules_parse_against_the_default_framework() {
        let fw = default_framework();
        let rs = RuleSet::parse("r.toml", DEFAULT_RULES_TOML, &fw).unwrap();
        assert!(rs.rules.len() >= 20, "{}", rs.rules.len());
        assert!(
            rs.ranges
                .iter()
                .any(|r| r.elements.len() == fw.elements.len())
        );
        assert!(rs.rules.iter().any(|r| r.applies == Applies::Year));
    }

    #[test]
    fn errors_name_the_line() {
        let fw = default_framework();
        let src = "[[rule]]\ncode = \"A\"\nname = \"x\"\nleft = \"nope\"\noperator = \"<=\"\nright = \"disputes\"\n\n[[rule]]\ncode = \"B\"\nname = \"y\"\nleft = \"disputes\"\noperator = \"=<\"\nright = \"1\"\n";
        let errs = RuleSet::parse("r.toml", src, &fw).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 1);
        assert!(errs[0].to_string().starts_with("r.toml:1: "), "{}", errs[0]);
        assert!(errs[0].message.contains("nope"));
        assert_eq!(errs[1].line, 8);
        assert!(errs[1].message.contains("=<"));
        let errs = RuleSet::parse("r.toml", "[[rule]\n", &fw).unwrap_err();
        assert_eq!(errs[0].line, 1);
        let errs = RuleSet::parse("r.toml", "\n\n[anomaly]\nz = -1\n", &fw).unwrap_err();
        assert_eq!(errs[0].line, 4, "{errs:?}");
        // The key's own line, past the others and a comment naming it.
        let src = "[anomaly]\n# surprise = 5 is the default\nz = 3\n  surprise   = -1 # no\n\n[timeliness]\ndeadline_days = 15\n";
        let errs = RuleSet::parse("r.toml", src, &fw).unwrap_err();
        assert_eq!(errs[0].line, 4, "{errs:?}");
        assert!(errs[0].message.contains("surprise"), "{errs:?}");
        let errs = RuleSet::parse("r.toml", "[anomaly]\nrun_len = 1\n", &fw).unwrap_err();
        assert_eq!(errs[0].line, 2, "{errs:?}");
    }

    #[test]
    fn operators() {
        assert!(Operator::Le.holds(0.1 + 0.2, 0.3));
        assert!(Operator::Eq.holds(0.1 + 0.2, 0.3));
        assert!(!Operator::Lt.holds(0.1 + 0.2, 0.3));
        assert!(Operator::Gt.holds(2.0, 1.0));
        assert!(Operator::Ne.holds(2.0, 1.0));
    }

    proptest::proptest! {
        /// Any text gives rules or line-numbered errors, never a panic.
        #[test]
        fn parsing_never_panics(src in "\\PC{0,200}") {
            let fw = default_framework();
            if let Err(errs) = RuleSet::parse("r.toml", &src, &fw) {
                proptest::prop_assert!(!errs.is_empty());
                proptest::prop_assert!(errs.iter().all(|e| e.line >= 1));
            }
        }
    }
}

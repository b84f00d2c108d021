//! The XLSForm expression subset of `relevant` and `constraint`
//! (survey.md §1): `${name}`, `.`, numbers, `'strings'`, `= != < <= > >=`,
//! `and or not()`, `+ - * div`, `selected(${x}, 'c')`, `count-selected(${x})`.
//! Semantics are XPath 1.0's, as ODK evaluates them: answers are strings
//! (blank = ""), a comparison with a number compares numbers (a blank or
//! non-numeric answer is NaN, and every comparison with NaN is false
//! except `!=`), `< <= > >=` always compare numbers, and the result is
//! taken as a boolean. The browser evaluates the same tree, sent as JSON
//! (`crates/server/assets/survey.js`, compared case by case in
//! `crates/server/tests/expr_parity.rs`).

use std::fmt;

/// Serialized (serde's external tagging) as the browser evaluates it:
/// `{"num":3}`, `{"ref":"q1"}`, `"current"`, `{"bin":["and",a,b]}` …
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Num(f64),
    Str(String),
    /// `${name}`
    Ref(String),
    /// `.`: the question's own answer.
    Current,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Selected(Box<Expr>, Box<Expr>),
    CountSelected(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

/// Why an expression cannot be read, at a character offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 个字符处：{}", self.at + 1, self.message)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ref(String),
    Dot,
    Name(String),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

/// Expressions longer than this many tokens are refused: a tree that deep
/// (`a + a + …`) would overflow the stack when evaluated or dropped.
const MAX_TOKENS: usize = 2000;
/// Parentheses, functions and signs nested deeper than this are refused.
const MAX_DEPTH: usize = 64;

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    // Offsets are in characters, as messages count them (not bytes).
    let chars: Vec<(usize, char)> = src.chars().enumerate().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, m: String| ExprError { at, message: m };
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).map(|x| x.1);
        match c {
            '$' if next == Some('{') => {
                let start = i + 2;
                let mut j = start;
                while j < chars.len() && chars[j].1 != '}' {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(err(at, "“${” 缺少对应的 “}”".into()));
                }
                let name: String = chars[start..j].iter().map(|x| x.1).collect();
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(err(at, "“${}” 中缺少题目名称".into()));
                }
                out.push((at, Tok::Ref(name)));
                i = j + 1;
            }
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].1 != c {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(err(at, "字符串缺少结束引号".into()));
                }
                out.push((at, Tok::Str(chars[i + 1..j].iter().map(|x| x.1).collect())));
                i = j + 1;
            }
            '0'..='9' => {
                let mut j = i;
                while j < chars.len() && (chars[j].1.is_ascii_digit() || chars[j].1 == '.') {
                    j += 1;
                }
                let text: String = chars[i..j].iter().map(|x| x.1).collect();
                let v: f64 = text
                    .parse()
                    .map_err(|_| err(at, format!("“{text}”不是数字")))?;
                out.push((at, Tok::Num(v)));
                i = j;
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].1.is_ascii_digit() {
                    j += 1;
                }
                let text: String = chars[i..j].iter().map(|x| x.1).collect();
                let v: f64 = format!("0{text}")
                    .parse()
                    .map_err(|_| err(at, format!("“{text}”不是数字")))?;
                out.push((at, Tok::Num(v)));
                i = j;
            }
            '.' => {
                out.push((at, Tok::Dot));
                i += 1;
            }
            '(' => {
                out.push((at, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((at, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((at, Tok::Comma));
                i += 1;
            }
            '=' => {
                out.push((at, Tok::Op("=")));
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push((at, Tok::Op("!=")));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, next == Some('=')) {
                    ('<', true) => "<=",
                    ('<', false) => "<",
                    ('>', true) => ">=",
                    _ => ">",
                };
                out.push((at, Tok::Op(op)));
                i += if next == Some('=') { 2 } else { 1 };
            }
            '+' | '-' | '*' => {
                out.push((
                    at,
                    Tok::Op(match c {
                        '+' => "+",
                        '-' => "-",
                        _ => "*",
                    }),
                ));
                i += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].1.is_alphanumeric() || chars[j].1 == '_' || chars[j].1 == '-')
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().map(|x| x.1).collect();
                out.push((at, Tok::Name(word)));
                i = j;
            }
            other => return Err(err(at, format!("无法识别的字符“{other}”"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.0)
    }
    fn err(&self, m: impl Into<String>) -> ExprError {
        ExprError {
            at: self.at(),
            message: m.into(),
        }
    }
    /// The binary operator at the cursor, if it is one of `ops`.
    fn op_in(&self, ops: &[(&str, Op)]) -> Option<Op> {
        let word = match self.peek()? {
            Tok::Op(o) => *o,
            Tok::Name(n) => n.as_str(),
            _ => return None,
        };
        ops.iter().find(|(w, _)| *w == word).map(|(_, o)| *o)
    }

    fn level(&mut self, n: usize) -> Result<Expr, ExprError> {
        const LEVELS: [&[(&str, Op)]; 5] = [
            &[("or", Op::Or)],
            &[("and", Op::And)],
            &[("=", Op::Eq), ("!=", Op::Ne)],
            &[("<", Op::Lt), ("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge)],
            &[("+", Op::Add), ("-", Op::Sub)],
        ];
        if n == LEVELS.len() {
            return self.multiplicative();
        }
        let mut left = self.level(n + 1)?;
        while let Some(op) = self.op_in(LEVELS[n]) {
            self.pos += 1;
            let right = self.level(n + 1)?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.unary()?;
        while let Some(op) = self.op_in(&[("*", Op::Mul), ("div", Op::Div)]) {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("表达式嵌套过深"));
        }
        let e = if self.peek() == Some(&Tok::Op("-")) {
            self.pos += 1;
            self.unary().map(|e| Expr::Neg(Box::new(e)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        e
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), ExprError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("此处应为{what}")))
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.err("表达式不完整"));
        };
        let at = self.at();
        self.pos += 1;
        match t {
            Tok::Num(v) => Ok(Expr::Num(v)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Ref(r) => Ok(Expr::Ref(r)),
            Tok::Dot => Ok(Expr::Current),
            Tok::LParen => {
                let e = self.level(0)?;
                self.expect(Tok::RParen, "“)”")?;
                Ok(e)
            }
            Tok::Name(f) => {
                self.expect(Tok::LParen, &format!("“{f}(”"))?;
                let e = match f.as_str() {
                    "not" => Expr::Not(Box::new(self.level(0)?)),
                    "count-selected" => Expr::CountSelected(Box::new(self.level(0)?)),
                    "selected" => {
                        let a = self.level(0)?;
                        self.expect(Tok::Comma, "“,”")?;
                        let b = self.level(0)?;
                        Expr::Selected(Box::new(a), Box::new(b))
                    }
                    other => {
                        return Err(ExprError {
                            at,
                            message: format!(
                                "不支持的函数“{other}”：可用 not()、selected()、count-selected()"
                            ),
                        });
                    }
                };
                self.expect(Tok::RParen, "“)”")?;
                Ok(e)
            }
            Tok::RParen | Tok::Comma | Tok::Op(_) => {
                self.pos -= 1;
                Err(self.err("此处应为数值、题目引用或“(”"))
            }
        }
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    if toks.len() > MAX_TOKENS {
        return Err(ExprError {
            at: toks[MAX_TOKENS].0,
            message: format!("表达式过长：最多 {MAX_TOKENS} 个记号"),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.chars().count(),
        depth: 0,
    };
    let e = p.level(0)?;
    if p.pos < p.toks.len() {
        return Err(p.err("表达式在此处多出内容"));
    }
    Ok(e)
}

impl Expr {
    /// Every `${name}` the expression reads.
    pub fn refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Ref(r) = e {
                out.push(r.as_str());
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Not(a) | Expr::Neg(a) | Expr::CountSelected(a) => a.walk(f),
            Expr::Bin(_, a, b) | Expr::Selected(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            _ => {}
        }
    }
}

/// A value during evaluation (answers borrowed, not copied: validity runs
/// every expression of every response).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Num(f64),
    Str(std::borrow::Cow<'a, str>),
    Bool(bool),
}

impl Value<'_> {
    pub fn number(&self) -> f64 {
        match self {
            Value::Num(v) => *v,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Str(s) => str_number(s),
        }
    }
    pub fn boolean(&self) -> bool {
        match self {
            Value::Num(v) => *v != 0.0 && !v.is_nan(),
            Value::Bool(b) => *b,
            Value::Str(s) => !s.is_empty(),
        }
    }
    fn string(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            Value::Bool(b) => b.to_string().into(),
            Value::Num(v) => num_string(*v).into(),
        }
    }
}

/// XPath's number(): optional whitespace, an optional minus, digits with
/// an optional point; anything else (blank included) is NaN.
fn str_number(s: &str) -> f64 {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let ok = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.chars().filter(|c| *c == '.').count() <= 1
        && body != ".";
    if !ok {
        return f64::NAN;
    }
    t.parse().unwrap_or(f64::NAN)
}

fn num_string(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The answers an expression reads: by question name, and the question's
/// own (`.`).
pub trait Answers {
    fn answer(&self, name: &str) -> &str;
}

impl Expr {
    pub fn eval<'a>(&'a self, answers: &'a dyn Answers, current: &'a str) -> Value<'a> {
        use std::borrow::Cow::Borrowed;
        match self {
            Expr::Num(v) => Value::Num(*v),
            Expr::Str(s) => Value::Str(Borrowed(s)),
            Expr::Ref(r) => Value::Str(Borrowed(answers.answer(r))),
            Expr::Current => Value::Str(Borrowed(current)),
            Expr::Not(a) => Value::Bool(!a.eval(answers, current).boolean()),
            Expr::Neg(a) => Value::Num(-a.eval(answers, current).number()),
            Expr::CountSelected(a) => {
                let v = a.eval(answers, current);
                Value::Num(v.string().split_whitespace().count() as f64)
            }
            Expr::Selected(a, b) => {
                let (list, c) = (a.eval(answers, current), b.eval(answers, current));
                let c = c.string();
                let c = c.trim();
                Value::Bool(list.string().split_whitespace().any(|x| x == c))
            }
            Expr::Bin(op, a, b) => {
                // `and`/`or` decide on the left when they can, as XPath does.
                if *op == Op::And {
                    return Value::Bool(
                        a.eval(answers, current).boolean() && b.eval(answers, current).boolean(),
                    );
                }
                if *op == Op::Or {
                    return Value::Bool(
                        a.eval(answers, current).boolean() || b.eval(answers, current).boolean(),
                    );
                }
                let (x, y) = (a.eval(answers, current), b.eval(answers, current));
                match op {
                    Op::Eq | Op::Ne => {
                        let same = equal(&x, &y);
                        Value::Bool(if *op == Op::Eq { same } else { !same })
                    }
                    Op::Lt => Value::Bool(x.number() < y.number()),
                    Op::Le => Value::Bool(x.number() <= y.number()),
                    Op::Gt => Value::Bool(x.number() > y.number()),
                    Op::Ge => Value::Bool(x.number() >= y.number()),
                    Op::Add => Value::Num(x.number() + y.number()),
                    Op::Sub => Value::Num(x.number() - y.number()),
                    Op::Mul => Value::Num(x.number() * y.number()),
                    Op::Div => Value::Num(x.number() / y.number()),
                    Op::And | Op::Or => unreachable!("handled above"),
                }
            }
        }
    }

    /// The expression taken as a condition.
    pub fn holds(&self, answers: &dyn Answers, current: &str) -> bool {
        self.eval(answers, current).boolean()
    }
}

/// XPath `=`: booleans compare as booleans, else numbers when either side
/// is a number (NaN equals nothing), else strings.
fn equal(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::Bool(_), _) | (_, Value::Bool(_)) => x.boolean() == y.boolean(),
        (Value::Num(_), _) | (_, Value::Num(_)) => x.number() == y.number(),
        _ => x.string() == y.string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct A(HashMap<&'static str, &'static str>);
    impl Answers for A {
        fn answer(&self, name: &str) -> &str {
            self.0.get(name).copied().unwrap_or("")
        }
    }

    fn holds(src: &str, answers: &[(&'static str, &'static str)], current: &str) -> bool {
        parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .holds(&A(answers.iter().copied().collect()), current)
    }

    #[test]
    fn xlsform_conditions() {
        let a = [("age", "34"), ("sex", "f"), ("why", "a c"), ("blank", "")];
        assert!(holds("${age} >= 16 and ${age} <= 100", &a, ""));
        assert!(holds("${sex} = 'f'", &a, ""));
        assert!(holds("${sex} != 'm'", &a, ""));
        assert!(holds(
            "selected(${why}, 'c') and not(selected(${why}, 'b'))",
            &a,
            ""
        ));
        assert!(holds("count-selected(${why}) = 2", &a, ""));
        assert!(holds(". > 3 and . < 10", &a, "5"));
        assert!(holds("(${age} + 6) div 2 = 20", &a, ""));
        assert!(holds("${age} * 2 - 8 = 60", &a, ""));
        assert!(holds("-${age} < 0", &a, ""));
        // A blank answer: equal to '', not a number, != anything numeric.
        assert!(holds("${blank} = ''", &a, ""));
        assert!(!holds("${blank} > 0", &a, ""));
        assert!(!holds("${blank} = 0", &a, ""));
        assert!(holds("${blank} != 0", &a, ""));
        assert!(holds("${age} = 34.0", &a, ""), "numbers compare as numbers");
        assert!(holds("${sex} = \"f\" or 1 div 0 > 1", &a, ""));
    }

    #[test]
    fn precedence_is_xpaths() {
        // or < and < equality < relational < additive < multiplicative
        assert!(holds("1 = 1 or 1 = 2 and 1 = 2", &[], ""));
        assert!(holds("2 + 3 * 4 = 14", &[], ""));
        assert!(holds("1 < 2 = 1", &[], ""), "(1 < 2) = 1: true = true");
    }

    #[test]
    fn deep_or_long_expressions_are_refused_not_overflowed() {
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).unwrap_err().message.contains("嵌套过深"));
        let long = vec!["1"; 50_000].join("+");
        assert!(parse(&long).unwrap_err().message.contains("过长"));
        assert!(parse(&vec!["1"; 500].join("+")).is_ok());
        // Offsets count characters: the unclosed string starts at the 7th.
        let e = parse("${问题}='是").unwrap_err();
        assert_eq!(e.at, 6, "{e}");
        assert_eq!(e.to_string(), "第 7 个字符处：字符串缺少结束引号");
    }

    #[test]
    fn errors_say_where() {
        let e = parse("${age} >").unwrap_err();
        assert_eq!(e.at, 8);
        assert!(
            parse("foo(${x})")
                .unwrap_err()
                .message
                .contains("不支持的函数")
        );
        assert!(parse("'open").is_err());
        assert!(parse("${}").is_err());
        assert!(parse("1 1").is_err());
        assert!(parse("# 1").is_err());
        assert_eq!(parse("${a} = 1 and ${b}").unwrap().refs(), vec!["a", "b"]);
    }

    proptest::proptest! {
        /// Whatever is typed into relevant or constraint: an error, never a panic.
        #[test]
        fn any_text_parses_or_fails_cleanly(src in "\\PC{0,60}") {
            let _ = parse(&src);
        }

        /// Expression-like text evaluates without panicking, whatever the answers.
        #[test]
        fn expression_like_text_evaluates(src in "([.()0-9 '=<>!+*-]|\\$\\{a\\}|\\$\\{b\\}|and|or|div|not\\(|selected\\(|count-selected\\(|,){0,25}",
                                          a in "\\PC{0,8}", b in "[0-9. -]{0,6}") {
            if let Ok(e) = parse(&src) {
                let answers = A([("a", &*Box::leak(a.into_boxed_str())), ("b", &*Box::leak(b.into_boxed_str()))].into_iter().collect());
                let _ = e.holds(&answers, "3");
            }
        }
    }
}

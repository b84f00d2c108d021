//! Indicator formulas (scoring.md §2): a small recursive-descent parser.
//! The grammar is tiny and must evaluate in exactly the order written
//! (IEEE-754, left to right), which is easier to guarantee here than
//! through a general expression crate.

use crate::period::Period;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    Elem(usize),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Min(Box<Expr>, Box<Expr>),
    Max(Box<Expr>, Box<Expr>),
    Abs(Box<Expr>),
    Prev(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormulaError {
    /// `pos` is a 0-based character offset into the formula.
    Syntax {
        pos: usize,
        message: String,
    },
    UnknownElements(Vec<String>),
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormulaError::Syntax { pos, message } => {
                write!(f, "公式第 {} 个字符处：{message}", pos + 1)
            }
            FormulaError::UnknownElements(names) => {
                write!(f, "公式引用了未定义的数据项：{}", names.join("、"))
            }
        }
    }
}

impl std::error::Error for FormulaError {}

/// Nesting beyond this is refused so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;
/// Formulas longer than this many tokens are refused.
const MAX_TOKENS: usize = 2000;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn tokenize(src: &str) -> Result<Vec<(usize, Tok)>, FormulaError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                let frac = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if i == frac {
                    return Err(FormulaError::Syntax {
                        pos: start,
                        message: "小数点后缺少数字".into(),
                    });
                }
            }
            let text: String = chars[start..i].iter().collect();
            let v: f64 = text.parse().map_err(|_| FormulaError::Syntax {
                pos: start,
                message: format!("“{text}”不是数字"),
            })?;
            out.push((start, Tok::Num(v)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((start, Tok::Ident(chars[start..i].iter().collect())));
        } else if "+-*/(),".contains(c) {
            out.push((i, Tok::Op(c)));
            i += 1;
        } else {
            let hint = match c {
                '×' => "（乘号请写 *）",
                '÷' => "（除号请写 /）",
                '−' | '—' | '–' => "（减号请写 -）",
                '（' | '）' => "（请使用英文括号）",
                _ => "",
            };
            return Err(FormulaError::Syntax {
                pos: i,
                message: format!("不允许的字符“{c}”{hint}"),
            });
        }
    }
    Ok(out)
}

struct Parser<'a, F> {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    lookup: &'a F,
    unknown: Vec<String>,
    depth: usize,
}

impl<F: Fn(&str) -> Option<usize>> Parser<'_, F> {
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, FormulaError> {
        Err(FormulaError::Syntax {
            pos: self.pos(),
            message: message.into(),
        })
    }

    fn peek_op(&self) -> Option<char> {
        match self.toks.get(self.at) {
            Some((_, Tok::Op(c))) => Some(*c),
            _ => None,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), FormulaError> {
        if self.peek_op() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            self.err(format!("此处应为“{c}”"))
        }
    }

    fn expr(&mut self) -> Result<Expr, FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("公式嵌套过深");
        }
        let mut lhs = self.term()?;
        while let Some(c @ ('+' | '-')) = self.peek_op() {
            self.at += 1;
            let rhs = self.term()?;
            let op = if c == '+' { BinOp::Add } else { BinOp::Sub };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut lhs = self.unary()?;
        while let Some(c @ ('*' | '/')) = self.peek_op() {
            self.at += 1;
            let rhs = self.unary()?;
            let op = if c == '*' { BinOp::Mul } else { BinOp::Div };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if self.peek_op() == Some('-') {
            self.at += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.err("公式嵌套过深");
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.atom()
    }

    fn args(&mut self, n: usize, name: &str) -> Result<Vec<Expr>, FormulaError> {
        self.expect('(')?;
        let mut args = vec![self.expr()?];
        while self.peek_op() == Some(',') {
            self.at += 1;
            args.push(self.expr()?);
        }
        if args.len() != n {
            return self.err(format!(
                "函数 {name} 需要 {n} 个参数，实际 {} 个",
                args.len()
            ));
        }
        self.expect(')')?;
        Ok(args)
    }

    fn atom(&mut self) -> Result<Expr, FormulaError> {
        let Some((_, tok)) = self.toks.get(self.at).cloned() else {
            return self.err("公式不完整");
        };
        match tok {
            Tok::Num(v) => {
                self.at += 1;
                Ok(Expr::Num(v))
            }
            Tok::Op('(') => {
                self.at += 1;
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Tok::Op(c) => self.err(format!("此处不应出现“{c}”")),
            Tok::Ident(name) => {
                self.at += 1;
                if self.peek_op() == Some('(') {
                    let b = |e: Expr| Box::new(e);
                    return match name.as_str() {
                        "min" | "max" => {
                            let mut a = self.args(2, &name)?.into_iter();
                            let (x, y) = (a.next().unwrap(), a.next().unwrap());
                            Ok(if name == "min" {
                                Expr::Min(b(x), b(y))
                            } else {
                                Expr::Max(b(x), b(y))
                            })
                        }
                        "abs" => Ok(Expr::Abs(b(self.args(1, &name)?.remove(0)))),
                        "prev" => Ok(Expr::Prev(b(self.args(1, &name)?.remove(0)))),
                        _ => {
                            self.at -= 1;
                            self.err(format!("未知函数“{name}”：可用 min、max、abs、prev"))
                        }
                    };
                }
                match (self.lookup)(&name) {
                    Some(i) => Ok(Expr::Elem(i)),
                    None => {
                        if !self.unknown.contains(&name) {
                            self.unknown.push(name);
                        }
                        Ok(Expr::Num(f64::NAN))
                    }
                }
            }
        }
    }
}

/// Parse `src`, resolving element names to indices with `lookup`.
pub fn parse(src: &str, lookup: &impl Fn(&str) -> Option<usize>) -> Result<Expr, FormulaError> {
    let toks = tokenize(src)?;
    // `a + a + …` builds a tree as deep as it is long, which evaluating or
    // dropping it would walk on the stack.
    if let Some(&(pos, _)) = toks.get(MAX_TOKENS) {
        return Err(FormulaError::Syntax {
            pos,
            message: format!("公式过长：最多 {MAX_TOKENS} 个记号"),
        });
    }
    let mut p = Parser {
        toks,
        at: 0,
        end: src.chars().count(),
        lookup,
        unknown: Vec::new(),
        depth: 0,
    };
    if p.toks.is_empty() {
        return p.err("公式为空");
    }
    let e = p.expr()?;
    if p.at < p.toks.len() {
        return p.err("公式在此处多出内容");
    }
    if !p.unknown.is_empty() {
        return Err(FormulaError::UnknownElements(p.unknown));
    }
    Ok(e)
}

/// The outcome of evaluating a formula for one region and period.
#[derive(Clone, Debug, PartialEq)]
pub enum Eval {
    Value(f64),
    /// Elements without a value, with the period asked for.
    Missing(Vec<(usize, Period)>),
    /// A division by zero (or a non-finite result) with all data present.
    NotApplicable,
}

struct EvalState<'a> {
    get: &'a mut dyn FnMut(usize, Period) -> Option<f64>,
    missing: Vec<(usize, Period)>,
}

impl Expr {
    /// Evaluate at period `p`, fetching element values through `get`.
    /// Every branch is evaluated so that all missing elements are named.
    pub fn eval(&self, p: Period, get: &mut dyn FnMut(usize, Period) -> Option<f64>) -> Eval {
        let mut st = EvalState {
            get,
            missing: Vec::new(),
        };
        let v = self.walk(p, &mut st);
        if !st.missing.is_empty() {
            return Eval::Missing(st.missing);
        }
        match v {
            Some(v) if v.is_finite() => Eval::Value(v),
            _ => Eval::NotApplicable,
        }
    }

    fn walk(&self, p: Period, st: &mut EvalState) -> Option<f64> {
        match self {
            Expr::Num(v) => Some(*v),
            Expr::Elem(e) => {
                let v = (st.get)(*e, p);
                if v.is_none() && !st.missing.contains(&(*e, p)) {
                    st.missing.push((*e, p));
                }
                v
            }
            Expr::Neg(x) => x.walk(p, st).map(|v| -v),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.walk(p, st), b.walk(p, st));
                let (a, b) = (a?, b?);
                match op {
                    BinOp::Add => Some(a + b),
                    BinOp::Sub => Some(a - b),
                    BinOp::Mul => Some(a * b),
                    BinOp::Div if b == 0.0 => None,
                    BinOp::Div => Some(a / b),
                }
            }
            Expr::Min(a, b) => {
                let (a, b) = (a.walk(p, st), b.walk(p, st));
                Some(a?.min(b?))
            }
            Expr::Max(a, b) => {
                let (a, b) = (a.walk(p, st), b.walk(p, st));
                Some(a?.max(b?))
            }
            Expr::Abs(x) => x.walk(p, st).map(f64::abs),
            Expr::Prev(x) => x.walk(p.prev(), st),
        }
    }

    /// How many periods back the formula reaches (`prev(prev(x))` is 2).
    pub fn prev_depth(&self) -> usize {
        match self {
            Expr::Num(_) | Expr::Elem(_) => 0,
            Expr::Prev(x) => 1 + x.prev_depth(),
            Expr::Neg(x) | Expr::Abs(x) => x.prev_depth(),
            Expr::Bin(_, a, b) | Expr::Min(a, b) | Expr::Max(a, b) => {
                a.prev_depth().max(b.prev_depth())
            }
        }
    }

    /// Every element index the formula reads, each once.
    pub fn elements(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Num(_) => {}
            Expr::Elem(e) => {
                if !out.contains(e) {
                    out.push(*e)
                }
            }
            Expr::Neg(x) | Expr::Abs(x) | Expr::Prev(x) => x.collect(out),
            Expr::Bin(_, a, b) | Expr::Min(a, b) | Expr::Max(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 3] = ["a", "b", "population"];

    fn lookup(s: &str) -> Option<usize> {
        NAMES.iter().position(|n| *n == s)
    }

    fn eval(src: &str, vals: [Option<f64>; 3]) -> Eval {
        let e = parse(src, &lookup).unwrap();
        e.eval(Period::Year(2024), &mut |i, p| {
            if p == Period::Year(2024) {
                vals[i]
            } else if p == Period::Year(2023) {
                vals[i].map(|v| v * 2.0)
            } else {
                None
            }
        })
    }

    #[test]
    fn a_formula_too_long_to_walk_is_refused() {
        let none = |_: &str| None;
        let long = vec!["1"; 50_000].join("+");
        let e = parse(&long, &none).unwrap_err();
        assert!(e.to_string().contains("公式过长"), "{e}");
        assert_eq!(
            eval(&vec!["1"; 900].join("+"), [None; 3]),
            Eval::Value(900.0)
        );
    }

    #[test]
    fn precedence_and_order() {
        assert_eq!(eval("1 + 2 * 3", [None; 3]), Eval::Value(7.0));
        assert_eq!(eval("(1 + 2) * 3", [None; 3]), Eval::Value(9.0));
        assert_eq!(eval("8 / 4 / 2", [None; 3]), Eval::Value(1.0));
        assert_eq!(eval("-2 * -3", [None; 3]), Eval::Value(6.0));
        assert_eq!(eval("10 - 3 - 2", [None; 3]), Eval::Value(5.0));
        assert_eq!(
            eval("min(3, max(1, 2)) + abs(-4)", [None; 3]),
            Eval::Value(6.0)
        );
        // Order written: a / b * 100 is (a / b) * 100.
        let v = 57.0_f64 / 100.0 * 100.0;
        assert_eq!(
            eval("a / b * 100", [Some(57.0), Some(100.0), None]),
            Eval::Value(v)
        );
    }

    #[test]
    fn prev_reads_the_previous_period() {
        assert_eq!(
            eval("a - prev(a)", [Some(5.0), None, None]),
            Eval::Value(5.0 - 10.0)
        );
    }

    #[test]
    fn missing_names_every_element_and_wins_over_division_by_zero() {
        assert_eq!(
            eval("a / b + population", [Some(1.0), Some(0.0), None]),
            Eval::Missing(vec![(2, Period::Year(2024))])
        );
        assert_eq!(
            eval("a + b", [None, None, None]),
            Eval::Missing(vec![(0, Period::Year(2024)), (1, Period::Year(2024))])
        );
    }

    #[test]
    fn division_by_zero_is_not_applicable() {
        assert_eq!(
            eval("a / b", [Some(1.0), Some(0.0), None]),
            Eval::NotApplicable
        );
        assert_eq!(eval("0 / 0", [None; 3]), Eval::NotApplicable);
    }

    #[test]
    fn errors_are_clear() {
        let e = parse("a × b", &lookup).unwrap_err();
        assert!(e.to_string().contains("乘号"), "{e}");
        let e = parse("a + zz + yy", &lookup).unwrap_err();
        assert_eq!(
            e,
            FormulaError::UnknownElements(vec!["zz".into(), "yy".into()])
        );
        assert!(parse("a +", &lookup).is_err());
        assert!(parse("(a", &lookup).is_err());
        assert!(parse("a b", &lookup).is_err());
        assert!(parse("min(a)", &lookup).is_err());
        assert!(parse("sqrt(a)", &lookup).is_err());
        assert!(parse("", &lookup).is_err());
        assert!(parse("1.", &lookup).is_err());
        let deep = "(".repeat(500) + "a" + &")".repeat(500);
        assert!(parse(&deep, &lookup).is_err());
        let negs = "-".repeat(500) + "a";
        assert!(parse(&negs, &lookup).is_err());
    }

    #[test]
    fn prev_depth_counts_nesting() {
        assert_eq!(parse("a", &lookup).unwrap().prev_depth(), 0);
        assert_eq!(parse("a - prev(a)", &lookup).unwrap().prev_depth(), 1);
        assert_eq!(
            parse("prev(prev(a)) + prev(b)", &lookup)
                .unwrap()
                .prev_depth(),
            2
        );
    }

    #[test]
    fn lists_elements() {
        let e = parse("a / population * 100 + prev(a)", &lookup).unwrap();
        assert_eq!(e.elements(), vec![0, 2]);
    }

    proptest! {
        #[test]
        fn never_panics(s in "[ab0-9.()+*/,\\- a-z×]{0,40}") {
            if let Ok(e) = parse(&s, &lookup) {
                let _ = e.eval(Period::Month(2024, 1), &mut |_, _| Some(1.0));
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s, &lookup);
        }

        #[test]
        fn sums_evaluate_like_rust(x in -1e6f64..1e6, y in -1e6f64..1e6, z in 1e-3f64..1e6) {
            let src = format!("{x:?} - {y:?} * 2 / {z:?}").replace("--", "- -");
            if let Ok(e) = parse(&src, &lookup) {
                prop_assert_eq!(e.eval(Period::Year(2024), &mut |_, _| None), Eval::Value(x - y * 2.0 / z));
            }
        }
    }
}

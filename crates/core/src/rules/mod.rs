//! Scoring rules (scoring.md §4): one module per rule kind. Each turns an
//! indicator value into points out of `max`, with a Chinese reason for
//! every point lost.

pub mod deduct;
pub mod linear;
pub mod proportional;
pub mod rank;
mod reader;
pub mod tiers;
pub mod veto;

pub use reader::RuleIssue;

use crate::num::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Deduct(deduct::Deduct),
    Tiers(tiers::Tiers),
    Linear(linear::Linear),
    Proportional(proportional::Proportional),
    Rank(rank::Rank),
    Veto(veto::Veto),
}

/// `higher` / `lower`: which way is better for tiers, proportional and rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    fn parse(s: &str) -> Option<Better> {
        match s {
            "higher" => Some(Better::Higher),
            "lower" => Some(Better::Lower),
            _ => None,
        }
    }
}

/// What a rule needs to know about the indicator besides its value.
#[derive(Clone, Debug)]
pub struct Ctx<'a> {
    /// Full points of the indicator.
    pub max: f64,
    /// Unit of the indicator's value, for reasons ("%", "分钟", …).
    pub unit: &'a str,
    /// The deduct target when it names a benchmark, already looked up.
    pub benchmark: Option<(&'a str, f64)>,
    /// Values of the peers that have one, the region's own included
    /// (proportional and rank only).
    pub peers: &'a [f64],
}

/// How an indicator's points depend on its full points. Weights change
/// only `max`, so sensitivity analysis re-weights through this without
/// scoring again. Each variant keeps the order of operations of scoring.md §4.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Share {
    /// points = f × max (tiers, linear, proportional, rank, veto).
    Fraction(f64),
    /// points = clamp(max − lost, 0, max), `lost` in points (deduct, basis points).
    LosePoints(f64),
    /// points = clamp(max − s × max, 0, max) (deduct, basis percent: s = steps × deduct / 100).
    LoseShare(f64),
}

impl Share {
    pub fn points(self, max: f64) -> f64 {
        match self {
            Share::Fraction(f) => f * max,
            Share::LosePoints(lost) => (max - lost).clamp(0.0, max),
            Share::LoseShare(s) => (max - s * max).clamp(0.0, max),
        }
    }
}

/// A rule's verdict on a value, without words.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    pub share: Share,
    pub veto: bool,
}

impl Assessment {
    fn of(share: Share) -> Self {
        Assessment { share, veto: false }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub points: f64,
    pub reasons: Vec<String>,
    pub veto: bool,
}

impl Outcome {
    fn full(max: f64) -> Outcome {
        Outcome {
            points: max,
            reasons: Vec::new(),
            veto: false,
        }
    }

    /// Points as given, with a reason only when something was lost.
    fn with(max: f64, points: f64, reason: impl FnOnce(f64) -> String) -> Outcome {
        let points = points.clamp(0.0, max);
        let lost = max - points;
        let reasons = if lost > 1e-12 {
            vec![reason(lost)]
        } else {
            Vec::new()
        };
        Outcome {
            points,
            reasons,
            veto: false,
        }
    }
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Deduct(_) => "deduct",
            Rule::Tiers(_) => "tiers",
            Rule::Linear(_) => "linear",
            Rule::Proportional(_) => "proportional",
            Rule::Rank(_) => "rank",
            Rule::Veto(_) => "veto",
        }
    }

    /// Does this rule compare a region with its peers?
    pub fn needs_peers(&self) -> bool {
        matches!(self, Rule::Proportional(_) | Rule::Rank(_))
    }

    /// The benchmark code the rule needs, if any.
    pub fn benchmark(&self) -> Option<&str> {
        match self {
            Rule::Deduct(d) => match &d.target {
                deduct::Target::Benchmark(code) => Some(code),
                deduct::Target::Number(_) => None,
            },
            _ => None,
        }
    }

    pub fn relative(&self) -> bool {
        matches!(self, Rule::Deduct(d) if d.relative)
    }

    /// Points as a function of full points (no reasons: the fast path).
    pub fn assess(&self, v: f64, ctx: &Ctx) -> Assessment {
        match self {
            Rule::Deduct(r) => r.assess(v, ctx),
            Rule::Tiers(r) => r.assess(v),
            Rule::Linear(r) => r.assess(v),
            Rule::Proportional(r) => r.assess(v, ctx),
            Rule::Rank(r) => r.assess(v, ctx),
            Rule::Veto(r) => r.assess(v),
        }
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        match self {
            Rule::Deduct(r) => r.score(v, ctx),
            Rule::Tiers(r) => r.score(v, ctx),
            Rule::Linear(r) => r.score(v, ctx),
            Rule::Proportional(r) => r.score(v, ctx),
            Rule::Rank(r) => r.score(v, ctx),
            Rule::Veto(r) => r.score(v, ctx),
        }
    }

    /// The points and veto `score` gives, without composing its reasons
    /// (a ranking table needs only totals; the words are most of the cost).
    pub fn points(&self, v: f64, ctx: &Ctx) -> (f64, bool) {
        let a = self.assess(v, ctx);
        (a.share.points(ctx.max).clamp(0.0, ctx.max), a.veto)
    }

    /// The rule in words, for the framework page and `framework show`.
    pub fn describe(&self, unit: &str) -> String {
        match self {
            Rule::Deduct(r) => r.describe(unit),
            Rule::Tiers(r) => r.describe(unit),
            Rule::Linear(r) => r.describe(unit),
            Rule::Proportional(r) => r.describe(),
            Rule::Rank(r) => r.describe(),
            Rule::Veto(r) => r.describe(unit),
        }
    }

    /// Parse a rule table (the `rule = { … }` of an indicator). Every key
    /// problem is reported, not only the first.
    pub fn from_table(t: &toml::Table) -> Result<Rule, Vec<RuleIssue>> {
        let mut r = reader::Reader::new(t);
        let kind = r.string("kind", true);
        let rule = match kind.as_deref() {
            Some("deduct") => deduct::Deduct::read(&mut r).map(Rule::Deduct),
            Some("tiers") => tiers::Tiers::read(&mut r).map(Rule::Tiers),
            Some("linear") => linear::Linear::read(&mut r).map(Rule::Linear),
            Some("proportional") => {
                proportional::Proportional::read(&mut r).map(Rule::Proportional)
            }
            Some("rank") => rank::Rank::read(&mut r).map(Rule::Rank),
            Some("veto") => veto::Veto::read(&mut r).map(Rule::Veto),
            Some(other) => {
                r.issue(
                    "rule_value",
                    "kind",
                    format!(
                        "未知的计分规则“{other}”：可用 deduct、tiers、linear、proportional、rank、veto"
                    ),
                );
                return Err(r.into_issues());
            }
            None => return Err(r.into_issues()),
        };
        r.finish(rule)
    }
}

/// "个百分点" for a percentage, else the unit itself: what a gap is counted in.
fn gap_unit(unit: &str) -> &str {
    if unit == "%" { "个百分点" } else { unit }
}

/// A value with its unit: 85%, 10分钟.
fn with_unit(v: f64, unit: &str) -> String {
    format!("{}{}", fmt(v), unit)
}

/// Points lost as a reason says them: two places, like every score on
/// the pages ("1.24"), and "不足0.01" for a loss too small to show
/// (not "0.0021", nor a "0" that contradicts the reason).
fn lost_points(lost: f64) -> String {
    if lost > 0.0 && lost < 0.005 {
        "不足0.01".to_string()
    } else {
        crate::num::fmt_num(lost, 2)
    }
}

/// "扣1.24分", or "扣4.2分（扣完为止）" when everything is gone.
fn lost_text(lost: f64, max: f64, clamped: bool) -> String {
    if clamped {
        format!("扣{}分（扣完为止）", lost_points(max))
    } else {
        format!("扣{}分", lost_points(lost))
    }
}

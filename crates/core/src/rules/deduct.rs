//! `deduct`: points lost per step of shortfall from a target
//! (seed §2.2: 每低于5个百分点扣1分; 每超1分钟扣0.3分; 每上升1个百分点扣0.5分).

use super::reader::{Reader, as_number};
use super::{Assessment, Ctx, Outcome, Share, gap_unit, lost_text, with_unit};
use crate::num::{fmt, snap};

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Number(f64),
    Benchmark(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Points are lost when the value is below the target.
    Below,
    /// Points are lost when the value is above the target.
    Above,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// `deduct` is in points.
    Points,
    /// `deduct` is a percentage of the indicator's full points.
    Percent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Fractional steps count (gap / step).
    Linear,
    /// Only whole steps count (不足一档不扣).
    Whole,
    /// A started step counts in full (不足一档按一档计).
    Started,
}

enum Measure {
    Met,
    ZeroBelow(f64),
    ZeroAbove(f64),
    Short { target: f64, gap: f64, steps: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Deduct {
    pub target: Target,
    pub direction: Direction,
    pub step: f64,
    pub deduct: f64,
    pub basis: Basis,
    pub mode: Mode,
    pub relative: bool,
    pub zero_below: Option<f64>,
    pub zero_above: Option<f64>,
}

impl Deduct {
    pub(crate) fn read(r: &mut Reader) -> Option<Deduct> {
        let target = match r.raw("target", true) {
            None => None,
            Some(v) => match (as_number(v), v.as_str()) {
                (Some(n), _) => Some(Target::Number(n)),
                (None, Some(s)) => match s.strip_prefix("benchmark:") {
                    Some(code) if !code.is_empty() => Some(Target::Benchmark(code.to_string())),
                    _ => {
                        r.issue(
                            "rule_value",
                            "target",
                            format!("计分规则 target 的值“{s}”无效：应为数值或 \"benchmark:代码\""),
                        );
                        None
                    }
                },
                (None, None) => {
                    r.type_issue("target", "数值或 \"benchmark:代码\"", v);
                    None
                }
            },
        };
        let direction = r.choice("direction", true, &["below", "above"]).map(|d| {
            if d == "below" {
                Direction::Below
            } else {
                Direction::Above
            }
        });
        let step = r.number("step", true);
        if step.is_some_and(|s| s <= 0.0) {
            r.issue("rule_value", "step", "计分规则 step 必须大于 0");
        }
        let deduct = r.number("deduct", true);
        if deduct.is_some_and(|d| d < 0.0) {
            r.issue("rule_value", "deduct", "计分规则 deduct 不能为负数");
        }
        let basis = match r.choice("basis", false, &["points", "percent"]).as_deref() {
            Some("percent") => Basis::Percent,
            _ => Basis::Points,
        };
        let mode = match r
            .choice("mode", false, &["linear", "whole", "started"])
            .as_deref()
        {
            Some("whole") => Mode::Whole,
            Some("started") => Mode::Started,
            _ => Mode::Linear,
        };
        let relative = r.boolean("relative").unwrap_or(false);
        if relative && matches!(target, Some(Target::Number(t)) if t == 0.0) {
            r.issue("rule_value", "target", "relative = true 时目标值不能为 0");
        }
        let zero_below = r.number("zero_below", false);
        let zero_above = r.number("zero_above", false);
        if r.has_issues() {
            return None;
        }
        Some(Deduct {
            target: target?,
            direction: direction?,
            step: step?,
            deduct: deduct?,
            basis,
            mode,
            relative,
            zero_below,
            zero_above,
        })
    }

    fn target_value(&self, ctx: &Ctx) -> f64 {
        match (&self.target, ctx.benchmark) {
            (Target::Number(t), _) => *t,
            (Target::Benchmark(_), Some((_, t))) => t,
            // The scorer refuses to run without the benchmark (an input
            // error), so this is unreachable in practice.
            (Target::Benchmark(_), None) => f64::NAN,
        }
    }

    fn target_text(&self, ctx: &Ctx, t: f64) -> String {
        match ctx.benchmark {
            Some((name, _)) => format!("{name}（{}）", with_unit(t, ctx.unit)),
            None => format!("目标值{}", with_unit(t, ctx.unit)),
        }
    }

    /// The shortfall and the step count, or why the value scores nothing.
    fn measure(&self, v: f64, ctx: &Ctx) -> Measure {
        let sv = snap(v);
        if let Some(zb) = self.zero_below
            && sv < zb
        {
            return Measure::ZeroBelow(zb);
        }
        if let Some(za) = self.zero_above
            && sv > za
        {
            return Measure::ZeroAbove(za);
        }
        let t = self.target_value(ctx);
        let mut gap = match self.direction {
            Direction::Below => t - v,
            Direction::Above => v - t,
        };
        if self.relative {
            gap = gap / t.abs() * 100.0;
        }
        if gap.is_nan() || snap(gap) <= 0.0 {
            return Measure::Met;
        }
        let steps = match self.mode {
            Mode::Linear => gap / self.step,
            Mode::Whole => snap(gap / self.step).floor(),
            Mode::Started => snap(gap / self.step).ceil(),
        };
        Measure::Short {
            target: t,
            gap,
            steps,
        }
    }

    pub fn assess(&self, v: f64, ctx: &Ctx) -> Assessment {
        Assessment::of(match self.measure(v, ctx) {
            Measure::ZeroBelow(_) | Measure::ZeroAbove(_) => Share::Fraction(0.0),
            Measure::Met => Share::Fraction(1.0),
            Measure::Short { steps, .. } => match self.basis {
                Basis::Points => Share::LosePoints(steps * self.deduct),
                Basis::Percent => Share::LoseShare(steps * self.deduct / 100.0),
            },
        })
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        let max = ctx.max;
        let points = self.assess(v, ctx).share.points(max);
        let (t, gap) = match self.measure(v, ctx) {
            Measure::Met => return Outcome::full(max),
            Measure::ZeroBelow(zb) => {
                return Outcome::with(max, points, |_| {
                    format!(
                        "{}低于{}，不得分",
                        with_unit(v, ctx.unit),
                        with_unit(zb, ctx.unit)
                    )
                });
            }
            Measure::ZeroAbove(za) => {
                return Outcome::with(max, points, |_| {
                    format!(
                        "{}高于{}，不得分",
                        with_unit(v, ctx.unit),
                        with_unit(za, ctx.unit)
                    )
                });
            }
            Measure::Short { target, gap, .. } => (target, gap),
        };
        let side = match self.direction {
            Direction::Below => "低于",
            Direction::Above => "高于",
        };
        let (gap_text, step_text) = if self.relative {
            (format!("{}%", fmt(gap)), format!("{}%", fmt(self.step)))
        } else {
            let u = gap_unit(ctx.unit);
            (
                format!("共{}{u}", fmt(gap)),
                format!("{}{u}", fmt(self.step)),
            )
        };
        let per = match self.basis {
            Basis::Points => format!("扣{}分", fmt(self.deduct)),
            Basis::Percent => format!("扣满分的{}%", fmt(self.deduct)),
        };
        let mode_note = match self.mode {
            Mode::Linear => String::new(),
            Mode::Whole => format!("（不足{step_text}的部分不扣分）"),
            Mode::Started => format!("（不足{step_text}按{step_text}计）"),
        };
        let relative_note = if self.relative { "（相对值）" } else { "" };
        let target_text = self.target_text(ctx, t);
        // Clamped when the rule would take more than there is.
        let wanted = match self.assess(v, ctx).share {
            Share::LosePoints(l) => l,
            Share::LoseShare(s) => s * max,
            Share::Fraction(f) => max - f * max,
        };
        Outcome::with(max, points, |shown| {
            format!(
                "{side}{target_text}{gap_text}{relative_note}，每{step_text}{per}{mode_note}，{}",
                lost_text(shown, max, wanted > shown + 1e-12)
            )
        })
    }

    pub fn describe(&self, unit: &str) -> String {
        let target = match &self.target {
            Target::Number(t) => format!("目标值{}", with_unit(*t, unit)),
            Target::Benchmark(code) => format!("基准值 {code}"),
        };
        let side = match self.direction {
            Direction::Below => "低于",
            Direction::Above => "超过",
        };
        let step = if self.relative {
            format!("{}%", fmt(self.step))
        } else {
            format!("{}{}", fmt(self.step), gap_unit(unit))
        };
        let per = match self.basis {
            Basis::Points => format!("扣{}分", fmt(self.deduct)),
            Basis::Percent => format!("扣满分的{}%", fmt(self.deduct)),
        };
        let mut s = format!("{target}，每{side}{step}{per}");
        if self.relative {
            s.push_str("（按相对差计）");
        }
        match self.mode {
            Mode::Linear => {}
            Mode::Whole => s.push_str("，不足一档不扣"),
            Mode::Started => s.push_str("，不足一档按一档计"),
        }
        if let Some(zb) = self.zero_below {
            s.push_str(&format!("，低于{}不得分", with_unit(zb, unit)));
        }
        if let Some(za) = self.zero_above {
            s.push_str(&format!("，高于{}不得分", with_unit(za, unit)));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn rule(src: &str) -> Deduct {
        let t: toml::Table = toml::from_str(&format!("rule = {{ {src} }}")).unwrap();
        match Rule::from_table(t["rule"].as_table().unwrap()).unwrap() {
            Rule::Deduct(d) => d,
            other => panic!("{other:?}"),
        }
    }

    fn ctx(max: f64, unit: &str) -> Ctx<'_> {
        Ctx {
            max,
            unit,
            benchmark: None,
            peers: &[],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// 矛盾纠纷化解成功率：目标值不低于85%，每低于5个百分点扣1分。
    #[test]
    fn seed_dispute_resolution() {
        let r = rule(r#"kind = "deduct", target = 85, direction = "below", step = 5, deduct = 1"#);
        let c = ctx(1.65, "%");
        let o = r.score(78.8, &c);
        assert!(close(o.points, 1.65 - 1.24), "{o:?}");
        assert_eq!(
            o.reasons,
            vec!["低于目标值85%共6.2个百分点，每5个百分点扣1分，扣1.24分"]
        );
        assert!(close(r.score(85.0, &c).points, 1.65));
        assert!(r.score(90.0, &c).reasons.is_empty());
        // 57 / 100 × 100 is 57.00000000000001 in binary; snap keeps it exact.
        let o = r.score(57.0 / 100.0 * 100.0, &ctx(10.0, "%"));
        assert!(close(o.points, 10.0 - 28.0 / 5.0));
        // A loss too small for two places says so, not "扣0.0002分".
        let o = r.score(84.999, &c);
        assert_eq!(
            o.reasons,
            vec!["低于目标值85%共0.001个百分点，每5个百分点扣1分，扣不足0.01分"]
        );
    }

    /// 刑事案件发案率：控制在全国平均水平以下，每上升1个百分点扣0.5分。
    #[test]
    fn seed_criminal_rate_relative_to_benchmark() {
        let r = rule(
            r#"kind = "deduct", target = "benchmark:national_criminal_rate", direction = "above",
               relative = true, step = 1, deduct = 0.5, basis = "points""#,
        );
        let mut c = ctx(4.2, "起/10万人");
        c.benchmark = Some(("全国刑事案件发案率", 300.0));
        let o = r.score(306.0, &c);
        assert!(close(o.points, 3.2), "{o:?}");
        assert_eq!(
            o.reasons,
            vec!["高于全国刑事案件发案率（300起/10万人）2%（相对值），每1%扣0.5分，扣1分"]
        );
        assert!(close(r.score(299.0, &c).points, 4.2));
        let o = r.score(330.0, &c);
        assert_eq!(o.points, 0.0);
        assert!(o.reasons[0].ends_with("扣4.2分（扣完为止）"), "{o:?}");
    }

    /// 群众安全感指数：目标值不低于4.0分，每低于0.1分扣0.5分。
    #[test]
    fn seed_safety_index() {
        let r =
            rule(r#"kind = "deduct", target = 4.0, direction = "below", step = 0.1, deduct = 0.5"#);
        let c = ctx(5.0, "分");
        assert!(close(r.score(3.7, &c).points, 3.5));
        assert!(close(r.score(4.3, &c).points, 5.0));
        assert_eq!(
            r.score(3.7, &c).reasons,
            vec!["低于目标值4分共0.3分，每0.1分扣0.5分，扣1.5分"]
        );
    }

    /// 消防响应时间≤10分钟、医疗急救≤15分钟，每超1分钟扣0.3分。
    #[test]
    fn seed_response_time() {
        let r =
            rule(r#"kind = "deduct", target = 10, direction = "above", step = 1, deduct = 0.3"#);
        let c = ctx(1.65, "分钟");
        assert!(close(r.score(12.5, &c).points, 1.65 - 0.75));
        assert!(close(r.score(10.0, &c).points, 1.65));
        assert_eq!(
            r.score(12.5, &c).reasons,
            vec!["高于目标值10分钟共2.5分钟，每1分钟扣0.3分，扣0.75分"]
        );
    }

    /// 食品安全抽检合格率：≥98%，每低于0.5个百分点扣1分，低于95%不得分。
    #[test]
    fn seed_food_safety_with_zero_below() {
        let r = rule(
            r#"kind = "deduct", target = 98, direction = "below", step = 0.5, deduct = 1,
               basis = "points", zero_below = 95"#,
        );
        let c = ctx(2.125, "%");
        assert!(close(r.score(97.5, &c).points, 1.125));
        assert!(
            close(r.score(96.0, &c).points, 0.0),
            "lost 4 > max: clamped"
        );
        assert_eq!(r.score(95.0, &c).points, 0.0);
        let o = r.score(94.9, &c);
        assert_eq!(o.points, 0.0);
        assert_eq!(o.reasons, vec!["94.9%低于95%，不得分"]);
    }

    /// 法治宣传教育普及率：≥90%，每低于3个百分点扣1分，低于80%不得分。
    #[test]
    fn seed_law_education() {
        let r = rule(
            r#"kind = "deduct", target = 90, direction = "below", step = 3, deduct = 1, zero_below = 80"#,
        );
        let c = ctx(1.7, "%");
        assert!(close(r.score(87.0, &c).points, 0.7));
        assert!(close(r.score(88.5, &c).points, 1.2));
        assert_eq!(r.score(79.99, &c).points, 0.0);
        assert_eq!(r.score(80.0, &c).points, 0.0);
    }

    #[test]
    fn modes_and_percent_basis() {
        let whole = rule(
            r#"kind = "deduct", target = 95, direction = "below", step = 5, deduct = 1, mode = "whole""#,
        );
        let started = rule(
            r#"kind = "deduct", target = 95, direction = "below", step = 5, deduct = 1, mode = "started""#,
        );
        let c = ctx(10.0, "%");
        assert!(close(whole.score(88.0, &c).points, 9.0));
        assert!(close(started.score(88.0, &c).points, 8.0));
        // Exactly one step: both count one, guarded by snap.
        assert!(close(whole.score(90.0, &c).points, 9.0));
        assert!(close(started.score(90.0, &c).points, 9.0));
        assert!(whole.score(88.0, &c).reasons[0].contains("不足5个百分点的部分不扣分"));
        let pct = rule(
            r#"kind = "deduct", target = 4.0, direction = "below", step = 0.1, deduct = 10, basis = "percent""#,
        );
        let c = ctx(0.5, "分");
        assert!(close(pct.score(3.8, &c).points, 0.4));
        assert!(pct.score(3.8, &c).reasons[0].contains("扣满分的10%"));
        let za = rule(
            r#"kind = "deduct", target = 2, direction = "above", step = 1, deduct = 10, basis = "percent", zero_above = 6"#,
        );
        assert_eq!(za.score(6.5, &ctx(1.0, "小时")).points, 0.0);
    }

    #[test]
    fn lint_catches_bad_keys() {
        let t: toml::Table = toml::from_str(
            r#"rule = { kind = "deduct", direction = "sideways", step = 0, deduct = "1", colour = 3 }"#,
        )
        .unwrap();
        let issues = Rule::from_table(t["rule"].as_table().unwrap()).unwrap_err();
        let kinds: Vec<(&str, &str)> = issues.iter().map(|i| (i.kind, i.key.as_str())).collect();
        assert!(kinds.contains(&("rule_key_missing", "target")), "{kinds:?}");
        assert!(kinds.contains(&("rule_value", "direction")));
        assert!(kinds.contains(&("rule_value", "step")));
        assert!(kinds.contains(&("rule_key_type", "deduct")));
        assert!(kinds.contains(&("rule_key_unknown", "colour")));
    }
}

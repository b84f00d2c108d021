//! `linear`: points rise in a straight line from `zero_at` (0) to `full_at`
//! (full points), either way round.

use super::reader::Reader;
use super::{Assessment, Ctx, Outcome, Share, lost_points, with_unit};
use crate::num::fmt_num;

#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    pub zero_at: f64,
    pub full_at: f64,
}

impl Linear {
    pub(crate) fn read(r: &mut Reader) -> Option<Linear> {
        let zero_at = r.number("zero_at", true);
        let full_at = r.number("full_at", true);
        if let (Some(z), Some(f)) = (zero_at, full_at)
            && z == f
        {
            r.issue(
                "rule_value",
                "full_at",
                "计分规则 zero_at 与 full_at 不能相等",
            );
        }
        if r.has_issues() {
            return None;
        }
        Some(Linear {
            zero_at: zero_at?,
            full_at: full_at?,
        })
    }

    fn fraction(&self, v: f64) -> f64 {
        ((v - self.zero_at) / (self.full_at - self.zero_at)).clamp(0.0, 1.0)
    }

    pub fn assess(&self, v: f64) -> Assessment {
        Assessment::of(Share::Fraction(self.fraction(v)))
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        let share = self.fraction(v);
        Outcome::with(ctx.max, self.assess(v).share.points(ctx.max), |lost| {
            format!(
                "{}，在{}（0分）至{}（满分）之间按比例得分，得满分的{}%，扣{}分",
                with_unit(v, ctx.unit),
                with_unit(self.zero_at, ctx.unit),
                with_unit(self.full_at, ctx.unit),
                fmt_num(share * 100.0, 2),
                lost_points(lost)
            )
        })
    }

    pub fn describe(&self, unit: &str) -> String {
        format!(
            "线性计分：{}得0分，{}得满分，其间按比例",
            with_unit(self.zero_at, unit),
            with_unit(self.full_at, unit)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn rule(src: &str) -> Result<Linear, Vec<crate::rules::RuleIssue>> {
        let t: toml::Table = toml::from_str(&format!("rule = {{ {src} }}")).unwrap();
        Rule::from_table(t["rule"].as_table().unwrap()).map(|r| match r {
            Rule::Linear(l) => l,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn both_polarities() {
        let c = Ctx {
            max: 2.0,
            unit: "%",
            benchmark: None,
            peers: &[],
        };
        let up = rule(r#"kind = "linear", zero_at = 60, full_at = 100"#).unwrap();
        assert_eq!(up.score(80.0, &c).points, 1.0);
        assert_eq!(up.score(50.0, &c).points, 0.0);
        assert_eq!(up.score(120.0, &c).points, 2.0);
        assert_eq!(
            up.score(80.0, &c).reasons,
            vec!["80%，在60%（0分）至100%（满分）之间按比例得分，得满分的50%，扣1分"]
        );
        // 重点行业安全事故死亡率: 3 → 0.5, lower is better.
        let down = rule(r#"kind = "linear", zero_at = 3, full_at = 0.5"#).unwrap();
        assert!((down.score(1.75, &c).points - 1.0).abs() < 1e-12);
        assert_eq!(down.score(0.2, &c).points, 2.0);
        assert_eq!(down.score(4.0, &c).points, 0.0);
    }

    #[test]
    fn lint_rejects_equal_ends() {
        assert!(rule(r#"kind = "linear", zero_at = 5, full_at = 5"#).is_err());
        assert!(rule(r#"kind = "linear", zero_at = 5"#).is_err());
    }
}

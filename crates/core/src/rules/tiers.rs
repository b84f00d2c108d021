//! `tiers`: the first threshold reached sets the percentage of full points
//! (seed §2.4: ≥95%得满分；90%-94%得80分；85%-89%得60分；<85%不得分).

use super::reader::{Reader, as_number};
use super::{Assessment, Better, Ctx, Outcome, Share, lost_points, with_unit};
use crate::num::{fmt, snap};

#[derive(Clone, Debug, PartialEq)]
pub struct Tiers {
    pub direction: Better,
    /// (threshold, percent of full points), checked in the order written.
    pub tiers: Vec<(f64, f64)>,
}

impl Tiers {
    pub(crate) fn read(r: &mut Reader) -> Option<Tiers> {
        let direction = r
            .choice("direction", true, &["higher", "lower"])
            .and_then(|d| Better::parse(&d));
        let mut tiers = Vec::new();
        if let Some(v) = r.raw("tiers", true) {
            match v.as_array() {
                None => r.type_issue("tiers", "数组 [[阈值, 百分比], …]", v),
                Some(rows) if rows.is_empty() => {
                    r.issue("rule_value", "tiers", "计分规则 tiers 至少要有一档")
                }
                Some(rows) => {
                    for (i, row) in rows.iter().enumerate() {
                        let pair = row
                            .as_array()
                            .filter(|a| a.len() == 2)
                            .and_then(|a| Some((as_number(&a[0])?, as_number(&a[1])?)));
                        match pair {
                            Some(p) => tiers.push(p),
                            None => r.issue(
                                "rule_key_type",
                                "tiers",
                                format!("计分规则 tiers 第 {} 档应为 [阈值, 百分比] 两个数", i + 1),
                            ),
                        }
                    }
                }
            }
        }
        for (i, (_, pct)) in tiers.iter().enumerate() {
            if !(0.0..=100.0).contains(pct) {
                r.issue(
                    "rule_value",
                    "tiers",
                    format!(
                        "计分规则 tiers 第 {} 档的百分比 {} 应在 0 到 100 之间",
                        i + 1,
                        fmt(*pct)
                    ),
                );
            }
        }
        if let Some(dir) = direction {
            for (i, w) in tiers.windows(2).enumerate() {
                let ok = match dir {
                    Better::Higher => w[1].0 < w[0].0,
                    Better::Lower => w[1].0 > w[0].0,
                };
                if !ok {
                    let want = if dir == Better::Higher {
                        "严格递减"
                    } else {
                        "严格递增"
                    };
                    r.issue(
                        "rule_value",
                        "tiers",
                        format!(
                            "计分规则 tiers 的阈值应{want}（第 {} 档与第 {} 档）",
                            i + 1,
                            i + 2
                        ),
                    );
                }
            }
        }
        if r.has_issues() {
            return None;
        }
        Some(Tiers {
            direction: direction?,
            tiers,
        })
    }

    /// The first tier reached, in the order written.
    fn hit(&self, v: f64) -> Option<(f64, f64)> {
        let sv = snap(v);
        self.tiers
            .iter()
            .find(|(t, _)| match self.direction {
                Better::Higher => sv >= *t,
                Better::Lower => sv <= *t,
            })
            .copied()
    }

    pub fn assess(&self, v: f64) -> Assessment {
        Assessment::of(Share::Fraction(
            self.hit(v).map_or(0.0, |(_, pct)| pct / 100.0),
        ))
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        let points = self.assess(v).share.points(ctx.max);
        let hit = self.hit(v);
        let (cmp, miss) = match self.direction {
            Better::Higher => ("≥", "低于"),
            Better::Lower => ("≤", "高于"),
        };
        match hit {
            Some((t, pct)) => Outcome::with(ctx.max, points, |lost| {
                format!(
                    "{}，处于{cmp}{}档，得满分的{}%，扣{}分",
                    with_unit(v, ctx.unit),
                    with_unit(t, ctx.unit),
                    fmt(pct),
                    lost_points(lost)
                )
            }),
            None => {
                let last = self.tiers.last().map_or(0.0, |t| t.0);
                Outcome::with(ctx.max, points, |_| {
                    format!(
                        "{}，{miss}最低一档{}，不得分",
                        with_unit(v, ctx.unit),
                        with_unit(last, ctx.unit)
                    )
                })
            }
        }
    }

    pub fn describe(&self, unit: &str) -> String {
        let cmp = match self.direction {
            Better::Higher => "≥",
            Better::Lower => "≤",
        };
        let parts: Vec<String> = self
            .tiers
            .iter()
            .map(|(t, p)| format!("{cmp}{}得满分的{}%", with_unit(*t, unit), fmt(*p)))
            .collect();
        format!("分档计分：{}，其余不得分", parts.join("；"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn rule(src: &str) -> Result<Tiers, Vec<crate::rules::RuleIssue>> {
        let t: toml::Table = toml::from_str(&format!("rule = {{ {src} }}")).unwrap();
        Rule::from_table(t["rule"].as_table().unwrap()).map(|r| match r {
            Rule::Tiers(t) => t,
            other => panic!("{other:?}"),
        })
    }

    /// 网格事件处置及时率：≥95%得满分；90%-94%得80分；85%-89%得60分；<85%不得分。
    #[test]
    fn seed_grid_events() {
        let r = rule(
            r#"kind = "tiers", direction = "higher", tiers = [[95, 100], [90, 80], [85, 60]]"#,
        )
        .unwrap();
        let c = Ctx {
            max: 1.53,
            unit: "%",
            benchmark: None,
            peers: &[],
        };
        let pts = |v: f64| r.score(v, &c).points;
        assert_eq!(pts(96.0), 1.53);
        assert_eq!(pts(95.0), 1.53);
        assert!((pts(94.9) - 0.8 * 1.53).abs() < 1e-12);
        assert!((pts(90.0) - 0.8 * 1.53).abs() < 1e-12);
        assert!((pts(89.0) - 0.6 * 1.53).abs() < 1e-12);
        assert_eq!(pts(84.99), 0.0);
        // 19 / 20 × 100 is 95.00000000000001 or 94.99999999999999 in binary: snap decides.
        assert_eq!(pts(0.95 * 100.0), 1.53);
        assert_eq!(
            r.score(88.5, &c).reasons,
            vec!["88.5%，处于≥85%档，得满分的60%，扣0.61分"]
        );
        assert_eq!(
            r.score(80.0, &c).reasons,
            vec!["80%，低于最低一档85%，不得分"]
        );
    }

    #[test]
    fn lower_is_better_tiers() {
        let r =
            rule(r#"kind = "tiers", direction = "lower", tiers = [[10, 100], [15, 50]]"#).unwrap();
        let c = Ctx {
            max: 2.0,
            unit: "分钟",
            benchmark: None,
            peers: &[],
        };
        assert_eq!(r.score(9.0, &c).points, 2.0);
        assert_eq!(r.score(12.0, &c).points, 1.0);
        assert_eq!(r.score(16.0, &c).points, 0.0);
    }

    #[test]
    fn lint_rejects_non_monotone_and_bad_percent() {
        let issues = rule(r#"kind = "tiers", direction = "higher", tiers = [[90, 80], [95, 120]]"#)
            .unwrap_err();
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(rule(r#"kind = "tiers", direction = "higher", tiers = []"#).is_err());
        assert!(rule(r#"kind = "tiers", direction = "higher", tiers = [[1, 2, 3]]"#).is_err());
        assert!(rule(r#"kind = "tiers", tiers = [[1, 2]]"#).is_err());
    }
}

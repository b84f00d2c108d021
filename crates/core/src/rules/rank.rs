//! `rank`: points by place among peers (排名1-5名依次赋予…分).

use super::reader::Reader;
use super::{Assessment, Better, Ctx, Outcome, Share, lost_points};
use crate::num::{fmt, round_half_away};

#[derive(Clone, Debug, PartialEq)]
pub struct Rank {
    pub direction: Better,
    /// Percent of full points lost per place.
    pub step: f64,
    pub first: f64,
    pub floor: f64,
}

impl Rank {
    pub(crate) fn read(r: &mut Reader) -> Option<Rank> {
        let direction = r
            .choice("direction", true, &["higher", "lower"])
            .and_then(|d| Better::parse(&d));
        let step = r.number("step", true);
        if step.is_some_and(|s| s < 0.0) {
            r.issue("rule_value", "step", "计分规则 step 不能为负数");
        }
        let first = r.number("first", false).unwrap_or(100.0);
        let floor = r.number("floor", false).unwrap_or(0.0);
        if !(0.0 <= floor && floor <= first && first <= 100.0) {
            r.issue(
                "rule_value",
                "floor",
                "计分规则应满足 0 ≤ floor ≤ first ≤ 100",
            );
        }
        if r.has_issues() {
            return None;
        }
        Some(Rank {
            direction: direction?,
            step: step?,
            first,
            floor,
        })
    }

    /// 1 + the number of peers strictly better, compared at 6 decimals.
    pub fn place(&self, v: f64, peers: &[f64]) -> usize {
        let me = round_half_away(v, 6);
        1 + peers
            .iter()
            .filter(|&&p| {
                let p = round_half_away(p, 6);
                match self.direction {
                    Better::Higher => p > me,
                    Better::Lower => p < me,
                }
            })
            .count()
    }

    fn percent(&self, place: usize) -> f64 {
        (self.first - (place as f64 - 1.0) * self.step).max(self.floor)
    }

    pub fn assess(&self, v: f64, ctx: &Ctx) -> Assessment {
        Assessment::of(Share::Fraction(
            self.percent(self.place(v, ctx.peers)) / 100.0,
        ))
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        let r = self.place(v, ctx.peers);
        let pct = self.percent(r);
        Outcome::with(ctx.max, self.assess(v, ctx).share.points(ctx.max), |lost| {
            format!(
                "在{}个同级地区中排第{r}名，得满分的{}%，扣{}分",
                ctx.peers.len(),
                fmt(pct),
                lost_points(lost)
            )
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "按同级排名计分：第1名得满分的{}%，每后退一名减{}%，最低{}%",
            fmt(self.first),
            fmt(self.step),
            fmt(self.floor)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_share_ties() {
        let r = Rank {
            direction: Better::Higher,
            step: 10.0,
            first: 100.0,
            floor: 50.0,
        };
        let peers = [90.0, 80.0, 80.0, 70.0, 60.0, 50.0, 40.0];
        let c = Ctx {
            max: 3.0,
            unit: "%",
            benchmark: None,
            peers: &peers,
        };
        assert_eq!(r.place(90.0, &peers), 1);
        assert_eq!(r.place(80.0, &peers), 2);
        assert_eq!(r.place(70.0, &peers), 4);
        assert_eq!(r.score(90.0, &c).points, 3.0);
        assert!((r.score(80.0, &c).points - 2.7).abs() < 1e-12);
        assert!((r.score(40.0, &c).points - 1.5).abs() < 1e-12, "floor 50%");
        assert_eq!(
            r.score(70.0, &c).reasons,
            vec!["在7个同级地区中排第4名，得满分的70%，扣0.9分"]
        );
        // Differences below 1e-6 are ties.
        assert_eq!(r.place(80.0, &[80.0000000001, 80.0]), 1);
        let lo = Rank {
            direction: Better::Lower,
            ..r
        };
        assert_eq!(lo.place(40.0, &peers), 1);
    }
}

//! `proportional`: points in proportion to the best peer (按第1名的比例得分).

use super::reader::Reader;
use super::{Assessment, Better, Ctx, Outcome, Share, lost_points, with_unit};
use crate::num::fmt_num;

#[derive(Clone, Debug, PartialEq)]
pub struct Proportional {
    pub direction: Better,
}

impl Proportional {
    pub(crate) fn read(r: &mut Reader) -> Option<Proportional> {
        let direction = r
            .choice("direction", true, &["higher", "lower"])
            .and_then(|d| Better::parse(&d));
        Some(Proportional {
            direction: direction?,
        })
    }

    /// `v` ≥ 0 and `ctx.peers` (region included, all ≥ 0) are checked by the
    /// scorer: a negative value is a missing indicator.
    fn best(&self, v: f64, ctx: &Ctx) -> f64 {
        match self.direction {
            Better::Higher => ctx.peers.iter().copied().fold(v, f64::max),
            Better::Lower => ctx.peers.iter().copied().fold(v, f64::min),
        }
    }

    pub fn assess(&self, v: f64, ctx: &Ctx) -> Assessment {
        let best = self.best(v, ctx);
        Assessment::of(Share::Fraction(match self.direction {
            Better::Higher if best == 0.0 => 1.0,
            Better::Higher => v / best,
            Better::Lower if v == 0.0 => 1.0,
            Better::Lower => best / v,
        }))
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        let best = self.best(v, ctx);
        let points = self.assess(v, ctx).share.points(ctx.max);
        Outcome::with(ctx.max, points, |lost| {
            format!(
                "{}，按同级第1名（{}）的比例得分，得满分的{}%，扣{}分",
                with_unit(v, ctx.unit),
                with_unit(best, ctx.unit),
                fmt_num(points / ctx.max * 100.0, 2),
                lost_points(lost)
            )
        })
    }

    pub fn describe(&self) -> String {
        match self.direction {
            Better::Higher => "按同级第1名（最高值）的比例得分".into(),
            Better::Lower => "按同级第1名（最低值）的比例得分".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(peers: &[f64]) -> Ctx<'_> {
        Ctx {
            max: 4.0,
            unit: "%",
            benchmark: None,
            peers,
        }
    }

    #[test]
    fn proportional_to_the_first() {
        let hi = Proportional {
            direction: Better::Higher,
        };
        assert_eq!(hi.score(40.0, &ctx(&[40.0, 80.0, 60.0])).points, 2.0);
        assert_eq!(hi.score(80.0, &ctx(&[40.0, 80.0])).points, 4.0);
        assert_eq!(
            hi.score(0.0, &ctx(&[0.0, 0.0])).points,
            4.0,
            "best = 0 → full"
        );
        let lo = Proportional {
            direction: Better::Lower,
        };
        assert_eq!(lo.score(20.0, &ctx(&[10.0, 20.0])).points, 2.0);
        assert_eq!(
            lo.score(0.0, &ctx(&[0.0, 20.0])).points,
            4.0,
            "v = 0 → full"
        );
        assert_eq!(
            hi.score(40.0, &ctx(&[40.0, 80.0])).reasons,
            vec!["40%，按同级第1名（80%）的比例得分，得满分的50%，扣2分"]
        );
    }
}

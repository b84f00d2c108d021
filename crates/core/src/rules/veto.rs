//! `veto`: a bottom line (底线思维): above `max_allowed` the indicator scores
//! nothing and the region gets the veto grade.

use super::reader::Reader;
use super::{Assessment, Ctx, Outcome, Share, with_unit};
use crate::num::snap;

#[derive(Clone, Debug, PartialEq)]
pub struct Veto {
    pub max_allowed: f64,
}

impl Veto {
    pub(crate) fn read(r: &mut Reader) -> Option<Veto> {
        let max_allowed = r.number("max_allowed", false).unwrap_or(0.0);
        Some(Veto { max_allowed })
    }

    pub fn assess(&self, v: f64) -> Assessment {
        let ok = snap(v) <= self.max_allowed;
        Assessment {
            share: Share::Fraction(if ok { 1.0 } else { 0.0 }),
            veto: !ok,
        }
    }

    pub fn score(&self, v: f64, ctx: &Ctx) -> Outcome {
        if !self.assess(v).veto {
            return Outcome {
                points: ctx.max,
                reasons: Vec::new(),
                veto: false,
            };
        }
        Outcome {
            points: 0.0,
            reasons: vec![format!(
                "{}，超过允许值{}，一票否决",
                with_unit(v, ctx.unit),
                with_unit(self.max_allowed, ctx.unit)
            )],
            veto: true,
        }
    }

    pub fn describe(&self, unit: &str) -> String {
        format!("一票否决：超过{}即否决", with_unit(self.max_allowed, unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 底线思维：重特大案件发生率必须为零。
    #[test]
    fn seed_major_cases_must_be_zero() {
        let r = Veto { max_allowed: 0.0 };
        let c = Ctx {
            max: 3.6,
            unit: "起",
            benchmark: None,
            peers: &[],
        };
        let ok = r.score(0.0, &c);
        assert_eq!((ok.points, ok.veto), (3.6, false));
        let bad = r.score(1.0, &c);
        assert_eq!((bad.points, bad.veto), (0.0, true));
        assert_eq!(bad.reasons, vec!["1起，超过允许值0起，一票否决"]);
    }
}

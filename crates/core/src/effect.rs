//! 效果评估 (seed §8.3; issue 21): the evaluation judged by its own
//! records against the seed's targets — 测评结果应用率 (the share of
//! evaluated regions whose results were used for policy, resources or
//! 考核) ≥ 90 %, 问题整改率 (problems due that were closed by their
//! deadline) ≥ 95 %, 群众满意度提升率 (this year's survey index against
//! last year's) ≥ 5 points.

use serde::Serialize;

pub const APPLICATION_TARGET: f64 = 90.0;
pub const ON_TIME_TARGET: f64 = 95.0;
pub const SATISFACTION_TARGET: f64 = 5.0;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rate {
    /// The rate in percent (or points for satisfaction); None without data.
    pub value: Option<f64>,
    pub numerator: f64,
    pub denominator: f64,
    pub target: f64,
    pub met: Option<bool>,
}

fn rate(numerator: usize, denominator: usize, target: f64) -> Rate {
    let value = (denominator > 0).then(|| numerator as f64 / denominator as f64 * 100.0);
    Rate {
        value,
        numerator: numerator as f64,
        denominator: denominator as f64,
        target,
        met: value.map(|v| v >= target),
    }
}

/// 测评结果应用率: of the `evaluated` regions, how many have a recorded use.
pub fn application(evaluated: usize, used: usize) -> Rate {
    rate(used.min(evaluated), evaluated, APPLICATION_TARGET)
}

/// An item as the on-time rate sees it: its deadline and when it was
/// closed (YYYY-MM-DD…), if it was.
pub struct Due<'a> {
    pub deadline: &'a str,
    pub closed_on: Option<&'a str>,
}

/// 问题整改率: of the items due by `today` (deadline passed, or closed),
/// how many were closed on or before their deadline.
pub fn on_time(items: &[Due<'_>], today: &str) -> Rate {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
    let due: Vec<&Due> = items
        .iter()
        .filter(|i| i.closed_on.is_some() || day(i.deadline) < day(today))
        .collect();
    let in_time = due
        .iter()
        .filter(|i| i.closed_on.is_some_and(|c| day(c) <= day(i.deadline)))
        .count();
    rate(in_time, due.len(), ON_TIME_TARGET)
}

/// A survey mean on the 1–5 scale as a 百分制 index, (m − 1) ÷ 4 × 100: the
/// scale on which the seed's "5 个百分点" is read.
pub fn hundred(mean: f64) -> f64 {
    (mean - 1.0) / 4.0 * 100.0
}

/// 群众满意度提升率: the index this year minus last year, in points.
pub fn satisfaction(this: Option<f64>, last: Option<f64>) -> Rate {
    let value = match (this, last) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    Rate {
        value,
        numerator: this.unwrap_or(0.0),
        denominator: last.unwrap_or(0.0),
        target: SATISFACTION_TARGET,
        met: value.map(|v| v >= SATISFACTION_TARGET),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_rates_by_hand() {
        let a = application(10, 9);
        assert_eq!(a.value, Some(90.0));
        assert_eq!(a.met, Some(true));
        assert_eq!(application(0, 0).value, None);
        let items = [
            // closed in time
            Due {
                deadline: "2025-03-01",
                closed_on: Some("2025-02-28T10:00:00.000Z"),
            },
            // closed late
            Due {
                deadline: "2025-03-01",
                closed_on: Some("2025-03-02T01:00:00.000Z"),
            },
            // open, overdue
            Due {
                deadline: "2025-03-01",
                closed_on: None,
            },
            // open, not yet due: not counted
            Due {
                deadline: "2025-12-31",
                closed_on: None,
            },
            // closed on the day
            Due {
                deadline: "2025-03-01",
                closed_on: Some("2025-03-01T23:00:00.000Z"),
            },
        ];
        let r = on_time(&items, "2025-06-01");
        assert_eq!((r.numerator, r.denominator), (2.0, 4.0));
        assert_eq!(r.value, Some(50.0));
        assert_eq!(r.met, Some(false));
        let s = satisfaction(Some(88.5), Some(82.0));
        assert_eq!(s.value, Some(6.5));
        assert_eq!(s.met, Some(true));
        assert_eq!(satisfaction(Some(88.0), None).met, None);
        assert_eq!(hundred(5.0), 100.0);
        assert_eq!(hundred(1.0), 0.0);
        assert_eq!(hundred(4.0), 75.0);
    }
}

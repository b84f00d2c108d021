//! A run and the points inside it are one cause, one item. The seed's run
//! rule names three months above its line; the point methods often name one
//! of the same months as well (the first, as a rule the furthest off), and
//! a reviewer would meet one cause twice. Where the months after the run
//! stayed above the line to the end of the year, the run is a shift that
//! began at its first month: the item is that month's, as a jump's is.
//! Otherwise the item is the run's, at the month it completed.

use super::{Ctx, Flag, FlagKind, fold, number, share};
use rustc_hash::FxHashMap;

/// The last absolute month (year × 12 + 11) of the year of `idx`.
fn year_end(idx: i64) -> i64 {
    idx - idx.rem_euclid(12) + 11
}

/// A point flag (not a run, not a share) above its expectation.
fn point_up(f: &Flag) -> bool {
    !matches!(f.kind, FlagKind::RunAboveMean | FlagKind::Share)
        && f.kind.statistical()
        && number(&f.numbers, "value")
            .zip(number(&f.numbers, "expected"))
            .is_some_and(|(x, e)| x > e)
}

/// Whether every month after the run, to the end of its year, stayed above
/// the run's line (and there is at least one such month): a shift, not a
/// run that came back.
pub(super) fn lasting(run: &Flag, monthly: &share::Monthly) -> bool {
    let (Some((_, last)), Some(line), Some(s)) = (
        run.months(),
        number(&run.numbers, "line"),
        monthly.get(&(run.region, run.element)),
    ) else {
        return false;
    };
    let end = year_end(last);
    last < end && (last + 1..=end).all(|k| s.at(k).is_some_and(|v| v > line))
}

impl Ctx<'_> {
    /// Fold each series' point flags within one of its runs into one item
    /// (see the module's note).
    pub(super) fn runs_one_item(&mut self, monthly: &share::Monthly) {
        // Each series' points moving up, by their month.
        let mut points: FxHashMap<(usize, usize), Vec<(usize, i64)>> = FxHashMap::default();
        for (j, f) in self.flags.iter().enumerate() {
            if let Some((m, _)) = f.months().filter(|_| point_up(f)) {
                points
                    .entry((f.region, f.element))
                    .or_default()
                    .push((j, m));
            }
        }
        let mut gone = vec![false; self.flags.len()];
        for i in 0..self.flags.len() {
            let run = &self.flags[i];
            if gone[i] || run.kind != FlagKind::RunAboveMean {
                continue;
            }
            let (Some((a, b)), Some(series)) =
                (run.months(), points.get(&(run.region, run.element)))
            else {
                continue;
            };
            let inside: Vec<(usize, i64)> = series
                .iter()
                .copied()
                .filter(|&(j, m)| !gone[j] && a <= m && m <= b)
                .collect();
            let first = inside.iter().find(|x| x.1 == a).map(|x| x.0);
            let mut folded: Vec<usize> = inside.into_iter().map(|x| x.0).collect();
            if folded.is_empty() {
                continue;
            }
            let keep = match first {
                Some(j) if lasting(run, monthly) => {
                    folded.retain(|&k| k != j);
                    folded.push(i);
                    j
                }
                _ => i,
            };
            folded.sort_by_key(|&j| (self.flags[j].period, j));
            let (lines, best) = self.further_lines(&folded, &self.flags[keep].numbers);
            let f = &mut self.flags[keep];
            f.message.push_str(&lines);
            fold::raise(&mut f.numbers, best);
            for j in folded {
                gone[j] = true;
            }
        }
        let mut k = 0;
        self.flags.retain(|_| {
            k += 1;
            !gone[k - 1]
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run, steady, tree};
    use super::super::*;
    use crate::default_framework;

    /// Steady criminal cases (≈ 30 a month, no parts) in every township, and
    /// township T0's 2024 months as given.
    fn cases(t0: &[(u32, f64)]) -> Report {
        let fw = default_framework();
        let tree = tree();
        let mut o = steady(&fw, &tree);
        let e = fw.element_index("criminal_cases").unwrap();
        for t in 0..6 {
            for y in [2023, 2024] {
                for m in 1..=12u32 {
                    let wobble = [0.0, 2.0, -1.0, 1.0, -2.0, 1.0][(m as usize + t) % 6];
                    let planted = t0.iter().find(|x| t == 0 && y == 2024 && x.0 == m);
                    o.out.push(Observation {
                        region: tree.find(&format!("T{t}")).unwrap(),
                        period: format!("{y}-{m:02}").parse().unwrap(),
                        element: e,
                        value: planted.map_or(30.0 + wobble, |x| x.1),
                        source: String::new(),
                        submitted: None,
                    });
                }
            }
        }
        let r = run(&o, "2024");
        let t0 = tree.find("T0").unwrap();
        Report {
            flags: r
                .flags
                .into_iter()
                .filter(|f| f.region == t0 && f.element == e)
                .collect(),
            summary: r.summary,
        }
    }

    fn months(r: &Report) -> Vec<(String, FlagKind)> {
        r.flags
            .iter()
            .map(|f| (f.period.to_string(), f.kind))
            .collect()
    }

    /// Three months far above, then back: the points the first months
    /// raised are lines of the run's item, at the month it completed.
    #[test]
    fn a_run_and_the_points_inside_it_are_one_item() {
        let r = cases(&[(2, 90.0), (3, 70.0), (4, 72.0)]);
        assert_eq!(
            months(&r),
            [("2024-04".to_string(), FlagKind::RunAboveMean)],
            "{:#?}",
            r.flags
        );
        let m = &r.flags[0].message;
        assert!(m.contains("连续 3 期（90、70、72）"), "{m}");
        assert!(m.contains("；另 2024年2月：由上期 32 变为 90"), "{m}");
    }

    /// Months far above from September to December: a shift, the item of
    /// its first month, with the run it also made as a further line.
    #[test]
    fn a_run_that_lasts_to_the_year_end_is_its_first_month() {
        let r = cases(&[(9, 90.0), (10, 80.0), (11, 82.0), (12, 81.0)]);
        let at = months(&r);
        assert_eq!(at.first().map(|x| x.0.as_str()), Some("2024-09"), "{at:?}");
        assert!(!at.iter().any(|x| x.1 == FlagKind::RunAboveMean), "{at:?}");
        assert!(
            r.flags[0].message.contains("连续 3 期（90、80、82）"),
            "{}",
            r.flags[0].message
        );
    }
}

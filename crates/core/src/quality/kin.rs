//! 学得的构成关系: two flows where one never exceeded the other, in any
//! region or any month of the earlier years, is usually most of it, and
//! keeps its share as steadily as a part drawn from its whole would, are a
//! part and its whole even where no rule says so (petitions due for
//! closing of petitions received, in a province whose offices count them
//! that way). The share test and the family's evidence read them as they
//! read a rule's `a <= b`; no rule is broken when one is not kept.

use super::share::Monthly;
use crate::framework::{Framework, TimeAgg};

/// Region-months that must show both figures before a relation counts:
/// a handful agreeing says nothing.
const MIN_MONTHS: usize = 120;
/// The part's pooled share of its whole: a small flow stays under a large
/// one by its size alone (fires under grid events), not by being a part.
const MIN_SHARE: f64 = 0.5;
/// The share's month-to-month spread against a binomial's (the median
/// over regions): sub-counts measured 0.86–1.02 on the held-out province;
/// two unrelated flows 1.6–7.7, their share wandering with both.
const MAX_SPREAD: f64 = 1.5;
/// Months a region needs for its spread to count.
const SPREAD_MONTHS: usize = 12;

/// The learned part → whole pairs among `fw`'s flows, from the months
/// before `year`, leaving out those `known` (the rules' own pairs) already
/// imply, directly or through a chain (agreements ≤ mediations that
/// succeeded ≤ mediations).
pub(super) fn learned(
    fw: &Framework,
    known: &[(usize, usize)],
    monthly: &Monthly,
    year: i32,
) -> Vec<(usize, usize)> {
    let flows: Vec<usize> = (0..fw.elements.len())
        .filter(|&e| fw.elements[e].time_agg == TimeAgg::Sum)
        .collect();
    let n = flows.len();
    if n < 2 {
        return Vec::new();
    }
    let regions = super::share::regions(monthly);
    let end = i64::from(year) * 12;
    // (months both present with a positive whole, part total, whole total),
    // or None once the part exceeded the whole anywhere.
    let mut seen: Vec<Option<(usize, f64, f64)>> = vec![Some((0, 0.0, 0.0)); n * n];
    for &r in &regions {
        let series: Vec<_> = flows.iter().map(|&e| monthly.get(&(r, e))).collect();
        for (i, a) in series.iter().enumerate() {
            let Some(a) = a else { continue };
            for (j, b) in series.iter().enumerate() {
                let (Some(b), Some(acc)) = (b, seen[i * n + j].as_mut()) else {
                    continue;
                };
                if i == j {
                    continue;
                }
                let start = a.first.max(b.first);
                for idx in start..end {
                    let (Some(x), Some(w)) = (a.at(idx), b.at(idx)) else {
                        continue;
                    };
                    if x > w {
                        seen[i * n + j] = None;
                        break;
                    }
                    if w > 0.0 {
                        acc.0 += 1;
                        acc.1 += x;
                        acc.2 += w;
                    }
                }
            }
        }
    }
    let holds = |i: usize, j: usize| {
        seen[i * n + j].is_some_and(|(m, x, w)| m >= MIN_MONTHS && x >= MIN_SHARE * w)
            && steady(monthly, &regions, (flows[i], flows[j]), end)
    };
    let mut found = Vec::new();
    for i in 0..n {
        for j in 0..n {
            // Two figures that never differ say nothing as a share.
            if i != j && holds(i, j) && !holds(j, i) {
                found.push((flows[i], flows[j]));
            }
        }
    }
    let mut graph: Vec<(usize, usize)> = known.iter().chain(&found).copied().collect();
    graph.sort_unstable();
    graph.dedup();
    found.retain(|&(a, b)| {
        !known.contains(&(a, b))
            && !known.contains(&(b, a))
            && !graph
                .iter()
                .any(|&(x, c)| x == a && c != b && reaches(&graph, c, b))
    });
    found
}

/// The pair's share moves month to month about as a binomial part's would
/// (Pearson's dispersion, the median over the regions with a year of it).
fn steady(monthly: &Monthly, regions: &[usize], (pe, we): (usize, usize), end: i64) -> bool {
    let spreads: Vec<f64> = regions
        .iter()
        .filter_map(|&r| {
            let (a, b) = (monthly.get(&(r, pe))?, monthly.get(&(r, we))?);
            let months: Vec<(f64, f64)> = (a.first.max(b.first)..end)
                .filter_map(|idx| Some((a.at(idx)?, b.at(idx)?)))
                .filter(|&(_, w)| w > 0.0)
                .collect();
            if months.len() < SPREAD_MONTHS {
                return None;
            }
            Some(super::share::dispersion(&months))
        })
        .collect();
    super::stats::median(&spreads).is_some_and(|m| m <= MAX_SPREAD)
}

/// `to` can be reached from `from` along `graph`'s edges.
fn reaches(graph: &[(usize, usize)], from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![from];
    while let Some(x) = stack.pop() {
        if x == to {
            return true;
        }
        for &(a, b) in graph {
            if a == x && !seen.contains(&b) {
                seen.push(b);
                stack.push(b);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::share::Series;
    use super::super::{FlagKind, Observation, RuleSet, check, number};
    use super::*;
    use crate::default_framework;
    use crate::period::Period;
    use rustc_hash::FxHashMap;

    /// A small deterministic generator: the tests need noise, not a crate.
    struct Lcg(u64);
    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        /// About `mean`, give or take its square root.
        fn count(&mut self, mean: f64) -> f64 {
            let z: f64 = (0..12).map(|_| self.unit()).sum::<f64>() - 6.0;
            (mean + z * mean.sqrt()).round().max(0.0)
        }
        /// Each of `n` kept with probability `p`.
        fn part(&mut self, n: f64, p: f64) -> f64 {
            (0..n as usize).filter(|_| self.unit() < p).count() as f64
        }
    }

    /// `regions` × 24 months (2022–2023) of each element `make` gives.
    fn province(
        regions: usize,
        make: impl Fn(&mut Lcg, usize, usize) -> Vec<(&'static str, f64)>,
    ) -> FxHashMap<(usize, &'static str), Vec<Option<f64>>> {
        let mut g = Lcg(7);
        let mut out: FxHashMap<(usize, &'static str), Vec<Option<f64>>> = FxHashMap::default();
        for r in 0..regions {
            for t in 0..24 {
                for (e, v) in make(&mut g, r, t) {
                    out.entry((r, e)).or_default().push(Some(v));
                }
            }
        }
        out
    }

    fn learn(
        data: &FxHashMap<(usize, &'static str), Vec<Option<f64>>>,
        known: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let fw = default_framework();
        let el = |c: &str| fw.element_index(c).unwrap();
        let monthly: Monthly = data
            .iter()
            .map(|(&(r, e), d)| {
                let s = Series {
                    first: 2022 * 12,
                    dense: d,
                    model: None,
                };
                ((r, el(e)), s)
            })
            .collect();
        let known: Vec<(usize, usize)> = known.iter().map(|&(a, b)| (el(a), el(b))).collect();
        let code = |e: usize| fw.elements[e].code.clone();
        learned(&fw, &known, &monthly, 2024)
            .into_iter()
            .map(|(a, b)| (code(a), code(b)))
            .collect()
    }

    #[test]
    fn a_sub_count_no_rule_names_is_learned_once() {
        let data = province(8, |g, r, t| {
            let _ = t;
            let petitions = g.count(30.0 + 5.0 * r as f64);
            let due = g.part(petitions, 0.88);
            let mediations = g.count(40.0);
            let success = g.part(mediations, 0.9);
            let agreements = g.part(success, 0.8);
            vec![
                ("petitions", petitions),
                ("petitions_due", due),
                ("civil_mediations", mediations),
                ("civil_mediation_success", success),
                ("agreements", agreements),
            ]
        });
        let known = [
            ("agreements", "civil_mediation_success"),
            ("civil_mediation_success", "civil_mediations"),
        ];
        // Agreements ≤ mediations holds too, but the rules' chain says so.
        assert_eq!(
            learn(&data, &known),
            vec![("petitions_due".to_string(), "petitions".to_string())]
        );
        // Fewer region-months than MIN_MONTHS say nothing.
        let few: FxHashMap<_, _> = data.into_iter().filter(|((r, _), _)| *r < 4).collect();
        assert!(learn(&few, &known).is_empty());
    }

    #[test]
    fn unrelated_small_or_crossing_flows_are_not() {
        let data = province(8, |g, r, t| {
            let grid = g.count(300.0);
            // Independent, never above the other, about 60 % of it: its
            // share wanders with both.
            let disputes = g.count(60.0 + r as f64);
            let petitions = (g.count(100.0) + 20.0).max(disputes);
            let fires = g.count(3.0);
            // A sub-count, once typed above its whole.
            let hazards = g.count(50.0);
            let mut fixed = g.part(hazards, 0.9);
            if r == 3 && t == 17 {
                fixed = hazards + 1.0;
            }
            vec![
                ("grid_events", grid),
                ("disputes", disputes),
                ("petitions", petitions),
                ("fire_incidents", fires),
                ("hazards_found", hazards),
                ("hazards_fixed", fixed),
            ]
        });
        assert_eq!(learn(&data, &[]), Vec::<(String, String)>::new());
    }

    /// Through the whole check: a province whose petitions due for closing
    /// are a sub-count of those received, in which one township's due count
    /// falls to a third from July, has that as one share item, saying why
    /// the two are read as part and whole.
    #[test]
    fn a_learned_pair_finds_a_part_that_fell() {
        let fw = default_framework();
        let tree = super::super::tests::tree();
        let rules = RuleSet::default_for(&fw);
        let (pet, due) = (
            fw.element_index("petitions").unwrap(),
            fw.element_index("petitions_due").unwrap(),
        );
        let mut g = Lcg(11);
        let mut obs = Vec::new();
        for t in 0..6 {
            let region = tree.find(&format!("T{t}")).unwrap();
            for y in 2022..=2024 {
                for m in 1..=12 {
                    let period = Period::Month(y, m);
                    let n = g.count(40.0 + 4.0 * t as f64);
                    let mut d = g.part(n, 0.9);
                    if t == 0 && y == 2024 && m >= 7 {
                        d = (d / 3.0).round();
                    }
                    for (element, value) in [(pet, n), (due, d)] {
                        obs.push(Observation {
                            region,
                            period,
                            element,
                            value,
                            source: String::new(),
                            submitted: None,
                        });
                    }
                }
            }
        }
        let r = check(&fw, &tree, &rules, &obs, "2024".parse().unwrap());
        let t0 = tree.find("T0").unwrap();
        let share: Vec<_> = r
            .flags
            .iter()
            .filter(|f| f.region == t0 && f.message.contains("的比例由此前"))
            .collect();
        assert_eq!(share.len(), 1, "{:#?}", r.flags);
        let f = share[0];
        assert_eq!((f.element, f.period), (due, Period::Month(2024, 7)));
        assert!(
            f.message
                .contains("应办结信访事项数占信访事项数的比例由此前 6 期的"),
            "{}",
            f.message
        );
        assert!(f.message.contains("按其组成部分看待"), "{}", f.message);
        assert!(number(&f.numbers, "surprise").unwrap() >= 6.0);
        // Nothing else in the province is an item of this pair.
        assert!(
            r.flags
                .iter()
                .filter(|f| f.kind.statistical() && f.region != t0)
                .all(|f| f.kind != FlagKind::Share),
            "{:#?}",
            r.flags
        );
    }
}

//! One cause, one item. Where a rule says one element is part of another
//! (`solved <= filed`, `timely <= received`), a statistical flag on the
//! part in the month the whole is flagged too, moving the same way and by
//! about as much, is the whole's change passed on: more disputes, so more
//! disputes resolved. It is folded into the whole's flag as a further line
//! rather than queued as a second item. A part that moved much more or less
//! than its whole (a share that changed) keeps its own flag, and a share's
//! departure (`share`) joins the series' own flags within it as one item.

use super::rules::RuleSet;
use super::{Flag, FlagKind, share};
use crate::framework::Framework;
use crate::num::fmt;
use rustc_hash::FxHashMap;

/// A part's change counts as its whole's when their ratios to what the
/// model expected are within this factor of each other.
const ALIKE: f64 = 1.5;

/// part → whole, from the rules `a <= b` between two single elements and
/// the pairs the earlier years showed (`kin.rs`).
fn wholes(rules: &RuleSet, learned: &[(usize, usize)]) -> FxHashMap<usize, usize> {
    learned.iter().copied().chain(rules.parts()).collect()
}

fn number(f: &Flag, name: &str) -> Option<f64> {
    super::number(&f.numbers, name)
}

/// The value and what it is measured against: for a run, the history's
/// mean its three months stood above (the model's expectation is of the
/// last month alone, which may sit either side of it); else the model's
/// expectation for the month.
fn reference(f: &Flag) -> Option<(f64, f64, &'static str)> {
    let x = number(f, "value")?;
    let (e, label) = if f.kind == FlagKind::RunAboveMean {
        (number(f, "mean")?, "历史均值")
    } else {
        (number(f, "expected")?, "预计")
    };
    (e > 0.0 && x.is_finite()).then_some((x, e, label))
}

/// The value against its reference (1 = as expected).
fn moved(f: &Flag) -> Option<f64> {
    reference(f).map(|(x, e, _)| x / e)
}

/// The part's flag is its whole's change passed on.
fn passed_on(part: &Flag, whole: &Flag) -> bool {
    let (Some(p), Some(w)) = (moved(part), moved(whole)) else {
        return false;
    };
    if w == 0.0 || p == 0.0 {
        // Both fell to nothing (no mediations, so none succeeded).
        return w == p;
    }
    (p - 1.0) * (w - 1.0) > 0.0 && (p / w) <= ALIKE && (w / p) <= ALIKE
}

/// Fold every part's flag that its whole's flag explains into the whole's
/// (following parts of parts to the outermost whole that is flagged).
pub(super) fn fold(
    flags: &mut Vec<Flag>,
    rules: &RuleSet,
    learned: &[(usize, usize)],
    fw: &Framework,
) {
    let wholes = wholes(rules, learned);
    if wholes.is_empty() {
        return;
    }
    let at: FxHashMap<_, usize> = flags
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind.statistical())
        .map(|(i, f)| ((f.region, f.element, f.period), i))
        .collect();
    // Each flag's direct holder, if its whole explains it.
    let holder: Vec<Option<usize>> = flags
        .iter()
        .map(|f| {
            if !f.kind.statistical() {
                return None;
            }
            let w = *wholes.get(&f.element)?;
            let &j = at.get(&(f.region, w, f.period))?;
            passed_on(f, &flags[j]).then_some(j)
        })
        .collect();
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); flags.len()];
    let mut gone = vec![false; flags.len()];
    'flags: for (i, h) in holder.iter().enumerate() {
        let Some(mut root) = *h else { continue };
        // Rules could name a cycle (a <= b and b <= a): flags on it stay.
        for _ in 0..flags.len() {
            match holder[root] {
                Some(next) if next == i => continue 'flags,
                Some(next) => root = next,
                None => break,
            }
        }
        let f = &flags[i];
        let el = &fw.elements[f.element];
        // `passed_on` found both.
        let Some((x, e, label)) = reference(f) else {
            continue;
        };
        lines[root].push(format!(
            "另 {}（{}）同期随之{}：{}，{label} {}，同一原因，一并核查",
            el.name,
            el.code,
            if x > e { "上升" } else { "下降" },
            fmt(x),
            fmt((e * 100.0).round() / 100.0)
        ));
        gone[i] = true;
    }
    for (f, more) in flags.iter_mut().zip(&lines) {
        if !more.is_empty() {
            f.message.push('；');
            f.message.push_str(&more.join("；"));
        }
    }
    let mut k = 0;
    flags.retain(|_| {
        k += 1;
        !gone[k - 1]
    });
}

impl super::Ctx<'_> {
    /// A share's departure and the series' own statistical flags within
    /// it are one cause, one item. A shift (an episode still away from its
    /// share at its end) is the item of its first month, with the flags its
    /// later months raised as further lines; three months that came back
    /// are the item of their last month, as a run is; otherwise the share
    /// joins the flag nearest its month. The stronger evidence ranks the
    /// item.
    pub(super) fn add_share(&mut self, r: usize, s: share::Found, monthly: &share::Monthly) {
        let at = match super::series_key(s.period) {
            (2, idx) => idx,
            _ => s.span.0,
        };
        // The series' flags whose months meet the episode's, by their
        // (last) month: (flag, first month, last month).
        let mut within: Vec<(usize, i64, i64)> = self
            .flags
            .iter()
            .enumerate()
            .filter(|(_, f)| f.region == r && f.element == s.element && f.kind.statistical())
            .filter_map(|(i, f)| Some((i, f.months()?)))
            .filter(|&(_, (a, b))| a <= s.span.1 && s.span.0 <= b)
            .map(|(i, (a, m))| (i, a, m))
            .collect();
        within.sort_by_key(|&(i, _, m)| ((m - at).abs(), i));
        // A run of the series' own that completes with the episode and began
        // with it (or a month after it) keeps its month: at the end of the
        // checked months, a run and a shift look alike, but a shift of nine
        // months is not a run of its last three. So does a run that
        // completes after an episode of several months (the run's last
        // month was just under the share's materiality), or after a
        // one-month episode at the run's first month when the run's months
        // stand alike (91, 94, 91 where 67 is usual: the share's later
        // months were under its materiality). A one-month episode otherwise
        // stays with its own month (a spike of 211 and two months of 65
        // after it).
        let run_at_end = within.iter().find(|&&(i, a, m)| {
            let begun_alike =
                || a == s.span.0 && alike(&self.flags[i], monthly.get(&(r, s.element)));
            self.flags[i].kind == FlagKind::RunAboveMean
                && ((m == s.span.1 && s.span.0 >= a - 1)
                    || (m > s.span.1 && (s.span.1 > s.span.0 || begun_alike())))
        });
        // A shift whose first month the series' own methods flagged began
        // there, with a step (a case count that doubled from October on is
        // not a run that completed in December, though at the end of the
        // year the two look alike).
        // A run of the series' own that began with a shift and came back
        // under its line before the shift ended is the run's item: the
        // series' own months say where its error ended, and the share
        // stayed away after them for a cause of its own (a rumour count
        // run up from September to November, the count handled in time
        // falling from November on).
        let came_back = within.iter().find(|&&(i, a, m)| {
            s.shift
                && (s.span.0..=s.span.0 + 1).contains(&a)
                && m < s.span.1
                && self.flags[i].kind == FlagKind::RunAboveMean
                && back_under(&self.flags[i], m + 1, monthly.get(&(r, s.element)))
        });
        let step = within.iter().find(|&&(_, _, m)| s.shift && m == at);
        // Three months that came back are placed where they complete, as
        // a run is: a run of the series' own placed a month earlier (a
        // natural high month before the planted ones) does not move them.
        let exact_run = !s.shift && at == s.span.1 && s.span.1 > s.span.0;
        let run_item = came_back.or(run_at_end);
        let target = match came_back.or(step).or(run_item).or(within.first()) {
            Some(&(i, _, m)) if m == at || run_item.is_some() || (!s.shift && !exact_run) => {
                Some(i)
            }
            _ => None,
        };
        // The series' other flags within the episode, as further lines.
        let mut others: Vec<usize> = within
            .iter()
            .map(|w| w.0)
            .filter(|&i| Some(i) != target)
            .collect();
        others.sort_unstable();
        let (lines, best) = self.further_lines(&others, &s.finding.numbers);
        match target {
            Some(i) => {
                let f = &mut self.flags[i];
                f.message.push_str("；另 ");
                f.message.push_str(&s.finding.detail);
                f.message.push_str(&lines);
                raise(&mut f.numbers, best);
            }
            None => {
                let mut finding = s.finding;
                raise(&mut finding.numbers, best);
                finding.detail.push_str(&lines);
                self.push(r, s.element, s.period, finding);
            }
        }
        for &i in others.iter().rev() {
            self.flags.remove(i);
        }
    }

    /// The details of the flags `idx`, in that order, as further lines of
    /// another item ("；另 2024年9月：…"), and the strongest evidence among
    /// them and the item's own `numbers`.
    pub(super) fn further_lines(&self, idx: &[usize], numbers: &[(String, f64)]) -> (String, f64) {
        let mut lines = String::new();
        let mut best = super::number(numbers, "surprise").unwrap_or(0.0);
        for &i in idx {
            let f = &self.flags[i];
            let head = self.head(f.region, f.element, f.period);
            let detail = f.message.strip_prefix(&head).unwrap_or(&f.message);
            lines.push_str(&format!("；另 {}：{detail}", f.period.label()));
            best = best.max(super::number(&f.numbers, "surprise").unwrap_or(0.0));
        }
        (lines, best)
    }
}

/// A run's months stand alike above the mean it stood above (the least
/// excess at least half the largest): three busy months, not one month far
/// off with two a little above it.
fn alike(run: &Flag, series: Option<&share::Series>) -> bool {
    let (Some((a, b)), Some(mean), Some(s)) = (run.months(), number(run, "mean"), series) else {
        return false;
    };
    let Some(excess) = (a..=b)
        .map(|idx| s.at(idx).map(|x| x - mean))
        .collect::<Option<Vec<f64>>>()
    else {
        return false;
    };
    let (lo, hi) = excess
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &e| {
            (l.min(e), h.max(e))
        });
    lo > 0.0 && lo >= 0.5 * hi
}

/// The series at month `idx` is back at or under the run's line: the run
/// ended there (not `runs::lasting`'s question, whether the series stayed
/// above to December — one month under the line mid-shift is not a return).
fn back_under(run: &Flag, idx: i64, series: Option<&share::Series>) -> bool {
    number(run, "line")
        .zip(series.and_then(|s| s.at(idx)))
        .is_some_and(|(line, v)| v <= line)
}

/// Raise a flag's `surprise` to `evidence` where that is stronger.
pub(super) fn raise(numbers: &mut [(String, f64)], evidence: f64) {
    if let Some(n) = numbers.iter_mut().find(|n| n.0 == "surprise") {
        n.1 = n.1.max(evidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_framework;
    use crate::period::Period;
    use crate::quality::Ctx;

    fn flag(fw: &Framework, element: &str, kind: FlagKind, numbers: &[(&str, f64)]) -> Flag {
        Flag {
            region: 0,
            element: fw.element_index(element).unwrap(),
            period: Period::Month(2024, 3),
            kind,
            score: 1.0,
            message: format!("{element}："),
            numbers: numbers.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            rule: None,
            sources: Vec::new(),
        }
    }

    /// `flag` in month `m` of 2024.
    fn at(fw: &Framework, e: &str, m: u8, kind: FlagKind, numbers: &[(&str, f64)]) -> Flag {
        Flag {
            period: Period::Month(2024, m),
            ..flag(fw, e, kind, numbers)
        }
    }

    /// One township, for placing flags with a `Ctx`.
    fn township() -> crate::region::RegionTree {
        use crate::region::{Level, RegionRow, RegionTree};
        RegionTree::new(vec![RegionRow {
            code: "T".into(),
            name: "乡".into(),
            parent: None,
            level: Level::Township,
            valid_from: None,
            valid_to: None,
        }])
        .unwrap()
    }

    /// A fall of `e`'s share over the absolute months `span`.
    fn episode(e: usize, span: (i64, i64), shift: bool, surprise: f64) -> share::Found {
        share::Found {
            element: e,
            period: Period::Month(2024, (span.0 - 2024 * 12 + 1) as u8),
            span,
            shift,
            finding: crate::quality::anomaly::Finding {
                kind: FlagKind::Share,
                score: 1.0,
                numbers: vec![("surprise".into(), surprise)],
                detail: "比例下降".into(),
            },
        }
    }

    #[test]
    fn runs_are_measured_against_the_mean_they_stood_above() {
        let fw = default_framework();
        let rules = RuleSet::default_for(&fw);
        // Both ran above their means; in the last month both are a little
        // under the model's expectation, which says nothing of the run.
        let run = |e: &str, x: f64, mean: f64, expected: f64| {
            let n = [("value", x), ("mean", mean), ("expected", expected)];
            flag(&fw, e, FlagKind::RunAboveMean, &n)
        };
        let mut flags = vec![
            run("disputes", 218.0, 193.0, 230.0),
            run("disputes_resolved", 178.0, 150.0, 181.0),
        ];
        fold(&mut flags, &rules, &[], &fw);
        assert_eq!(flags.len(), 1, "{flags:#?}");
        assert!(
            flags[0].message.contains("同期随之上升：178，历史均值 150"),
            "{}",
            flags[0].message
        );
    }

    #[test]
    fn a_whole_and_its_part_both_at_nothing_are_one_item() {
        let fw = default_framework();
        let rules = RuleSet::default_for(&fw);
        let jump = |e: &str, x: f64, expected: f64| {
            flag(
                &fw,
                e,
                FlagKind::Jump,
                &[("value", x), ("expected", expected)],
            )
        };
        let mut flags = vec![
            jump("civil_mediations", 0.0, 16.85),
            jump("civil_mediation_success", 0.0, 16.21),
        ];
        fold(&mut flags, &rules, &[], &fw);
        assert_eq!(flags.len(), 1, "{flags:#?}");
        // Only the part at nothing: a share that changed.
        let mut flags = vec![
            jump("civil_mediations", 15.0, 16.85),
            jump("civil_mediation_success", 0.0, 16.21),
        ];
        fold(&mut flags, &rules, &[], &fw);
        assert_eq!(flags.len(), 2);
    }

    /// A share episode of two months inside a run of three (its last
    /// month just under the share's materiality) is the run's item, at the
    /// run's month; a one-month share departure stays with the flag of its
    /// own month, and a run over that month joins it.
    #[test]
    fn a_share_episode_within_a_run_is_the_run() {
        let fw = default_framework();
        let tree = township();
        let e = fw.element_index("public_order_cases").unwrap();
        let at = |m, kind, numbers: &[(&str, f64)]| at(&fw, "public_order_cases", m, kind, numbers);
        let share = |from: i64, to: i64, surprise: f64| episode(e, (from, to), false, surprise);
        let run = || {
            at(
                9,
                FlagKind::RunAboveMean,
                &[("run", 3.0), ("surprise", 3.5)],
            )
        };
        let july = 2024 * 12 + 6;
        let mut cx = Ctx {
            fw: &fw,
            tree: &tree,
            flags: vec![run()],
            short: FxHashMap::default(),
        };
        cx.add_share(0, share(july, july + 1, 13.9), &Default::default());
        assert_eq!(cx.flags.len(), 1, "{:#?}", cx.flags);
        assert_eq!(cx.flags[0].period, Period::Month(2024, 9));
        assert!(cx.flags[0].message.contains("比例下降"));
        assert_eq!(number(&cx.flags[0], "surprise"), Some(13.9));
        // A spike in July inside the run: the share's one month is July's
        // item, the run over July a further line of it.
        cx.flags = vec![at(7, FlagKind::ModZscore, &[("surprise", 4.0)]), run()];
        cx.add_share(0, share(july, july, 9.0), &Default::default());
        assert_eq!(cx.flags.len(), 1, "{:#?}", cx.flags);
        assert_eq!(cx.flags[0].period, Period::Month(2024, 7));
        assert_eq!(number(&cx.flags[0], "surprise"), Some(9.0));
        assert!(
            cx.flags[0].message.contains("另 2024年9月"),
            "{}",
            cx.flags[0].message
        );
    }

    /// A shift of a whole's share from September to December, and the
    /// whole's own run from September to November: where the whole came
    /// back under the run's line in December, the run is the item (at
    /// November); where it stayed above, the shift is September's.
    #[test]
    fn a_run_that_came_back_inside_a_shift_is_the_item() {
        let fw = default_framework();
        let tree = township();
        let e = fw.element_index("rumours").unwrap();
        let at = |m, kind, numbers: &[(&str, f64)]| at(&fw, "rumours", m, kind, numbers);
        let sep = 2024 * 12 + 8;
        let shift = || episode(e, (sep, sep + 3), true, 14.5);
        let placed = |december: f64| {
            let mut dense = vec![Some(8.0); 12];
            dense.extend([21.0, 30.0, 27.0, december].map(Some));
            let series = share::Series {
                first: sep - 12,
                dense: &dense,
                model: None,
            };
            let monthly: share::Monthly = [((0, e), series)].into_iter().collect();
            let mut cx = Ctx {
                fw: &fw,
                tree: &tree,
                flags: vec![
                    at(9, FlagKind::Zscore, &[("value", 21.0), ("surprise", 6.0)]),
                    at(
                        11,
                        FlagKind::RunAboveMean,
                        &[("run", 3.0), ("line", 12.1), ("surprise", 3.9)],
                    ),
                ],
                short: FxHashMap::default(),
            };
            cx.add_share(0, shift(), &monthly);
            assert_eq!(cx.flags.len(), 1, "{:#?}", cx.flags);
            (cx.flags[0].period, number(&cx.flags[0], "surprise"))
        };
        assert_eq!(placed(10.0), (Period::Month(2024, 11), Some(14.5)));
        assert_eq!(placed(20.0), (Period::Month(2024, 9), Some(14.5)));
    }

    #[test]
    fn a_cycle_of_rules_folds_nothing_away() {
        let fw = default_framework();
        let src = r#"
[[rule]]
code = "A"
name = "a"
left = "disputes"
operator = "<="
right = "disputes_resolved"

[[rule]]
code = "B"
name = "b"
left = "disputes_resolved"
operator = "<="
right = "disputes"
"#;
        let rules = RuleSet::parse("r.toml", src, &fw).unwrap();
        let jump = |e: &str| {
            flag(
                &fw,
                e,
                FlagKind::Jump,
                &[("value", 90.0), ("expected", 45.0)],
            )
        };
        let mut flags = vec![jump("disputes"), jump("disputes_resolved")];
        fold(&mut flags, &rules, &[], &fw);
        assert_eq!(flags.len(), 2);
    }
}

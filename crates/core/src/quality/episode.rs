//! The share test's episodes (占比突变), over the checked months: where a
//! part's share leaves its level and for how long (`find`, for every
//! region and pair in `all`), where an episode that is two causes one
//! after the other ends, which of the two figures it is placed on and at
//! which month, and the sentence that says why; and how often each pair's
//! months depart across all regions (`tail`). The share, its spread and
//! the binomial verdicts these read are `share.rs`'s.

use super::anomaly::Finding;
use super::baseline::Tail;
use super::share::{
    CLEAR, CONTINUE, Found, Monthly, OPEN, Pair, QUIET, SPLIT, Series, WINDOW, check_first,
    own_evidence, pct, regions,
};
use super::{FlagKind, Params};
use crate::framework::Framework;
use crate::num::fmt;
use crate::period::Period;

/// An episode the share test kept: its pair's elements (part, whole, and
/// whether the data made them one), its first and last months, the share
/// before it, its evidence, which way it went and whether it came back.
pub(super) struct Episode {
    pub parts: (usize, usize, bool),
    pub span: (i64, i64),
    pub share: f64,
    pub strongest: f64,
    pub down: bool,
    pub returned: bool,
}

/// The flag an episode raises: three months that then return are a run,
/// flagged where it completes (as 连续高于均值); a share still away from
/// its level when the episode ends is a shift, flagged from its first
/// month; either on the figure further from its own model.
pub(super) fn found(fw: &Framework, pair: &Pair, ep: Episode, run_len: usize) -> Found {
    let Episode {
        parts: (pe, we, learned),
        span: (here, end),
        share,
        strongest,
        down,
        returned,
    } = ep;
    let len = end - here + 1;
    let at = if len == run_len as i64 && returned {
        end
    } else {
        here
    };
    // A share falls when the part fell or the whole rose.
    let by_whole = own_evidence(&pair.whole, here, end, down);
    let by_part = own_evidence(&pair.part, here, end, !down);
    let on_whole = by_whole > by_part;
    let (x, n) = pair.ok(at).unwrap_or((0.0, 0.0));
    let (pn, wn) = (&fw.elements[pe].name, &fw.elements[we].name);
    let mut detail = format!(
        "{pn}占{wn}的比例由此前 {WINDOW} 期的 {} {}至 {}（{}/{}），按此前比例应约 {}",
        pct(share),
        if down { "降" } else { "升" },
        pct(x / n.max(1.0)),
        fmt(x),
        fmt(n),
        fmt((n * share * 10.0).round() / 10.0)
    );
    if learned {
        detail.push_str(&format!(
            "（此前各年各地区{pn}均未超过{wn}且比例平稳，按其组成部分看待）"
        ));
    }
    if len > 1 {
        let (px, pn_) = (here..=end)
            .filter_map(|i| pair.ok(i))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        detail.push_str(&format!(
            "；自 {} 起连续 {len} 期偏离，合计 {}/{}（{}）",
            super::period_of(2, here).label(),
            fmt(px),
            fmt(pn_),
            pct(px / pn_.max(1.0))
        ));
    }
    let moved = if on_whole { (wn, !down) } else { (pn, down) };
    if by_whole.max(by_part) >= CLEAR {
        detail.push_str(&check_first(moved.0, !moved.1));
    }
    detail.push_str(&format!(
        "。按此前比例出现这样偏离的概率{}",
        super::judge::prob(strongest)
    ));
    let (element, value, expected) = if on_whole {
        (we, n, if share > 0.0 { x / share } else { n })
    } else {
        (pe, x, n * share)
    };
    Found {
        element,
        period: super::period_of(2, at),
        span: (here, end),
        shift: len > 1 && !returned,
        finding: Finding {
            kind: FlagKind::Share,
            score: ((x / n.max(1.0) - share) * 1000.0).round() / 10.0,
            numbers: vec![
                ("value".into(), value),
                ("part".into(), x),
                ("whole".into(), n),
                ("share".into(), x / n.max(1.0)),
                ("share_before".into(), share),
                ("expected".into(), expected),
                ("months".into(), len as f64),
                ("surprise".into(), strongest),
            ],
            detail,
        },
    }
}

/// Where an episode is two causes one after the other: over its first
/// months one figure far off its own model (`CLEAR`) and the other quiet
/// (`QUIET`), over the rest the other way round, each reading `SPLIT`
/// orders likelier than its opposite (a complaints count run up for three
/// months, then the count handled in time falling for the rest of the
/// year). The month the second begins, the strongest such split.
pub(super) fn split_at(pair: &Pair, a: i64, b: i64, down: bool) -> Option<i64> {
    let one_then_other = |first: f64, quiet1: f64, second: f64, quiet2: f64| {
        first >= CLEAR
            && second >= CLEAR
            && quiet1 < QUIET
            && quiet2 < QUIET
            && first - quiet1 >= SPLIT
            && second - quiet2 >= SPLIT
    };
    let mut best: Option<(f64, i64)> = None;
    for c in a + 1..=b {
        let w1 = own_evidence(&pair.whole, a, c - 1, down);
        let p1 = own_evidence(&pair.part, a, c - 1, !down);
        let w2 = own_evidence(&pair.whole, c, b, down);
        let p2 = own_evidence(&pair.part, c, b, !down);
        let score = if one_then_other(w1, p1, p2, w2) {
            w1 + p2
        } else if one_then_other(p1, w1, w2, p2) {
            p1 + w2
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Every episode of `part`'s share of `whole` within the absolute months
/// `months` (the checked period's).
pub(super) fn find(
    fw: &Framework,
    (pe, we, learned): (usize, usize, bool),
    part: Series,
    whole: Series,
    months: std::ops::Range<i64>,
    p: &Params,
    tail: &Tail,
) -> Vec<Found> {
    let mut pair = Pair::new(part, whole);
    let mut out = Vec::new();
    let last = months.end - 1;
    let mut idx = months.start;
    while idx < months.end {
        let here = idx;
        idx += 1;
        let (Some(share), Some(phi)) = (pair.share_before(here), pair.spread(here)) else {
            continue;
        };
        let Some(j) = pair.judge(here, share, phi) else {
            continue;
        };
        if j.surprise < OPEN || pair.seasonal(here, j.dev, phi) {
            continue;
        }
        // The months after it that stay away from the same share.
        let same_way = |idx: i64, least: f64| {
            pair.judge(idx, share, phi)
                .is_some_and(|k| k.dev * j.dev > 0.0 && k.surprise >= least)
        };
        let mut end = here;
        while end < last && same_way(end + 1, CONTINUE) {
            end += 1;
        }
        let down = j.dev < 0.0;
        // Two causes one after the other end the first where the second
        // begins; the loop takes the second up from there.
        let split = split_at(&pair, here, end, down);
        if let Some(c) = split {
            end = c - 1;
        }
        let Some(mut all) = pair.pooled(here, end, share, phi) else {
            continue;
        };
        all.surprise = tail.adjust(all.surprise);
        if all.surprise < p.share_surprise {
            continue;
        }
        idx = end + 1;
        let len = end - here + 1;
        // Three months that then return are a run, flagged where it
        // completes (as 连续高于均值); a share still away from its level
        // when the episode ends is a shift, flagged from its first month.
        let returned = split.is_some() || (end < last && !same_way(end + 1, 0.0));
        pair.found.push((here, end));
        // A share that is different from January on and stays so is the new
        // year's level (a township that handles its events more slowly this
        // year), which the scores measure; the queue is for figures that
        // may be wrong.
        if here.rem_euclid(12) == 0 && len > 1 && !returned {
            continue;
        }
        out.push(found(
            fw,
            &pair,
            Episode {
                parts: (pe, we, learned),
                span: (here, end),
                share,
                strongest: all.surprise,
                down,
                returned,
            },
            p.run_len,
        ));
    }
    out
}

/// Every part's share of its whole (`share`) over the checked months, by
/// region, for `pairs` (the rules' and `learned`, whose items say that the
/// earlier years made them a pair).
pub(super) fn all(
    fw: &Framework,
    pairs: &[(usize, usize)],
    learned: &[(usize, usize)],
    params: &Params,
    monthly: &Monthly,
    scope: Period,
) -> Vec<(usize, Found)> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let (start, end) = match scope {
        Period::Year(y) => (i64::from(y) * 12, i64::from(y) * 12 + 12),
        Period::Quarter(y, q) => {
            let a = i64::from(y) * 12 + 3 * (i64::from(q) - 1);
            (a, a + 3)
        }
        Period::Month(y, m) => {
            let a = i64::from(y) * 12 + i64::from(m) - 1;
            (a, a + 1)
        }
    };
    let regions = regions(monthly);
    let pair_of = |r: usize, (pe, we): (usize, usize)| {
        Some(Pair::new(*monthly.get(&(r, pe))?, *monthly.get(&(r, we))?))
    };
    // Per pair: its tail across regions, and whether the data made it one.
    let each: Vec<(Tail, bool)> = pairs
        .iter()
        .map(|&pw| {
            let t = tail(regions.iter().filter_map(|&r| pair_of(r, pw)), start..end);
            (t, learned.contains(&pw))
        })
        .collect();
    let mut out = Vec::new();
    for r in regions {
        for (&(pe, we), (tail, learned)) in pairs.iter().zip(&each) {
            let Some(pair) = pair_of(r, (pe, we)) else {
                continue;
            };
            let found = find(
                fw,
                (pe, we, *learned),
                pair.part,
                pair.whole,
                start..end,
                params,
                tail,
            );
            out.extend(found.into_iter().map(|f| (r, f)));
        }
    }
    out
}

/// How often a pair's months depart from their share across all regions,
/// each month judged alone: where the shares wobble more than a binomial
/// with the pair's own spread says (a handling rate that changes with the
/// staff on duty), the excess is taken off the pair's episodes, as an
/// element's heavier tails are off its counts' surprises.
fn tail<'a>(pairs: impl Iterator<Item = Pair<'a>>, months: std::ops::Range<i64>) -> Tail {
    let mut t = Tail::default();
    for pair in pairs {
        for idx in months.clone() {
            let (Some(share), Some(phi)) = (pair.share_before(idx), pair.spread(idx)) else {
                continue;
            };
            if pair.ok(idx).is_none() {
                continue;
            }
            t.add(pair.judge(idx, share, phi).map_or(0.0, |j| j.surprise));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::super::baseline::Model;
    use super::super::rules::RuleSet;
    use super::super::share::pairs;
    use super::*;
    use proptest::prelude::*;

    fn p() -> Params {
        Params::default()
    }

    /// Three years of a whole near 40 a month and a part at 90 % of it.
    fn steady() -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        let whole: Vec<Option<f64>> = (0..36).map(|t| Some(40.0 + (t % 5) as f64)).collect();
        let part = whole
            .iter()
            .enumerate()
            .map(|(t, n)| n.map(|n| (n * 0.9).round() - (t % 2) as f64))
            .collect();
        (part, whole)
    }

    fn fw() -> Framework {
        crate::default_framework()
    }

    /// Pairs whose share drops to half in one month of thirty, in every
    /// region, have heavier tails than a binomial with their spread: their
    /// episodes count for less. Steady pairs keep their evidence.
    #[test]
    fn a_pair_that_wobbles_everywhere_counts_for_less() {
        let (part, whole) = steady();
        let wobbly: Vec<Option<f64>> = part
            .iter()
            .enumerate()
            .map(|(t, x)| x.map(|x| if t % 30 == 4 { (x / 2.0).round() } else { x }))
            .collect();
        let s = |d| Series {
            first: 2022 * 12,
            dense: d,
            model: None,
        };
        let months = 2024 * 12..2025 * 12;
        let of = |part| {
            tail(
                (0..600).map(|_| Pair::new(s(part), s(&whole))),
                months.clone(),
            )
        };
        assert_eq!(of(&part).adjust(8.0), 8.0);
        assert!(of(&wobbly).adjust(8.0) < 7.0, "{}", of(&wobbly).adjust(8.0));
    }

    /// A whole run up from March to May with its part left as it was, then
    /// the part falling from June with the whole as usual: two causes, two
    /// items (the whole's run where it completes, the part's fall where it
    /// began), not one episode from March filed under one of them.
    #[test]
    fn a_whole_run_up_then_its_part_falling_are_two_items() {
        let usual: Vec<f64> = (0..36).map(|t| 40.0 + ((t * 7) % 5) as f64 - 2.0).collect();
        let whole: Vec<Option<f64>> = usual
            .iter()
            .enumerate()
            .map(|(t, &n)| Some(if (26..29).contains(&t) { n * 2.5 } else { n }))
            .collect();
        let part: Vec<Option<f64>> = usual
            .iter()
            .enumerate()
            .map(|(t, &n)| Some(((n * 0.9).round() * if t >= 29 { 0.3 } else { 1.0 }).round()))
            .collect();
        let first = 2022 * 12;
        let fit = |d: &[Option<f64>]| Model::fit(d, first, 12, 2024, None, true);
        let (mp, mw) = (fit(&part), fit(&whole));
        fn s<'a>(first: i64, d: &'a [Option<f64>], m: &'a Option<Model>) -> Series<'a> {
            Series {
                first,
                dense: d,
                model: m.as_ref(),
            }
        }
        let found = find(
            &fw(),
            (0, 1, false),
            s(first, &part, &mp),
            s(first, &whole, &mw),
            2024 * 12..2025 * 12,
            &p(),
            &Tail::default(),
        );
        let got: Vec<(usize, Period)> = found.iter().map(|f| (f.element, f.period)).collect();
        assert_eq!(
            got,
            vec![(1, Period::Month(2024, 5)), (0, Period::Month(2024, 6))]
        );
    }

    fn run(part: &[Option<f64>], whole: &[Option<f64>]) -> Vec<Found> {
        let fw = fw();
        let s = |d| Series {
            first: 2022 * 12,
            dense: d,
            model: None,
        };
        find(
            &fw,
            (0, 1, false),
            s(part),
            s(whole),
            2024 * 12..2025 * 12,
            &p(),
            &Tail::default(),
        )
    }

    #[test]
    fn a_steady_share_is_quiet() {
        let (part, whole) = steady();
        assert!(run(&part, &whole).is_empty());
    }

    #[test]
    fn a_part_that_falls_for_good_is_one_item_from_its_first_month() {
        let (mut part, whole) = steady();
        for x in &mut part[24 + 6..] {
            *x = x.map(|v| (v * 0.3).round());
        }
        let found = run(&part, &whole);
        assert_eq!(found.len(), 1, "one departure, one item");
        let f = &found[0];
        assert_eq!(f.period, Period::Month(2024, 7));
        assert_eq!(f.span, (2024 * 12 + 6, 2024 * 12 + 11));
        assert!(f.finding.detail.contains("降至"), "{}", f.finding.detail);
        assert!(
            f.finding.detail.contains("连续 6 期"),
            "{}",
            f.finding.detail
        );
    }

    #[test]
    fn a_new_level_from_january_is_the_year_not_an_error() {
        let (mut part, whole) = steady();
        for x in &mut part[24..] {
            *x = x.map(|v| (v * 0.6).round());
        }
        assert!(run(&part, &whole).is_empty());
        // The same fall from February on is flagged.
        let (mut part, whole) = steady();
        for x in &mut part[25..] {
            *x = x.map(|v| (v * 0.6).round());
        }
        assert_eq!(run(&part, &whole).len(), 1);
    }

    #[test]
    fn three_months_that_return_are_flagged_where_they_end() {
        let (part, mut whole) = steady();
        for x in &mut whole[24 + 3..24 + 6] {
            *x = x.map(|v| v * 2.5);
        }
        let found = run(&part, &whole);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].period, Period::Month(2024, 6));
    }

    #[test]
    fn one_mistyped_whole_does_not_set_the_share_after_it() {
        // February's whole typed as 60 with its part as usual, then the
        // part falls to 40 % from April: February is its own item, and the
        // fall is judged against the share of the months around it, not a
        // share that February pulled down.
        let (mut part, mut whole) = steady();
        whole[24 + 1] = Some(60.0);
        for x in &mut part[24 + 3..] {
            *x = x.map(|v| (v * 0.4).round());
        }
        let found = run(&part, &whole);
        assert!(
            found.iter().any(|f| f.period == Period::Month(2024, 4)),
            "{:?}",
            found.iter().map(|f| f.period).collect::<Vec<_>>()
        );
        let pair = Pair::new(
            Series {
                first: 2022 * 12,
                dense: &part,
                model: None,
            },
            Series {
                first: 2022 * 12,
                dense: &whole,
                model: None,
            },
        );
        let share = pair.share_before(2024 * 12 + 3).unwrap();
        assert!(share > 0.85, "{share}");
    }

    #[test]
    fn a_month_found_off_does_not_widen_the_spread_after_it() {
        // February's whole typed as 300 (36 handled), then the part at half
        // its share from April: February's own item, and the fall judged by
        // the spread of the months before February, not one it blew up.
        let (mut part, mut whole) = steady();
        whole[24 + 1] = Some(300.0);
        for x in &mut part[24 + 3..] {
            *x = x.map(|v| (v * 0.5).round());
        }
        let found = run(&part, &whole);
        let periods: Vec<Period> = found.iter().map(|f| f.period).collect();
        assert!(periods.contains(&Period::Month(2024, 2)), "{periods:?}");
        assert!(periods.contains(&Period::Month(2024, 4)), "{periods:?}");
    }

    #[test]
    fn months_too_small_to_judge_do_not_widen_the_spread() {
        // Eight a month, nearly all handled; three earlier months of one
        // event not handled; from September five of eight for four months.
        let whole: Vec<Option<f64>> = (0..36)
            .map(|t| Some(if [3, 10, 17].contains(&t) { 1.0 } else { 8.0 }))
            .collect();
        let part: Vec<Option<f64>> = (0..36)
            .map(|t| {
                Some(match t {
                    3 | 10 | 17 => 0.0,
                    t if t >= 24 + 8 => 5.0,
                    t if t % 7 == 0 => 7.0,
                    _ => 8.0,
                })
            })
            .collect();
        let found = run(&part, &whole);
        assert_eq!(
            found.iter().map(|f| f.period).collect::<Vec<_>>(),
            vec![Period::Month(2024, 9)]
        );
    }

    #[test]
    fn a_small_whole_or_a_small_change_is_not_judged() {
        let (mut part, whole) = steady();
        // 36 of 40 becoming 33: 3 units, under the 4 a share flag needs.
        part[24 + 4] = part[24 + 4].map(|v| v - 3.0);
        assert!(run(&part, &whole).is_empty());
        let small: Vec<Option<f64>> = (0..36).map(|_| Some(6.0)).collect();
        let mut sp: Vec<Option<f64>> = (0..36).map(|_| Some(6.0)).collect();
        sp[30] = Some(0.0);
        assert!(run(&sp, &small).is_empty(), "a whole of 6 says too little");
    }

    #[test]
    fn only_flows_pair_up() {
        let fw = fw();
        let rules = RuleSet::parse("r.toml", super::super::rules::DEFAULT_RULES_TOML, &fw)
            .expect("built-in rules");
        let pairs = pairs(&rules, &fw);
        let code = |e: usize| fw.elements[e].code.as_str();
        assert!(
            pairs
                .iter()
                .any(|&(a, b)| code(a) == "disputes_resolved" && code(b) == "disputes")
        );
        assert!(
            !pairs.iter().any(|&(a, _)| code(a) == "villages_screened"),
            "a year-to-date count of a stock climbs by design"
        );
    }

    proptest! {
        /// Any finite series (parts above their wholes, negatives, gaps,
        /// series of different starts): no panic, every number finite, and
        /// every episode within the checked months and on one of the pair.
        #[test]
        fn episodes_are_total(
            part in prop::collection::vec(prop::option::of(-50f64..400.0), 0..40),
            whole in prop::collection::vec(prop::option::of(-50f64..400.0), 0..40),
            shift in 0i64..6,
        ) {
            let fw = fw();
            let round = |v: &Vec<Option<f64>>| -> Vec<Option<f64>> { v.iter().map(|x| x.map(f64::round)).collect() };
            let (part, whole) = (round(&part), round(&whole));
            let months = 2024 * 12..2025 * 12;
            let found = find(
                &fw,
                (3, 4, false),
                Series { first: 2022 * 12, dense: &part, model: None },
                Series { first: 2022 * 12 + shift, dense: &whole, model: None },
                months.clone(),
                &p(),
                &Tail::default(),
            );
            for f in found {
                prop_assert!(months.contains(&f.span.0) && months.contains(&f.span.1) && f.span.0 <= f.span.1);
                prop_assert!(f.element == 3 || f.element == 4);
                prop_assert!(f.finding.score.is_finite());
                prop_assert!(f.finding.numbers.iter().all(|(_, x)| x.is_finite()), "{:?}", f.finding.numbers);
            }
        }
    }
}

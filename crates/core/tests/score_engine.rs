//! Scoring semantics that need a whole run: missing policies, not
//! applicable, peer rules, ranks with ties, bottom three.

use pingan_core::Framework;
use pingan_core::data::DataSet;
use pingan_core::framework::{DEFAULT_TOML, check};
use pingan_core::period::Period;
use pingan_core::region::{Level, RegionRow, RegionTree};
use pingan_core::score::{Words, evaluate_all, score};
use proptest::prelude::*;

fn framework(missing: &str, rule_b: &str, na: &str) -> Framework {
    let src = format!(
        r#"
[framework]
code = "t"
name = "t"
missing = "{missing}"
rank_decimals = 2
[[element]]
code = "a"
name = "甲"
[[element]]
code = "b"
name = "乙"
[[dimension]]
code = "D1"
name = "一"
weight = 1
  [[dimension.domain]]
  code = "D1.1"
  name = "一一"
  weight = 1
    [[dimension.domain.indicator]]
    code = "A"
    name = "甲指标"
    formula = "a"
    weight = 0.5
    rule = {{ kind = "linear", zero_at = 0, full_at = 100 }}
    [[dimension.domain.indicator]]
    code = "B"
    name = "乙指标"
    formula = "b / a"
    weight = 0.5
    not_applicable = "{na}"
    rule = {rule_b}
"#
    );
    let r = check(&src);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.framework.unwrap()
}

/// A parent and `n` children, all counties.
fn tree(n: usize) -> RegionTree {
    let mut rows = vec![RegionRow {
        code: "P".into(),
        name: "P".into(),
        parent: None,
        level: Level::City,
        valid_from: None,
        valid_to: None,
    }];
    for i in 0..n {
        rows.push(RegionRow {
            code: format!("K{i}"),
            name: format!("K{i}"),
            parent: Some("P".into()),
            level: Level::County,
            valid_from: None,
            valid_to: None,
        });
    }
    RegionTree::new(rows).unwrap()
}

const Y: Period = Period::Year(2024);

#[test]
fn missing_zero_versus_exclude() {
    let linear = r#"{ kind = "linear", zero_at = 0, full_at = 1 }"#;
    let t = tree(1);
    let mut d = DataSet::new(2, 2);
    d.insert(1, Y, 0, 80.0).unwrap(); // a = 80 → A = 40 of 50; b missing
    let zero = score(
        &framework("zero", linear, "full"),
        &t,
        &d,
        Y,
        Some(Level::County),
    )
    .unwrap();
    let r = &zero.results[0];
    assert!((r.total - 40.0).abs() < 1e-12);
    assert!(r.indicators[1].missing && r.indicators[1].value.is_none());
    assert_eq!(
        r.indicators[1].max, 50.0,
        "a missing indicator keeps its max"
    );
    assert_eq!(r.domains[0].max, 100.0);
    assert!(r.indicators[1].reasons[0].starts_with("未报送，不得分"));
    let excl = score(
        &framework("exclude", linear, "full"),
        &t,
        &d,
        Y,
        Some(Level::County),
    )
    .unwrap();
    let r = &excl.results[0];
    assert!(
        (r.total - 80.0).abs() < 1e-12,
        "40 of the 50 present → 80 of 100"
    );
    assert!(
        (r.dimensions[0].points - 40.0).abs() < 1e-12,
        "total ≠ Σ dimensions under exclude"
    );
    assert!(r.indicators[1].reasons[0].starts_with("未报送，不计入总分"));
    // Nothing present: 0.
    let empty = DataSet::new(2, 2);
    let r = &score(
        &framework("exclude", linear, "full"),
        &t,
        &empty,
        Y,
        Some(Level::County),
    )
    .unwrap()
    .results[0];
    assert_eq!(r.total, 0.0);
}

#[test]
fn division_by_zero_is_full_or_missing() {
    let linear = r#"{ kind = "linear", zero_at = 0, full_at = 1 }"#;
    let t = tree(1);
    let mut d = DataSet::new(2, 2);
    d.insert(1, Y, 0, 0.0).unwrap();
    d.insert(1, Y, 1, 5.0).unwrap();
    let full = score(
        &framework("zero", linear, "full"),
        &t,
        &d,
        Y,
        Some(Level::County),
    )
    .unwrap();
    let b = &full.results[0].indicators[1];
    assert!(b.not_applicable && !b.missing && b.value.is_none());
    assert_eq!(b.points, 50.0);
    let miss = score(
        &framework("zero", linear, "missing"),
        &t,
        &d,
        Y,
        Some(Level::County),
    )
    .unwrap();
    let b = &miss.results[0].indicators[1];
    assert!(b.not_applicable && b.missing);
    assert_eq!(b.points, 0.0);
}

#[test]
fn rank_rule_and_total_ranks_with_ties_and_bottom_three() {
    let rank = r#"{ kind = "rank", direction = "higher", step = 20 }"#;
    let fw = framework("zero", rank, "full");
    let t = tree(6);
    let mut d = DataSet::new(7, 2);
    // a sets A (a/2 points); b/a ranks B among the six.
    let a = [100.0, 100.0, 80.0, 60.0, 60.0, 40.0];
    let b = [50.0, 50.0, 10.0, 30.0, 30.0, 40.0];
    for i in 0..6 {
        d.insert(i + 1, Y, 0, a[i]).unwrap();
        d.insert(i + 1, Y, 1, b[i]).unwrap();
    }
    let rep = score(&fw, &t, &d, Y, Some(Level::County)).unwrap();
    let ratio: Vec<f64> = (0..6).map(|i| b[i] / a[i]).collect(); // .5 .5 .125 .5 .5 1
    let places: Vec<usize> = (0..6)
        .map(|i| 1 + ratio.iter().filter(|&&x| x > ratio[i]).count())
        .collect();
    assert_eq!(places, [2, 2, 6, 2, 2, 1]);
    for (i, r) in rep.results.iter().enumerate() {
        let want_b = ((100.0 - (places[i] as f64 - 1.0) * 20.0).max(0.0)) / 100.0 * 50.0;
        assert!((r.indicators[1].points - want_b).abs() < 1e-12, "{i}");
        assert_eq!(r.peers, 6);
    }
    let totals: Vec<f64> = rep.results.iter().map(|r| r.total).collect();
    // 50+40=90, 90, 40+0=40, 30+40=70, 70, 20+50=70
    assert_eq!(totals, [90.0, 90.0, 40.0, 70.0, 70.0, 70.0]);
    let ranks: Vec<usize> = rep.results.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, [1, 1, 6, 3, 3, 3], "ties share a rank (1, 1, 3 …)");
    let bottom: Vec<bool> = rep.results.iter().map(|r| r.bottom).collect();
    assert_eq!(
        bottom,
        [false, false, true, false, false, false],
        "rank > peers − 3"
    );
    // The parent, alone at its level, is never bottom.
    let all = score(&fw, &t, &d, Y, None).unwrap();
    assert_eq!(
        (
            all.results[0].rank,
            all.results[0].peers,
            all.results[0].bottom
        ),
        (1, 1, false)
    );
}

#[test]
fn ranks_use_rounded_totals() {
    let linear = r#"{ kind = "linear", zero_at = 0, full_at = 1 }"#;
    let fw = framework("zero", linear, "full");
    let t = tree(2);
    let mut d = DataSet::new(3, 2);
    // A = a / 2: 40.004 and 40.0 round to 40.00 and tie at 2 decimals.
    d.insert(1, Y, 0, 80.008).unwrap();
    d.insert(2, Y, 0, 80.0).unwrap();
    for i in 1..=2 {
        d.insert(i, Y, 1, 0.0).unwrap();
    }
    let rep = score(&fw, &t, &d, Y, Some(Level::County)).unwrap();
    assert_eq!(rep.results[0].rank, 1);
    assert_eq!(rep.results[1].rank, 1);
}

#[test]
fn proportional_negative_value_is_missing() {
    let prop = r#"{ kind = "proportional", direction = "higher" }"#;
    let fw = framework("zero", prop, "full");
    let t = tree(2);
    let mut d = DataSet::new(3, 2);
    d.insert(1, Y, 0, 10.0).unwrap();
    d.insert(1, Y, 1, -5.0).unwrap();
    d.insert(2, Y, 0, 10.0).unwrap();
    d.insert(2, Y, 1, 5.0).unwrap();
    let rep = score(&fw, &t, &d, Y, Some(Level::County)).unwrap();
    assert!(rep.results[0].indicators[1].missing);
    assert!(rep.results[0].indicators[1].reasons[0].contains("负数"));
    assert_eq!(
        rep.results[1].indicators[1].points, 50.0,
        "the negative peer does not take part"
    );
}

proptest! {
    /// Random edits of the default framework never panic the lint.
    #[test]
    fn lint_never_panics_on_edited_files(pos in 0usize..60_000, len in 0usize..40, junk in "\\PC{0,20}") {
        let src = DEFAULT_TOML;
        let mut at = pos.min(src.len());
        while !src.is_char_boundary(at) { at -= 1; }
        let mut end = (at + len).min(src.len());
        while !src.is_char_boundary(end) { end -= 1; }
        let edited = format!("{}{}{}", &src[..at], junk, &src[end..]);
        let r = check(&edited);
        prop_assert!(r.framework.is_some() == r.errors.is_empty());
    }

    /// Numbers only (`Words::None`, the ranking table and CSV) gives every
    /// number, flag and rank of the full report, for each rule kind, missing
    /// values, zero divisors and both missing policies; only the words are
    /// left out.
    #[test]
    fn numbers_only_equals_the_full_report(
        rule in 0usize..8,
        exclude in any::<bool>(),
        values in proptest::collection::vec((proptest::option::of(-20.0f64..200.0), proptest::option::of(0.0f64..150.0)), 1..12),
    ) {
        let rule_b = [
            r#"{ kind = "deduct", target = 0.9, direction = "below", step = 0.05, deduct = 1, basis = "points", zero_below = 0.5 }"#,
            r#"{ kind = "deduct", target = 1, direction = "above", step = 0.1, deduct = 10, basis = "percent" }"#,
            r#"{ kind = "tiers", direction = "higher", tiers = [[0.95, 100], [0.9, 80], [0.85, 60]] }"#,
            r#"{ kind = "linear", zero_at = 0.3, full_at = 0.8 }"#,
            r#"{ kind = "proportional", direction = "higher" }"#,
            r#"{ kind = "proportional", direction = "lower" }"#,
            r#"{ kind = "rank", direction = "higher", step = 20 }"#,
            r#"{ kind = "veto", max_allowed = 1 }"#,
        ][rule];
        let fw = framework(if exclude { "exclude" } else { "zero" }, rule_b, "missing");
        let t = tree(values.len());
        let mut d = DataSet::new(values.len() + 1, 2);
        for (i, (a, b)) in values.iter().enumerate() {
            if let Some(a) = a { d.insert(i + 1, Y, 0, *a).unwrap(); }
            if let Some(b) = b { d.insert(i + 1, Y, 1, *b).unwrap(); }
        }
        let Ok(ev) = evaluate_all(&fw, &t, &d, Y, None) else { return Ok(()); };
        let mut full = ev.score();
        let bare = ev.score_with(Words::None);
        for r in &bare.results {
            prop_assert!(r.indicators.iter().all(|i| i.reasons.is_empty()));
        }
        for r in &mut full.results {
            for i in &mut r.indicators { i.reasons.clear(); }
        }
        prop_assert_eq!(
            serde_json::to_string(&full).unwrap(),
            serde_json::to_string(&bare).unwrap()
        );
    }
}

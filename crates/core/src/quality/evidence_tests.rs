//! The evidence a statistical flag is kept on: the family's odds as a
//! message gives them, and each kind against its own threshold.

use super::*;

/// The family's odds as the message gives them.
#[test]
fn family_odds_read_as_numbers() {
    let odds = super::explained::odds_text;
    assert_eq!(odds(1.5), "约为总量确有变化的 32 倍");
    assert_eq!(odds(5.38), "约为总量确有变化的 2.4×10^5 倍");
    assert_eq!(odds(300.0), "超过总量确有变化的 10^300 倍");
}

/// A statistical flag stays on its evidence against its own kind's
/// threshold (a run's is lower); 占比突变 and the definite kinds are not
/// judged by it.
#[test]
fn weak_flags_are_judged_by_their_own_threshold() {
    let p = Params::default();
    let with = |kind, surprise: Option<f64>| Flag {
        region: 0,
        element: 0,
        period: Period::Month(2024, 5),
        kind,
        score: 1.0,
        message: String::new(),
        numbers: surprise
            .map(|s| ("surprise".to_string(), s))
            .into_iter()
            .collect(),
        rule: None,
        sources: Vec::new(),
    };
    let weak = |kind, s| judge::weak(&with(kind, s), &p);
    assert!(weak(FlagKind::RunAboveMean, Some(p.run_surprise - 0.1)));
    assert!(!weak(FlagKind::RunAboveMean, Some(p.run_surprise)));
    assert!(
        weak(FlagKind::Jump, Some(p.run_surprise)),
        "a point needs more"
    );
    assert!(!weak(FlagKind::ModZscore, Some(p.surprise)));
    assert!(!weak(FlagKind::Share, Some(0.5)));
    assert!(!weak(FlagKind::Rule, Some(0.5)));
    assert!(!weak(FlagKind::Peer, None));
}

/// A whole's parts are each drawn from it, so their word adds up: grid
/// events typed a fifth higher for three months, the events handled in
/// time where they were (odds of far more than 10:1 that the whole alone is
/// wrong) and the joint-events count up with it by chance (odds of more
/// than 10:1 the other way). One part that followed does not explain away
/// a whole the other part says is wrong; with both parts following it does.
#[test]
fn a_family_weighs_every_part_of_a_whole() {
    use super::tests::{run, tree};
    let fw = crate::default_framework();
    let tree = tree();
    let t3 = tree.find("T3").unwrap();
    let [grid, timely, joint] =
        ["grid_events", "grid_events_timely", "joint_events"].map(|e| fw.element_index(e).unwrap());
    let busy = |p: Period| matches!(p, Period::Month(2024, 8..=10));
    let rise = |followed: &[usize]| {
        let mut out = Vec::new();
        for t in 0..6 {
            for y in [2023, 2024] {
                for m in 1..=12u32 {
                    let wobble = [0.0, 3.0, -2.0, 1.0, -3.0, 2.0][(m as usize + t) % 6];
                    let whole = 200.0 + 20.0 * t as f64 + wobble;
                    let period = format!("{y}-{m:02}").parse().unwrap();
                    let region = tree.find(&format!("T{t}")).unwrap();
                    let up =
                        |e: usize| t == 3 && busy(period) && (e == grid || followed.contains(&e));
                    for (e, v) in [
                        (grid, whole),
                        (timely, whole - 5.0),
                        (joint, (whole * 0.3).round()),
                    ] {
                        out.push(Observation {
                            region,
                            period,
                            element: e,
                            value: if up(e) { (v * 1.2).round() } else { v },
                            source: String::new(),
                            submitted: None,
                        });
                    }
                }
            }
        }
        let o = super::tests::Obs::new(&fw, &tree, out);
        run(&o, "2024")
    };
    let on_grid = |r: &Report| {
        r.flags
            .iter()
            .any(|f| f.region == t3 && f.element == grid && busy(f.period) && f.kind.statistical())
    };
    let one_followed = rise(&[joint]);
    assert!(on_grid(&one_followed), "{:#?}", one_followed.flags);
    let both_followed = rise(&[joint, timely]);
    assert!(!on_grid(&both_followed), "{:#?}", both_followed.flags);
}

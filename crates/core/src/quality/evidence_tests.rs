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

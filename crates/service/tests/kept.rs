//! The values scorings read are kept per instance and brought up to date
//! by re-reading only the (region, period) pairs written since; what a
//! kept instance scores is what a fresh one reading everything scores,
//! after every kind of write.

use pingan_core::Period;
use pingan_service::scores::{self, ScoreQuery};
use pingan_service::testing::Db;
use pingan_service::{Caller, Refresh, both, cap};
use pingan_store::Actor;

/// The province, less one township's December 2024 (returned as CSV
/// lines, to arrive later), and that township.
async fn load(db: &Db) -> (pingan_synth::Output, String, String) {
    let p = pingan_synth::generate(&pingan_synth::Options {
        seed: 5,
        cities: 2,
        counties: 2,
        townships: 3,
        first_year: 2022,
        last_year: 2024,
        anomalies: 0,
    })
    .unwrap();
    let town = p
        .regions
        .lines()
        .skip(1)
        .find(|l| l.ends_with(",township"))
        .and_then(|l| l.split(',').next())
        .expect("a township")
        .to_string();
    let late = format!("{town},2024-12,");
    let (held, values): (Vec<&str>, Vec<&str>) =
        p.values.lines().partition(|l| l.starts_with(&late));
    db.load(&p.regions, &p.benchmarks, &values.join("\n"))
        .await
        .unwrap();
    let held = format!("region,period,element,value\n{}\n", held.join("\n"));
    (p, town, held)
}

/// The preview (pending included) and the approved-only scoring of
/// 2024, as JSON, from `ctx`.
async fn both_scorings(ctx: &pingan_service::Ctx) -> (String, String) {
    let caller = Caller::operator("tester");
    let who = caller.authorize::<cap::Scores>().unwrap();
    let q = ScoreQuery {
        period: Period::Year(2024),
        level: None,
        parent: None,
    };
    let preview = scores::preview(ctx, &who, &q).await.unwrap();
    let official = scores::official(ctx, &who, &q).await.unwrap();
    (
        serde_json::to_string(&preview.results).unwrap(),
        serde_json::to_string(&official.results).unwrap(),
    )
}

/// The 2024 报送进度 board in order, from `ctx`: per department and
/// period, submitted and expected, and who is missing or late.
async fn board(ctx: &pingan_service::Ctx) -> Vec<String> {
    let caller = Caller::operator("tester");
    let who = caller.authorize::<cap::Progress>().unwrap();
    let b = pingan_service::progress::board(ctx, &who, 2024)
        .await
        .unwrap();
    let mut out: Vec<String> = b
        .cells
        .iter()
        .map(|((d, p), c)| {
            let mut missing = c.missing.clone();
            missing.sort();
            let mut late = c.late.clone();
            late.sort();
            format!(
                "{d} {p} {}/{} {missing:?} {late:?}",
                c.submitted, c.expected
            )
        })
        .collect();
    out.sort();
    out
}

/// What a new instance over the same database scores.
async fn fresh(db: &Db) -> (String, String) {
    let ctx = pingan_service::Ctx::new(db.ctx.store.clone());
    assert_eq!(board(&db.ctx).await, board(&ctx).await, "the kept board");
    both_scorings(&ctx).await
}

both!(kept_values_follow_every_write, |db: &Db| {
    let db = db.clone();
    async move { follow(&db).await }
});

async fn follow(db: &Db) {
    let (_, town, december) = load(db).await;
    let year = Period::Year(2024);
    let a = Actor::cli("tester");
    let (_, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Full);
    let (_, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Current, "nothing written: nothing read");
    let before = board(&db.ctx).await;

    // A township's month in 2024 and one in the year before (prev() reads
    // it) change; 2022 lies outside what a 2024 scoring reads.
    let csv = format!(
        "region,period,element,value\n{town},2024-03,criminal_cases,999\n{town},2023-07,criminal_cases,0\n"
    );
    db.import_values_accepting("fix.csv", csv.as_bytes(), &a)
        .await
        .unwrap();
    let (d, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Pairs(2));
    let tree = db.region_tree().await.unwrap();
    let fw = db.framework_version(2024).await.unwrap().unwrap().framework;
    let (r, e) = (
        tree.find(&town).unwrap(),
        fw.element_index("criminal_cases").unwrap(),
    );
    assert_eq!(d.get(r, Period::Month(2024, 3), e), Some(999.0));
    assert_eq!(d.get(r, Period::Month(2023, 7), e), Some(0.0));
    assert_eq!(both_scorings(&db.ctx).await, fresh(db).await);
    assert_eq!(board(&db.ctx).await, before, "an existing key changed");

    // The township's December arrives: the board shows it reported.
    db.import_values_accepting("dec.csv", december.as_bytes(), &a)
        .await
        .unwrap();
    assert_ne!(board(&db.ctx).await, before);
    assert_eq!(both_scorings(&db.ctx).await, fresh(db).await);

    let csv = format!("region,period,element,value\n{town},2022-05,criminal_cases,7\n");
    db.import_values_accepting("old.csv", csv.as_bytes(), &a)
        .await
        .unwrap();
    let (_, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Pairs(0), "a year no 2024 scoring reads");

    // A value through the review: the preview sees it pending, the official
    // scoring only once approved — a second source of the same key, the
    // later submission counting.
    let csv = format!("region,period,element,value\n{town},2024-03,criminal_cases,5\n");
    db.import_values_as("pending.csv", csv.as_bytes(), false, true, &a)
        .await
        .unwrap();
    let (d, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Pairs(1));
    assert_eq!(d.get(r, Period::Month(2024, 3), e), Some(5.0));
    let (d, _) = db.scoring_values(year, false).await.unwrap();
    assert_eq!(d.get(r, Period::Month(2024, 3), e), Some(999.0));
    assert_eq!(both_scorings(&db.ctx).await, fresh(db).await);

    // Its three review levels pass: the approved-only values see it.
    let key = pingan_core::review::SetKey {
        department: "公安".into(),
        region: town.clone(),
        period: "2024-03".into(),
    };
    for reviewer in ["first", "second", "third"] {
        let c = Caller::operator(reviewer);
        let who = c.authorize::<cap::Review>().unwrap();
        pingan_service::review::apply(
            &db.ctx,
            &who,
            std::slice::from_ref(&key),
            pingan_core::review::Action::Pass,
            "",
        )
        .await
        .unwrap();
    }
    // (The approval rescored the year, reading the change already.)
    let (d, how) = db.scoring_values(year, false).await.unwrap();
    assert_ne!(how, Refresh::Full);
    assert_eq!(d.get(r, Period::Month(2024, 3), e), Some(5.0));
    assert_eq!(both_scorings(&db.ctx).await, fresh(db).await);

    // A new framework version for the year: everything is read again.
    db.import_framework(
        "f2.toml",
        pingan_core::framework::DEFAULT_TOML.as_bytes(),
        Some(2024),
        false,
        &a,
    )
    .await
    .unwrap();
    let (_, how) = db.scoring_values(year, true).await.unwrap();
    assert_eq!(how, Refresh::Full);
    assert_eq!(both_scorings(&db.ctx).await, fresh(db).await);
}

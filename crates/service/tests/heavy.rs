//! Heavy computations are bounded: a period that cannot be scored is
//! refused before it queues for any work, and when the one computation
//! slot is taken and the queue is full, the next heavy request is told to
//! come back (`Busy`) instead of waiting behind them.

use pingan_core::Period;
use pingan_service::scores::{self, ScoreQuery};
use pingan_service::testing::Db;
use pingan_service::{Caller, ServiceError, both, cap};
use pingan_store::Actor;

async fn load(db: &Db) {
    let p = pingan_synth::generate(&pingan_synth::Options {
        seed: 4,
        cities: 2,
        counties: 2,
        townships: 4,
        first_year: 2024,
        last_year: 2024,
        anomalies: 0,
    })
    .unwrap();
    db.load(&p.regions, &p.benchmarks, &p.values).await.unwrap();
}

fn query(period: Period) -> ScoreQuery {
    ScoreQuery {
        period,
        level: None,
        parent: None,
    }
}

both!(
    a_full_queue_answers_busy_and_unscorable_periods_never_queue,
    |db: &Db| {
        let db = db.clone();
        async move { bounded(&db).await }
    }
);

async fn bounded(db: &Db) {
    load(db).await;
    let caller = Caller::operator("tester");
    let who = caller.authorize::<cap::Scores>().unwrap();
    let ctx = db.ctx.clone();
    // Someone computes, and as many as may wait are waiting.
    let held = ctx.heavy_permit().await.unwrap();
    let mut waiters = Vec::new();
    for _ in 0..pingan_service::ctx::HEAVY_QUEUE {
        let c = ctx.clone();
        waiters.push(tokio::spawn(
            async move { c.heavy_permit().await.map(|_| ()) },
        ));
    }
    while ctx.heavy_waiting() < pingan_service::ctx::HEAVY_QUEUE {
        tokio::task::yield_now().await;
    }
    // A month has no benchmark: refused at once, not queued, not busy.
    match scores::official(&ctx, &who, &query(Period::Month(2024, 5))).await {
        Err(ServiceError::Invalid(m)) => assert!(m.contains("缺少基准值"), "{m}"),
        other => panic!(
            "expected the missing benchmark, got {:?}",
            other.map(|r| r.results.len())
        ),
    }
    // A year must be computed: no room, so come back later.
    match scores::preview(&ctx, &who, &query(Period::Year(2024))).await {
        Err(e @ ServiceError::Busy { .. }) => assert!(e.to_string().contains("秒后重试")),
        other => panic!("expected busy, got {:?}", other.map(|r| r.results.len())),
    }
    drop(held);
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    assert_eq!(ctx.heavy_waiting(), 0);
    // With the slot free the year is scored, once for many askers: a new
    // framework version drops the kept scores first.
    let a = Actor::cli("tester");
    db.import_framework(
        "f.toml",
        pingan_core::framework::DEFAULT_TOML.as_bytes(),
        Some(2001),
        false,
        &a,
    )
    .await
    .unwrap();
    let runs = async || {
        db.audit_entries(&pingan_store::AuditFilter::default(), None)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "score_run")
            .count()
    };
    let before = runs().await;
    let year = query(Period::Year(2024));
    let (a, b) = tokio::join!(
        scores::official(&ctx, &who, &year),
        scores::official(&ctx, &who, &year)
    );
    assert_eq!(a.unwrap().results.len(), b.unwrap().results.len());
    assert_eq!(runs().await, before + 1, "two askers, one computation");
}

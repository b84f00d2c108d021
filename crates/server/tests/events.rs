//! `import events` into the store (issue 19): the latest version of each
//! event kept, the eight derived elements written under 网格平台/应急指挥
//! equal to `pingan_core::events::aggregate` over the same file, the same
//! file again changing nothing, a newer version counted, a conflicting row
//! refusing the whole file; on both backends.

mod common;

use common::{small_province, spawn_app};
use pingan_service::{Caller, ServiceError, cap, events};
use pingan_store::testing::Kind;
use std::collections::HashMap;

async fn import(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let mut bytes = Vec::new();
    pingan_synth::write_events(
        &small_province(),
        &pingan_synth::EventOptions {
            year: 2024,
            total: 3000,
        },
        &mut bytes,
    )
    .unwrap();
    let ctx = &app.store.ctx;
    let op = Caller::operator("t");
    let who = op.authorize::<cap::Submit>().unwrap();
    let s = events::import_events(ctx, &who, "events.csv", &bytes, false)
        .await
        .unwrap();
    assert!(s.events > 2500 && s.written == s.events, "{s:?}");
    let values = s.values.as_ref().unwrap();
    assert_eq!(
        values.imported,
        8 * 12 * 8,
        "eight townships, twelve months, eight elements"
    );

    // The stored derived values are the contract's aggregate of the file.
    let tree = app.store.region_tree().await.unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let read = pingan_input::events::read_events("events.csv", &text, &tree).unwrap();
    let want = pingan_core::events::aggregate(&read.events, None);
    let stored: HashMap<(String, String, String), f64> = app
        .store
        .value_records(&[2024])
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.source == events::GRID_SOURCE || v.source == events::EMERGENCY_SOURCE)
        .map(|v| ((v.region, v.period, v.element), v.value))
        .collect();
    assert_eq!(stored.len(), want.len() * 8);
    for ((region, (y, m)), v) in &want {
        for (k, e) in pingan_core::events::ELEMENTS.iter().enumerate() {
            let got = stored[&(
                tree.get(*region).code.clone(),
                format!("{y}-{m:02}"),
                e.to_string(),
            )];
            assert!((got - v[k]).abs() < 1e-9, "{e} {y}-{m}: {got} vs {}", v[k]);
        }
    }

    // The same file again: nothing written.
    let again = events::import_events(ctx, &who, "events.csv", &bytes, false)
        .await
        .unwrap();
    assert_eq!(
        (again.written, again.values.is_none()),
        (0, true),
        "{again:?}"
    );
    let n = app.store.event_count().await.unwrap();

    // A conflicting row under a stored version refuses the file whole.
    let first = text.lines().nth(1).unwrap();
    let mut f: Vec<&str> = first.split(',').collect();
    let changed_category = "另一类别";
    f[3] = changed_category;
    let bad = format!("{}{}\n", pingan_synth::EVENTS_HEADER, f.join(","));
    match events::import_events(ctx, &who, "bad.csv", bad.as_bytes(), false).await {
        Err(ServiceError::Rejected(p)) => {
            assert!(p[0].to_string().contains("bad.csv:2"), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.store.event_count().await.unwrap(), n);

    // A newer version of an open grid event: written, its month rewritten.
    let open_row = text
        .lines()
        .skip(1)
        .find(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[1] == "grid"
                && f[7].is_empty()
                && !text
                    .lines()
                    .any(|o| o != *l && o.starts_with(&format!("{},", f[0])))
        })
        .expect("an event still open");
    let mut f: Vec<String> = open_row.split(',').map(str::to_string).collect();
    f[7] = f[6].clone(); // handled at once
    f[10] = "2025-01-01 00:00:00".into();
    let newer = format!("{}{}\n", pingan_synth::EVENTS_HEADER, f.join(","));
    let s = events::import_events(ctx, &who, "newer.csv", newer.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(s.written, 1, "{s:?}");
    assert!(
        s.values.unwrap().updated >= 2,
        "timely counts of its month changed"
    );
    assert!(app.store.audit_verify(None).await.unwrap().ok);
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_on_sqlite() {
    import(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_on_postgres() {
    import(Kind::Postgres).await;
}

//! The grouped counts an import keeps equal the counts made from scratch,
//! through new events, newer versions that move an event to another
//! region, month or state, and older versions that change nothing; the
//! list's totals equal its rows. On both backends.

use super::*;
use crate::testing::{Kind, fresh};
use crate::{Actor, Store};

fn actor() -> Actor {
    Actor {
        user: "t".into(),
        client: "test".into(),
    }
}

/// A small deterministic mix of events; `shift` changes their contents.
fn events(ids: std::ops::Range<u32>, updated: f64, shift: u32) -> Vec<EventRecord> {
    ids.map(|i| {
        let x = i.wrapping_mul(2_654_435_761).wrapping_add(shift * 97);
        let kind = ["grid", "grid", "grid", "fire", "medical"][(x % 5) as usize];
        let grid = kind == "grid";
        let reported = 1_704_067_200.0 + f64::from(x % 5_000_000);
        let handled = (x % 7 != 0).then(|| reported + f64::from((x >> 3) % 200_000));
        let mut r = EventRecord {
            event_id: format!("E{i:05}"),
            kind: kind.into(),
            region: format!("R{}", x % 3),
            category: if grid {
                ["纠纷", "隐患"][(x % 2) as usize]
            } else {
                ""
            }
            .into(),
            urgency: grid.then(|| ["一般", "紧急", "特急"][((x >> 5) % 3) as usize].into()),
            departments: i64::from((x >> 7) % 3),
            reported_at: reported,
            handled_at: handled,
            // Some call-outs dispatched days after (or before) their report,
            // so they count in another month than the one they were reported in.
            dispatched_at: (!grid).then(|| reported + f64::from(x % 7) * 86_400.0 - 259_200.0),
            arrived_at: (!grid).then(|| reported + 345_600.0 + f64::from(x % 1800)),
            updated_at: updated,
            month: String::new(),
            digest: format!("{x:032x}"),
        };
        // As a load writes it: the month the event counts in.
        r.month = pingan_core::events::month_text(r.event().expect("a known kind").month());
        r
    })
    .collect()
}

type CountRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    f64,
);

async fn counts(s: &Store) -> (Vec<CountRow>, Vec<(String, String, i64, i64)>) {
    let c = on_pool!(s, p => sqlx::query_as(
        "SELECT region, month, kind, category, urgency, events, timely, handled, joint, joint_timely, \
         response_seconds FROM event_counts ORDER BY 1, 2, 3, 4, 5").fetch_all(p).await)
    .unwrap();
    let k = on_pool!(s, p => sqlx::query_as(
        "SELECT region, month, CAST(class AS BIGINT), events FROM event_classes ORDER BY 1, 2, 3")
        .fetch_all(p).await)
    .unwrap();
    (c, k)
}

async fn kept_counts_equal_rebuilt(kind: Kind) {
    let Some(db) = fresh(kind).await else { return };
    let s = &db.store;
    let first: Vec<_> = events(0..400, 10.0, 0);
    let first: Vec<_> = first.iter().map(EventRecord::view).collect();
    s.write_events("a.csv", "a", 400, 0, &first, &actor())
        .await
        .unwrap();
    let first = counts(s).await;
    assert!(!first.0.is_empty() && !first.1.is_empty());
    // Newer versions of half, older ones of a quarter, and new events.
    let mut next = events(0..200, 20.0, 1);
    next.extend(events(200..300, 5.0, 2));
    next.extend(events(400..450, 20.0, 3));
    let next: Vec<_> = next.iter().map(EventRecord::view).collect();
    s.write_events("b.csv", "b", 350, 0, &next, &actor())
        .await
        .unwrap();
    let kept = counts(s).await;
    s.rebuild_event_counts().await.unwrap();
    assert_eq!(kept, counts(s).await, "{kind:?}");
    assert_eq!(s.event_count().await.unwrap(), 450);

    let all = EventFilter {
        regions: None,
        from: "2024-01".into(),
        to: "2024-12".into(),
        kind: None,
        category: None,
        urgency: None,
        state: EventState::All,
    };
    for state in [
        EventState::All,
        EventState::Open,
        EventState::Handled,
        EventState::Timely,
        EventState::Late,
        EventState::Overdue(1_800_000_000.0),
    ] {
        for (regions, urgency, month) in [
            (None, None, None),
            (Some(vec!["R1".to_string()]), Some("紧急".to_string()), None),
            (
                Some(vec!["R0".into(), "R2".into()]),
                Some(String::new()),
                None,
            ),
            // A month: its call-outs count by dispatch, not report.
            (None, Some(String::new()), Some("2024-02")),
            (None, None, Some("2024-01")),
        ] {
            let (from, to) =
                month.map_or((all.from.clone(), all.to.clone()), |m| (m.into(), m.into()));
            let f = EventFilter {
                state,
                regions,
                urgency,
                from,
                to,
                ..all.clone()
            };
            let mut rows = Vec::new();
            let mut after = None;
            loop {
                let page = s.event_list(&f, after.as_ref(), 37).await.unwrap();
                let Some(last) = page.last() else { break };
                let at = last.event().expect("a known kind").month_time();
                after = Some((at, last.event_id.clone()));
                rows.extend(page);
            }
            assert_eq!(
                rows.len() as i64,
                s.event_list_count(&f).await.unwrap(),
                "{kind:?} {state:?} {f:?}"
            );
            // Newest first (by the time whose month each counts in), each once.
            let time = |r: &EventRecord| r.event().expect("a known kind").month_time();
            assert!(
                rows.windows(2)
                    .all(|w| (&w[0].month, time(&w[0])) >= (&w[1].month, time(&w[1])))
            );
        }
    }
}

#[tokio::test]
async fn kept_counts_on_sqlite() {
    kept_counts_equal_rebuilt(Kind::Sqlite).await;
}

#[tokio::test]
async fn kept_counts_on_postgres() {
    kept_counts_equal_rebuilt(Kind::Postgres).await;
}

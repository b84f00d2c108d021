//! Callback sampling on a fresh SQLite file and a fresh PostgreSQL database:
//! the register import (checked whole, idempotent), reproducible draws,
//! recorded callbacks, the evidence beside the reported success rate, the
//! ledger and backup.

use pingan_core::labels::CallbackResult;
use pingan_service::ServiceError;
use pingan_service::both;
use pingan_service::testing::Db;
use pingan_store::{Actor, AuditFilter};
use std::io::{BufRead, Write};

fn actor() -> Actor {
    Actor::cli("tester")
}

async fn load(store: &Db) {
    let p = pingan_synth::generate(&pingan_synth::Options {
        seed: 5,
        cities: 1,
        counties: 2,
        townships: 6,
        first_year: 2024,
        last_year: 2024,
        anomalies: 0,
    })
    .unwrap();
    store
        .load(&p.regions, &p.benchmarks, &p.values)
        .await
        .unwrap();
}

/// Counties and their townships, in tree order.
async fn counties(store: &Db) -> Vec<(String, Vec<String>)> {
    let tree = store.region_tree().await.unwrap();
    let mut out = Vec::new();
    for (i, r) in tree.regions().iter().enumerate() {
        if r.level == pingan_core::Level::County {
            let towns = tree
                .children(i)
                .iter()
                .map(|&t| tree.get(t).code.clone())
                .collect();
            out.push((r.code.clone(), towns));
        }
    }
    out
}

/// 20 cases per township of 2024, three in four successful.
fn register(towns: &[String]) -> String {
    let mut s = String::from("case_id,region,date,type,outcome,agreement,fulfilled,note\n");
    for (t, town) in towns.iter().enumerate() {
        for i in 0..20 {
            let ok = i % 4 != 3;
            s.push_str(&format!(
                "TJ-{town}-{i:02},{town},2024-{:02}-{:02},邻里纠纷,{},{},{},\n",
                1 + (i + t) % 12,
                1 + i,
                if ok {
                    "调解成功"
                } else {
                    "调解不成功"
                },
                if ok { "是" } else { "否" },
                if ok && i % 2 == 0 { "是" } else { "否" },
            ));
        }
    }
    s
}

both!(the_register_imports_whole_and_once, |store: &Db| {
    let store = store.clone();
    async move {
        load(&store).await;
        let all: Vec<String> = counties(&store)
            .await
            .into_iter()
            .flat_map(|c| c.1)
            .collect();
        let good = register(&all);
        let entries = store.audit_count().await.unwrap();

        // One bad row among good ones: nothing is kept, the row is named.
        let bad = format!("{good}X-1,999999,2024-02-30,邻里纠纷,调解成功,是,是,\n");
        let line = bad.lines().count();
        let e = store
            .import_cases("cases.csv", bad.as_bytes(), false, &actor())
            .await
            .unwrap_err();
        let ServiceError::Rejected(_) = e else {
            panic!("{e}")
        };
        let text = e.to_string();
        assert!(
            text.contains(&format!("cases.csv:{line}: 未知的地区代码“999999”")),
            "{text}"
        );
        assert!(text.contains(&format!("cases.csv:{line}: 受理日期“2024-02-30”")));
        assert_eq!(store.count("cases").await.unwrap(), 0);
        assert_eq!(store.audit_count().await.unwrap(), entries);

        // A dry run reports and keeps nothing.
        let s = store
            .import_cases("cases.csv", good.as_bytes(), true, &actor())
            .await
            .unwrap();
        assert_eq!((s.rows, s.imported), (all.len() * 20, all.len() * 20));
        assert_eq!(store.count("cases").await.unwrap(), 0);

        let s = store
            .import_cases("cases.csv", good.as_bytes(), false, &actor())
            .await
            .unwrap();
        assert_eq!(s.imported, all.len() * 20);
        assert!(s.import_id.is_some());
        assert_eq!(store.audit_count().await.unwrap(), entries + 1);
        let again = store
            .import_cases("cases.csv", good.as_bytes(), false, &actor())
            .await
            .unwrap();
        assert_eq!((again.imported, again.updated), (0, 0));
        assert_eq!(again.ignored, all.len() * 20);
        assert_eq!(store.audit_count().await.unwrap(), entries + 1);

        // A corrected row is an update.
        let first = good.lines().nth(1).unwrap();
        let changed = format!(
            "case_id,region,date,type,outcome,agreement,fulfilled,note\n{}\n",
            first.replace("邻里纠纷", "婚姻家庭")
        );
        let s = store
            .import_cases("fix.csv", changed.as_bytes(), false, &actor())
            .await
            .unwrap();
        assert_eq!((s.imported, s.updated), (0, 1));
        // A case stays in the region that registered it: a row moving it
        // elsewhere is refused whole, with its line.
        let towns = &counties(&store).await[1].1;
        let mut fields: Vec<&str> = first.split(',').collect();
        fields[1] = &towns[0];
        let moved = format!(
            "case_id,region,date,type,outcome,agreement,fulfilled,note\n{}\n",
            fields.join(",")
        );
        let e = store
            .import_cases("move.csv", moved.as_bytes(), false, &actor())
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("move.csv:2:") && e.to_string().contains("不能改到地区"),
            "{e}"
        );
        let county = counties(&store).await[0].0.clone();
        let cases = store.cases(Some(&county), Some(2024)).await.unwrap();
        assert_eq!(cases.len(), counties(&store).await[0].1.len() * 20);
        assert!(cases.iter().any(|c| c.kind == "婚姻家庭"));
        assert!(
            store
                .cases(Some(&county), Some(2023))
                .await
                .unwrap()
                .is_empty()
        );
        let log = store
            .audit_entries(
                &AuditFilter {
                    action: Some("import_cases".into()),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 2);
    }
});

both!(
    draws_are_reproducible_and_callbacks_become_evidence,
    |store: &Db| {
        let store = store.clone();
        async move {
            load(&store).await;
            let cs = counties(&store).await;
            let all: Vec<String> = cs.iter().flat_map(|c| c.1.clone()).collect();
            store
                .import_cases("cases.csv", register(&all).as_bytes(), false, &actor())
                .await
                .unwrap();
            let (county, towns) = &cs[0];
            let eligible: Vec<String> = store
                .cases(Some(county), Some(2024))
                .await
                .unwrap()
                .into_iter()
                .filter(|c| c.outcome == "调解成功")
                .map(|c| c.case_id)
                .collect();
            assert_eq!(eligible.len(), towns.len() * 15);

            let (d, created) = store
                .draw_callbacks(county, 2024, None, Some(42), &actor())
                .await
                .unwrap();
            assert!(created);
            assert_eq!(d.rate, 0.3);
            assert_eq!(d.eligible as usize, eligible.len());
            let n = (eligible.len() as f64 * 0.3).ceil() as usize;
            assert_eq!(d.items.len(), n);
            let ids: Vec<String> = d.items.iter().map(|i| i.case.case_id.clone()).collect();
            // The rule anyone can recompute, and only successful cases in scope.
            assert_eq!(ids, pingan_service::callbacks::choose(&eligible, 0.3, 42));
            assert!(d.items.iter().all(|i| i.case.outcome == "调解成功"
                && towns.contains(&i.case.region)
                && i.result.is_none()));
            assert_ne!(ids, pingan_service::callbacks::choose(&eligible, 0.3, 43));
            // A drawn case is evidence now: the register may not rewrite it.
            let c = &d.items[0].case;
            let rewrite = format!(
                "case_id,region,date,type,outcome,agreement,fulfilled,note\n{},{},{},{},调解不成功,否,否,\n",
                c.case_id, c.region, c.date, c.kind
            );
            let e = store
                .import_cases("late.csv", rewrite.as_bytes(), false, &actor())
                .await
                .unwrap_err();
            assert!(e.to_string().contains("已被抽取回访"), "{e}");

            // Asking again returns the same draw; other parameters are refused.
            let (again, created) = store
                .draw_callbacks(county, 2024, None, None, &actor())
                .await
                .unwrap();
            assert!(!created);
            assert_eq!(again, d);
            assert!(matches!(
                store
                    .draw_callbacks(county, 2024, None, Some(43), &actor())
                    .await,
                Err(ServiceError::Conflict(_))
            ));
            assert!(matches!(
                store
                    .draw_callbacks(county, 2024, Some(0.5), Some(42), &actor())
                    .await,
                Err(ServiceError::Conflict(_))
            ));
            assert!(matches!(
                store
                    .draw_callbacks(county, 2024, Some(1.5), None, &actor())
                    .await,
                Err(ServiceError::Invalid(_))
            ));
            assert!(matches!(
                store
                    .draw_callbacks(county, 2023, None, None, &actor())
                    .await,
                Err(ServiceError::Invalid(_))
            ));

            // The rate is configurable: half of the other county, a random seed.
            let (other, _) = &cs[1];
            let (half, _) = store
                .draw_callbacks(other, 2024, Some(0.5), None, &actor())
                .await
                .unwrap();
            assert_eq!(half.items.len(), (half.eligible as usize).div_ceil(2));
            assert!((0..=pingan_service::callbacks::MAX_SEED).contains(&half.seed));

            // Callbacks: two confirmed, one not (with what the party said), one
            // unreachable.
            let a = actor();
            for (i, r) in [
                CallbackResult::Confirmed,
                CallbackResult::Confirmed,
                CallbackResult::Unreachable,
            ]
            .into_iter()
            .enumerate()
            {
                let got = store
                    .record_callback(d.id, &ids[i], r, "", &a)
                    .await
                    .unwrap();
                assert_eq!(got.result, Some(r));
                assert_eq!(got.called_by.as_deref(), Some("tester"));
            }
            assert!(matches!(
                store
                    .record_callback(d.id, &ids[3], CallbackResult::NotConfirmed, " ", &a)
                    .await,
                Err(ServiceError::Invalid(_))
            ));
            store
                .record_callback(
                    d.id,
                    &ids[3],
                    CallbackResult::NotConfirmed,
                    "当事人称协议未履行",
                    &a,
                )
                .await
                .unwrap();
            // Reached on a second try.
            store
                .record_callback(
                    d.id,
                    &ids[2],
                    CallbackResult::Confirmed,
                    "第二次拨打接通",
                    &a,
                )
                .await
                .unwrap();
            assert!(matches!(
                store
                    .record_callback(d.id, "no-such-case", CallbackResult::Confirmed, "", &a)
                    .await,
                Err(ServiceError::NotFound(_))
            ));

            let ev = store.callback_evidence(county, 2024, &a).await.unwrap();
            assert_eq!(ev.cases, towns.len() * 20);
            assert_eq!(ev.successful, eligible.len());
            assert_eq!(ev.draws, vec![d.id]);
            assert_eq!(ev.drawn, n);
            assert_eq!(
                (ev.called, ev.confirmed, ev.not_confirmed, ev.unreachable),
                (4, 3, 1, 0)
            );
            assert_eq!(ev.confirmed_share, Some(75.0));
            assert_eq!(ev.register_rate, Some(75.0));
            // The reported rate is the stored score's D3.2.1.
            let score = store
                .region_score(pingan_core::Period::Year(2024), county, &a)
                .await
                .unwrap()
                .unwrap();
            let reported = score
                .indicators
                .iter()
                .find(|i| i.code == "D3.2.1")
                .unwrap()
                .value;
            assert!(reported.is_some());
            assert_eq!(ev.reported_rate, reported, "{:?}", ev.reported_note);

            // The city sees both counties' draws.
            let tree = store.region_tree().await.unwrap();
            let city = tree
                .get(tree.get(tree.find(county).unwrap()).parent.unwrap())
                .code
                .clone();
            let ev = store.callback_evidence(&city, 2024, &a).await.unwrap();
            assert_eq!(ev.draws.len(), 2);
            assert_eq!(ev.drawn, n + half.items.len());

            // Every write is in the ledger and the chain holds.
            for action in ["callback_draw", "callback_record"] {
                let log = store
                    .audit_entries(
                        &AuditFilter {
                            action: Some(action.into()),
                            ..Default::default()
                        },
                        None,
                    )
                    .await
                    .unwrap();
                assert!(!log.is_empty(), "{action}");
            }
            assert!(store.audit_verify(None).await.unwrap().ok);

            // Backup and restore keep the register and the callbacks; a backup
            // made before these tables existed still restores.
            let file = tempfile::NamedTempFile::new().unwrap();
            store.backup(file.path()).await.unwrap();
            let target = pingan_store::testing::sqlite().await;
            target.store.restore(file.path(), &a).await.unwrap();
            assert_eq!(
                target.store.draw(d.id).await.unwrap().unwrap(),
                store.draw(d.id).await.unwrap().unwrap()
            );
            target.done().await;

            let old = tempfile::NamedTempFile::new().unwrap();
            {
                let r = std::io::BufReader::new(flate2::read::GzDecoder::new(
                    std::fs::File::open(file.path()).unwrap(),
                ));
                let mut w = flate2::write::GzEncoder::new(
                    std::fs::File::create(old.path()).unwrap(),
                    flate2::Compression::fast(),
                );
                let mut skipping = false;
                for l in r.lines() {
                    let l = l.unwrap();
                    if l.starts_with("{\"columns\"") || l.starts_with("{\"table\"") {
                        skipping = l.contains("\"cases\"")
                            || l.contains("\"callback_draws\"")
                            || l.contains("\"callbacks\"");
                    }
                    if !skipping || l == "{\"end\":true}" {
                        writeln!(w, "{l}").unwrap();
                    }
                }
                w.finish().unwrap();
            }
            let target = pingan_store::testing::sqlite().await;
            let r = target.store.restore(old.path(), &a).await;
            // The ledger in the old file names draws whose rows are gone, but
            // the chain itself is whole, so it restores.
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(target.store.count("cases").await.unwrap(), 0);
            target.done().await;
        }
    }
);

both!(a_case_file_is_held_to_the_callers_regions, |store: &Db| {
    let store = store.clone();
    async move {
        load(&store).await;
        let cs = counties(&store).await;
        let (own, others) = (&cs[0], &cs[1]);
        let keeper = store
            .add_user(
                &pingan_service::users::NewUser {
                    username: "sifa".into(),
                    password: "Correct-Horse-9".into(),
                    roles: vec![pingan_core::access::Role::Department],
                    region: Some(own.0.clone()),
                    department: Some("司法".into()),
                    must_change_password: false,
                },
                &actor(),
            )
            .await
            .unwrap();
        let c = pingan_service::Caller::user(&keeper, "test");
        let who = c.authorize::<pingan_service::cap::CaseImport>().unwrap();
        // Its own townships go in.
        let mine = register(&own.1);
        let batch = pingan_service::callbacks::csv(&store.ctx, &who, "mine.csv", mine.as_bytes())
            .await
            .unwrap();
        let s = pingan_service::callbacks::import(&store.ctx, &who, batch, true)
            .await
            .unwrap();
        assert_eq!(s.rows, 20 * own.1.len());
        // One township of the other county refuses the file, named once
        // per region whatever the number of its rows.
        let mixed = register(&[own.1[0].clone(), others.1[0].clone()]);
        let e = pingan_service::callbacks::csv(&store.ctx, &who, "mixed.csv", mixed.as_bytes())
            .await
            .err()
            .expect("another county's cases are refused");
        let ServiceError::Rejected(ps) = e else {
            panic!("{e:?}")
        };
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(
            ps[0].to_string(),
            format!("mixed.csv:22: 无权报送地区 {} 的案件", others.1[0])
        );
    }
});

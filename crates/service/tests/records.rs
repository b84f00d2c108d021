//! The same store suite on a fresh SQLite file and a fresh PostgreSQL
//! database per test. PostgreSQL tests use 127.0.0.1:5432 (trust auth, the
//! `test` database to create others from) unless PINGAN_TEST_PG=off.

use pingan_core::Period;

use pingan_service::ServiceError;
use pingan_service::both;
use pingan_service::testing::Db;
use pingan_store::{Actor, AuditFilter, Store};

fn actor() -> Actor {
    Actor::cli("tester")
}

fn province() -> pingan_synth::Output {
    pingan_synth::generate(&pingan_synth::Options {
        seed: 3,
        cities: 2,
        counties: 5,
        townships: 15,
        first_year: 2023,
        last_year: 2024,
        anomalies: 0,
    })
    .unwrap()
}

async fn load(store: &Db, p: &pingan_synth::Output) {
    let s = store
        .load(&p.regions, &p.benchmarks, &p.values)
        .await
        .unwrap();
    assert_eq!(s.imported, s.rows);
}

/// The file engine on the same files.
fn file_scores(p: &pingan_synth::Output, period: Period) -> pingan_core::score::ScoreReport {
    let fw = pingan_core::default_framework();
    let tree = pingan_input::read_regions("r", p.regions.as_bytes()).unwrap();
    let mut data = pingan_input::read_values("v", p.values.as_bytes(), &fw, &tree).unwrap();
    pingan_input::read_benchmarks("b", p.benchmarks.as_bytes(), &fw, &mut data).unwrap();
    pingan_core::score::score(&fw, &tree, &data, period, None).unwrap()
}

both!(round_trip_equals_file_scoring, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        for period in [Period::Year(2024), Period::Year(2023)] {
            let stored = store.scores(period, None, &actor()).await.unwrap();
            let direct = file_scores(&p, period);
            assert_eq!(
                serde_json::to_string(&stored).unwrap(),
                serde_json::to_string(&direct).unwrap(),
                "{period}"
            );
        }
        // --level filters the stored output only.
        let cities = store
            .scores(Period::Year(2024), Some(pingan_core::Level::City), &actor())
            .await
            .unwrap();
        assert_eq!(cities.results.len(), 2);
        assert!(store.audit_verify(None).await.unwrap().ok);
    }
});

both!(
    reimport_is_idempotent_and_updates_are_counted,
    |store: &Db| {
        let store = store.clone();
        async move {
            let p = province();
            load(&store, &p).await;
            let entries = store.audit_count().await.unwrap();
            let s = store
                .import_values("values.csv", p.values.as_bytes(), false, &actor())
                .await
                .unwrap();
            assert_eq!((s.imported, s.updated, s.ignored), (0, 0, s.rows));
            assert_eq!(
                store.audit_count().await.unwrap(),
                entries,
                "nothing written, nothing logged"
            );
            // One changed value and one new source for the same key.
            let first = p.values.lines().nth(1).unwrap();
            let mut cols: Vec<&str> = first.split(',').collect();
            let changed = format!("{}", cols[3].parse::<f64>().unwrap() + 1.0);
            cols[3] = &changed;
            let edit = format!(
                "region,period,element,value,source\n{},\n{},网格平台\n",
                cols.join(","),
                first
            );
            let dry = store
                .import_values("edit.csv", edit.as_bytes(), true, &actor())
                .await
                .unwrap();
            assert_eq!(
                (dry.imported, dry.updated, dry.ignored, dry.dry_run),
                (1, 1, 0, true)
            );
            assert_eq!(
                store.audit_count().await.unwrap(),
                entries,
                "a dry run writes nothing"
            );
            let s = store
                .import_values("edit.csv", edit.as_bytes(), false, &actor())
                .await
                .unwrap();
            assert_eq!((s.imported, s.updated), (1, 1));
            let log = store
                .audit_entries(
                    &AuditFilter {
                        action: Some("import_values".into()),
                        ..Default::default()
                    },
                    None,
                )
                .await
                .unwrap();
            let last: serde_json::Value =
                serde_json::from_str(&log.last().unwrap().detail).unwrap();
            assert_eq!(last["rows"], 2);
            assert_eq!(last["sha256"], pingan_store::sha256_hex(edit.as_bytes()));
            assert_eq!(last["years"][0], 2023);
            assert!(store.audit_verify(None).await.unwrap().ok);
        }
    }
);

both!(bad_input_stores_nothing, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let before = store.count("data_values").await.unwrap();
        let entries = store.audit_count().await.unwrap();
        let bad = format!(
            "{}\n990101001,2024-01,population,abc\nnowhere,2024,population,1\n",
            p.values.trim_end()
        );
        let lines = bad.lines().count();
        match store
            .import_values("bad.csv", bad.as_bytes(), false, &actor())
            .await
        {
            Err(e @ ServiceError::Rejected(_)) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("bad.csv:{}: 数值“abc”不是数字", lines - 1)),
                    "{text}"
                );
                assert!(
                    text.contains(&format!("bad.csv:{lines}: 未知的地区代码“nowhere”")),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        let dup = format!(
            "{}\n{}\n",
            p.values.trim_end(),
            p.values.lines().nth(1).unwrap()
        );
        assert!(
            store
                .import_values("dup.csv", dup.as_bytes(), false, &actor())
                .await
                .is_err()
        );
        assert!(
            store
                .import_regions(
                    "r.csv",
                    b"code,name,parent,level\nX,x,NOPE,city\n",
                    false,
                    &actor()
                )
                .await
                .is_err()
        );
        assert!(
            store
                .import_benchmarks(
                    "b.csv",
                    b"benchmark,period,value\nnope,2024,1\n",
                    false,
                    &actor()
                )
                .await
                .is_err()
        );
        assert!(
            store
                .import_framework("f.toml", b"[framework]\ncode = 1\n", None, false, &actor())
                .await
                .is_err()
        );
        assert_eq!(store.count("data_values").await.unwrap(), before);
        assert_eq!(store.audit_count().await.unwrap(), entries);
    }
});

both!(framework_versions_apply_from_their_year, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let src =
            pingan_core::framework::DEFAULT_TOML.replacen("\"pingan-2024\"", "\"pingan-2025\"", 1);
        let s = store
            .import_framework("v2.toml", src.as_bytes(), Some(2025), false, &actor())
            .await
            .unwrap();
        assert_eq!(s.imported, 1);
        let again = store
            .import_framework("v2.toml", src.as_bytes(), Some(2025), false, &actor())
            .await
            .unwrap();
        assert_eq!(again.ignored, 1, "same version again changes nothing");
        assert_eq!(
            store.framework_for_year(2024).await.unwrap().unwrap().code,
            "pingan-2024"
        );
        assert_eq!(
            store.framework_for_year(2026).await.unwrap().unwrap().code,
            "pingan-2025"
        );
        assert_eq!(
            store
                .scores(Period::Year(2024), None, &actor())
                .await
                .unwrap()
                .framework,
            "pingan-2024"
        );
    }
});

both!(tampering_is_detected, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let v = store.audit_verify(None).await.unwrap();
        assert!(v.ok, "{v:?}");
        let (seq, head) = store.audit_head().await.unwrap();
        assert!(seq >= 5);
        // Changed content.
        store
            .execute_raw("UPDATE audit SET user_name = 'mallory' WHERE id = 3")
            .await
            .unwrap();
        let v = store.audit_verify(None).await.unwrap();
        assert_eq!(
            (
                v.ok,
                v.problem.as_ref().unwrap().id,
                v.problem.as_ref().unwrap().kind
            ),
            (false, 3, "changed")
        );
        store
            .execute_raw("UPDATE audit SET user_name = 'tester' WHERE id = 3")
            .await
            .unwrap();
        assert!(store.audit_verify(None).await.unwrap().ok);
        // Reordered: swap two entries' ids.
        store
            .execute_raw("UPDATE audit SET id = -2 WHERE id = 2")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE audit SET id = 2 WHERE id = 3")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE audit SET id = 3 WHERE id = -2")
            .await
            .unwrap();
        let v = store.audit_verify(None).await.unwrap();
        assert!(!v.ok);
        assert_eq!(v.problem.as_ref().unwrap().id, 2, "{v:?}");
        store
            .execute_raw("UPDATE audit SET id = -2 WHERE id = 2")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE audit SET id = 2 WHERE id = 3")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE audit SET id = 3 WHERE id = -2")
            .await
            .unwrap();
        assert!(store.audit_verify(None).await.unwrap().ok);
        // Removed from the middle.
        let backup = tempfile::NamedTempFile::new().unwrap();
        store.backup(backup.path()).await.unwrap();
        store
            .execute_raw("DELETE FROM audit WHERE id = 4")
            .await
            .unwrap();
        let v = store.audit_verify(None).await.unwrap();
        assert_eq!(
            (
                v.problem.as_ref().unwrap().id,
                v.problem.as_ref().unwrap().kind
            ),
            (4, "removed")
        );
        // Truncated at the end, head row rewritten to match: only the kept head tells.
        store
            .execute_raw("DELETE FROM audit WHERE id >= 4")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE id = 3) WHERE id = 1")
            .await
            .unwrap();
        assert!(
            store.audit_verify(None).await.unwrap().ok,
            "undetectable without an outside head"
        );
        let v = store.audit_verify(Some(&head)).await.unwrap();
        assert_eq!(v.problem.as_ref().unwrap().kind, "truncated", "{v:?}");
        // Truncated without touching the head row: detected even without it.
        store
            .execute_raw("DELETE FROM audit WHERE id = 3")
            .await
            .unwrap();
        assert_eq!(
            store
                .audit_verify(None)
                .await
                .unwrap()
                .problem
                .unwrap()
                .kind,
            "truncated"
        );
    }
});

both!(backup_restores_into_either_backend, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let file = tempfile::NamedTempFile::new().unwrap();
        let b = store.backup(file.path()).await.unwrap();
        assert!(
            b.tables
                .iter()
                .any(|(t, n)| t == "data_values" && *n > 10_000)
        );
        let target = pingan_store::testing::sqlite().await;
        let r = target.store.restore(file.path(), &actor()).await.unwrap();
        assert_eq!(r.head, b.head);
        assert!(target.store.audit_verify(Some(&b.head)).await.unwrap().ok);
        let a = store
            .scores(Period::Year(2024), None, &actor())
            .await
            .unwrap();
        let c = Db::new(target.store.clone())
            .scores(Period::Year(2024), None, &actor())
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&c).unwrap()
        );
        // Not into a database that has data.
        assert!(store.restore(file.path(), &actor()).await.is_err());
        target.done().await;
    }
});

#[tokio::test]
async fn unreachable_database_is_one_clear_line() {
    let e = Store::open("postgres://nobody:secret@127.0.0.1:1/none")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("无法连接数据库 postgres://nobody:***@127.0.0.1:1/none"),
        "{text}"
    );
    assert!(!text.contains('\n') && !text.contains("secret"));
    let e = Store::open("mysql://x").await.unwrap_err();
    assert!(e.to_string().contains("sqlite:// 或 postgres://"));
}

fn new_user(name: &str, roles: &str) -> pingan_service::users::NewUser {
    pingan_service::users::NewUser {
        username: name.into(),
        password: "Pingan-2024x".into(),
        roles: pingan_core::access::parse_roles(roles).unwrap(),
        region: None,
        department: None,
        must_change_password: true,
    }
}

both!(accounts_lockout_sessions_tokens, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let a = actor();
        let u = store
            .add_user(&new_user("zhang", "office_admin,expert"), &a)
            .await
            .unwrap();
        assert!(u.must_change_password);
        // Rules: complexity, 三员分立 is checked by parse_roles, department accounts, duplicates, regions.
        let mut weak = new_user("li", "expert");
        weak.password = "short".into();
        assert!(store.add_user(&weak, &a).await.is_err());
        assert!(
            store
                .add_user(&new_user("zhang", "expert"), &a)
                .await
                .is_err(),
            "duplicate"
        );
        assert!(
            store
                .add_user(&new_user("dept", "department"), &a)
                .await
                .is_err(),
            "department needed"
        );
        let mut official = new_user("wang", "region_official");
        official.region = Some("nowhere".into());
        assert!(store.add_user(&official, &a).await.is_err());
        official.region = Some("990100".into());
        store.add_user(&official, &a).await.unwrap();

        // Good login, then five bad ones lock the account.
        assert!(
            store
                .check_login("zhang", "Pingan-2024x", "test")
                .await
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            store.check_login("nobody", "x", "test").await.unwrap(),
            Err(pingan_service::session::LoginRefusal::BadCredentials)
        );
        for i in 0..4 {
            let r = store.check_login("zhang", "wrong", "test").await.unwrap();
            assert_eq!(
                r,
                Err(pingan_service::session::LoginRefusal::BadCredentials),
                "attempt {i}"
            );
        }
        let r = store.check_login("zhang", "wrong", "test").await.unwrap();
        assert!(
            matches!(r, Err(pingan_service::session::LoginRefusal::Locked { .. })),
            "{r:?}"
        );
        let r = store
            .check_login("zhang", "Pingan-2024x", "test")
            .await
            .unwrap();
        assert!(
            matches!(r, Err(pingan_service::session::LoginRefusal::Locked { .. })),
            "locked even with the right password"
        );
        store
            .set_locked("zhang", false, "核实身份后解锁", &a)
            .await
            .unwrap();
        assert!(
            store
                .check_login("zhang", "Pingan-2024x", "test")
                .await
                .unwrap()
                .is_ok()
        );

        // Sessions: valid, then idle-expired.
        let token = store.create_session(u.id, "test").await.unwrap();
        assert_eq!(
            store.session_user(&token).await.unwrap().unwrap().username,
            "zhang"
        );
        store
            .execute_raw("UPDATE sessions SET last_seen = '2000-01-01T00:00:00.000Z'")
            .await
            .unwrap();
        assert!(
            store.session_user(&token).await.unwrap().is_none(),
            "30 idle minutes end a session"
        );
        assert!(store.session_user("not-a-session").await.unwrap().is_none());
        // A password change ends sessions.
        let token = store.create_session(u.id, "test").await.unwrap();
        store
            .set_password("zhang", "Another-Pass-9", false, &a)
            .await
            .unwrap();
        assert!(store.session_user(&token).await.unwrap().is_none());
        assert!(
            store
                .check_login("zhang", "Another-Pass-9", "test")
                .await
                .unwrap()
                .is_ok()
        );

        // Tokens: scoped, expiring, revocable, stored hashed.
        let (id, tok) = store
            .create_token("公安接口", "公安", None, 30, &a)
            .await
            .unwrap();
        assert_eq!(
            store.token_scope(&tok).await.unwrap().unwrap().department,
            "公安"
        );
        let stored: i64 = store.count("api_tokens").await.unwrap();
        assert_eq!(stored, 1);
        store.revoke_token(id, &a).await.unwrap();
        assert!(store.token_scope(&tok).await.unwrap().is_none());
        assert!(store.revoke_token(id, &a).await.is_err());
        let (_, tok2) = store
            .create_token("过期", "公安", None, 1, &a)
            .await
            .unwrap();
        store.execute_raw("UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE revoked_at IS NULL").await.unwrap();
        assert!(store.token_scope(&tok2).await.unwrap().is_none(), "expired");

        // Every step is in the ledger; no secret is.
        let log = store
            .audit_entries(&AuditFilter::default(), None)
            .await
            .unwrap();
        let text = serde_json::to_string(&log).unwrap();
        assert!(!text.contains("Pingan-2024x") && !text.contains(&tok) && !text.contains(&token));
        for action in [
            "user_add",
            "login",
            "login_failed",
            "user_unlock",
            "user_password",
            "token_create",
            "token_revoke",
        ] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }
        assert!(store.audit_verify(None).await.unwrap().ok);
        assert!(store.count("login_history").await.unwrap() >= 8);
    }
});

both!(nested_prev_and_provenance_changes, |store: &Db| {
    let store = store.clone();
    async move {
        let p = pingan_synth::generate(&pingan_synth::Options {
            seed: 5,
            cities: 1,
            counties: 2,
            townships: 4,
            first_year: 2022,
            last_year: 2024,
            anomalies: 0,
        })
        .unwrap();
        let src = pingan_core::framework::DEFAULT_TOML.replacen(
            "prev(repeat_petitions / petitions)",
            "prev(prev(repeat_petitions / petitions))",
            1,
        );
        assert_ne!(src, pingan_core::framework::DEFAULT_TOML);
        let a = actor();
        store
            .import_framework("deep.toml", src.as_bytes(), Some(2000), false, &a)
            .await
            .unwrap();
        store
            .import_regions("regions.csv", p.regions.as_bytes(), false, &a)
            .await
            .unwrap();
        store
            .import_benchmarks("benchmarks.csv", p.benchmarks.as_bytes(), false, &a)
            .await
            .unwrap();
        store
            .import_values("values.csv", p.values.as_bytes(), false, &a)
            .await
            .unwrap();
        let fw = pingan_core::framework::check(&src).framework.unwrap();
        let tree = pingan_input::read_regions("r", p.regions.as_bytes()).unwrap();
        let mut data = pingan_input::read_values("v", p.values.as_bytes(), &fw, &tree).unwrap();
        pingan_input::read_benchmarks("b", p.benchmarks.as_bytes(), &fw, &mut data).unwrap();
        let direct =
            pingan_core::score::score(&fw, &tree, &data, Period::Year(2024), None).unwrap();
        let stored = store.scores(Period::Year(2024), None, &a).await.unwrap();
        assert_eq!(
            serde_json::to_string(&stored).unwrap(),
            serde_json::to_string(&direct).unwrap()
        );

        // −0 is 0, and a changed note is an update.
        let row = "region,period,element,value,source,note\n990101001,2024-02,criminal_cases,-0,公安,first\n";
        store
            .import_values("z.csv", row.as_bytes(), false, &a)
            .await
            .unwrap();
        let again = store
            .import_values("z.csv", row.as_bytes(), false, &a)
            .await
            .unwrap();
        assert_eq!((again.updated, again.ignored), (0, 1));
        let noted = row.replace("first", "按2024年2月核查更正");
        let s = store
            .import_values("z.csv", noted.as_bytes(), false, &a)
            .await
            .unwrap();
        assert_eq!(s.updated, 1);
    }
});

both!(a_tampered_backup_restores_nothing, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let file = tempfile::NamedTempFile::new().unwrap();
        store.backup(file.path()).await.unwrap();
        // Rewrite one ledger user inside the gzip'd backup.
        use std::io::{Read, Write};
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(file.path()).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let bad = text.replacen(
            "\"tester\",\"import_regions\"",
            "\"mallory\",\"import_regions\"",
            1,
        );
        assert_ne!(bad, text);
        let tampered = tempfile::NamedTempFile::new().unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(tampered.path()).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(bad.as_bytes()).unwrap();
        gz.finish().unwrap();
        let target = pingan_store::testing::sqlite().await;
        let e = target
            .store
            .restore(tampered.path(), &actor())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("未恢复任何数据"), "{e}");
        assert_eq!(target.store.count("data_values").await.unwrap(), 0);
        assert_eq!(target.store.audit_count().await.unwrap(), 0);
        // The good backup still restores into it.
        target.store.restore(file.path(), &actor()).await.unwrap();
        target.done().await;
    }
});

/// A backup as an older build wrote it: `dropped` tables left out and the
/// data_values rows without their last (`review`) column.
fn older_backup(from: &std::path::Path, dropped: &[&str]) -> tempfile::NamedTempFile {
    use std::io::{BufRead, Write};
    let old = tempfile::NamedTempFile::new().unwrap();
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(from).unwrap(),
    ));
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(old.path()).unwrap(),
        flate2::Compression::fast(),
    );
    let mut table = String::new();
    for l in r.lines() {
        let l = l.unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&l).unwrap();
        if let Some(t) = v.get("table").and_then(|t| t.as_str()) {
            table = t.to_string();
            if table == "data_values" {
                v["columns"].as_array_mut().unwrap().pop();
            }
        }
        if v.get("end").is_none() && dropped.contains(&table.as_str()) {
            continue;
        }
        if table == "data_values" && v.is_array() {
            v.as_array_mut().unwrap().pop();
        }
        writeln!(w, "{v}").unwrap();
    }
    w.finish().unwrap();
    old
}

// Backups written before the review existed: data_values rows without the
// `review` column and none of the later tables, or (the callback build) its
// own tables right after quality_flags. They restore, every value approved,
// and score as before.
both!(a_backup_from_before_the_review_restores, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let file = tempfile::NamedTempFile::new().unwrap();
        store.backup(file.path()).await.unwrap();
        let review = [
            "data_sets",
            "data_set_events",
            "verify_tasks",
            "verify_records",
            "verify_photos",
        ];
        let all: Vec<&str> = review
            .iter()
            .copied()
            .chain(["cases", "callback_draws", "callbacks"])
            .collect();
        for dropped in [all.as_slice(), review.as_slice()] {
            let old = older_backup(file.path(), dropped);
            let target = pingan_store::testing::sqlite().await;
            target.store.restore(old.path(), &actor()).await.unwrap();
            assert_eq!(
                target.store.count("data_values").await.unwrap(),
                store.count("data_values").await.unwrap()
            );
            assert_eq!(target.store.count("data_sets").await.unwrap(), 0);
            assert_eq!(target.store.pending_values(2024).await.unwrap(), 0);
            let a = store
                .scores(Period::Year(2024), None, &actor())
                .await
                .unwrap();
            let c = Db::new(target.store.clone())
                .scores(Period::Year(2024), None, &actor())
                .await
                .unwrap();
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&c).unwrap()
            );
            target.done().await;
        }
    }
});

both!(small_and_large_submissions_count_alike, |store: &Db| {
    let store = store.clone();
    async move {
        let p = province();
        load(&store, &p).await;
        let a = actor();
        // July 2024's stored rows, as submitted: more than are looked up by
        // key, so the whole year is read for them.
        let july: Vec<&str> = p
            .values
            .lines()
            .filter(|l| l.split(',').nth(1) == Some("2024-07"))
            .collect();
        assert!(july.len() > pingan_store::KEYED_MAX, "{}", july.len());
        let csv = |rows: &[String]| format!("region,period,element,value\n{}\n", rows.join("\n"));
        let mut rows: Vec<String> = july.iter().map(|l| l.to_string()).collect();
        // One changed, the rest as stored.
        let (head, last) = rows[0].rsplit_once(',').unwrap();
        rows[0] = format!("{head},{}", last.parse::<f64>().unwrap() + 1.0);
        for (n, review) in [(rows.len(), true), (5, true), (5, false)] {
            let s = store
                .import_values_as("s.csv", csv(&rows[..n]).as_bytes(), true, review, &a)
                .await
                .unwrap();
            assert_eq!(
                (s.imported, s.updated, s.ignored),
                (0, 1, n - 1),
                "{n} rows, review {review}"
            );
        }
        // Stored as pending, a submission is compared with its pending row
        // first, by key or by year alike.
        store
            .import_values_as("s.csv", csv(&rows[..5]).as_bytes(), false, true, &a)
            .await
            .unwrap();
        for n in [5, rows.len()] {
            let s = store
                .import_values_as("s.csv", csv(&rows[..n]).as_bytes(), true, true, &a)
                .await
                .unwrap();
            assert_eq!((s.imported, s.updated, s.ignored), (0, 0, n), "{n} rows");
        }
        // A key never stored is new either way.
        let (town, _) = rows[0].split_once(',').unwrap();
        let new = vec![format!("{town},2025-01,disputes,3")];
        let s = store
            .import_values_as("s.csv", csv(&new).as_bytes(), true, true, &a)
            .await
            .unwrap();
        assert_eq!((s.imported, s.updated, s.ignored), (1, 0, 0));
    }
});

both!(
    a_check_that_no_longer_finds_a_flag_takes_it_out,
    |store: &Db| {
        let store = store.clone();
        async move {
            use pingan_core::quality::{FlagKind, FlagView, Numbers};
            use pingan_store::{FlagFilter, Resolution};
            let flag = |region: &str, period: &str| FlagView {
                region: region.into(),
                region_name: String::new(),
                element: "disputes".into(),
                element_name: String::new(),
                period: period.parse().unwrap(),
                kind: FlagKind::Jump,
                score: 80.0,
                message: format!("{region} {period}"),
                rule: None,
                sources: Vec::new(),
                numbers: Numbers(Vec::new()),
            };
            let year = Period::Year(2024);
            let all = |_: &str| true;
            let open = |store: Db| async move {
                let f = FlagFilter {
                    status: Some(pingan_core::labels::FlagStatus::Open),
                    ..Default::default()
                };
                let mut keys: Vec<String> = store
                    .flags(&f)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|f| format!("{} {}", f.region, f.period))
                    .collect();
                keys.sort();
                keys
            };
            let first = [
                flag("A", "2024-03"),
                flag("B", "2024-05"),
                flag("C", "2024-06"),
                flag("D", "2023-06"),
            ];
            let s = store.save_flags(year, &first, all, &actor()).await.unwrap();
            assert_eq!((s.new, s.cleared), (4, 0));
            // C was looked at and explained: a decision, kept whatever comes.
            let c = store
                .flags(&FlagFilter::default())
                .await
                .unwrap()
                .into_iter()
                .find(|f| f.region == "C")
                .unwrap();
            let note = Resolution::Explained {
                note: "季节性".into(),
            };
            store.resolve_flag(&c, &note, None, &actor()).await.unwrap();
            // Checked again, in a scope without A: B is gone, A is outside the
            // scope, D is another year; C stays explained.
            let s = store
                .save_flags(year, &[], |r: &str| r != "A", &actor())
                .await
                .unwrap();
            assert_eq!(s.cleared, 1);
            assert_eq!(open(store.clone()).await, ["A 2024-03", "D 2023-06"]);
            // A check of one month clears that month only.
            let s = store
                .save_flags("2024-04".parse().unwrap(), &[], all, &actor())
                .await
                .unwrap();
            assert_eq!(s.cleared, 0);
            let s = store
                .save_flags("2024-03".parse().unwrap(), &[], all, &actor())
                .await
                .unwrap();
            assert_eq!(s.cleared, 1);
            assert_eq!(open(store.clone()).await, ["D 2023-06"]);
            let explained = store.flag(c.id).await.unwrap().unwrap();
            assert_eq!(explained.status, pingan_core::labels::FlagStatus::Explained);
            // The ledger says how many went.
            let entries = store
                .audit_entries(&AuditFilter::default(), None)
                .await
                .unwrap();
            let detail: serde_json::Value =
                serde_json::from_str(&entries.last().unwrap().detail).unwrap();
            assert_eq!(detail["cleared"], 1, "{detail}");
        }
    }
);

//! Field verification (§5.3) and the cross-team check (§3.4) over the API
//! and the pages, on SQLite and PostgreSQL: tasks by hand, by a seeded draw
//! and from a flag; two-verifier records; photos checked by content; a
//! second team 20 % apart opens a re-verification; the review sees it.

mod common;

use common::{App, add_account, post, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    field(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        field(&app).await;
        app.db.done().await;
    }
}

async fn photo(
    app: &App,
    record: i64,
    cookie: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!(
            "{}/api/v1/verifications/records/{record}/photos?name={name}",
            app.base
        ))
        .header("cookie", cookie)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A small real PNG: the signature and enough bytes to look like one.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    b.extend_from_slice(&[0x90, 0x77, 0x53, 0xDE]);
    b
}

async fn field(app: &App) {
    add_account(app, "verifier2", "verifier", None, None).await;
    let office = app.cookie("office").await;
    let v1 = app.cookie("verifier").await;
    let v2 = app.cookie("verifier2").await;
    let collector = app.cookie("collector").await;
    let county_user = app.cookie("county").await;
    let dept = app.cookie("dept").await;
    let county = app.counties[0].clone();
    let town = format!("{county}001");

    // By hand: the office and the verification group; others read only.
    let task = json!({"region": town, "period": "2024-12", "elements": ["patrol_teams", "safety_volunteers"]});
    let (s, _) = post(app, "/api/v1/verifications", &collector, task.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(
        app,
        "/api/v1/verifications",
        &office,
        json!({"region": town, "period": "2024-12", "elements": ["no_such"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, t) = post(app, "/api/v1/verifications", &office, task.clone()).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let id = t["id"].as_i64().unwrap();
    // The same region, period and element again: that task, not a second.
    let again = json!({"region": town, "period": "2024-12", "elements": ["patrol_teams"]});
    let (s, v) = post(app, "/api/v1/verifications", &office, again).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains(&format!("核查任务 {id}")),
        "{v}"
    );
    assert!(
        !v["message"].as_str().unwrap().contains("patrol_teams"),
        "{v}"
    );
    assert_eq!(t["origin"], "manual");
    let checklist: Vec<String> = t["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert!(checklist.len() >= 3);
    let (s, _) = app
        .get("/api/v1/verifications?status=open", Some(&county_user))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the evaluated region does not see the tasks before the visit"
    );
    let (s, list) = app
        .get("/api/v1/verifications?status=open", Some(&collector))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1);

    // A seeded draw is reproducible.
    let draw = json!({"period": "2024", "count": 3, "elements": ["patrol_teams"], "seed": 42});
    let (s, d1) = post(app, "/api/v1/verifications/draw", &v1, draw.clone()).await;
    assert_eq!(s, StatusCode::OK, "{d1}");
    let (_, d2) = post(app, "/api/v1/verifications/draw", &office, draw).await;
    assert_eq!(d1["regions"], d2["regions"]);
    assert_eq!(d1["regions"].as_array().unwrap().len(), 3);
    let (_, d3) = post(
        app,
        "/api/v1/verifications/draw",
        &office,
        json!({"period": "2024", "count": 3, "elements": ["patrol_teams"], "seed": 7}),
    )
    .await;
    assert_eq!(d3["candidates"], d1["candidates"]);
    let (s, _) = post(
        app,
        "/api/v1/verifications/draw",
        &office,
        json!({"period": "2024", "count": 0, "elements": ["patrol_teams"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // From a quality flag.
    let (s, _) = post(
        app,
        "/api/v1/checks",
        &collector,
        json!({"period": "2024", "save": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, flags) = app.get("/api/v1/flags?page_size=1", Some(&office)).await;
    let flag = flags["items"][0]["id"]
        .as_i64()
        .expect("the check finds something to follow up");
    let (s, ft) = post(
        app,
        &format!("/api/v1/flags/{flag}/verification"),
        &v1,
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ft}");
    assert_eq!(
        (ft["origin"].as_str(), ft["flag_id"].as_i64()),
        (Some("flag"), Some(flag))
    );
    assert_eq!(ft["created"], true);
    // One open task per flag: repeats, at once or later, get that task.
    let path = format!("/api/v1/flags/{flag}/verification");
    let again = || post(app, &path, &v1, json!({"note": "再次生成"}));
    let (a, b, c) = tokio::join!(again(), again(), again());
    for (s, t) in [a, b, c] {
        assert_eq!(s, StatusCode::OK, "{t}");
        assert_eq!(
            (t["id"].clone(), t["created"].clone()),
            (ft["id"].clone(), json!(false))
        );
    }
    let (_, open) = app
        .get(
            "/api/v1/verifications?status=open&page_size=1000",
            Some(&office),
        )
        .await;
    let of_flag = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["flag_id"] == json!(flag))
        .count();
    assert_eq!(of_flag, 1);

    // A record needs two different verifiers, the recorder one of them, the
    // whole checklist, every element and a position.
    let answers: serde_json::Map<String, Value> =
        checklist.iter().map(|c| (c.clone(), json!(true))).collect();
    let record = |verifiers: [&str; 2], team: &str, patrol: f64| {
        json!({"team": team, "verifiers": verifiers, "checklist": answers.clone(),
               "observed": {"patrol_teams": patrol, "safety_volunteers": 40},
               "notes": "查阅台账，走访 3 户", "latitude": 30.274, "longitude": 120.155})
    };
    let path = format!("/api/v1/verifications/{id}/records");
    let (s, _) = post(
        app,
        &path,
        &collector,
        record(["collector", "verifier"], "一组", 10.0),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(
        app,
        &path,
        &v1,
        record(["verifier", "verifier"], "一组", 10.0),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["message"].as_str().unwrap().contains("双人"), "{v}");
    let (s, v) = post(
        app,
        &path,
        &v1,
        record(["verifier", "collector"], "一组", 10.0),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = post(
        app,
        &path,
        &v1,
        record(["verifier2", "office"], "一组", 10.0),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the recorder is one of the two"
    );
    let mut partial = record(["verifier", "verifier2"], "一组", 10.0);
    partial["checklist"]
        .as_object_mut()
        .unwrap()
        .remove(&checklist[0]);
    let (s, v) = post(app, &path, &v1, partial).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut far = record(["verifier", "verifier2"], "一组", 10.0);
    far["latitude"] = json!(123.0);
    let (s, _) = post(app, &path, &v1, far).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, r1) = post(
        app,
        &path,
        &v1,
        record(["verifier", "verifier2"], "一组", 10.0),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r1}");
    assert!(r1["recheck_task"].is_null());
    let rec = r1["record"]["id"].as_i64().unwrap();

    // Photos: images only, by content; size-limited; kept with their SHA-256.
    let (s, p) = photo(app, rec, &v1, "现场.png", png()).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["sha256"], pingan_store::sha256_hex(&png()));
    assert_eq!(p["mime"], "image/png");
    let (s, v) = photo(app, rec, &v1, "x.png", b"<svg onload=alert(1)>".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut big = png();
    big.resize(pingan_service::field::PHOTO_LIMIT + 1, 0);
    let (s, _) = photo(app, rec, &v1, "big.png", big).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = photo(app, rec, &office, "x.png", png()).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "photos come from the verification group"
    );
    let r = app
        .http
        .get(format!(
            "{}/api/v1/verifications/photos/{}",
            app.base, p["id"]
        ))
        .header("cookie", &collector)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());

    // 双人核查: the partner named in the record confirms it, once; nobody else.
    let confirm = format!("/api/v1/verifications/records/{rec}/confirm");
    let (s, _) = post(app, &confirm, &v1, json!({})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the recorder does not confirm its own record"
    );
    let (s, v) = post(app, &confirm, &v2, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["confirmed_by"], "verifier2");
    let (s, _) = post(app, &confirm, &v2, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The cross-team check: a second team 20 % apart opens one re-verification.
    let (s, r2) = post(
        app,
        &path,
        &v2,
        record(["verifier2", "verifier"], "二组", 12.5),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r2}");
    assert_eq!(r2["conflicts"][0]["element"], "patrol_teams", "{r2}");
    let recheck = r2["recheck_task"].as_i64().expect("a re-verification task");
    let (_, rt) = app
        .get(&format!("/api/v1/verifications/{recheck}"), Some(&office))
        .await;
    assert_eq!(rt["task"]["origin"], "cross_team");
    assert_eq!(rt["task"]["elements"], json!(["patrol_teams"]));
    assert_eq!(rt["task"]["parent_id"], id);
    let (_, r3) = post(
        app,
        &path,
        &v1,
        record(["verifier", "verifier2"], "三组", 12.6),
    )
    .await;
    assert!(
        r3["recheck_task"].is_null(),
        "one open re-verification is enough: {r3}"
    );
    let (_, t) = app
        .get(&format!("/api/v1/verifications/{id}"), Some(&office))
        .await;
    assert_eq!(t["task"]["status"], "recorded");
    assert_eq!(t["records"].as_array().unwrap().len(), 3);
    assert_eq!(t["records"][0]["photos"].as_array().unwrap().len(), 1);

    // Observed beside reported feeds the review of the department's set.
    let (s, _) = post(
        app,
        "/api/v1/dataValueSets",
        &dept,
        json!({"dataValues": [
        {"region": town, "period": "2024-12", "element": "patrol_teams", "value": 30}]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, set) = app
        .get(
            &format!("/api/v1/dataSets/公安/{town}/2024-12"),
            Some(&collector),
        )
        .await;
    let f = set["field"].as_array().unwrap();
    let patrol = f.iter().find(|c| c["element"] == "patrol_teams").unwrap();
    assert_eq!(patrol["reported"], 30.0);
    assert_eq!(patrol["over_tolerance"], true, "{patrol}");
    let (_, html) = app
        .http
        .get(format!(
            "{}/review/set?department=%E5%85%AC%E5%AE%89&region={town}&period=2024-12",
            app.base
        ))
        .header("cookie", &collector)
        .send()
        .await
        .map(|r| ((), r))
        .unwrap();
    assert!(html.text().await.unwrap().contains("超过 10%"));

    // The page: a record with a photo through the form; a bad photo keeps nothing.
    let before = app.store.count("verify_records").await.unwrap();
    let form = |bytes: Vec<u8>| {
        let mut f = Form::new()
            .text("op", "record")
            .text("team", "一组")
            .text("verifier_b", "verifier2")
            .text("o.patrol_teams", "12")
            .text("latitude", "30.1")
            .text("longitude", "120.2")
            .part("photos", Part::bytes(bytes).file_name("现场.png"));
        for i in 0..checklist.len() {
            f = f.text(format!("c.{i}"), "1");
        }
        f
    };
    let r = common::no_redirect()
        .post(format!("{}/verify/{recheck}", app.base))
        .header("cookie", &v1)
        .header("origin", &app.base)
        .multipart(form(b"GIF89a".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(common::follow(app, r, &v1).await.1.contains("不是 JPEG"));
    assert_eq!(app.store.count("verify_records").await.unwrap(), before);
    let r = common::no_redirect()
        .post(format!("{}/verify/{recheck}", app.base))
        .header("cookie", &v1)
        .header("origin", &app.base)
        .multipart(form(png()))
        .send()
        .await
        .unwrap();
    let html = common::follow(app, r, &v1).await.1;
    assert!(html.contains("核查记录已保存，照片 1 张"), "{html}");
    assert!(html.contains("/api/v1/verifications/photos/"));
    let (_, page) = app
        .http
        .get(format!("{}/verify", app.base))
        .header("cookie", &v1)
        .send()
        .await
        .map(|r| ((), r))
        .unwrap();
    assert!(page.text().await.unwrap().contains("交叉核验复核"));

    // The partner confirms from the task page.
    let r2id = r2["record"]["id"].as_i64().unwrap();
    let page = app
        .http
        .get(format!("{}/verify/{id}", app.base))
        .header("cookie", &v1)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("我确认以上记录属实"),
        "verifier sees the confirm button for 二组's record"
    );
    let r = common::no_redirect()
        .post(format!("{}/verify/{id}", app.base))
        .header("cookie", &v1)
        .header("origin", &app.base)
        .multipart(
            Form::new()
                .text("op", "confirm")
                .text("record", r2id.to_string()),
        )
        .send()
        .await
        .unwrap();
    let done = common::follow(app, r, &v1).await.1;
    assert!(done.contains(&format!("已确认核查记录 {r2id}")), "{done}");

    // Closing needs a conclusion; a closed task takes no more records.
    let (s, _) = post(
        app,
        &format!("/api/v1/verifications/{id}/close"),
        &office,
        json!({"note": ""}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        app,
        &format!("/api/v1/verifications/{id}/close"),
        &office,
        json!({"note": "二组复核后确认 12 支"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post(
        app,
        &path,
        &v1,
        record(["verifier", "verifier2"], "一组", 10.0),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Photos: only the record's own two verifiers, and not once it is closed.
    let (s, v) = photo(app, rec, &v1, "late.png", png()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    add_account(app, "verifier3", "verifier", None, None).await;
    let v3 = app.cookie("verifier3").await;
    let (s, v) = photo(
        app,
        r2["record"]["id"].as_i64().unwrap(),
        &v3,
        "x.png",
        png(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let entries = app
        .store
        .audit_entries(&pingan_store::AuditFilter::default(), None)
        .await
        .unwrap();
    for action in [
        "verify_task",
        "verify_record",
        "verify_photo",
        "verify_confirm",
        "verify_close",
    ] {
        assert!(entries.iter().any(|e| e.action == action), "{action}");
    }
    assert!(app.store.audit_verify(None).await.unwrap().ok);
}

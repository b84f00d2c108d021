//! The three-level review (§3.3) over the API and the pages, on SQLite and
//! PostgreSQL: a department's values wait; three different reviewers pass
//! them in order; approved values count and are locked; the office unlocks
//! with a reason; previews are marked.

mod common;

use common::{App, post, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    review(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        review(&app).await;
        app.db.done().await;
    }
}

async fn text(app: &App, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The county's total in a scores answer.
fn total(v: &Value, county: &str) -> f64 {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == county)
        .unwrap()["total"]
        .as_f64()
        .unwrap()
}

async fn review(app: &App) {
    let office = app.cookie("office").await;
    let dept = app.cookie("dept").await;
    let collector = app.cookie("collector").await;
    let verifier = app.cookie("verifier").await;
    let expert = app.cookie("expert").await;
    let county = app.counties[0].clone();
    let town = format!("{county}001");
    let scores = "/api/v1/scores?period=2024&level=county";
    let (_, official_before) = app.get(scores, Some(&office)).await;

    // A department's push waits for review: official scores do not move,
    // the marked preview does.
    let push = json!({"dataValues": [
        {"region": town, "period": "2024-03", "element": "criminal_cases", "value": 90000},
        {"region": town, "period": "2024-03", "element": "major_cases", "value": 900}
    ]});
    let (s, v) = post(app, "/api/v1/dataValueSets", &dept, push.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["review"].as_str(), v["data_sets"].as_u64()),
        (Some("pending"), Some(1))
    );
    let (_, official) = app.get(scores, Some(&office)).await;
    assert_eq!(total(&official, &county), total(&official_before, &county));
    let (s, preview) = app
        .get(&format!("{scores}&preview=true"), Some(&office))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(preview["preview"], true);
    assert!(preview["pending_values"].as_u64().unwrap() >= 2);
    assert_ne!(total(&preview, &county), total(&official, &county));
    let stored = app
        .store
        .values(Some(&town), Some("2024-03"), Some("criminal_cases"))
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .any(|x| x.source == "公安" && x.review == "pending")
    );

    // The set is listed for the first level; a department sees its own.
    let key = json!({"department": "公安", "region": town, "period": "2024-03"});
    let (s, list) = app
        .get("/api/v1/dataSets?state=submitted", Some(&collector))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["state"], "submitted");
    let (_, mine) = app.get("/api/v1/dataSets", Some(&dept)).await;
    assert_eq!(mine["total"], 1);
    let (_, page) = text(app, "/review", &dept).await;
    assert!(
        page.contains(&town),
        "a department sees where its submissions stand"
    );
    let (s, _) = app
        .get("/api/v1/dataSets?state=nonsense", Some(&collector))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    let act = |who: &str, action: &str, reason: &str| {
        let who = who.to_string();
        let body = json!({"sets": [key.clone()], "action": action, "reason": reason});
        async move { post(app, "/api/v1/dataSets/review", &who, body).await }
    };
    // Levels in order, each by its own group.
    let (s, v) = act(&expert, "pass", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["message"].as_str().unwrap().contains("一级"), "{v}");
    let (s, v) = act(&collector, "pass", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = act(&collector, "pass", "").await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the collector does not hold the second level"
    );
    // A return needs a reason; it goes back to the department.
    let (s, _) = act(&verifier, "return", "  ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = act(&verifier, "return", "刑事案件数明显偏高，请核实").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, one) = app
        .get(
            &format!("/api/v1/dataSets/公安/{town}/2024-03"),
            Some(&dept),
        )
        .await;
    assert_eq!(one["set"]["state"], "returned");
    assert_eq!(one["set"]["reason"], "刑事案件数明显偏高，请核实");
    assert_eq!(one["events"].as_array().unwrap().len(), 3, "{one}");
    // Resubmitting the same values unchanged is an explicit action.
    let (s, _) = act(&expert, "resubmit", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = act(&dept, "resubmit", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for who in [&collector, &verifier] {
        let (s, v) = act(who, "pass", "").await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = act(&expert, "pass", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["approved_values"], 2, "{v}");
    assert_eq!(v["rescored"], json!(["2024"]));
    // Approved values count: the official result is now the preview's.
    let (_, official) = app.get(scores, Some(&office)).await;
    assert_eq!(total(&official, &county), total(&preview, &county));
    let (_, p) = app
        .get(&format!("{scores}&preview=true"), Some(&office))
        .await;
    assert_eq!(p["pending_values"], 0);

    // Locked: a changed value is refused whole (409), an unchanged push is
    // still idempotent.
    let mut changed = push.clone();
    changed["dataValues"][0]["value"] = json!(1);
    let before = app.store.count("data_values").await.unwrap();
    let (s, v) = post(app, "/api/v1/dataValueSets", &dept, changed.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("锁定"), "{v}");
    let (s, v) = post(app, "/api/v1/dataValueSets", &dept, push.clone()).await;
    assert_eq!((s, v["ignored"].as_u64()), (StatusCode::OK, Some(2)));
    // The office's own direct import respects the lock too.
    let (s, _) = post(app, "/api/v1/dataValueSets", &office, changed.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.store.count("data_values").await.unwrap(), before);

    // The pages say why it is locked.
    let (s, html) = text(
        app,
        &format!("/review/set?department=%E5%85%AC%E5%AE%89&region={town}&period=2024-03"),
        &dept,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("lock-reason") && html.contains("expert"),
        "{html}"
    );
    let (_, form) = text(
        app,
        &format!("/submit/form?department=%E5%85%AC%E5%AE%89&period=2024-03&region={county}"),
        &dept,
    )
    .await;
    assert!(form.contains("已锁定") && form.contains("readonly"));

    // Only the office unlocks, with a reason; then the department corrects.
    let (s, _) = act(&expert, "unlock", "更正").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = act(&office, "unlock", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = act(&office, "unlock", "公安厅来函更正 3 月数据").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(app, "/api/v1/dataValueSets", &dept, changed).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, one) = app
        .get(
            &format!("/api/v1/dataSets/公安/{town}/2024-03"),
            Some(&office),
        )
        .await;
    assert_eq!(one["set"]["state"], "submitted");
    assert!(one["set"]["level1_by"].is_null());

    // One batch, all or nothing: an unknown set fails the whole batch.
    let ghost = json!({"department": "公安", "region": town, "period": "2024-04"});
    let (s, v) = post(
        app,
        "/api/v1/dataSets/review",
        &collector,
        json!({"sets": [key.clone(), ghost], "action": "pass"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (_, one) = app
        .get(
            &format!("/api/v1/dataSets/公安/{town}/2024-03"),
            Some(&office),
        )
        .await;
    assert_eq!(one["set"]["state"], "submitted", "nothing moved");
    // Out of scope: the county official cannot review; the supervisor neither.
    let sup = app.cookie("super").await;
    let (s, _) = act(&sup, "pass", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The review page, batch form: the collector passes it from the list.
    let (s, html) = text(app, "/review", &collector).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&town) && html.contains("审核通过"), "{html}");
    let r = app
        .http
        .post(format!("{}/review", app.base))
        .header("cookie", &collector)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "set=%E5%85%AC%E5%AE%89%7C{town}%7C2024-03&action=pass&reason=&back=%2Freview"
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let (_, one) = app
        .get(
            &format!("/api/v1/dataSets/公安/{town}/2024-03"),
            Some(&office),
        )
        .await;
    assert_eq!(one["set"]["state"], "level1");
    assert_eq!(one["set"]["level1_by"], "collector");

    // The office may not slip approved values into a set under review.
    let (s, v) = post(
        app,
        "/api/v1/dataValueSets",
        &office,
        json!({"dataValues": [{"region": town, "period": "2024-03", "element": "criminal_cases", "value": 5, "source": "公安"}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("正在三级审核中"),
        "{v}"
    );

    // A correction under the same source waits beside the approved value,
    // which keeps counting until the correction passes all three levels.
    let twin = json!({"dataValues": [{"region": town, "period": "2024-05", "element": "fraud_cases", "value": 11, "source": "公安"}]});
    let (s, _) = post(app, "/api/v1/dataValueSets", &office, twin).await;
    assert_eq!(s, StatusCode::OK);
    let (_, counted) = app.get(scores, Some(&office)).await;
    let fix = json!({"dataValues": [{"region": town, "period": "2024-05", "element": "fraud_cases", "value": 70000, "source": "公安"}]});
    let (s, v) = post(app, "/api/v1/dataValueSets", &dept, fix).await;
    assert_eq!(
        (s, v["review"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{v}"
    );
    let rows = app
        .store
        .values(Some(&town), Some("2024-05"), Some("fraud_cases"))
        .await
        .unwrap();
    let of = |review: &str| {
        rows.iter()
            .find(|x| x.source == "公安" && x.review == review)
            .map(|x| x.value)
    };
    assert_eq!((of("approved"), of("pending")), (Some(11.0), Some(70000.0)));
    // Another set's approval rescores the year: the approved 11 still counts.
    let other = json!({"department": "公安", "region": town, "period": "2024-05"});
    let (_, official) = app.get(scores, Some(&office)).await;
    assert_eq!(total(&official, &county), total(&counted, &county));
    for who in [&collector, &verifier, &expert] {
        let (s, v) = post(
            app,
            "/api/v1/dataSets/review",
            who,
            json!({"sets": [other.clone()], "action": "pass"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let rows = app
        .store
        .values(Some(&town), Some("2024-05"), Some("fraud_cases"))
        .await
        .unwrap();
    let mine: Vec<(f64, &str)> = rows
        .iter()
        .filter(|x| x.source == "公安")
        .map(|x| (x.value, x.review.as_str()))
        .collect();
    assert_eq!(mine, [(70000.0, "approved")], "the approved twin gave way");
    let (_, official) = app.get(scores, Some(&office)).await;
    assert_ne!(total(&official, &county), total(&counted, &county));

    // The dashboard says what is pending, and marks the preview.
    let (_, home) = text(app, "/?period=2024", &office).await;
    assert!(
        home.contains("尚在三级审核中") && home.contains("preview-link"),
        "{home}"
    );
    let (_, home) = text(app, "/?period=2024&preview=1", &office).await;
    assert!(home.contains("预览") && home.contains("不是正式结果"));
    // The board counts sets in review.
    let (_, board) = text(
        app,
        "/progress?year=2024&department=%E5%85%AC%E5%AE%89&period=2024-03",
        &office,
    )
    .await;
    assert!(board.contains("审核中 1 个"), "{board}");

    // Every step is in the ledger, and the chain holds.
    let entries = app
        .store
        .audit_entries(&pingan_store::AuditFilter::default(), None)
        .await
        .unwrap();
    for action in [
        "review_pass",
        "review_return",
        "review_resubmit",
        "review_unlock",
    ] {
        assert!(entries.iter().any(|e| e.action == action), "{action}");
    }
    assert!(app.store.audit_verify(None).await.unwrap().ok);
}

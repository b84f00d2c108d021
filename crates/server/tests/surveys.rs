//! Surveys over the API, on SQLite and on PostgreSQL: who may hand in
//! answers (the office and the survey firm), batches all or nothing with
//! the index of each bad response, idempotent on instance_id (a repeat is a
//! duplicate, other content a 409 naming it), and the estimates of
//! survey.md §6 in the caller's scope, equal to the service's.

mod common;

use common::{App, add_account, load_survey, post, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surveys_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    surveys(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surveys_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        surveys(&app).await;
        app.db.done().await;
    }
}

/// A complete, valid answer from `town`, five minutes long.
fn response(id: &str, town: &str, safety: &str) -> Value {
    let mut answers = json!({
        "sex": "f", "age_group": "30_44", "occupation": "company", "residence": "urban",
        "years_here": 12, "q_dependants": "no", "problems": "夜间路灯太少",
        "q_safety": safety, "q_safety_home": "2",
    });
    for q in [
        "q_night",
        "q_police",
        "q_food",
        "q_traffic",
        "q_environment",
        "q_service",
        "q_dispute",
    ] {
        answers[q] = json!("2");
    }
    json!({
        "instance_id": id, "form_version": "1", "region": town, "channel": "online",
        "started": "2024-10-08 09:00:00", "submitted": "2024-10-08T01:05:00Z",
        "answers": answers,
    })
}

async fn stored(app: &App) -> usize {
    let f = app.store.survey_forms(Some(2024)).await.unwrap();
    app.store.response_digests(f[0].id).await.unwrap().len()
}

async fn surveys(app: &App) {
    let files = load_survey(app, 300, true).await;
    let before = stored(app).await;
    assert!(before > 250, "{before}");
    let tree = app.store.region_tree().await.unwrap();
    let own = tree.find(&app.counties[0]).unwrap();
    let town = tree.get(tree.children(own)[0]).code.clone();
    let other = tree
        .get(tree.children(tree.find(&app.counties[1]).unwrap())[0])
        .code
        .clone();
    add_account(app, "firm", "department", None, Some("调查机构")).await;
    add_account(
        app,
        "firm_local",
        "department",
        Some(&app.counties[0]),
        Some("调查机构"),
    )
    .await;
    let firm = app.cookie("firm").await;
    let firm_local = app.cookie("firm_local").await;
    let office = app.cookie("office").await;
    let path = "/api/v1/surveys/safety2024/responses";
    let batch: Vec<Value> = (0..5)
        .map(|i| {
            response(
                &format!("api-{i}"),
                if i % 2 == 0 { &town } else { &other },
                "1",
            )
        })
        .collect();

    // Who may hand in answers: the office and the survey firm only.
    for who in ["dept", "county", "expert", "collector", "super"] {
        let c = app.cookie(who).await;
        let (s, v) = post(app, path, &c, json!({"responses": batch})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    // A firm scoped to one county answers only there.
    let (s, v) = post(app, path, &firm_local, json!({"responses": batch})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 1, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("不在您的数据范围内")
    );

    // All or nothing, every bad response named by its index.
    let mut bad = batch.clone();
    bad[1]["answers"]["q_safety"] = json!("7");
    bad[2]["region"] = json!("000000");
    bad[3]["channel"] = json!("wechat");
    bad[4]["answers"]["q_unknown"] = json!("1");
    bad[0]["answers"]["sex"] = json!({"x": 1});
    let (s, v) = post(app, path, &firm, json!({"responses": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["errors"][0]["index"], 0,
        "answers of the wrong shape first: {v}"
    );
    bad[0]["answers"]["sex"] = json!("f");
    let (s, v) = post(app, path, &firm, json!({"responses": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let idx: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![1, 2, 3, 4], "{v}");
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("“7”"),
        "{v}"
    );
    assert_eq!(stored(app).await, before, "nothing stored");
    let (s, v) = post(
        app,
        "/api/v1/surveys/nosuch/responses",
        &firm,
        json!({"responses": batch}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = post(app, path, &firm, json!({"responses": batch, "extra": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A dry run says what would happen and stores nothing.
    let (s, v) = post(
        app,
        &format!("{path}?dryRun=true"),
        &firm,
        json!({"responses": batch}),
    )
    .await;
    assert_eq!(
        (s, v["imported"].as_u64()),
        (StatusCode::OK, Some(5)),
        "{v}"
    );
    assert_eq!(stored(app).await, before);
    // Stored; a repeat inside the batch and the whole batch again are
    // duplicates; other content under a stored id is a conflict.
    let mut twice = batch.clone();
    twice.push(batch[0].clone());
    let (s, v) = post(app, path, &firm, json!({"responses": twice})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["imported"].as_u64(), v["duplicates"].as_u64()),
        (Some(5), Some(1)),
        "{v}"
    );
    assert_eq!(
        (v["valid"].as_u64(), v["status"].as_str()),
        (Some(5), Some("OK")),
        "{v}"
    );
    assert_eq!(stored(app).await, before + 5);
    let (s, v) = post(app, path, &office, json!({"responses": batch})).await;
    assert_eq!(
        (s, v["imported"].as_u64(), v["duplicates"].as_u64()),
        (StatusCode::OK, Some(0), Some(5)),
        "{v}"
    );
    let mut changed = batch.clone();
    changed[2]["answers"]["q_safety"] = json!("5");
    let (s, v) = post(app, path, &firm, json!({"responses": changed})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("api-2"), "{v}");
    // An interviewer's paradata: kept with the answer, refused on a
    // self-completed one.
    let mut visited = response("api-visit", &town, "1");
    visited["channel"] = json!("interview");
    visited["interviewer"] = json!("F-017");
    visited["assisted"] = json!(true);
    let mut selfdone = response("api-self", &town, "1");
    selfdone["interviewer"] = json!("F-017");
    let (s, v) = post(
        app,
        path,
        &firm,
        json!({"responses": [visited.clone(), selfdone]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 1, "{v}");
    let (s, v) = post(app, path, &firm, json!({"responses": [visited]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let f = app.store.survey_forms(Some(2024)).await.unwrap();
    let kept: Vec<_> = app
        .store
        .survey_responses_after(f[0].id, -1, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, r)| r.instance_id == "api-visit")
        .collect();
    assert_eq!(
        (kept[0].1.interviewer.as_deref(), kept[0].1.assisted),
        (Some("F-017"), Some(true))
    );
    // Too fast is kept as invalid, with its reason counted.
    let mut fast = response("api-fast", &town, "1");
    fast["submitted"] = json!("2024-10-08 09:00:20");
    let (s, v) = post(app, path, &firm, json!({"responses": [fast]})).await;
    assert_eq!(
        (s, v["invalid"]["too_fast"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );

    // Estimates: the service's, in the caller's scope; not for the firm.
    let est = "/api/v1/surveys/safety2024/estimates?year=2024";
    let (s, _) = app.get(est, Some(&firm)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, all) = app.get(est, Some(&office)).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let want = pingan_service::surveys::estimates(&app.store.ctx, 2024, 30)
        .await
        .unwrap();
    assert_eq!(all, serde_json::to_value(&want).unwrap());
    assert_eq!(all["regions"].as_array().unwrap().len(), tree.len());
    let lines = files.responses.lines().count() - 1;
    assert_eq!(
        all["responses"]["received"].as_u64(),
        Some((lines + 8) as u64),
        "the file, the batch (five and a repeat), the interview and the fast one; a batch with nothing new is not recorded"
    );
    let county = app.cookie("county").await;
    let (s, mine) = app.get(est, Some(&county)).await;
    assert_eq!(s, StatusCode::OK);
    let regions = mine["regions"].as_array().unwrap();
    assert_eq!(regions[0]["region"], app.counties[0]);
    assert_eq!(regions.len(), 1 + tree.children(own).len(), "{mine}");
    let (s, v) = app
        .get("/api/v1/surveys/other/estimates?year=2024", Some(&office))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = app
        .get(
            "/api/v1/surveys/safety2024/estimates?year=2024&min_n=0",
            Some(&office),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Every write is in the ledger.
    let entries = app
        .store
        .audit_entries(&Default::default(), None)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "survey_responses" && e.user == "firm"),
        "ledger"
    );
}

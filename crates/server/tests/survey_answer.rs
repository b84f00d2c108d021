//! The public answering page: a township's open link works without a
//! login, an answer is checked and stored once (a retry is a duplicate,
//! other content under the same id a conflict), a bad answer stores
//! nothing, the respondent is recorded as "public" and never by address,
//! and one address is rate limited.

mod common;

use common::{load_survey, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn body(id: &str, started: &str, safety: &str) -> Value {
    let mut answers = json!({
        "sex": "m", "age_group": "45_59", "occupation": "farmer", "residence": "rural",
        "years_here": "30", "q_dependants": "no", "q_safety": safety, "q_safety_home": "1",
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
    json!({"instance_id": id, "started": started, "submitted": "2020-01-01T00:10:00Z", "answers": answers})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_answers_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let files = load_survey(&app, 300, false).await;
    let town = files
        .frame
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let url = |t: &str| format!("{}/s/2024/{t}", app.base);
    let r = app.http.get(url(&town)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("answer-data")
            && html.contains("q_elderly_child")
            && html.contains("survey.js")
    );
    assert!(!html.contains("logout"), "no login, no account");
    for bad in [url("000000"), format!("{}/s/2019/{town}", app.base)] {
        assert_eq!(
            app.http.get(&bad).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    let post = |b: Value| {
        let u = url(&town);
        let http = app.http.clone();
        async move {
            let r = http.post(u).json(&b).send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let long_ago = "2020-01-01T00:00:00Z";
    let (s, v) = post(body("uuid:1", long_ago, "1")).await;
    assert_eq!(
        (s, v["valid"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    let (s, v) = post(body("uuid:1", long_ago, "1")).await;
    assert_eq!(
        (s, v["duplicate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "a retry: {v}"
    );
    let (s, v) = post(body("uuid:1", long_ago, "5")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = post(body("uuid:2", long_ago, "7")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains("“7”"), "{v}");
    let (s, v) =
        post(json!({"instance_id": "uuid:3", "started": long_ago, "answers": {}, "ip": "1.2.3.4"}))
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown fields refused: {v}");
    let (s, v) = post(body("uuid:4", "2020-01-01T00:09:50Z", "2")).await;
    assert_eq!(
        (s, v["valid"].as_bool()),
        (StatusCode::OK, Some(false)),
        "too fast, kept: {v}"
    );

    // A submission time in the future is the server's now.
    let mut future = body("uuid:5", "2999-01-01T00:00:00Z", "2");
    future["submitted"] = json!("2999-01-01T00:10:00Z");
    let (s, v) = post(future).await;
    assert_eq!(
        (s, v["valid"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{v}"
    );

    // A channel's stable id: one answer per person, and only its HMAC kept.
    let mut wx = body("uuid:wx-1", long_ago, "1");
    wx["respondent"] = json!("oWX-openid-0001");
    let (s, v) = post(wx.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(wx.clone()).await;
    assert_eq!(
        (s, v["duplicate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "a retry: {v}"
    );
    wx["instance_id"] = json!("uuid:wx-2");
    let (s, v) = post(wx).await;
    assert_eq!(s, StatusCode::CONFLICT, "the same person again: {v}");
    assert!(v["message"].as_str().unwrap().contains("已参与过"));
    let dump = {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.bak");
        app.store.backup(&file).await.unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    assert!(
        !dump.contains("oWX-openid-0001"),
        "the raw id is stored nowhere"
    );
    let digest =
        pingan_service::surveys::invite::respondent_digest(&app.store.ctx, 2024, "oWX-openid-0001")
            .await
            .unwrap();
    assert!(dump.contains(&digest), "its HMAC is");

    // Stored as "public", never by address.
    let entries = app
        .store
        .audit_entries(&Default::default(), None)
        .await
        .unwrap();
    let mine: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "survey_responses")
        .collect();
    assert_eq!(mine.len(), 4, "four new answers, four ledger entries");
    assert!(
        mine.iter()
            .all(|e| e.user == "public" && e.client == "public"),
        "{mine:?}"
    );
    assert!(mine.iter().all(|e| !e.detail.contains("127.0.0.1")));

    // One address, many answers: refused after the window's allowance.
    let mut refused = None;
    for i in 0..40 {
        let (s, _) = post(body(&format!("uuid:flood-{i}"), long_ago, "3")).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(i);
            break;
        }
    }
    assert!(refused.is_some_and(|i| i < 30), "{refused:?}");
    app.db.done().await;
}

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

/// Two hundred phones answering at once, every tenth answer sent twice
/// (a retry on a bad network) and one sent twice with other content: each
/// new answer is stored exactly once, every retry is a duplicate, the
/// clash a conflict, and the ledger still verifies. On both backends.
async fn many_at_once(kind: Kind) {
    use pingan_input::survey::{Head, Item};
    use pingan_service::{Caller, cap, surveys};
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let files = load_survey(&app, 50, false).await;
    let towns: Vec<String> = files
        .frame
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let ctx = app.store.ctx.clone();
    let o = surveys::open_year(&ctx, 2024).await.unwrap();
    let answer = |i: usize, safety: &'static str| {
        let (ctx, o, town) = (ctx.clone(), o.clone(), towns[i % towns.len()].clone());
        async move {
            let b = body(&format!("uuid:many-{i}"), "2020-01-01T00:00:00Z", safety);
            let answers: Vec<(String, String)> = b["answers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let id = format!("uuid:many-{i}");
            let it = Item {
                head: Head {
                    instance_id: &id,
                    form_version: &o.form.form.version,
                    region: &town,
                    channel: "online",
                    started: "2020-01-01T00:00:00Z",
                    submitted: "2020-01-01T00:10:00Z",
                },
                answers: answers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            };
            let public = Caller::public(&town);
            let who = public.authorize::<cap::SurveyAnswers>().unwrap();
            surveys::answer_one(&ctx, &who, &o, &it, Default::default(), format!("{i}")).await
        }
    };
    let mut tasks = Vec::new();
    for i in 0..200 {
        tasks.push((i, false, tokio::spawn(answer(i, "1"))));
        if i % 10 == 0 {
            tasks.push((i, true, tokio::spawn(answer(i, "1"))));
        }
    }
    tasks.push((7, true, tokio::spawn(answer(7, "4"))));
    let (mut new, mut dup, mut clash) = (0, 0, 0);
    for (i, _, t) in tasks {
        match t.await.unwrap() {
            Ok(s) if s.imported == 1 => new += 1,
            Ok(s) if s.duplicates == 1 => dup += 1,
            Err(pingan_service::ServiceError::Conflict(m)) => {
                assert!(m.contains(&format!("uuid:many-{i}")), "{m}");
                clash += 1
            }
            other => panic!("answer {i}: {other:?}"),
        }
    }
    assert_eq!((new, dup, clash), (200, 20, 1));
    let stored: i64 = app
        .store
        .response_tallies(o.form.stored.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.responses)
        .sum();
    assert_eq!(stored, 200, "nothing lost, nothing doubled");
    let writes = app
        .store
        .audit_entries(&Default::default(), None)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "survey_responses")
        .count();
    assert!(
        writes < 200,
        "answers arriving together are written together ({writes} writes)"
    );
    assert!(app.store.audit_verify(None).await.unwrap().ok);
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_at_once_on_sqlite() {
    many_at_once(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_at_once_on_postgres() {
    many_at_once(Kind::Postgres).await;
}

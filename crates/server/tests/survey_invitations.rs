//! One-time invitation links: as many per township as the plan says,
//! signed (a forged or out-of-count link opens nothing), used once (a retry
//! of the same answer is a duplicate, a second answer is refused, and the
//! link then says it was used), listed and printed as QR codes by the
//! office only.

mod common;

use common::{load_survey, spawn_app};
use pingan_service::surveys::{self, invite};
use pingan_service::{Caller, cap};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn body(id: &str) -> Value {
    let mut answers = json!({
        "sex": "f", "age_group": "16_29", "occupation": "student", "residence": "urban",
        "years_here": "3", "q_dependants": "no", "q_safety": "2", "q_safety_home": "2",
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
        answers[q] = json!("1");
    }
    json!({"instance_id": id, "started": "2024-10-01T00:00:00Z", "submitted": "2024-10-01T00:06:00Z", "answers": answers})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    invitations(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        invitations(&app).await;
        app.db.done().await;
    }
}

async fn invitations(app: &common::App) {
    load_survey(app, 300, false).await;
    let op = Caller::operator("setup");
    let manage = op.authorize::<cap::SurveyManage>().unwrap();
    let ctx = &app.store.ctx;
    // No plan, no invitations.
    assert!(invite::links(ctx, &manage, 2024, None).await.is_err());
    let plan = surveys::set_plan(
        ctx,
        &manage,
        pingan_store::SurveyPlan {
            year: 2024,
            size: 300,
            allocation: "proportional".into(),
            min_per: 30,
            response_rate: "0.5".into(),
            made_by: String::new(),
            made_at: String::new(),
        },
    )
    .await
    .unwrap();
    let total: u64 = plan.rows.iter().map(|r| r.invitations).sum();
    let links = invite::links(ctx, &manage, 2024, None).await.unwrap();
    assert_eq!(links.len() as u64, total);
    let (town, _, token) = links[0].clone();
    let count = plan.rows[0].invitations;

    let url = |t: &str| format!("{}/i/{t}", app.base);
    let r = app.http.get(url(&token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("answer-data"));
    // Forged, out of count, malformed: nothing opens.
    let key = app.store.survey_key(2024).await.unwrap();
    let beyond = invite::token(&key, 2024, &town, count + 1);
    let mut forged = token.clone();
    forged.replace_range(
        forged.len() - 1..,
        if token.ends_with('0') { "1" } else { "0" },
    );
    for bad in [beyond, forged, "2024.x".to_string(), "%00".to_string()] {
        let s = app.http.get(url(&bad)).send().await.unwrap().status();
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
    let post = |t: String, b: Value| {
        let http = app.http.clone();
        async move {
            let r = http.post(t).json(&b).send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // A bad answer leaves the link unused.
    let mut bad = body("uuid:bad");
    bad["answers"]["q_safety"] = json!("8");
    let (s, v) = post(url(&token), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = post(url(&token), body("uuid:a")).await;
    assert_eq!(
        (s, v["valid"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    let (s, v) = post(url(&token), body("uuid:a")).await;
    assert_eq!(
        (s, v["duplicate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "a retry: {v}"
    );
    let (s, v) = post(url(&token), body("uuid:b")).await;
    assert_eq!(s, StatusCode::CONFLICT, "a second answer on one link: {v}");
    let r = app.http.get(url(&token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE, "a replayed link is refused");
    assert!(r.text().await.unwrap().contains("已使用"));
    let stored = app.store.survey_forms(Some(2024)).await.unwrap();
    let ids = app.store.response_digests(stored[0].id).await.unwrap();
    assert!(
        ids.contains_key("uuid:a") && !ids.contains_key("uuid:b") && !ids.contains_key("uuid:bad")
    );

    // The office lists and prints them; nobody else.
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let get = |path: String, c: String| {
        let http = app.http.clone();
        let base = app.base.clone();
        async move {
            http.get(format!("{base}{path}"))
                .header("cookie", c)
                .send()
                .await
                .unwrap()
        }
    };
    let r = get("/surveys/invitations.xlsx?year=2024".into(), office.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = get(
        format!("/surveys/invitations/print?year=2024&region={town}"),
        office.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(
        html.matches("<svg").count() as u64,
        count,
        "one QR code per invitation"
    );
    assert!(html.contains(&format!("/i/{token}")));
    let r = get(
        format!("/surveys/invitations/qr.svg?token={token}"),
        office.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("<svg"));
    let r = get(
        format!("/surveys/invitations/qr.png?token={token}"),
        office.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut png = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; png.output_buffer_size()];
    let frame = png.next_frame(&mut pixels).unwrap();
    assert!(
        frame.width == frame.height && frame.width >= 200,
        "{frame:?}"
    );
    let px = &pixels[..frame.buffer_size()];
    assert!(
        px.contains(&0) && px.contains(&255) && px[0] == 255,
        "dark modules inside a white quiet zone"
    );
    for path in [
        "/surveys/invitations.xlsx?year=2024".to_string(),
        format!("/surveys/invitations/print?year=2024&region={town}"),
    ] {
        assert_eq!(
            get(path.clone(), county.clone()).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}

//! Published results (api.md `/api/v1/public/{year}/scores`, issue 21) on
//! SQLite and PostgreSQL: nothing before publishing, then without login
//! the published ranking — the totals the office's API gives — in 公示中,
//! and the public page; a year not published stays 404.

mod common;

use common::{App, spawn_app};
use pingan_service::{Caller, cap, publish};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    public(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        public(&app).await;
        app.db.done().await;
    }
}

async fn public(app: &App) {
    let (s, v) = app.get("/api/v1/public/2024/scores", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "not_found");
    let r = app
        .http
        .get(format!("{}/public/2024", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The office publishes (as `pingan publish` does).
    let op = Caller::operator("测评办");
    let who = op.authorize::<cap::Publish>().unwrap();
    assert!(
        publish::publish(&app.store.ctx, &who, 2024, 0)
            .await
            .is_err(),
        "a window of 0 days"
    );
    let p = publish::publish(&app.store.ctx, &who, 2024, 7)
        .await
        .unwrap();
    assert!(p.window_ends > p.published_at);

    let (s, v) = app.get("/api/v1/public/2024/scores", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "公示中");
    assert_eq!(v["year"], 2024);
    assert!(
        v["published_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20"))
    );
    let office = app.cookie("office").await;
    let (_, scores) = app
        .get("/api/v1/scores?period=2024&level=county", Some(&office))
        .await;
    let published: &Vec<Value> = v["results"].as_array().unwrap();
    for r in scores["results"].as_array().unwrap() {
        let p = published
            .iter()
            .find(|p| p["region"] == r["region"])
            .expect("every county published");
        assert_eq!(p["total"], r["total"]);
        assert_eq!(p["grade"], r["grade"]);
        assert_eq!(p["dimensions"].as_array().unwrap().len(), 5);
    }
    let (s, _) = app.get("/api/v1/public/2023x/scores", None).await;
    assert!(
        s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND,
        "{s}"
    );
    let (s, _) = app.get("/api/v1/public/1999/scores", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The public page, without login.
    let r = app
        .http
        .get(format!("{}/public/2024", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("data-status=\"公示中\"") && html.contains("id=\"public-county\""));
    for c in &app.counties {
        assert!(html.contains(&format!("data-region=\"{c}\"")), "{c}");
    }
}

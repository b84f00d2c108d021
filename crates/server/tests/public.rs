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
    assert!(
        published.iter().all(|p| p["level"] != "township"),
        "the 市县 ranking only"
    );
    // The same bytes for every visitor, gzip'd when asked.
    let r = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{}/api/v1/public/2024/scores", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
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

    // An objection from the public (no login), answered by the office.
    let c0 = app.counties[0].as_str();
    let form = |pairs: Vec<(&'static str, String)>| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        common::no_redirect()
            .post(format!("{}/public/2024/objection", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = form(vec![
        ("region", c0.into()),
        ("name", "王某".into()),
        ("contact", "13800000000".into()),
    ])
    .await
    .unwrap();
    let (_, html) = common::follow(app, r, "").await;
    assert!(html.contains("请填写异议内容"), "{html}");
    let r = form(vec![
        ("region", "nowhere".into()),
        ("name", "王某".into()),
        ("contact", "13800000000".into()),
        ("content", "x".into()),
    ])
    .await
    .unwrap();
    let (_, html) = common::follow(app, r, "").await;
    assert!(html.contains("请选择公开结果中的地区"));
    let r = form(vec![
        ("region", c0.into()),
        ("name", "王某".into()),
        ("contact", "13800000000".into()),
        ("content", "本县群众安全感得分与实际不符".into()),
        ("evidence", "本村调查记录".into()),
    ])
    .await
    .unwrap();
    let (_, html) = common::follow(app, r, "").await;
    assert!(html.contains("已收到您的异议（第 1 号）"), "{html}");
    let county = app.cookie("county").await;
    let r = app
        .http
        .get(format!("{}/objections?year=2024", app.base))
        .header("cookie", &county)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .http
        .get(format!("{}/objections?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("本县群众安全感得分与实际不符") && html.contains("data-state=\"open\""));
    let answer = |upheld: &'static str| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("year", "2024"),
                ("id", "1"),
                ("upheld", upheld),
                ("answer", "经核查，调查样本有误，予以更正"),
                ("correction", "剔除重复样本后重新计分"),
            ])
            .finish();
        common::no_redirect()
            .post(format!("{}/objections", app.base))
            .header("cookie", &office)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let (_, html) = common::follow(app, answer("1").await.unwrap(), &office).await;
    assert!(
        html.contains("已答复第 1 号异议：异议成立") && html.contains("data-state=\"upheld\""),
        "{html}"
    );
    let (_, html) = common::follow(app, answer("0").await.unwrap(), &office).await;
    assert!(html.contains("该异议已答复"), "answered once");
}

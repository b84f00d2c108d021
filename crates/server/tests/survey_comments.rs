//! 群众意见 and 意见箱: comments are stored with their phone numbers taken
//! out, read as keywords per region (a county's own most named problem on
//! top), an opinion box takes text from anyone without a login, and the
//! office puts a keyword on the problem list once, with its evidence.

mod common;

use common::{App, follow, load_survey, no_redirect, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;

async fn form(app: &App, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let r = no_redirect()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    follow(app, r, cookie).await
}

async fn comments(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    load_survey(&app, 400, true).await;
    let f = app.store.survey_forms(Some(2024)).await.unwrap();
    let stored = app
        .store
        .survey_responses_after(f[0].id, -1, 1_000_000)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .any(|(_, r)| r.answers.contains("〔电话已隐去〕")),
        "the generated phone number was taken out"
    );
    assert!(
        stored
            .iter()
            .all(|(_, r)| !r.answers.contains("13800138000"))
    );

    let office = app.cookie("office").await;
    let tree = app.store.region_tree().await.unwrap();
    let county = tree.find(&app.counties[0]).unwrap();
    let code = tree.get(county).code.clone();
    let page = |who: String, region: String| {
        let http = app.http.clone();
        let url = format!("{}/surveys/comments?year=2024&region={region}", app.base);
        async move {
            let r = http.get(url).header("cookie", who).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(office.clone(), code.clone()).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains(r#"id="words""#) && html.contains(r#"data-chart="words""#),
        "{html}"
    );
    assert!(!html.contains("13800138000"));
    // The county's own most named problem leads its list.
    let top = html
        .split(r#"<table class="data" id="words">"#)
        .nth(1)
        .and_then(|t| t.split("<strong>").nth(1))
        .and_then(|t| t.split("</strong>").next())
        .unwrap()
        .to_string();
    assert!(top.chars().count() >= 2, "{top}");

    // The county official reads its own county, not the neighbour's, and
    // cannot put anything on the list.
    let own = app.cookie("county").await;
    assert_eq!(page(own.clone(), code.clone()).await.0, StatusCode::OK);
    assert_eq!(
        page(own.clone(), app.counties[1].clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = form(
        &app,
        "/surveys/comments/problem",
        &own,
        &[
            ("year", "2024"),
            ("region", code.as_str()),
            ("word", top.as_str()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The office lists it, once; the evidence is read on the server.
    for _ in 0..2 {
        let (s, html) = form(
            &app,
            "/surveys/comments/problem",
            &office,
            &[
                ("year", "2024"),
                ("region", code.as_str()),
                ("word", top.as_str()),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{html}");
        assert!(html.contains("已列入"), "{html}");
    }
    let problems = app.store.problems(2024, Some("comments")).await.unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].title, format!("群众反映较多：{top}"));
    let ev: serde_json::Value = serde_json::from_str(&problems[0].evidence).unwrap();
    assert!(ev["comments"].as_u64().unwrap() >= 2, "{ev}");
    let (_, html) = form(
        &app,
        "/surveys/comments/problem",
        &office,
        &[
            ("year", "2024"),
            ("region", code.as_str()),
            ("word", "不存在的词"),
        ],
    )
    .await;
    assert!(html.contains("不是该地区群众意见中的关键词"), "{html}");

    // The opinion box: no login, numbers out, too short refused.
    let town = tree.get(tree.children(county)[0]).code.clone();
    let boxed = format!("{}/o/{town}", app.base);
    let r = app.http.get(&boxed).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("平安建设意见箱"));
    assert_eq!(
        app.http
            .get(format!("{}/o/{}", app.base, code))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "a county has no box of its own"
    );
    let post = |text: &'static str| {
        let (http, url) = (no_redirect(), boxed.clone());
        async move {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "text={}",
                    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                ))
                .send()
                .await
                .unwrap()
        }
    };
    let r = post("小区门口路灯坏了很久，请联系我13912345678").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post("好").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("至少"));
    let years = app.store.opinion_years().await.unwrap();
    let kept = app.store.opinions(years[0]).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].text, "小区门口路灯坏了很久，请联系我〔电话已隐去〕");
    let entries = app
        .store
        .audit_entries(&Default::default(), None)
        .await
        .unwrap();
    let e = entries.iter().find(|e| e.action == "opinion").unwrap();
    assert_eq!((e.user.as_str(), e.client.as_str()), ("public", "public"));
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_sqlite() {
    comments(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_postgres() {
    comments(Kind::Postgres).await;
}

//! Callback sampling over the API and the 回访抽查 page, on SQLite and on
//! PostgreSQL: who may import, draw, record and read, in which regions;
//! all-or-nothing imports with the index of each bad case; reproducible
//! draws.

mod common;

use common::{App, add_account, spawn_app};
use pingan_store::testing::Kind;

use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    callbacks(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        callbacks(&app).await;
        app.db.done().await;
    }
}

async fn send(
    app: &App,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("cookie", cookie);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &App, path: &str, cookie: &str, body: Value) -> (StatusCode, Value) {
    send(app, reqwest::Method::POST, path, cookie, Some(body)).await
}

async fn get(app: &App, path: &str, cookie: &str) -> (StatusCode, Value) {
    send(app, reqwest::Method::GET, path, cookie, None).await
}

/// Twelve 2024 cases per township of the two first counties, three in four
/// successful.
async fn register(app: &App) -> Vec<Value> {
    let tree = app.store.region_tree().await.unwrap();
    let mut out = Vec::new();
    for county in &app.counties[..2] {
        let c = tree.find(county).unwrap();
        for &t in tree.children(c) {
            let town = &tree.get(t).code;
            for i in 0..12 {
                let ok = i % 4 != 0;
                out.push(json!({
                    "case_id": format!("(2024){town}调字第{i}号"),
                    "region": town,
                    "date": format!("2024-{:02}-15", i + 1),
                    "type": "邻里纠纷",
                    "outcome": if ok { "调解成功" } else { "调解不成功" },
                    "agreement": ok,
                    "fulfilled": if ok { "是" } else { "否" },
                }));
            }
        }
    }
    out
}

fn ids(draw: &Value) -> Vec<String> {
    draw["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case"]["case_id"].as_str().unwrap().to_string())
        .collect()
}

/// A path segment with everything but unreserved characters escaped.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn callbacks(app: &App) {
    let (own, other) = (app.counties[0].clone(), app.counties[1].clone());
    // "verifier" (whole province) comes with every test app.
    add_account(app, "verifier2", "verifier", Some(&own), None).await;
    add_account(app, "zfw", "department", None, Some("政法委")).await;
    let office = app.cookie("office").await;
    let verifier = app.cookie("verifier").await;
    let verifier2 = app.cookie("verifier2").await;
    let zfw = app.cookie("zfw").await;
    let police = app.cookie("dept").await;
    let expert = app.cookie("expert").await;
    let county = app.cookie("county").await;
    let sup = app.cookie("super").await;
    let collector = app.cookie("collector").await;
    let cases = register(app).await;
    let n = cases.len();

    // Who may import: the office and the departments that keep registers.
    for c in [&police, &expert, &verifier] {
        let (s, v) = post(app, "/api/v1/cases", c, json!({"cases": cases})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    // All or nothing, with the index of each bad case.
    let mut bad = cases.clone();
    bad[3]["date"] = json!("2024-02-30");
    bad[5]["agreement"] = json!(5);
    bad[7]["region"] = json!("000000");
    let (s, v) = post(app, "/api/v1/cases", &zfw, json!({"cases": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 5, "{v}");
    bad[5]["agreement"] = json!(true);
    let (s, v) = post(app, "/api/v1/cases", &zfw, json!({"cases": bad})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let idx: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![3, 7], "{v}");
    assert!(
        v["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("000000")
    );
    let (s, v) = post(
        app,
        "/api/v1/cases?dryRun=true",
        &zfw,
        json!({"cases": cases}),
    )
    .await;
    assert_eq!(
        (s, v["imported"].as_u64()),
        (StatusCode::OK, Some(n as u64)),
        "{v}"
    );
    assert_eq!(app.store.count("cases").await.unwrap(), 0);
    let (s, v) = post(app, "/api/v1/cases", &zfw, json!({"cases": cases})).await;
    assert_eq!(
        (s, v["imported"].as_u64()),
        (StatusCode::OK, Some(n as u64)),
        "{v}"
    );
    let (s, v) = post(app, "/api/v1/cases", &office, json!({"cases": cases})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["imported"].as_u64(), v["ignored"].as_u64()),
        (Some(0), Some(n as u64))
    );
    let (s, _) = post(app, "/api/v1/cases", &zfw, json!({"cases": [], "x": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Reading the register: in scope only.
    let (s, v) = get(
        app,
        &format!("/api/v1/cases?region={own}&year=2024"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"].as_u64(), Some(n as u64 / 2));
    let (s, v) = get(app, "/api/v1/cases?year=2024&page_size=1000", &county).await;
    assert_eq!(v["total"].as_u64(), Some(n as u64 / 2), "{s} {v}");
    let (s, _) = get(app, &format!("/api/v1/cases?region={other}"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(app, "/api/v1/cases", &police).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(app, "/api/v1/cases", &zfw).await;
    assert_eq!(s, StatusCode::OK);

    // Drawing: the verifiers and the office, in scope.
    let body = json!({"region": own, "year": 2024, "seed": 5});
    for c in [&expert, &county, &collector, &zfw] {
        let (s, _) = post(app, "/api/v1/callbacks/draws", c, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = post(
        app,
        "/api/v1/callbacks/draws",
        &verifier2,
        json!({"region": other, "year": 2024}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, d) = post(app, "/api/v1/callbacks/draws", &verifier2, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let drawn = ids(&d);
    let eligible = n / 2 * 3 / 4;
    assert_eq!(d["eligible"].as_u64(), Some(eligible as u64));
    assert_eq!(drawn.len(), (eligible * 3).div_ceil(10));
    let mut pool: Vec<String> = cases
        .iter()
        .filter(|c| {
            c["outcome"] == "调解成功" && c["region"].as_str().unwrap().starts_with(own.as_str())
        })
        .map(|c| c["case_id"].as_str().unwrap().to_string())
        .collect();
    pool.sort();
    assert_eq!(drawn, pingan_service::callbacks::choose(&pool, 0.3, 5));
    let (s, again) = post(
        app,
        "/api/v1/callbacks/draws",
        &verifier,
        json!({"region": own, "year": 2024}),
    )
    .await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &d["id"]));
    let (s, v) = post(
        app,
        "/api/v1/callbacks/draws",
        &verifier,
        json!({"region": own, "year": 2024, "seed": 6}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = post(
        app,
        "/api/v1/callbacks/draws",
        &office,
        json!({"region": other, "year": 2024, "rate": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        app,
        "/api/v1/callbacks/draws",
        &office,
        json!({"region": "000000", "year": 2024}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, d2) = post(
        app,
        "/api/v1/callbacks/draws",
        &office,
        json!({"region": other, "year": 2024, "rate": 0.5}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(ids(&d2).len(), eligible.div_ceil(2));

    // Reading draws: readers in scope, never the departments.
    let id = d["id"].as_i64().unwrap();
    let id2 = d2["id"].as_i64().unwrap();
    let (s, v) = get(app, &format!("/api/v1/callbacks/draws/{id}"), &sup).await;
    assert_eq!((s, ids(&v)), (StatusCode::OK, drawn.clone()));
    let (s, _) = get(app, &format!("/api/v1/callbacks/draws/{id}"), &zfw).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(app, &format!("/api/v1/callbacks/draws/{id2}"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(app, "/api/v1/callbacks/draws/999", &sup).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = get(app, "/api/v1/callbacks/draws?year=2024", &county).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    // Recording callbacks.
    let rec = |case: &str| format!("/api/v1/callbacks/{id}/{}", seg(case));
    let (s, v) = post(
        app,
        &rec(&drawn[0]),
        &verifier,
        json!({"result": "confirmed"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["result"], "confirmed");
    let (s, _) = post(
        app,
        &rec(&drawn[1]),
        &verifier,
        json!({"result": "属实", "note": "已核实"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post(
        app,
        &rec(&drawn[2]),
        &verifier,
        json!({"result": "not_confirmed"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        app,
        &rec(&drawn[2]),
        &verifier,
        json!({"result": "not_confirmed", "note": "当事人称纠纷仍在"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post(app, &rec(&drawn[3]), &verifier, json!({"result": "maybe"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        app,
        &rec("no-such-case"),
        &verifier,
        json!({"result": "confirmed"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for c in [&collector, &county, &sup] {
        let (s, _) = post(app, &rec(&drawn[3]), c, json!({"result": "confirmed"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = post(
        app,
        &format!("/api/v1/callbacks/{id2}/{}", seg(&ids(&d2)[0])),
        &verifier2,
        json!({"result": "confirmed"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The evidence beside the reported rate.
    let (s, e) = get(
        app,
        &format!("/api/v1/callbacks/evidence?region={own}&year=2024"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        (e["confirmed"].as_u64(), e["not_confirmed"].as_u64()),
        (Some(2), Some(1))
    );
    assert!((e["confirmed_share"].as_f64().unwrap() - 200.0 / 3.0).abs() < 1e-9);
    assert!(e["reported_rate"].is_number(), "{e}");
    assert_eq!(e["drawn"].as_u64(), Some(drawn.len() as u64));
    // The same evidence stands beside D3.2.1 on the county's page.
    let page = app
        .http
        .get(format!("{}/region/{own}?period=2024", app.base))
        .header("cookie", &county)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("确认属实 2 件（{}%）", "66.7")),
        "the region page shows the callback evidence"
    );
    let (s, _) = get(
        app,
        &format!("/api/v1/callbacks/evidence?region={other}&year=2024"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(
        app,
        &format!("/api/v1/callbacks/evidence?region={own}&year=2024"),
        &zfw,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The document names every new path.
    let (_, doc) = app.get("/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/cases",
        "/api/v1/callbacks/draws",
        "/api/v1/callbacks/draws/{id}",
        "/api/v1/callbacks/{draw_id}/{case_id}",
        "/api/v1/callbacks/evidence",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }

    // The page: readers see the draw, the verifier gets the forms.
    let page = |c: &str, q: &str| {
        let url = format!("{}/callbacks{q}", app.base);
        let c = c.to_string();
        async move {
            let r = app.http.get(url).header("cookie", c).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(&verifier, &format!("?region={own}&year=2024")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("回访抽查") && html.contains(&drawn[0]),
        "{html}"
    );
    assert!(html.contains("id=\"record-0\""));
    assert!(html.contains("回访确认比例"));
    let (s, html) = page(&sup, &format!("?region={own}&year=2024")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&drawn[0]) && !html.contains("id=\"record-0\""));
    let (s, _) = page(&county, &format!("?region={other}&year=2024")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(&zfw, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = app
        .http
        .get(format!("{}/callbacks/{id}/export.xlsx", app.base))
        .header("cookie", &sup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // A form post records a callback and comes back to the page.
    let r = common::no_redirect()
        .post(format!("{}/callbacks", app.base))
        .header("cookie", &verifier)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("op", "record"),
                    ("draw", id.to_string().as_str()),
                    ("case", drawn[3].as_str()),
                    ("result", "unreachable"),
                    ("note", ""),
                    ("region", own.as_str()),
                    ("year", "2024"),
                ])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    let (s, html) = common::follow(app, r, &verifier).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("已登记"), "{html}");
    let (_, e) = get(
        app,
        &format!("/api/v1/callbacks/evidence?region={own}&year=2024"),
        &sup,
    )
    .await;
    assert_eq!(e["unreachable"].as_u64(), Some(1));
}

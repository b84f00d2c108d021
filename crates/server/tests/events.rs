//! `import events` into the store (issue 19): the latest version of each
//! event kept, the eight derived elements written under 网格平台/应急指挥
//! equal to `pingan_core::events::aggregate` over the same file, the same
//! file again changing nothing, a newer version counted, a conflicting row
//! refusing the whole file; on both backends.

mod common;

use common::{small_province, spawn_app};
use pingan_service::{Caller, ServiceError, cap, events};
use pingan_store::testing::Kind;
use std::collections::HashMap;

/// A newer version of an open grid event of `text` (one with a single
/// row), handled at once: a record file of one row.
fn handled_now(text: &str) -> String {
    let open_row = text
        .lines()
        .skip(1)
        .find(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[1] == "grid"
                && f[7].is_empty()
                && !text
                    .lines()
                    .any(|o| o != *l && o.starts_with(&format!("{},", f[0])))
        })
        .expect("an event still open");
    let mut f: Vec<String> = open_row.split(',').map(str::to_string).collect();
    f[7] = f[6].clone();
    f[10] = "2025-01-01 00:00:00".into();
    format!("{}{}\n", pingan_synth::EVENTS_HEADER, f.join(","))
}

async fn import(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let mut bytes = Vec::new();
    pingan_synth::write_events(
        &small_province(),
        &pingan_synth::EventOptions {
            year: 2024,
            total: 3000,
        },
        &mut bytes,
    )
    .unwrap();
    let ctx = &app.store.ctx;
    let op = Caller::operator("t");
    let who = op.authorize::<cap::Submit>().unwrap();
    let s = events::import_events(ctx, &who, "events.csv", &bytes, false)
        .await
        .unwrap();
    assert!(s.events > 2500 && s.written == s.events, "{s:?}");
    let values = s.values.as_ref().unwrap();
    assert_eq!(
        values.imported,
        8 * 12 * 8,
        "eight townships, twelve months, eight elements"
    );

    // The stored derived values are the contract's aggregate of the file.
    let tree = app.store.region_tree().await.unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let read = pingan_input::events::read_events("events.csv", &text, &tree).unwrap();
    let want = pingan_core::events::aggregate(&read.events, None);
    let stored: HashMap<(String, String, String), f64> = app
        .store
        .value_records(&[2024])
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.source == events::GRID_SOURCE || v.source == events::EMERGENCY_SOURCE)
        .map(|v| ((v.region, v.period, v.element), v.value))
        .collect();
    assert_eq!(stored.len(), want.len() * 8);
    for ((region, (y, m)), v) in &want {
        for (k, e) in pingan_core::events::ELEMENTS.iter().enumerate() {
            let got = stored[&(
                tree.get(*region).code.clone(),
                format!("{y}-{m:02}"),
                e.to_string(),
            )];
            assert!((got - v[k]).abs() < 1e-9, "{e} {y}-{m}: {got} vs {}", v[k]);
        }
    }

    // The same file again: nothing written.
    let again = events::import_events(ctx, &who, "events.csv", &bytes, false)
        .await
        .unwrap();
    assert_eq!(
        (again.written, again.values.is_none()),
        (0, true),
        "{again:?}"
    );
    let n = app.store.event_count().await.unwrap();

    // A conflicting row under a stored version refuses the file whole.
    let first = text.lines().nth(1).unwrap();
    let mut f: Vec<&str> = first.split(',').collect();
    let changed_category = "另一类别";
    f[3] = changed_category;
    let bad = format!("{}{}\n", pingan_synth::EVENTS_HEADER, f.join(","));
    match events::import_events(ctx, &who, "bad.csv", bad.as_bytes(), false).await {
        Err(ServiceError::Rejected(p)) => {
            assert!(p[0].to_string().contains("bad.csv:2"), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.store.event_count().await.unwrap(), n);

    // A newer version of an open grid event: written, its month rewritten.
    let newer = handled_now(&text);
    let s = events::import_events(ctx, &who, "newer.csv", newer.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(s.written, 1, "{s:?}");
    assert!(
        s.values.unwrap().updated >= 2,
        "timely counts of its month changed"
    );
    assert!(app.store.audit_verify(None).await.unwrap().ok);
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_on_sqlite() {
    import(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_on_postgres() {
    import(Kind::Postgres).await;
}

/// `POST /api/v1/events`: the grid platform (政法委) sends its grid events,
/// not the fire service's; another department may not send at all; a bad
/// item is named by its index and nothing is stored.
async fn api(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    common::add_account(&app, "grid", "department", None, Some("政法委")).await;
    let grid = app.cookie("grid").await;
    let police = app.cookie("dept").await;
    let tree = app.store.region_tree().await.unwrap();
    let county = tree.find(&app.counties[0]).unwrap();
    let town = tree.get(tree.children(county)[0]).code.clone();
    let event = |id: &str, kind: &str| {
        let mut e = serde_json::json!({"event_id": id, "kind": kind, "region": town,
            "reported_at": "2024-03-01 08:00:00", "updated_at": "2024-03-01 09:00:00"});
        if kind == "grid" {
            e["urgency"] = "紧急".into();
            e["departments"] = 2.into();
            e["handled_at"] = "2024-03-01 09:00:00".into();
        } else {
            e["dispatched_at"] = "2024-03-01 08:01:00".into();
            e["arrived_at"] = "2024-03-01 08:13:00".into();
        }
        e
    };
    let path = "/api/v1/events";
    let body = serde_json::json!({"events": [event("g1", "grid"), event("g2", "grid")]});
    let (s, v) = common::post(&app, path, &police, body.clone()).await;
    assert_eq!(s, reqwest::StatusCode::FORBIDDEN, "{v}");
    let (s, v) = common::post(&app, &format!("{path}?dryRun=true"), &grid, body.clone()).await;
    assert_eq!(
        (s, v["written"].as_u64()),
        (reqwest::StatusCode::OK, Some(2)),
        "{v}"
    );
    assert_eq!(
        app.store.event_count().await.unwrap(),
        0,
        "a dry run stores nothing"
    );
    let (s, v) = common::post(&app, path, &grid, body.clone()).await;
    assert_eq!(
        (s, v["written"].as_u64()),
        (reqwest::StatusCode::OK, Some(2)),
        "{v}"
    );
    assert!(v["values"].as_u64().unwrap() >= 4, "{v}");
    let (s, v) = common::post(&app, path, &grid, body).await;
    assert_eq!(
        (s, v["duplicates"].as_u64()),
        (reqwest::StatusCode::OK, Some(2)),
        "{v}"
    );
    let mut bad = event("g3", "grid");
    bad["urgency"] = "很急".into();
    let (s, v) = common::post(
        &app,
        path,
        &grid,
        serde_json::json!({"events": [event("g4", "grid"), event("f1", "fire"), bad]}),
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let idx: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![2], "the reader's errors first: {v}");
    let (s, v) = common::post(
        &app,
        path,
        &grid,
        serde_json::json!({"events": [event("g4", "grid"), event("f1", "fire")]}),
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 1, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("不由本部门报送")
    );
    assert_eq!(app.store.event_count().await.unwrap(), 2);
    let office = app.cookie("office").await;
    let (s, v) = common::post(
        &app,
        path,
        &office,
        serde_json::json!({"events": [event("f1", "fire")]}),
    )
    .await;
    assert_eq!(
        (s, v["written"].as_u64()),
        (reqwest::StatusCode::OK, Some(1)),
        "{v}"
    );
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_on_sqlite() {
    api(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_on_postgres() {
    api(Kind::Postgres).await;
}

/// The page 网格事件: the subtree's totals equal the aggregate of the
/// file, open events of last year are on the overdue list oldest first, a
/// county official sees only its county.
async fn page(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let mut bytes = Vec::new();
    pingan_synth::write_events(
        &small_province(),
        &pingan_synth::EventOptions {
            year: 2024,
            total: 2000,
        },
        &mut bytes,
    )
    .unwrap();
    let op = Caller::operator("t");
    let who = op.authorize::<cap::Submit>().unwrap();
    events::import_events(&app.store.ctx, &who, "events.csv", &bytes, false)
        .await
        .unwrap();
    let tree = app.store.region_tree().await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let read = pingan_input::events::read_events("events.csv", &text, &tree).unwrap();
    let grid = read
        .events
        .iter()
        .filter(|e| e.kind == pingan_core::events::Kind::Grid)
        .count();
    let open = read
        .events
        .iter()
        .filter(|e| e.kind == pingan_core::events::Kind::Grid && e.handled.is_none())
        .count();
    assert!(open > 0, "the generator leaves some open");
    let office = app.cookie("office").await;
    let get = |path: String, cookie: String| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = get("/events?year=2024".into(), office.clone()).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(
        html.contains(r#"id="grid-total"><a href="/events/list?year=2024&amp;region="#)
            && html.contains(&format!(">{grid}</a>")),
        "{grid} in the page, linked to the list"
    );
    list_checks(&app, &office, grid, open).await;
    assert!(html.contains(r#"id="overdue""#) && html.contains(r#"data-chart="events""#));
    let rows = html
        .split(r#"<table class="data" id="overdue""#)
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(
        rows.matches("<tr>").count() - 1,
        open.min(200),
        "every open event is past its deadline now"
    );
    let (s, _) = get(
        format!("/events?year=2024&region={}", app.counties[1]),
        app.cookie("county").await,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::FORBIDDEN);
    // An open event handled: the kept counts follow the import at once.
    let handled = |html: &str| -> u64 {
        html.split("已处置 ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    let (_, before) = get("/events?year=2024".into(), office.clone()).await;
    let newer = handled_now(&text);
    events::import_events(&app.store.ctx, &who, "newer.csv", newer.as_bytes(), false)
        .await
        .unwrap();
    let (_, html) = get("/events?year=2024".into(), office.clone()).await;
    let rows = html
        .split(r#"<table class="data" id="overdue""#)
        .nth(1)
        .map_or(0, |t| {
            t.split("</table>").next().unwrap().matches("<tr>").count() - 1
        });
    assert_eq!(rows, (open - 1).min(200), "one fewer open event");
    assert_eq!(handled(&html), handled(&before) + 1, "one more handled");
    let (s, html) = get("/events?year=2023".into(), office).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(html.contains(r#"id="no-events""#));
    app.db.done().await;
}

/// 事件清单: totals equal the file's, the pages hold each event once, the
/// Excel export holds the list, a county official stays in its county.
async fn list_checks(app: &common::App, office: &str, grid: usize, open: usize) {
    let get = |path: String, cookie: &str| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        let cookie = cookie.to_string();
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            (r.status(), r.bytes().await.unwrap().to_vec())
        }
    };
    let total = |html: &str| -> usize {
        html.split(r#"id="list-total">"#)
            .nth(1)
            .and_then(|t| t.split('<').next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    let (s, html) = get("/events/list?year=2024&kind=grid".into(), office).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert_eq!(total(&html), grid);
    let (_, html) = get("/events/list?year=2024&state=overdue".into(), office).await;
    assert_eq!(total(&String::from_utf8(html).unwrap()), open);
    // Every page of a month's grid events, following 下一页.
    let mut path = "/events/list?year=2024&kind=grid&month=3".to_string();
    let mut seen = std::collections::BTreeSet::new();
    let mut first_total = None;
    loop {
        let (_, html) = get(path.clone(), office).await;
        let html = String::from_utf8(html).unwrap();
        first_total.get_or_insert(total(&html));
        if let Some(t) = html.split(r#"<table class="data" id="event-list""#).nth(1) {
            let body = t.split("</table>").next().unwrap();
            for row in body.split("<tr><td>").skip(1) {
                assert!(seen.insert(row.split('<').next().unwrap().to_string()));
            }
        }
        match html.split(r#"<a href=""#).find_map(|a| {
            a.contains(r#"id="next-page""#)
                .then(|| a.split('"').next().unwrap().replace("&amp;", "&"))
        }) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert!(seen.len() > 50, "more than a page");
    assert_eq!(Some(seen.len()), first_total);
    // The overdue list as Excel.
    let (s, bytes) = get("/events/list.xlsx?year=2024&state=overdue".into(), office).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    use calamine::Reader as _;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("事件清单").unwrap();
    assert_eq!(sheet.height(), open + 1);
    assert_eq!(sheet.get((1, 10)).unwrap().to_string(), "超时未处置");
    // The same list made in the background (下载中心): the post answers at
    // once, the file is listed, then fetched whole by its owner only.
    let r = common::no_redirect()
        .post(format!(
            "{}/events/list.xlsx?year=2024&state=overdue",
            app.base
        ))
        .header("cookie", office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let (s, html) = common::follow(app, r, office).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(html.contains("正在后台生成"), "{html}");
    assert!(html.contains(r#"id="downloads""#));
    let mut id = None;
    for _ in 0..200 {
        let (_, html) = get("/downloads".into(), office).await;
        let html = String::from_utf8(html).unwrap();
        if let Some(at) = html.find(r#"href="/downloads/"#) {
            let rest = &html[at + r#"href="/downloads/"#.len()..];
            id = Some(rest[..rest.find('"').unwrap()].to_string());
            assert!(html.contains("已完成"));
            break;
        }
        assert!(!html.contains("失败"), "{html}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let id = id.expect("the file is made");
    let (s, prepared) = get(format!("/downloads/{id}"), office).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let mut prepared = calamine::Xlsx::new(std::io::Cursor::new(prepared)).unwrap();
    let direct = book.worksheet_range("事件清单").unwrap();
    assert_eq!(prepared.worksheet_range("事件清单").unwrap(), direct);
    let county = app.cookie("county").await;
    let (s, _) = get(format!("/downloads/{id}"), &county).await;
    assert_eq!(s, reqwest::StatusCode::NOT_FOUND, "another's file");
    let (_, html) = get("/downloads".into(), &county).await;
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains(r#"id="no-downloads""#)
    );
    let (s, _) = get("/downloads/notanumber".into(), office).await;
    assert_eq!(s, reqwest::StatusCode::BAD_REQUEST);
    // A county official: its county's list, not another's.
    let (s, html) = get(
        format!("/events/list?year=2024&region={}", app.counties[0]),
        &county,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(total(&html) > 0 && total(&html) < grid);
    let (s, _) = get(
        format!("/events/list.xlsx?year=2024&region={}", app.counties[1]),
        &county,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::FORBIDDEN);
    // A filter nothing matches: an empty list and a sheet with its header.
    let (_, html) = get(
        "/events/list?year=2024&category=%E6%B2%A1%E6%9C%89".into(),
        office,
    )
    .await;
    let html = String::from_utf8(html).unwrap();
    assert!(total(&html) == 0 && html.contains(r#"id="no-rows""#));
    let (s, bytes) = get(
        "/events/list.xlsx?year=2024&category=%E6%B2%A1%E6%9C%89".into(),
        office,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.worksheet_range("事件清单").unwrap().height(), 1);
    // Nonsense filters are ignored, not an error.
    let (s, _) = get(
        "/events/list?year=2024&month=13&kind=x&state=y&after=zz~q".into(),
        office,
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_on_sqlite() {
    page(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_on_postgres() {
    page(Kind::Postgres).await;
}

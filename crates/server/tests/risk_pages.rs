//! 平安热力图 and 风险预警 (issue 22) on SQLite and PostgreSQL: before a
//! run the pages say how to make one; the office recomputes from the page;
//! the warnings list is sorted by expected loss with the models' MASE; the
//! map colours by score, risk and an indicator, drawn from the imported
//! outlines; a warning sent with a field task shows on the region's home
//! page; a county sees only its own and may not recompute or send.

mod common;

use common::{App, page, spawn_app_with, submit as form};
use pingan_store::testing::Kind;
use reqwest::StatusCode;

fn province() -> pingan_synth::Options {
    pingan_synth::Options {
        first_year: 2022,
        ..common::small_province()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_pages_on_sqlite() {
    let app = spawn_app_with(Kind::Sqlite, &province()).await.unwrap();
    risk_pages(&app).await;
    kept_by_backup(&app, Kind::Sqlite).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_pages_on_postgres() {
    if let Some(app) = spawn_app_with(Kind::Postgres, &province()).await {
        risk_pages(&app).await;
        kept_by_backup(&app, Kind::Postgres).await;
        app.db.done().await;
    }
}

async fn risk_pages(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let (c0, other) = (&app.counties[0], &app.counties[app.counties.len() - 1]);

    // No outlines, no run: the pages say so and still list the regions.
    let (s, html) = page(app, "/map?period=2024", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("还没有地区边界"), "{html}");
    assert!(html.contains("id=\"map-table\""), "{html}");
    let (_, html) = page(app, "/risk", &office).await;
    assert!(html.contains("还没有风险评估结果"), "{html}");
    let (_, html) = page(app, "/map?period=2024&by=risk", &office).await;
    assert!(html.contains("还没有风险评估结果"), "{html}");
    let (s, _) = app.get("/api/v1/risk", Some(&office)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let map = pingan_synth::generate_boundaries(&province()).unwrap();
    let op = pingan_service::Caller::operator("setup");
    let direct = op.authorize::<pingan_service::cap::DirectImport>().unwrap();
    pingan_service::boundaries::import(
        &app.store.ctx,
        &direct,
        "b.geojson",
        map.as_bytes(),
        "code",
        false,
    )
    .await
    .unwrap();

    // Only the office recomputes.
    let (s, _) = form(app, "/risk", &county, &[("do", "refresh")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, html) = form(app, "/risk", &office, &[("do", "refresh")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("已重算：") && html.contains("2025-01"),
        "{html}"
    );
    // 1 + 2 + 4 + 8 regions × 8 elements.
    assert!(html.contains("120 个序列"), "{html}");
    assert!(html.contains("id=\"risk-backtest\""), "{html}");
    assert!(html.contains("失分概率已按 2024 年校准"), "{html}");
    let losses: Vec<f64> = html
        .split("id=\"risk-warnings\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr data-region=")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("data-value=\"").skip(1).collect();
            cells[2].split('"').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(!losses.is_empty(), "{html}");
    assert!(losses.windows(2).all(|w| w[0] >= w[1]), "{losses:?}");
    assert!(
        html.contains("data-chart=\"risk\""),
        "the first warning's chart"
    );
    assert!(
        html.contains("data-chart=\"forecast\""),
        "its elements' series"
    );
    assert!(html.contains("data-chart=\"map\""), "the risk map");

    // The API: the same run, the county's part only for the county.
    let (s, all) = app.get("/api/v1/risk", Some(&office)).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(all["period"], "2025-01");
    assert_eq!(all["totals"].as_array().unwrap().len(), 15);
    assert_eq!(all["backtest"].as_array().unwrap().len(), 8);
    let (s, mine) = app.get("/api/v1/risk", Some(&county)).await;
    assert_eq!(s, StatusCode::OK);
    let prefix = &c0[..];
    assert!(
        mine["totals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t[0].as_str().unwrap().starts_with(prefix)),
        "{mine}"
    );
    assert!(
        mine["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["region"].as_str().unwrap().starts_with(prefix))
    );
    let (s, _) = app
        .get(&format!("/api/v1/risk?region={other}"), Some(&county))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get("/api/v1/risk?period=1999-01", Some(&office)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The map by score, by risk and by an indicator, with outlines.
    for by in ["score", "risk", "D4.1.1"] {
        let (s, html) = page(app, &format!("/map?period=2024&by={by}"), &office).await;
        assert_eq!(s, StatusCode::OK, "{by}");
        assert!(html.contains("id=\"map-data\""), "{by}: {html}");
        assert!(html.contains("MultiPolygon"), "{by}");
    }
    let (_, html) = page(app, "/map?period=2024&by=D4.1.1", &office).await;
    assert!(html.contains("网格事件处置及时率得分率"), "{html}");
    let (_, html) = page(app, "/map?period=2024&by=nonsense", &office).await;
    assert!(html.contains("没有这个指标"), "{html}");
    let (_, html) = page(app, "/?period=2024", &office).await;
    assert!(
        html.contains("id=\"overview-map-data\""),
        "the overview's score map"
    );

    // A county: its own warnings only; no sending, no other county.
    let (s, html) = page(app, "/risk", &county).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !html.contains(&format!("data-region=\"{other}\"")),
        "{html}"
    );
    assert!(!html.contains("id=\"risk-refresh\""));
    let (s, _) = page(app, &format!("/risk?region={other}"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(app, &format!("/map?region={other}&period=2024"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The office sends the county's first warning with a field task.
    let (_, html) = page(app, &format!("/risk?region={c0}"), &office).await;
    let row = html
        .split("<tr data-region=\"")
        .nth(1)
        .expect("a warning in the county");
    let region = row.split('"').next().unwrap().to_string();
    let indicator = row
        .split("data-indicator=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let send = [
        ("do", "send"),
        ("period", "2025-01"),
        ("region", region.as_str()),
        ("indicator", indicator.as_str()),
        ("task", "1"),
    ];
    let (s, _) = form(app, "/risk", &county, &send).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = form(app, "/risk", &office, &send).await;
    assert!(html.contains("已下发预警，并创建实地核查任务"), "{html}");
    let (_, home) = page(app, &format!("/?region={region}&period=2024"), &office).await;
    assert!(home.contains("id=\"risk-warned\""), "{home}");
    let bad = [
        ("do", "send"),
        ("period", "2025-01"),
        ("region", region.as_str()),
        ("indicator", "no_such"),
    ];
    let (_, html) = form(app, "/risk", &office, &bad).await;
    assert!(html.contains("没有") && html.contains("no_such"), "{html}");

    // A value changes: the page says the run is stale; the server's
    // periodic look recomputes it once, then finds nothing to do.
    let ctx = &app.store.ctx;
    assert!(
        pingan_service::risk::refresh_if_stale(ctx)
            .await
            .unwrap()
            .is_none()
    );
    // A department's submission waits for review: the official values,
    // and so the run, are unchanged.
    let dept = app.cookie("dept").await;
    let (s, v) = common::post(
        app,
        "/api/v1/dataValueSets",
        &dept,
        serde_json::json!({"dataValues": [
            {"region": format!("{c0}001"), "period": "2024-12", "element": "criminal_cases", "value": 7}
        ]}),
    )
    .await;
    assert!(s.is_success(), "{s} {v}");
    assert!(
        pingan_service::risk::refresh_if_stale(ctx)
            .await
            .unwrap()
            .is_none()
    );
    let (_, html) = page(app, "/risk", &office).await;
    assert!(!html.contains("数据已有变动"), "{html}");
    let csv = format!("region,period,element,value\n{c0}001,2024-12,grid_events,999\n");
    app.store
        .import_values_as(
            "v.csv",
            csv.as_bytes(),
            false,
            false,
            &pingan_store::Actor::cli("setup"),
        )
        .await
        .unwrap();
    let (_, html) = page(app, "/risk", &office).await;
    assert!(html.contains("数据已有变动"), "{html}");
    let again = pingan_service::risk::refresh_if_stale(ctx).await.unwrap();
    assert_eq!(again.map(|v| v.period), Some("2025-01".to_string()));
    assert!(
        pingan_service::risk::refresh_if_stale(ctx)
            .await
            .unwrap()
            .is_none()
    );
    let (_, html) = page(app, "/risk", &office).await;
    assert!(!html.contains("数据已有变动"), "{html}");
}

/// The outlines, the run, the forecasts and the warning sent survive a
/// backup and restore.
async fn kept_by_backup(app: &App, kind: Kind) {
    let (copy, store) = common::round_trip(app, kind).await;
    let before = &app.store.ctx.store;
    assert_eq!(
        store.boundaries().await.unwrap(),
        before.boundaries().await.unwrap()
    );
    assert_eq!(
        store.risk_run(None).await.unwrap(),
        before.risk_run(None).await.unwrap()
    );
    let c0 = &app.counties[0];
    let town = format!("{c0}001");
    assert_eq!(
        store.forecast_of(&town, "grid_events").await.unwrap(),
        before.forecast_of(&town, "grid_events").await.unwrap()
    );
    let sent = before.risk_warnings(None).await.unwrap();
    assert!(!sent.is_empty());
    assert_eq!(store.risk_warnings(None).await.unwrap(), sent);
    copy.done().await;
}

//! Quality checks and the follow-up queue over the API, on SQLite and on
//! PostgreSQL, with a province holding known anomalies.

mod common;

use common::{App, post, spawn_app_with};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::json;

fn province() -> pingan_synth::Options {
    pingan_synth::Options {
        seed: 3,
        cities: 1,
        counties: 2,
        townships: 12,
        first_year: 2023,
        last_year: 2024,
        anomalies: 14,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_on_sqlite() {
    let app = spawn_app_with(Kind::Sqlite, &province()).await.unwrap();
    queue(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_on_postgres() {
    if let Some(app) = spawn_app_with(Kind::Postgres, &province()).await {
        queue(&app).await;
        app.db.done().await;
    }
}

async fn queue(app: &App) {
    let collector = app.cookie("collector").await;
    let dept = app.cookie("dept").await;
    let sup = app.cookie("super").await;
    let county = app.cookie("county").await;

    // Only the review roles run checks.
    let (s, _) = post(
        app,
        "/api/v1/checks",
        &dept,
        json!({"period": "2024", "save": true}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(app, "/api/v1/checks", &collector, json!({"period": "20x4"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let (s, run) = post(
        app,
        "/api/v1/checks",
        &collector,
        json!({"period": "2024", "save": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let flags = run["flags"].as_array().unwrap();
    assert!(!flags.is_empty());
    let n = flags.len() as u64;
    assert_eq!(run["saved"]["new"], n);
    let kinds: Vec<&str> = flags.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    for k in ["rule", "cross_source"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(run["summary"]["values"].as_u64().unwrap() > 1000);
    // Found again: the open rows are refreshed, not repeated.
    let (_, again) = post(
        app,
        "/api/v1/checks",
        &collector,
        json!({"period": "2024", "save": true}),
    )
    .await;
    assert_eq!(again["saved"]["new"], 0);
    assert_eq!(again["saved"]["updated"], n);

    let (s, list) = app
        .get("/api/v1/flags?status=open&page_size=1000", Some(&collector))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], n);
    let (_, cs) = app.get("/api/v1/flags?kind=cross_source", Some(&sup)).await;
    let item = &cs["items"][0];
    assert!(
        item["sources"]
            .as_array()
            .unwrap()
            .contains(&json!("网格平台")),
        "{item}"
    );
    assert!(item["message"].as_str().unwrap().contains("数据溯源"));
    let (s, v) = app.get("/api/v1/flags?kind=nope", Some(&sup)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // A county official sees its own county's flags only.
    let own = &app.counties[0];
    let (s, mine) = app.get("/api/v1/flags?page_size=1000", Some(&county)).await;
    assert_eq!(s, StatusCode::OK);
    let items = mine["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|f| f["region"].as_str().unwrap().starts_with(own.as_str()))
    );
    assert!(mine["total"].as_u64().unwrap() < n);
    let other = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| !f["region"].as_str().unwrap().starts_with(own.as_str()))
        .unwrap_or_else(|| panic!("{own} {list}"));
    let (s, _) = app
        .get(&format!("/api/v1/flags/{}", other["id"]), Some(&county))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Resolve a rule breach as a confirmed error with the corrected value.
    let rule = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "rule")
        .unwrap()
        .clone();
    let id = rule["id"].as_i64().unwrap();
    let path = format!("/api/v1/flags/{id}/resolve");
    let (s, _) = post(
        app,
        &path,
        &sup,
        json!({"resolution": "explained", "note": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the supervisor writes nothing");
    let (s, v) = post(
        app,
        &path,
        &collector,
        json!({"resolution": "corrected", "value": 5, "reason": " "}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = post(
        app,
        &path,
        &collector,
        json!({"resolution": "corrected", "value": "abc", "reason": "r"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, done) = post(
        app,
        &path,
        &collector,
        json!({"resolution": "corrected", "value": 1, "reason": "核对台账：查处数误录"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "corrected");
    assert_eq!(done["corrected_value"], 1.0);
    assert_eq!(done["resolved_by"], "collector");
    let (s, v) = post(
        app,
        &path,
        &collector,
        json!({"resolution": "explained", "note": "again"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // The original value stays; the correction is the latest submission.
    let (_, vals) = app
        .get(
            &format!(
                "/api/v1/values?region={}&period={}&element={}",
                rule["region"].as_str().unwrap(),
                rule["period"].as_str().unwrap(),
                rule["element"].as_str().unwrap()
            ),
            Some(&sup),
        )
        .await;
    let sources: Vec<&str> = vals["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"核查更正"), "{vals}");
    assert!(sources.len() >= 2, "{vals}");

    // Explain another.
    let other_id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] != "rule")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, v) = post(
        app,
        &format!("/api/v1/flags/{other_id}/resolve"),
        &collector,
        json!({"resolution": "explained", "note": "当月开展专项行动"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = post(
        app,
        "/api/v1/flags/999999/resolve",
        &collector,
        json!({"resolution": "explained", "note": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Found again: resolved rows stay resolved.
    let (_, third) = post(
        app,
        "/api/v1/checks",
        &collector,
        json!({"period": "2024", "save": true}),
    )
    .await;
    assert!(
        third["saved"]["resolved_before"].as_u64().unwrap() >= 1,
        "{}",
        third["saved"]
    );
    for (fid, status) in [(id, "corrected"), (other_id, "explained")] {
        let (_, f) = app
            .get(&format!("/api/v1/flags/{fid}"), Some(&collector))
            .await;
        assert_eq!(f["status"], status, "{f}");
    }

    // Every resolution is in the ledger, which still verifies.
    let (_, audit) = app
        .get("/api/v1/audit?action=quality_resolve", Some(&sup))
        .await;
    assert_eq!(audit["total"], 2, "{audit}");
    let (_, verify) = app.get("/api/v1/audit/verify", Some(&sup)).await;
    assert_eq!(verify["ok"], true, "{verify}");

    // The queue page and its export.
    let r = app
        .http
        .get(format!("{}/quality?status=all", app.base))
        .header("cookie", &collector)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("按地区和类型汇总") && html.contains("多来源差异"),
        "{html}"
    );
    // Every kind has its column in every row (a kind added once widened
    // the header and not the rows).
    let table = &html[html.find(r#"id="flag-summary""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let head = &table[..table.find("</thead>").unwrap()];
    let first_row = &table[table.find("<tbody>").unwrap()..];
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert_eq!(
        head.matches("<th>").count() + head.matches("<th ").count(),
        first_row.matches("<td>").count() + first_row.matches("<td ").count(),
        "{table}"
    );
    // The last check, from the ledger: what a check left to run on in the
    // background reports through.
    assert!(html.contains("最近一次检查：2024，"), "{html}");
    // The page's own check: a small province finishes within its wait, or,
    // on a loaded machine, is left to the background and reaches the ledger.
    let checks = || async {
        let (_, audit) = app
            .get("/api/v1/audit?action=quality_check", Some(&sup))
            .await;
        audit["total"].as_u64().unwrap()
    };
    let checks_before = checks().await;
    // The run form submitted, and the page it leads back to.
    let run_page = |body: &'static str| {
        let collector = &collector;
        async move {
            let r = common::no_redirect()
                .post(format!("{}/quality", app.base))
                .header("cookie", collector)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            common::follow(app, r, collector).await
        }
    };
    let (s, html) = run_page("op=check&period=2024").await;
    assert_eq!(s, StatusCode::OK);
    if !html.contains("2024 检查完成：检查") {
        assert!(html.contains("2024 检查已开始，正在后台进行"), "{html}");
        let mut waited = 0;
        while checks().await == checks_before {
            waited += 1;
            assert!(
                waited < 240,
                "the background check never reached the ledger"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    assert_eq!(checks().await, checks_before + 1);
    assert!(html.contains("最近一次检查：2024，collector 于"), "{html}");
    // The page noted its start, and its end ended it.
    let (_, audit) = app
        .get("/api/v1/audit?action=quality_check_start", Some(&sup))
        .await;
    assert_eq!(audit["total"].as_u64(), Some(1), "{audit}");
    let (_, html) = common::page(app, "/quality", &collector).await;
    assert!(!html.contains("正在进行的检查"), "{html}");
    // A check of the user's left running on another instance (its start in
    // the ledger, its end not yet): the page says so, and a second check of
    // the same period waits for it rather than doing the same work beside
    // it. Another user's does not hold theirs up.
    use pingan_core::labels::LedgerAction;
    let note = |user: &'static str, action, detail| async move {
        let entry = pingan_store::NewEntry::new(action, "period:2024", detail);
        app.store
            .audit(&pingan_store::Actor::cli(user), &entry)
            .await
            .unwrap();
    };
    note("office", LedgerAction::QualityCheckStart, json!({})).await;
    let (_, html) = common::page(app, "/quality", &collector).await;
    assert!(!html.contains("正在进行的检查"), "{html}");
    note("collector", LedgerAction::QualityCheckStart, json!({})).await;
    let (_, html) = common::page(app, "/quality", &collector).await;
    assert!(
        html.contains("正在进行的检查：2024，collector 于"),
        "{html}"
    );
    let before = checks().await;
    let (_, html) = run_page("op=check&period=2024").await;
    assert!(html.contains("2024 的检查正在进行（collector 于"), "{html}");
    assert_eq!(checks().await, before, "no second check ran");
    // Its failure ends it as its result would.
    let stopped = json!({"error": "stopped"});
    note("collector", LedgerAction::QualityCheckFail, stopped).await;
    let (_, html) = common::page(app, "/quality", &collector).await;
    assert!(!html.contains("正在进行的检查"), "{html}");
    let (_, html) = run_page("op=check&period=20x4").await;
    assert!(html.contains("无法识别"), "{html}");
    // Those who may not run checks neither see the form nor the last run.
    let (_, html) = common::page(app, "/quality", &sup).await;
    assert!(
        !html.contains("run-check") && !html.contains("最近一次检查"),
        "{html}"
    );
    let r = app
        .http
        .get(format!("{}/export/flags.xlsx?status=all", app.base))
        .header("cookie", &sup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = app
        .http
        .get(format!("{}/quality/{id}", app.base))
        .header("cookie", &collector)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("已更正") && html.contains("核查更正"),
        "{html}"
    );
    assert!(
        html.contains("归并") || !html.contains("待核查问题（共"),
        "{html}"
    );

    // A statistical flag (the seed's methods confirmed by the model of
    // normal) names its expectation, and its page draws the series.
    let (_, all) = app
        .get("/api/v1/flags?page_size=1000", Some(&collector))
        .await;
    let stat = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            matches!(
                f["kind"].as_str(),
                Some("zscore" | "mod_zscore" | "jump" | "run_above_mean" | "share")
            )
        })
        .unwrap_or_else(|| panic!("no statistical flag among the planted anomalies: {all}"));
    assert!(stat["message"].as_str().unwrap().contains("预计"), "{stat}");
    let r = app
        .http
        .get(format!("{}/quality/{}", app.base, stat["id"]))
        .header("cookie", &collector)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    for part in [
        "data-chart=\"flag\"",
        "flag-series",
        "季节基线预计值",
        "异常强度",
    ] {
        assert!(html.contains(part), "{part}: {html}");
    }
    let r = app
        .http
        .get(format!("{}/quality?status=all", app.base))
        .header("cookie", &collector)
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("个地区数据项"));
}

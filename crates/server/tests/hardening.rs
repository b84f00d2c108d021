//! What an attack on the running demo found (issue 15), each kept closed:
//! impossible values and free text with hidden characters refused on the
//! API, errors always in the api.md shape, security headers, one-time
//! banners, sign-in answers that do not tell which names exist, and the
//! heavy computations bounded so one reader cannot stall the others.

mod common;

use common::{App, PW, post, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn app() -> App {
    spawn_app(Kind::Sqlite).await.unwrap()
}

fn one_value(region: &str, period: &str, value: Value) -> Value {
    json!({"dataValues": [{"region": region, "period": period, "element": "criminal_cases",
                           "value": value, "source": "公安"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impossible_values_periods_and_dates_are_refused() {
    let app = app().await;
    let office = app.cookie("office").await;
    let county = &app.counties[0];
    let path = "/api/v1/dataValueSets?dryRun=true";
    let (s, v) = post(&app, path, &office, one_value(county, "2024-05", json!(12))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for bad in [json!(-1), json!(1.5), json!(1e308), json!(1.2e29)] {
        let (s, v) = post(
            &app,
            path,
            &office,
            one_value(county, "2024-05", bad.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert!(
            v["errors"][0]["message"].as_str().unwrap().contains("计数"),
            "{v}"
        );
    }
    for period in ["9999", "2999-01", "1990"] {
        let (s, v) = post(&app, path, &office, one_value(county, period, json!(3))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{period}: {v}");
    }
    // Not stored either when not a dry run.
    let (s, _) = post(
        &app,
        "/api/v1/dataValueSets",
        &office,
        one_value(county, "2024-05", json!(-1)),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let tree = app.store.region_tree().await.unwrap();
    let town = tree
        .get(tree.children(tree.find(county).unwrap())[0])
        .code
        .clone();
    let case = |date: &str| {
        json!({"cases": [{"case_id": "(2024)调字第1号", "region": town, "date": date,
               "type": "邻里纠纷", "outcome": "调解成功", "agreement": true, "fulfilled": "是"}]})
    };
    let (s, v) = post(
        &app,
        "/api/v1/cases?dryRun=true",
        &office,
        case("9999-01-01"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("晚于今天"),
        "{v}"
    );
    let (s, v) = post(
        &app,
        "/api/v1/cases?dryRun=true",
        &office,
        case("2024-03-05"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_is_normalised_and_hidden_characters_refused() {
    let app = app().await;
    let office = app.cookie("office").await;
    let county = app.counties[0].clone();
    let task = |note: &str| json!({"region": county, "period": "2024", "elements": ["patrol_teams"], "note": note});
    for bad in ["含\u{0}空字符", "右\u{202E}到左", "零\u{200B}宽"] {
        let (s, v) = post(&app, "/api/v1/verifications", &office, task(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("任务说明不能含有"),
            "{v}"
        );
    }
    let (s, v) = post(
        &app,
        "/api/v1/verifications",
        &office,
        task(&"长".repeat(2_000_000)),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("最多 2000 个"),
        "{v}"
    );
    let (s, v) = post(
        &app,
        "/api/v1/verifications",
        &office,
        task("e\u{301}tude 走访"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["note"], "\u{e9}tude 走访");
    // A value's source and comment as well, by index.
    let mut body = one_value(&county, "2024-05", json!(3));
    body["dataValues"][0]["comment"] = json!("备注\u{202E}");
    let (s, v) = post(&app, "/api/v1/dataValueSets?dryRun=true", &office, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 0);
    let mut body = one_value(&county, "2024-05", json!(3));
    body["dataValues"][0]["source"] = json!("公\u{0}安");
    let (s, v) = post(&app, "/api/v1/dataValueSets?dryRun=true", &office, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    app.db.done().await;
}

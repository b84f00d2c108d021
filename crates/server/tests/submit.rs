//! 数据报送 in the pages: a department downloads its template and uploads
//! it filled; bad cells are named and nothing is stored.

mod common;

use common::{App, spawn_app};
use pingan_core::Period;
use pingan_input::excel::{TemplateSpec, base_regions, read_template, write_template};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

async fn upload(
    app: &App,
    cookie: &str,
    name: &str,
    bytes: Vec<u8>,
    dry: bool,
) -> (StatusCode, String) {
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    if dry {
        form = form.text("dry_run", "1");
    }
    let r = app
        .http
        .post(format!("{}/submit", app.base))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_submits_its_template() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let dept = app.cookie("dept").await;
    let expert = app.cookie("expert").await;
    let get = |path: &str, cookie: &str| {
        app.http
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let r = get("/submit", &dept).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("下载报送模板"));
    assert_eq!(
        get("/submit", &expert).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Another department's template is refused.
    let r = get(
        "/submit/template.xlsx?department=应急&periods=2024-06",
        &dept,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = get(
        "/submit/template.xlsx?department=公安&periods=2024-06",
        &dept,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let blank = r.bytes().await.unwrap().to_vec();
    let fw = pingan_core::default_framework();
    let tree = app.store.region_tree().await.unwrap();
    let empty = read_template("t.xlsx", &blank, &fw, &tree).unwrap();
    assert_eq!(empty.department, "公安");
    assert!(empty.values.is_empty() && empty.blank > 0);

    // Filled with 7s: checked whole, then stored once under the department.
    let periods: Vec<Period> = vec!["2024-06".parse().unwrap()];
    let regions = base_regions(&tree, None, &periods);
    let sevens = |_: usize, _: Period, _: usize| Some(7.0);
    let filled = write_template(
        &fw,
        &tree,
        &TemplateSpec {
            department: "公安",
            periods: &periods,
            regions: &regions,
            prefill: Some(&sevens),
        },
    )
    .unwrap();
    let (s, html) = upload(&app, &dept, "公安.xlsx", filled.clone(), true).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("试运行通过（未写入）"), "{html}");
    let (s, html) = upload(&app, &dept, "公安.xlsx", filled.clone(), false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("已导入公安.xlsx") && html.contains("新增"),
        "{html}"
    );
    let town = &tree.get(regions[0]).code;
    let (_, vals) = app
        .get(
            &format!("/api/v1/values?region={town}&period=2024-06&element=criminal_cases"),
            Some(&dept),
        )
        .await;
    let items = vals["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|v| v["source"] == "公安" && v["value"] == 7.0),
        "{vals}"
    );
    let (_, html) = upload(&app, &dept, "公安.xlsx", filled, false).await;
    assert!(html.contains("新增 0，更新 0"), "{html}");

    // Not a template: named, nothing stored.
    let (s, html) = upload(&app, &dept, "v.xlsx", b"region,period\n".to_vec(), false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("未写入任何数据") && html.contains("不是 Excel"),
        "{html}"
    );
}

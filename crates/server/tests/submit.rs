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
    let html = r.text().await.unwrap();
    assert!(html.contains("下载报送模板"));
    // Periods and regions are picked from suggestions, by their Chinese names.
    assert!(
        html.contains("list=\"period-options\"") && html.contains("2024年12月"),
        "{html}"
    );
    assert!(
        html.contains("list=\"region-options\"")
            && html.contains(" › ")
            && html.contains("（县（区））"),
        "{html}"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_board_counts_missing_and_late() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let office = app.cookie("office").await;
    let dept = app.cookie("dept").await;
    // Remove one township's 公安 values for June (raw SQL, before any view:
    // the board is cached until the ledger moves, and this bypasses it).
    let tree = app.store.region_tree().await.unwrap();
    let town = (0..tree.len())
        .find(|&i| tree.children(i).is_empty())
        .map(|i| tree.get(i).code.clone())
        .unwrap();
    app.store
        .execute_raw(&format!(
            "DELETE FROM data_values WHERE region = '{town}' AND period = '2024-06' AND element IN \
             ('criminal_cases','public_order_cases','public_order_solved','major_cases','fraud_cases','fraud_solved',\
              'population','monitored_area','required_monitored_area','patrol_teams','patrol_teams_required',\
              'safety_volunteers','transit_checked','transit_total','lighting_ok','lighting_total','campus_order_rating',\
              'reward_mechanism_rating','police_satisfaction','night_safety_satisfaction','safety_index')"
        ))
        .await
        .unwrap();
    // The generated province reports every element of every base region.
    let r = app
        .http
        .get(format!("{}/progress?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("2024 年报送进度") && html.contains("8/8"),
        "{html}"
    );
    // Cells follow each department's reporting frequency: 教育 reports
    // once a year, 公安 monthly.
    let cell = |dept: &str, p: &str| html.contains(&format!("department={dept}&amp;period={p}\""));
    let (edu, police) = ("%E6%95%99%E8%82%B2", "%E5%85%AC%E5%AE%89");
    assert!(cell(edu, "2024") && !cell(edu, "2024-01"), "{html}");
    assert!(cell(police, "2024-01") && !cell(police, "2024"), "{html}");
    assert!(
        !html.contains("0/8"),
        "no department owes what it never reports: {html}"
    );
    // The department sees its own row only, with the gap.
    let r = app
        .http
        .get(format!(
            "{}/progress?year=2024&department=%E5%85%AC%E5%AE%89&period=2024-06",
            app.base
        ))
        .header("cookie", &dept)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("缺报 1 个") && html.contains(&town), "{html}");
    assert!(html.contains("7/8"), "{html}");
    assert!(!html.contains("<td>应急"), "{html}");
    let r = app
        .http
        .get(format!("{}/export/progress.xlsx?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entry_form_submits_changed_cells_only() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let dept = app.cookie("dept").await;
    let county = &app.counties[0];
    let r = app
        .http
        .get(format!(
            "{}/submit/form?department=%E5%85%AC%E5%AE%89&period=2024-06&region={county}",
            app.base
        ))
        .header("cookie", &dept)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("entry-grid") && html.contains("刑事案件立案数"),
        "{html}"
    );
    let tree = app.store.region_tree().await.unwrap();
    let root = tree.find(county).unwrap();
    let town = (0..tree.len())
        .find(|&i| tree.children(i).is_empty() && tree.is_within(i, root))
        .map(|i| tree.get(i).code.clone())
        .unwrap();
    let post = |fields: Vec<(String, String)>| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        app.http
            .post(format!("{}/submit/form", app.base))
            .header("cookie", &dept)
            .header("origin", &app.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // The form carries its region, so a county's form stays the county's
    // after a submit (on the full province, all regions would not fit).
    assert!(
        html.contains(&format!("name=\"region\" value=\"{county}\"")),
        "{html}"
    );
    let other_town = (0..tree.len())
        .find(|&i| tree.children(i).is_empty() && !tree.is_within(i, root))
        .map(|i| tree.get(i).code.clone())
        .unwrap();
    assert!(!html.contains(&format!("v.{other_town}.")));
    let base = vec![
        ("department".to_string(), "公安".to_string()),
        ("period".to_string(), "2024-06".to_string()),
        ("region".to_string(), county.to_string()),
    ];
    // A bad cell: nothing is stored, the cell is named, what was typed stays.
    let mut bad = base.clone();
    bad.push((format!("v.{town}.criminal_cases"), "99".into()));
    bad.push((format!("v.{town}.fraud_cases"), "abc".into()));
    let r = post(bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("未写入任何数据") && html.contains("“abc”不是数字"),
        "{html}"
    );
    assert!(html.contains("value=\"abc\""), "what was typed is kept");
    assert!(
        !html.contains(&format!("v.{other_town}.")),
        "still the county's form"
    );
    let mut good = base.clone();
    good.push((format!("v.{town}.criminal_cases"), "99".into()));
    good.push((format!("o.{town}.criminal_cases"), "5".into()));
    good.push((format!("v.{town}.fraud_cases"), "3".into()));
    good.push((format!("o.{town}.fraud_cases"), "3".into()));
    let html = post(good).await.unwrap().text().await.unwrap();
    assert!(html.contains("已提交：1 个数值，新增 1"), "{html}");
    let (_, vals) = app
        .get(
            &format!("/api/v1/values?region={town}&period=2024-06&element=criminal_cases"),
            Some(&dept),
        )
        .await;
    assert!(
        vals["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["source"] == "公安" && v["value"] == 99.0),
        "{vals}"
    );
    // Another department's form is refused.
    let r = app
        .http
        .get(format!(
            "{}/submit/form?department=%E5%BA%94%E6%80%A5&period=2024-06",
            app.base
        ))
        .header("cookie", &dept)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A department account reports its own department's data only, whatever
/// other roles it holds; another department's template is refused once,
/// and an out-of-scope file is named once per reason, not per cell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_reports_only_its_own_data() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    common::add_account(&app, "gaexpert", "department,expert", None, Some("公安")).await;
    let own = app.counties[0].clone();
    common::add_account(&app, "gacounty", "department", Some(&own), Some("公安")).await;
    let mixed = app.cookie("gaexpert").await;
    let get = |path: &str, cookie: &str| {
        app.http
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let r = get("/submit", &mixed).await.unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("公安")
            && !html.contains("<option>应急</option>")
            && !html.contains("value=\"应急\""),
        "{html}"
    );
    let r = get(
        "/submit/template.xlsx?department=应急&periods=2024-06",
        &mixed,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nor through the API, though it may read every department's values.
    let tree = app.store.region_tree().await.unwrap();
    let town = (0..tree.len())
        .find(|&i| tree.children(i).is_empty())
        .map(|i| tree.get(i).code.clone())
        .unwrap();
    let fw = pingan_core::default_framework();
    let other = fw
        .elements
        .iter()
        .find(|e| e.department == "应急")
        .unwrap()
        .code
        .clone();
    let (s, v) = common::post(
        &app,
        "/api/v1/dataValueSets?dryRun=true",
        &mixed,
        serde_json::json!({"dataValues": [
            {"region": town, "period": "2024-06", "element": other, "value": 1}
        ]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("不属于本部门"), "{v}");

    // Another department's filled template: one line, not one per cell.
    let periods: Vec<Period> = vec!["2024-06".parse().unwrap()];
    let regions = base_regions(&tree, None, &periods);
    let ones = |_: usize, _: Period, _: usize| Some(1.0);
    let book = |department: &'static str| {
        write_template(
            &fw,
            &tree,
            &TemplateSpec {
                department,
                periods: &periods,
                regions: &regions,
                prefill: Some(&ones),
            },
        )
        .unwrap()
    };
    let before = app.store.count("data_values").await.unwrap();
    let dept = app.cookie("dept").await;
    let (s, html) = upload(&app, &dept, "应急.xlsx", book("应急"), false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("这是部门“应急”的模板"), "{html}");
    assert!(!html.contains("不属于"), "{html}");
    // The province's template from a county's account: each region outside
    // it named once, at most MAX_ERRORS lines.
    let county = app.cookie("gacounty").await;
    let (s, html) = upload(&app, &county, "公安.xlsx", book("公安"), false).await;
    assert_eq!(s, StatusCode::OK);
    let refusals: Vec<&str> = html
        .split("无权报送地区")
        .skip(1)
        .map(|t| t.split('<').next().unwrap_or(""))
        .collect();
    assert!(!refusals.is_empty(), "{html}");
    assert!(refusals.len() <= pingan_input::MAX_ERRORS, "{html}");
    let distinct: std::collections::HashSet<&&str> = refusals.iter().collect();
    assert_eq!(distinct.len(), refusals.len(), "each reason once: {html}");
    assert_eq!(app.store.count("data_values").await.unwrap(), before);
}

/// The validation rules of `pingan check` hold on every channel before
/// anything is stored: a negative count, a fractional veto count and 破案数
/// above 立案数 refuse an Excel upload (the cell, region and element
/// named), a `dataValueSets` call (by index) and the web form (by field).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_rules_hold_on_every_channel() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let dept = app.cookie("dept").await;
    let fw = pingan_core::default_framework();
    let tree = app.store.region_tree().await.unwrap();
    let periods: Vec<Period> = vec!["2024-06".parse().unwrap()];
    let regions = base_regions(&tree, None, &periods);
    let first = regions[0];
    let town = tree.get(first).name.clone();
    let e = |c: &str| fw.element_index(c).unwrap();
    let (solved, cases, order_solved) = (
        e("fraud_solved"),
        e("fraud_cases"),
        e("public_order_solved"),
    );
    let book = |negative: bool| {
        let values = move |r: usize, _: Period, el: usize| {
            Some(if r != first {
                3.0
            } else if el == solved {
                if negative { 3.0 } else { 20.0 }
            } else if el == cases {
                10.0
            } else if el == order_solved && negative {
                -3.0
            } else {
                3.0
            })
        };
        write_template(
            &fw,
            &tree,
            &TemplateSpec {
                department: "公安",
                periods: &periods,
                regions: &regions,
                prefill: Some(&values),
            },
        )
        .unwrap()
    };
    let (s, html) = upload(&app, &dept, "公安.xlsx", book(true), true).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("试运行通过"), "{html}");
    assert!(
        html.contains(&format!(
            "{town} 2024年6月 治安案件查处数：计数（起）不能为负数：-3"
        )),
        "{html}"
    );
    let (_, html) = upload(&app, &dept, "公安.xlsx", book(false), true).await;
    assert!(!html.contains("试运行通过"), "{html}");
    assert!(
        html.contains("网络诈骗案件破案数 = 20") && html.contains("Sheet &quot;2024-06&quot;"),
        "{html}"
    );

    // The API, by index; a veto count must be whole.
    let code = tree.get(first).code.clone();
    let body = serde_json::json!({"dataValues": [
        {"region": code, "period": "2024-06", "element": "fraud_solved", "value": 20, "source": "公安"},
        {"region": code, "period": "2024-06", "element": "fraud_cases", "value": 10, "source": "公安"},
        {"region": code, "period": "2024-06", "element": "major_cases", "value": 1.5, "source": "公安"},
    ]});
    let (s, v) = common::post(&app, "/api/v1/dataValueSets?dryRun=true", &dept, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["index"] == 2 && e["message"].as_str().unwrap().contains("应为整数")),
        "{v}"
    );
    // The rule broken by the other two rows is named in the same answer
    // (one round of corrections, not two).
    assert!(
        errors.iter().any(|e| e["index"] == 0
            && e["message"]
                .as_str()
                .unwrap()
                .contains("网络诈骗案件破案数 = 20")),
        "{v}"
    );
    let body = serde_json::json!({"dataValues": [
        {"region": code, "period": "2024-06", "element": "fraud_solved", "value": 20, "source": "公安"},
        {"region": code, "period": "2024-06", "element": "fraud_cases", "value": 10, "source": "公安"},
    ]});
    let (s, v) = common::post(&app, "/api/v1/dataValueSets?dryRun=true", &dept, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["index"], 0, "{v}");

    // The web form.
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("department", "公安".to_string()),
            ("period", "2024-06".to_string()),
            (&format!("v.{code}.fraud_solved"), "20".to_string()),
            (&format!("v.{code}.fraud_cases"), "10".to_string()),
        ])
        .finish();
    let html = app
        .http
        .post(format!("{}/submit/form", app.base))
        .header("cookie", &dept)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("未写入任何数据") && html.contains("网络诈骗案件破案数不超过"),
        "{html}"
    );
    app.db.done().await;
}

//! 测评报告 and 问题整改通知书 over the pages and the API (issue 20), on
//! SQLite and PostgreSQL: notices numbered in the year's sequence once,
//! read by the region they are sent to and issued by the office only; the
//! report as Word, Excel and HTML; every county's report in one zip.

mod common;

use common::{App, post, spawn_app, submit as form};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Read;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_notices_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    reports_and_notices(&app).await;
    edits(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_notices_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        reports_and_notices(&app).await;
        edits(&app).await;
        app.db.done().await;
    }
}

async fn page(app: &App, path: &str, cookie: &str) -> (StatusCode, String) {
    let (s, _, body) = file(app, path, cookie).await;
    (s, String::from_utf8(body).unwrap())
}

async fn file(app: &App, path: &str, cookie: &str) -> (StatusCode, String, Vec<u8>) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let s = r.status();
    let t = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (s, t, r.bytes().await.unwrap().to_vec())
}

/// Issue from the page as a browser does.
async fn issue(
    app: &App,
    code: &str,
    cookie: &str,
    year: &str,
    deadline: &str,
) -> (StatusCode, String) {
    let pairs = [("year", year), ("deadline", deadline)];
    form(app, &format!("/report/{code}/notice"), cookie, &pairs).await
}

fn zip_part(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut s = String::new();
    z.by_name(name)
        .unwrap_or_else(|_| panic!("{name}"))
        .read_to_string(&mut s)
        .unwrap();
    s
}

async fn reports_and_notices(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let (c0, c1, c2) = (&app.counties[0], &app.counties[1], &app.counties[2]);

    // Not issued yet: the office sees the form, the county only a sentence.
    let (s, html) = page(app, &format!("/report/{c0}?year=2024&kind=notice"), &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("尚未印发") && html.contains("id=\"issue-notice\""),
        "{html}"
    );
    let (_, html) = page(app, &format!("/report/{c0}?year=2024&kind=notice"), &county).await;
    assert!(html.contains("尚未印发") && !html.contains("id=\"issue-notice\""));
    let (s, _, _) = file(
        app,
        &format!("/export/report?region={c0}&year=2024&kind=notice"),
        &office,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Issued: numbered 1, then 2; issuing again keeps the number.
    let (s, html) = issue(app, c0, &office, "2024", "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("已印发整改通知书（平安测评〔2024〕1号）"),
        "{html}"
    );
    assert!(html.contains("id=\"notice-number\">平安测评〔2024〕1号<"));
    assert!(html.contains("人民政府：") && html.contains("30日内"));
    let (_, html) = issue(app, c1, &office, "2024", "2099-06-30").await;
    assert!(
        html.contains("平安测评〔2024〕2号") && html.contains("须于2099年6月30日前整改到位"),
        "{html}"
    );
    let (_, html) = issue(app, c0, &office, "2024", "2099-01-01").await;
    assert!(html.contains("平安测评〔2024〕1号") && !html.contains("2099年1月1日"));
    // A deadline in the past is refused and nothing is issued.
    let (_, html) = issue(app, c2, &office, "2024", "2020-01-01").await;
    assert!(
        html.contains("应为今天以后的日期") && html.contains("尚未印发"),
        "{html}"
    );
    let (_, html) = issue(app, c2, &office, "garbage", "").await;
    assert!(html.contains("年度应为数字"));

    // The county reads its own notice; it may not issue, nor read another's.
    let (s, html) = page(app, &format!("/report/{c0}?year=2024&kind=notice"), &county).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("平安测评〔2024〕1号"));
    let (s, _) = issue(app, c0, &county, "2024", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(app, &format!("/report/{c1}?year=2024&kind=notice"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The API: the notice's blocks; issuing is the office's.
    let (s, v) = app
        .get(
            &format!("/api/v1/reports/{c0}?year=2024&kind=notice"),
            Some(&county),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["blocks"][0]["Masthead"]["number"] == "平安测评〔2024〕1号",
        "{v}"
    );
    let (s, _) = post(
        app,
        "/api/v1/notices",
        &county,
        json!({"region": c0, "year": 2024}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(
        app,
        "/api/v1/notices",
        &office,
        json!({"region": c2, "year": 2024}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.to_string().contains("平安测评〔2024〕3号"));
    let (s, _) = post(
        app,
        "/api/v1/notices",
        &office,
        json!({"region": "nowhere", "year": 2024}),
    )
    .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    let (s, v) = app
        .get(&format!("/api/v1/reports/{c0}?year=2024"), Some(&office))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["title"]
            .as_str()
            .unwrap()
            .ends_with("2024年平安建设测评报告")
    );
    assert!(v["properties"].to_string().contains("pingan-ledger-hash"));
    let (s, _) = app
        .get(
            &format!("/api/v1/reports/{c0}/file?year=2024&format=exe"),
            Some(&office),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The files: the notice as Word, the report as Excel and as HTML.
    let (s, t, b) = file(
        app,
        &format!("/export/report?region={c0}&year=2024&kind=notice&format=docx"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(t.contains("wordprocessingml"));
    let xml = zip_part(&b, "word/document.xml");
    assert!(xml.contains("平安测评〔2024〕1号") && xml.contains("FF0000"));
    let (s, t, b) = file(
        app,
        &format!("/export/report?region={c0}&year=2024&format=xlsx"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(t.contains("spreadsheetml"));
    assert!(zip_part(&b, "xl/workbook.xml").contains("name=\"封面\""));
    let (s, t, b) = file(
        app,
        &format!("/api/v1/reports/{c0}/file?year=2024&format=html"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(t.starts_with("text/html"));
    let html = String::from_utf8(b).unwrap();
    assert!(html.contains("<style>") && html.contains("id=\"report-overall\""));
    assert!(
        !html.contains("src=\"http"),
        "nothing fetched from elsewhere"
    );
    let (s, _, _) = file(
        app,
        &format!("/export/report?region={c0}&year=2024&format=odt"),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The province's summary: the root's report ranks every county.
    let tree = app.store.ctx.tree().await.unwrap();
    let root = tree.root().unwrap().code.clone();
    let (s, html) = page(app, &format!("/report/{root}?year=2024"), &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("年平安建设测评结果通报") && html.contains("id=\"summary-counties\""));
    for c in &app.counties {
        assert!(
            html.contains(&format!("data-indicator=\"{c}\"")),
            "{c} ranked"
        );
    }

    // Every county's report and the summary in one zip, for the office.
    let (s, t, b) = file(app, "/export/reports.zip?year=2024&level=county", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(t.contains("zip"));
    let z = zip::ZipArchive::new(std::io::Cursor::new(&b)).unwrap();
    let names: Vec<&str> = z.file_names().collect();
    assert_eq!(names.len(), app.counties.len() + 1, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with(&format!("{c0}-"))));
    let (s, _, _) = file(app, "/export/reports.zip?year=2024&level=county", &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = file(app, "/export/reports.zip?year=2024&level=township", &office).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The same zip made in the background (下载中心), as the report page
    // offers it for a province of many counties.
    let prepare = |cookie: &str| {
        common::no_redirect()
            .post(format!(
                "{}/export/reports.zip?year=2024&level=county",
                app.base
            ))
            .header("cookie", cookie)
            .send()
    };
    let (s, html) = common::follow(app, prepare(&office).await.unwrap(), &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("正在后台生成") && html.contains("份）"),
        "{html}"
    );
    let link = common::made_file(app, &office, ".zip").await;
    let (_, html) = page(app, "/downloads", &office).await;
    assert!(html.contains("测评报告"), "{html}");
    let (s, t, made) = file(app, &link, &office).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t, "application/zip");
    let z = zip::ZipArchive::new(std::io::Cursor::new(&made)).unwrap();
    let made_names: Vec<&str> = z.file_names().collect();
    assert_eq!(made_names.len(), names.len(), "{made_names:?}");
    let r = prepare(&county).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Save a section's words from the edit page.
async fn save_edit(
    app: &App,
    code: &str,
    cookie: &str,
    kind: &str,
    section: &str,
    text: &str,
) -> (StatusCode, String) {
    let pairs = [
        ("year", "2024"),
        ("kind", kind),
        ("section", section),
        ("text", text),
    ];
    form(app, &format!("/report/{code}/edit"), cookie, &pairs).await
}

/// The office edits a section: the page, Word and the API print the new
/// words, the tables stay, every save is a version, an empty text puts the
/// generated words back; the county may not edit.
async fn edits(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let c0 = &app.counties[0];
    let edit = format!("/report/{c0}/edit");
    let (s, html) = page(app, &format!("{edit}?year=2024"), &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"edit-overall\"") && html.contains("id=\"edit-suggestions\""),
        "{html}"
    );
    let (s, _) = page(app, &format!("{edit}?year=2024"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let words = "经测评办复核，该县总体情况良好。\n\n第二段：请继续保持。";
    let (s, html) = save_edit(app, c0, &office, "report", "overall", words).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("已保存（第 1 版）"), "{html}");
    let (_, html) = page(app, &format!("/report/{c0}?year=2024"), &office).await;
    assert!(
        html.contains("id=\"report-overall\">经测评办复核，该县总体情况良好。<"),
        "{html}"
    );
    assert!(html.contains("第二段：请继续保持。") && html.contains("id=\"report-deductions\""));
    let (_, _, b) = file(
        app,
        &format!("/export/report.docx?region={c0}&year=2024"),
        &county,
    )
    .await;
    assert!(zip_part(&b, "word/document.xml").contains("第二段：请继续保持。"));
    let (_, v) = app
        .get(&format!("/api/v1/reports/{c0}?year=2024"), Some(&county))
        .await;
    assert!(v.to_string().contains("经测评办复核"));
    // Refused: an unknown section, the county, too long a text.
    let (_, html) = save_edit(app, c0, &office, "report", "nowhere", "x").await;
    assert!(html.contains("不是该文档可修改的部分"), "{html}");
    let (s, _) = save_edit(app, c0, &county, "report", "overall", "x").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let long = "长".repeat(20_001);
    let (_, html) = save_edit(app, c0, &office, "report", "overall", &long).await;
    assert!(html.contains("段落文字过长"));
    // Back to the generated words: version 2, and the total sentence again.
    let (_, html) = save_edit(app, c0, &office, "report", "overall", "  ").await;
    assert!(html.contains("已恢复为系统生成的文字（第 2 版）"), "{html}");
    let (_, html) = page(app, &format!("/report/{c0}?year=2024"), &office).await;
    assert!(!html.contains("经测评办复核") && html.contains("平安建设测评总分"));
    // The notice's problems, once issued.
    let (_, html) = save_edit(app, c0, &office, "notice", "problems", "1. 改写的问题。").await;
    assert!(html.contains("已保存（第 1 版）"), "{html}");
    let (_, html) = page(app, &format!("/report/{c0}?year=2024&kind=notice"), &county).await;
    assert!(html.contains("1. 改写的问题。") && html.contains("平安测评〔2024〕1号"));
    // The report carries what the checks found.
    assert!(
        page(app, &format!("/report/{c0}?year=2024"), &office)
            .await
            .1
            .contains("数据质量与实地核查")
    );
}

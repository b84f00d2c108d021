//! The 群众调查 pages, on SQLite and on PostgreSQL: the office uploads the
//! year's files (a bad one stores nothing and names its lines), sets the
//! plan and exports it, reads each index with its interval and drills
//! down; a county official reads its own subtree only; the estimates
//! become the year's values.

mod common;

use common::{App, follow, no_redirect, page, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_pages_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    pages(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_pages_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        pages(&app).await;
        app.db.done().await;
    }
}

async fn upload(app: &App, cookie: &str, kind: &str, name: &str, bytes: Vec<u8>) -> String {
    let form = Form::new()
        .text("year", "2024")
        .text("region", "")
        .text("kind", kind.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    let r = no_redirect()
        .post(format!("{}/surveys/upload", app.base))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, html) = follow(app, r, cookie).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    html
}

async fn post_form(app: &App, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> String {
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
    let (s, html) = follow(app, r, cookie).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    html
}

async fn xlsx_rows(app: &App, path: &str, cookie: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

async fn pages(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    // Before any questionnaire: an empty page that says what to do.
    let (s, html) = page(app, "/surveys", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("还没有导入任何年度的调查问卷") && html.contains("survey-upload"),
        "{html}"
    );
    let (s, html) = page(app, "/surveys", &county).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("survey-upload"), "only the office manages");

    // The office uploads: the questionnaire (the default, downloaded),
    // then the generated frame, margins and answers.
    let r = app
        .http
        .get(format!("{}/surveys/template.xlsx", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    let form = r.bytes().await.unwrap().to_vec();
    assert!(form.starts_with(b"PK"));
    let html = upload(app, &office, "form", "survey-form.xlsx", form).await;
    assert!(html.contains("已导入问卷 safety2024"), "{html}");
    let s = pingan_synth::generate_survey(
        &common::small_province(),
        &pingan_synth::SurveyOptions {
            year: 2024,
            respondents: 400,
        },
    )
    .unwrap();
    let html = upload(
        app,
        &office,
        "responses",
        "r.csv",
        s.responses.clone().into_bytes(),
    )
    .await;
    assert!(html.contains("还没有抽样框"), "{html}");
    let html = upload(
        app,
        &office,
        "frame",
        "frame.csv",
        s.frame.clone().into_bytes(),
    )
    .await;
    assert!(html.contains("已导入抽样框"), "{html}");
    let html = upload(
        app,
        &office,
        "margins",
        "margins.csv",
        s.margins.clone().into_bytes(),
    )
    .await;
    assert!(html.contains("已导入加权边际"), "{html}");
    let mut bad = s.responses.clone();
    bad.push_str("x1,9,000000,web,2024-10-01,x\n");
    let html = upload(app, &office, "responses", "bad.csv", bad.into_bytes()).await;
    assert!(
        html.contains("未写入任何数据") && html.contains("bad.csv:"),
        "{html}"
    );
    let html = upload(
        app,
        &office,
        "responses",
        "r.csv",
        s.responses.clone().into_bytes(),
    )
    .await;
    assert!(html.contains("已导入r.csv"), "{html}");

    // The plan: set, shown per township, exported for the survey firm.
    let html = post_form(
        app,
        "/surveys/plan",
        &office,
        &[
            ("year", "2024"),
            ("size", "5"),
            ("allocation", "proportional"),
            ("min", "30"),
            ("rate", "0.893"),
        ],
    )
    .await;
    assert!(
        html.contains("样本量 5 小于"),
        "a plan below the minimums is refused: {html}"
    );
    let html = post_form(
        app,
        "/surveys/plan",
        &office,
        &[
            ("year", "2024"),
            ("size", "1000"),
            ("allocation", "proportional"),
            ("min", "30"),
            ("rate", "0.893"),
        ],
    )
    .await;
    assert!(
        html.contains("已保存 2024 年抽样方案") && html.contains("id=\"plan\""),
        "{html}"
    );
    let plan = xlsx_rows(app, "/surveys/plan.xlsx?year=2024", &office).await;
    let targets: f64 = plan[1..].iter().map(|r| r[5].parse::<f64>().unwrap()).sum();
    assert_eq!(targets, 1000.0);
    assert_eq!(plan[0][6], "发放邀请");
    let (_, html) = page(
        app,
        "/surveys/plan?year=2024&margin=0.03&confidence=0.95&deff=1&rate=1",
        &office,
    )
    .await;
    assert!(
        html.contains("<strong>1068</strong>"),
        "the size calculator: {html}"
    );

    // The page: what came back, each index with its interval, the children.
    let (s, html) = page(app, "/surveys?year=2024", &office).await;
    assert_eq!(s, StatusCode::OK);
    for want in [
        "有效回收率",
        "用时过短",
        "计划样本",
        "id=\"indices\"",
        "data-chart=\"ci\"",
        "群众安全感指数",
        "id=\"children\"",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // The answers as responses.csv, streamed; importing it again changes
    // nothing (every row a duplicate).
    let tree = app.store.region_tree().await.unwrap();
    let r = app
        .http
        .get(format!("{}/surveys/responses.csv?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.bytes().await.unwrap().to_vec();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for Excel");
    let forms = app.store.survey_forms(Some(2024)).await.unwrap();
    let stored = app.store.response_digests(forms[0].id).await.unwrap().len();
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("_verdict,_straightlining,_duration_seconds,_interviewer,_assisted")
    );
    // The same as Excel, constant memory, streamed: the same header and rows.
    let r = app
        .http
        .get(format!("{}/surveys/responses.xlsx?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    {
        use calamine::{Reader, Xlsx};
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx");
        let sheet = book.worksheet_range("答卷").unwrap();
        let head: Vec<String> = sheet
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let csv_head: Vec<&str> = text
            .lines()
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}')
            .split(',')
            .collect();
        assert_eq!(head, csv_head);
        assert_eq!(
            sheet.height(),
            text.lines().count(),
            "every answer, one row each"
        );
        assert!(book.worksheet_range("导出说明").is_ok());
        // The same made in the background (下载中心) is the same sheet.
        let (s, html) = common::prepare(app, "/surveys/responses.xlsx?year=2024", &office).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("正在后台生成"), "{html}");
        let link = common::made_file(app, &office, ".xlsx").await;
        let (_, html) = common::page(app, "/downloads", &office).await;
        assert!(html.contains("调查答卷"), "{html}");
        let (s, made) = common::bytes(app, &link, &office).await;
        assert_eq!(s, StatusCode::OK);
        let mut made = Xlsx::new(std::io::Cursor::new(made)).expect("an xlsx");
        assert_eq!(made.worksheet_range("答卷").unwrap(), sheet);
    }
    // responses.csv made in the background is byte for byte the streamed one.
    let (s, html) = common::prepare(app, "/surveys/responses.csv?year=2024", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("正在后台生成"), "{html}");
    let link = common::made_file(app, &office, ".csv").await;
    let (s, made) = common::bytes(app, &link, &office).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(made, csv, "the same file as the streamed download");
    let op = pingan_service::Caller::operator("t");
    let again = pingan_service::surveys::import_responses(
        &app.store.ctx,
        &op.authorize::<pingan_service::cap::SurveyAnswers>()
            .unwrap(),
        2024,
        "export.csv",
        &csv,
        true,
    )
    .await
    .unwrap();
    assert_eq!((again.imported, again.duplicates), (0, stored), "{again:?}");
    let r = app
        .http
        .get(format!("{}/surveys/responses.csv?year=2024", app.base))
        .header("cookie", &county)
        .send()
        .await
        .unwrap();
    let mine = r.text().await.unwrap();
    let codes: Vec<String> = tree
        .children(tree.find(&app.counties[0]).unwrap())
        .iter()
        .map(|&t| tree.get(t).code.clone())
        .collect();
    assert!(mine.lines().count() > 1);
    assert!(
        mine.lines()
            .skip(1)
            .all(|l| codes.iter().any(|c| l.contains(&format!(",{c},")))),
        "a county official exports its own townships' answers"
    );

    // The fieldwork board: answers per day, each county's quotas, and the
    // interviewers (an interview answer with its paradata first).
    let town = &codes[0];
    let mut answers = serde_json::Map::new();
    for (q, a) in [
        ("sex", "f"),
        ("age_group", "60_plus"),
        ("occupation", "retired"),
        ("residence", "rural"),
        ("years_here", "40"),
        ("q_dependants", "no"),
    ] {
        answers.insert(q.into(), a.into());
    }
    let item = serde_json::json!({"instance_id": "pages-visit-1", "form_version": "1", "region": town,
        "channel": "interview", "started": "2024-10-08 09:00:00", "submitted": "2024-10-08 09:12:00",
        "answers": answers, "interviewer": "F-042", "assisted": true});
    let (s, v) = common::post(
        app,
        "/api/v1/surveys/safety2024/responses",
        &office,
        serde_json::json!({"responses": [item]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let collector = app.cookie("collector").await;
    let (s, html) = page(app, "/surveys/fieldwork?year=2024", &collector).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"interviewers\"") && html.contains("F-042"),
        "{html}"
    );
    assert!(
        html.contains("data-chart=\"daily\"") && html.contains("id=\"quotas\""),
        "{html}"
    );
    assert!(html.contains("偏多") || html.contains("偏少") || html.contains("个百分点"));
    let quotas = xlsx_rows(app, "/surveys/fieldwork/quotas.xlsx?year=2024", &collector).await;
    let margins = app.store.survey_margins(2024).await.unwrap().len();
    assert_eq!(quotas.len() - 1, margins, "one row per margin");
    let mine = xlsx_rows(app, "/surveys/fieldwork/quotas.xlsx?year=2024", &county).await;
    assert!(
        mine[1..].iter().all(|r| r[0] == app.counties[0]),
        "a county official sees its own county"
    );
    let (s, _) = page(
        app,
        &format!("/surveys/fieldwork?year=2024&region={}", app.counties[1]),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A county official: its own county, not another.
    let (s, html) = page(app, "/surveys?year=2024", &county).await;
    assert_eq!(s, StatusCode::OK);
    let tree = app.store.region_tree().await.unwrap();
    let own = tree.find(&app.counties[0]).unwrap();
    assert!(html.contains(&tree.get(own).name));
    let (s, _) = page(
        app,
        &format!("/surveys?year=2024&region={}", app.counties[1]),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let rows = xlsx_rows(app, "/surveys/export.xlsx?year=2024", &county).await;
    assert_eq!(
        rows.len(),
        1 + 1 + tree.children(own).len(),
        "the county and its townships"
    );
    assert_eq!(rows[1][0], app.counties[0]);
    let (s, _) = page(app, "/surveys/export.xlsx?year=2024&min_n=0", &office).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for who in ["dept", "auditor"] {
        let c = app.cookie(who).await;
        let (s, _) = page(app, "/surveys", &c).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    let r = no_redirect()
        .post(format!("{}/surveys/apply", app.base))
        .header("cookie", &county)
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("year=2024")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("只有测评办管理员"));

    // The estimates become the year's values of the nine elements.
    let html = post_form(
        app,
        "/surveys/apply",
        &office,
        &[("year", "2024"), ("min_n", "30"), ("region", "")],
    )
    .await;
    assert!(html.contains("已写入 2024 年调查估计"), "{html}");
    let root = tree.get(0).code.clone();
    let stored = app
        .store
        .values(Some(&root), Some("2024"), Some("safety_index"))
        .await
        .unwrap();
    assert!(stored.iter().any(|v| v.source == "群众调查"), "{stored:?}");
}

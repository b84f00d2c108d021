//! Issue 21's scripted year on SQLite and PostgreSQL: notices → plans (one
//! late) → progress with an evidence file → 销号 refused once, then closed →
//! the automatic 复查 by indicator → the overdue list → problems from the
//! checks, merged → 约谈 and a deduction visible in the breakdown →
//! publication → an objection upheld → correction → republication → final
//! → the effect evaluation matching a hand count. A county sees and acts
//! on its own lists only.

mod common;

use common::{App, bytes, follow, no_redirect, page, spawn_app, submit as form};
use pingan_store::testing::Kind;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_year_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    year(&app).await;
    kept_by_backup(&app, Kind::Sqlite).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_year_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        year(&app).await;
        kept_by_backup(&app, Kind::Postgres).await;
        app.db.done().await;
    }
}

/// A multipart form with files, as the browser posts one.
async fn upload(
    app: &App,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
) -> (StatusCode, String) {
    let mut f = reqwest::multipart::Form::new();
    for (k, v) in pairs {
        f = f.text(k.to_string(), v.to_string());
    }
    for (field, name, b) in files {
        f = f.part(
            field.to_string(),
            reqwest::multipart::Part::bytes(b.clone()).file_name(name.to_string()),
        );
    }
    let r = no_redirect()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .multipart(f)
        .send()
        .await
        .unwrap();
    follow(app, r, cookie).await
}

fn items(html: &str) -> Vec<String> {
    html.split("id=\"item-")
        .skip(1)
        .filter_map(|t| t.split('"').next())
        .map(str::to_string)
        .collect()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

async fn year(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let (c0, c1) = (&app.counties[0], &app.counties[1]);
    let path = format!("/rectify/{c0}");
    let step = |item: &str, action: &str, extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut v = vec![
            ("year".to_string(), "2023".to_string()),
            ("item".into(), item.into()),
            ("action".into(), action.into()),
        ];
        v.extend(extra.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        v
    };
    let pairs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
    async fn post(app: &App, path: &str, cookie: &str, v: Vec<(String, String)>) -> String {
        let p: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        form(app, path, cookie, &p).await.1
    }

    // 1. Notices for 2023 and the list opened from c0's.
    for c in [c0, c1] {
        let (s, _) = form(
            app,
            &format!("/report/{c}/notice"),
            &office,
            &[("year", "2023")],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (_, html) = form(app, &path, &office, &[("year", "2023"), ("action", "open")]).await;
    assert!(html.contains("已生成问题清单"), "{html}");
    let listed = app.store.rectify_items(2023, Some(c0)).await.unwrap();
    let with_indicator = listed
        .iter()
        .find(|i| !i.indicator.is_empty())
        .expect("the notice names an indicator")
        .clone();
    let plain = listed
        .iter()
        .find(|i| i.id != with_indicator.id)
        .expect("a second problem")
        .clone();
    // A third problem whose plan is already late (its notice was long ago).
    app.store
        .add_rectify_items(
            2023,
            c0,
            &[pingan_store::NewItem {
                source: "manual",
                indicator: "",
                problem: "老旧小区监控盲区",
                plan_due: "2020-01-01",
                deadline: "2020-03-01",
            }],
            &pingan_store::Actor::cli("测试"),
        )
        .await
        .unwrap();
    let late_id = app
        .store
        .rectify_items(2023, Some(c0))
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.problem == "老旧小区监控盲区")
        .unwrap()
        .id
        .to_string();

    // 2. The overdue warning: the board, the weekly list and its workbook.
    let (_, html) = page(app, "/rectify?year=2023", &county).await;
    assert!(
        html.contains("老旧小区监控盲区") && html.contains("整改方案逾期未报"),
        "{html}"
    );
    assert!(!html.contains(&format!("data-region=\"{c1}\"")), "scope");
    let (s, x) = bytes(app, "/export/rectify-late.xlsx", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(x.starts_with(b"PK"));

    // 3. Plans: two on time (one promising the 2024 value), one late.
    let item_a = with_indicator.id.to_string();
    let item_b = plain.id.to_string();
    let scores = app.get("/api/v1/scores?period=2024", Some(&office)).await.1;
    let value = scores["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == c0.as_str())
        .and_then(|r| {
            r["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["code"] == with_indicator.indicator.as_str())
        })
        .and_then(|i| i["value"].as_f64())
        .expect("a 2024 value");
    let plan = [
        ("unit", "县公安局"),
        ("person", "张三"),
        ("measures", "增加巡逻"),
        ("target", "达到同级中位数"),
    ];
    let html = post(
        app,
        &path,
        &county,
        step(
            &item_a,
            "plan",
            &[plan.as_slice(), &[("target_value", "不是数")]].concat(),
        ),
    )
    .await;
    assert!(html.contains("不是数字"), "{html}");
    let v = value.to_string();
    let html = post(
        app,
        &path,
        &county,
        step(
            &item_a,
            "plan",
            &[plan.as_slice(), &[("target_value", v.as_str())]].concat(),
        ),
    )
    .await;
    assert!(html.contains("已报送整改方案"), "{html}");
    let html = post(app, &path, &county, step(&item_b, "plan", &plan)).await;
    assert!(html.contains("已报送整改方案"), "{html}");
    let html = post(app, &path, &county, step(&late_id, "plan", &plan)).await;
    assert!(
        html.contains("已报送整改方案"),
        "a late plan is still filed: {html}"
    );

    // 4. Progress with evidence: a program is refused and nothing is kept;
    // a PDF is kept with its SHA-256 and comes back byte for byte.
    let p = pairs(&step(&item_b, "progress", &[("note", "已安装监控 30 处")]));
    let p: Vec<(&str, &str)> = p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (_, html) = upload(
        app,
        &path,
        &county,
        &p,
        &[("evidence", "台账.exe", b"MZ\x90\x00 program".to_vec())],
    )
    .await;
    assert!(
        html.contains("不是图片") && !html.contains("已安装监控 30 处"),
        "{html}"
    );
    let (_, html) = upload(
        app,
        &path,
        &county,
        &p,
        &[("evidence", "台账.pdf", PDF.to_vec())],
    )
    .await;
    assert!(
        html.contains("已安装监控 30 处") && html.contains("台账.pdf"),
        "{html}"
    );
    let file = html
        .split("/rectify/file/")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_string();
    let (s, got) = bytes(app, &format!("/rectify/file/{file}"), &county).await;
    assert_eq!((s, got.as_slice()), (StatusCode::OK, PDF));
    let other = app.cookie("county").await; // the same county: allowed
    assert_eq!(
        bytes(app, &format!("/rectify/file/{file}"), &other).await.0,
        StatusCode::OK
    );

    // 5. 销号: refused once, then closed after a written 复查; an on-site
    // 复查 needs a closed field task of the region.
    let html = post(
        app,
        &path,
        &county,
        step(&item_b, "request", &[("note", "整改完成")]),
    )
    .await;
    assert!(html.contains("已申请销号"), "{html}");
    let html = post(
        app,
        &path,
        &office,
        step(&item_b, "refuse", &[("note", "缺少签字")]),
    )
    .await;
    assert!(html.contains("已驳回销号申请"), "{html}");
    let html = post(
        app,
        &path,
        &county,
        step(&item_b, "request", &[("note", "补签字")]),
    )
    .await;
    assert!(html.contains("已申请销号"), "{html}");
    let html = post(
        app,
        &path,
        &office,
        step(
            &item_b,
            "approve",
            &[("recheck", "on_site"), ("field_task", "999999")],
        ),
    )
    .await;
    assert!(html.contains("实地核查任务 999999 不存在"), "{html}");
    if plain.indicator.is_empty() {
        let html = post(
            app,
            &path,
            &office,
            step(&item_b, "approve", &[("recheck", "document")]),
        )
        .await;
        assert!(html.contains("已同意销号（已销号）"), "{html}");
    } else {
        // On site: the office has a field task made for the item; only
        // once it is closed does it carry the 销号.
        let html = post(app, &path, &office, step(&item_b, "field", &[])).await;
        assert!(html.contains("已生成实地核查任务"), "{html}");
        let task = html
            .split("已生成实地核查任务 ")
            .nth(1)
            .and_then(|t| t.split('：').next())
            .unwrap()
            .trim()
            .to_string();
        let on_site = [("recheck", "on_site"), ("field_task", task.as_str())];
        let html = post(app, &path, &office, step(&item_b, "approve", &on_site)).await;
        assert!(html.contains("尚未完成"), "{html}");
        app.store
            .close_task(
                task.parse().unwrap(),
                "已核实整改到位",
                &pingan_store::Actor::cli("测试"),
            )
            .await
            .unwrap();
        let html = post(app, &path, &office, step(&item_b, "approve", &on_site)).await;
        assert!(html.contains("已同意销号（已销号）"), "{html}");
        assert!(
            html.contains("实地复查") || html.contains("已同意销号"),
            "{html}"
        );
    }
    assert!(
        !plain.indicator.is_empty(),
        "the demo's notice names indicators for its first two problems"
    );

    // 6. The automatic 复查: item A's indicator reached its target in 2024.
    let (s, _) = form(app, &path, &county, &[("year", "2023"), ("action", "auto")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = form(app, &path, &office, &[("year", "2023"), ("action", "auto")]).await;
    assert!(html.contains("自动销号 1 项"), "{html}");
    assert!(html.contains(&format!("id=\"item-{item_a}\" data-state=\"closed\"")));
    assert!(html.contains("系统自动销号"));

    // 7. Problems from the checks (nothing new twice), and merging.
    let (_, html) = form(
        app,
        &path,
        &office,
        &[("year", "2023"), ("action", "checks")],
    )
    .await;
    assert!(
        html.contains("补充问题") || html.contains("没有发现清单以外的问题"),
        "{html}"
    );
    let (_, again) = form(
        app,
        &path,
        &office,
        &[("year", "2023"), ("action", "checks")],
    )
    .await;
    assert!(again.contains("没有发现清单以外的问题"), "{again}");
    let (_, html) = form(
        app,
        &path,
        &office,
        &[
            ("year", "2023"),
            ("action", "add"),
            ("problem", "社区矫正对象脱管"),
        ],
    )
    .await;
    let open_ids: Vec<String> = items(&html)
        .into_iter()
        .filter(|i| html.contains(&format!("id=\"item-{i}\" data-state=\"open\"")))
        .collect();
    assert!(!open_ids.is_empty(), "{html}");
    let before = items(&html).len();
    let (_, html) = form(
        app,
        &path,
        &office,
        &[
            ("year", "2023"),
            ("action", "merge"),
            ("item", &late_id),
            ("from", open_ids.last().unwrap()),
        ],
    )
    .await;
    assert!(html.contains("已合并问题"), "{html}");
    assert_eq!(items(&html).len(), before - 1);
    assert!(
        html.contains("老旧小区监控盲区；社区矫正对象脱管"),
        "{html}"
    );
    let (s, _) = form(
        app,
        &path,
        &county,
        &[
            ("year", "2023"),
            ("action", "merge"),
            ("item", &late_id),
            ("from", &item_a),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The API: the same list and the same state machine.
    let (st, v) = app
        .get(&format!("/api/v1/rectify/{c0}?year=2023"), Some(&county))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), items(&html).len());
    assert!(
        list.iter()
            .any(|i| i["item"]["state"] == "closed" && !i["steps"].as_array().unwrap().is_empty())
    );
    let (st, _) = app
        .get(&format!("/api/v1/rectify/{c1}?year=2023"), Some(&county))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = common::post(
        app,
        &format!("/api/v1/rectify/items/{item_a}/steps"),
        &county,
        serde_json::json!({"action": "approve", "recheck": "document"}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = common::post(
        app,
        &format!("/api/v1/rectify/items/{late_id}/steps"),
        &county,
        serde_json::json!({"action": "progress", "note": "已排查 12 个小区"}),
    )
    .await;
    assert_eq!(
        (st, v["state"].as_str()),
        (StatusCode::OK, Some("planned")),
        "{v}"
    );
    let (st, v) = app.get("/api/v1/rectify-late", Some(&county)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|l| l["item"]["region"] == c0.as_str())
    );

    // Scope: the county's own lists only.
    let (s, _) = page(app, &format!("/rectify/{c1}?year=2023"), &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(app, "/consequences?year=2024", &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // 8. Consequences: a 约谈 with its minutes; 2023's rectification not done
    // costs c0 1.5 points of its 2024 total, shown with the reason.
    let (_, html) = upload(
        app,
        "/consequences",
        &office,
        &[
            ("year", "2024"),
            ("do", "interview"),
            ("region", c0),
            ("held_on", "2025-01-10"),
            ("interviewer", "省委政法委主要领导"),
            ("interviewee", "县委书记、县长"),
            ("summary", "压实整改责任"),
        ],
        &[("minutes", "约谈纪要.pdf", PDF.to_vec())],
    )
    .await;
    assert!(
        html.contains("已登记约谈") && html.contains("约谈纪要.pdf"),
        "{html}"
    );
    // The bottom three counties of the province, as the scores say (the
    // two cities are too few for a bottom three).
    let bottoms = scores["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level_bottom"] == true && (r["level"] == "county" || r["level"] == "city"))
        .count();
    let table = html
        .split("id=\"bottom-three\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or("");
    assert_eq!(
        table.matches("<tr data-region=").count(),
        bottoms,
        "{table}"
    );
    assert_eq!(bottoms, 3);
    let total = |v: &serde_json::Value| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["region"] == c0.as_str())
            .and_then(|r| r["total"].as_f64())
            .unwrap()
    };
    // The overdue item makes c0 a candidate for 通报批评 on 2023's page.
    let (_, html) = page(app, "/consequences?year=2023", &office).await;
    let late = html
        .split("id=\"late-regions\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{html}"));
    assert!(late.contains(&format!("data-region=\"{c0}\"")), "{late}");
    let before = total(&scores);
    let (_, html) = upload(
        app,
        "/consequences",
        &office,
        &[
            ("year", "2023"),
            ("do", "deduct"),
            ("region", c0),
            ("to_year", "2024"),
            ("points", "1.5"),
            ("reason", "2023年问题整改不力，通报批评"),
        ],
        &[],
    )
    .await;
    assert!(html.contains("已登记：从 2024 年总分中扣 1.5 分"), "{html}");
    let after = app.get("/api/v1/scores?period=2024", Some(&office)).await.1;
    assert!((total(&after) - (before - 1.5).max(0.0)).abs() < 1e-9);
    let (_, html) = page(app, &format!("/region/{c0}?period=2024"), &county).await;
    assert!(
        html.contains("id=\"deductions\"") && html.contains("2023年问题整改不力"),
        "{html}"
    );
    let (_, html) = upload(
        app,
        "/consequences",
        &office,
        &[
            ("year", "2023"),
            ("do", "deduct"),
            ("region", c0),
            ("to_year", "2024"),
            ("points", "99"),
            ("reason", "x"),
        ],
        &[],
    )
    .await;
    assert!(html.contains("不超过"), "{html}");

    // 9. Publication, an objection upheld, the correction, republication, final.
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[("year", "2024"), ("do", "republish")],
    )
    .await;
    assert!(html.contains("重新公开"), "{html}");
    let (s, html) = page(app, "/public/2024", "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("在全省") && html.contains("得分率最高"),
        "the 解读: {html}"
    );
    let (_, html) = form(
        app,
        "/public/2024/objection",
        "",
        &[
            ("region", c0),
            ("name", "李四"),
            ("contact", "13800000000"),
            ("content", "监控覆盖率数据有误"),
        ],
    )
    .await;
    assert!(html.contains("已收到您的异议"), "{html}");
    // The county's official, signed in, files as the account.
    let (_, html) = form(
        app,
        "/public/2024/objection",
        &county,
        &[("region", c0), ("content", "本区整改数据未计入")],
    )
    .await;
    assert!(html.contains("已收到您的异议"), "{html}");
    let (_, html) = form(
        app,
        "/public/2024/objection",
        "",
        &[("region", c0), ("content", "无名无姓")],
    )
    .await;
    assert!(html.contains("请填写姓名或单位"), "{html}");
    let filed = app.store.objections(2024).await.unwrap();
    assert_eq!(filed.len(), 2);
    assert_eq!(
        (filed[1].account.as_str(), filed[1].contact.as_str()),
        ("county", "")
    );
    let id = filed[0].id.to_string();
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[
            ("year", "2024"),
            ("id", &id),
            ("answer", "经核实属实"),
            ("upheld", "1"),
        ],
    )
    .await;
    assert!(html.contains("请填写更正情况"), "{html}");
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[
            ("year", "2024"),
            ("id", &id),
            ("answer", "经核实属实"),
            ("correction", "公安局更正监控覆盖率并重新计分"),
            ("upheld", "1"),
        ],
    )
    .await;
    assert!(html.contains("公安局更正监控覆盖率并重新计分"), "{html}");
    let second = filed[1].id.to_string();
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[
            ("year", "2024"),
            ("id", &second),
            ("answer", "整改数据按方案计入下一年度"),
            ("upheld", "0"),
        ],
    )
    .await;
    assert!(html.contains("异议不成立"), "{html}");
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[("year", "2024"), ("do", "final")],
    )
    .await;
    assert!(html.contains("期满后再正式发布"), "{html}");
    // The window passes (the snapshot kept with an ended window).
    let p = app.store.publication(2024).await.unwrap().unwrap();
    app.store
        .publish(
            2024,
            "2000-01-01T00:00:00.000Z",
            p.ledger_seq,
            &p.results,
            1,
            &pingan_store::Actor::cli("测试"),
        )
        .await
        .unwrap();
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[("year", "2024"), ("do", "final")],
    )
    .await;
    assert!(html.contains("已正式发布"), "{html}");
    let (_, v) = app.get("/api/v1/public/2024/scores", None).await;
    assert_eq!(v["status"], "已发布");
    assert!(v["final_at"].as_str().is_some_and(|s| !s.is_empty()));
    let (_, html) = form(
        app,
        "/objections",
        &office,
        &[("year", "2024"), ("do", "republish")],
    )
    .await;
    assert!(html.contains("已正式发布，不能再更改"), "{html}");

    // 10. 效果评估 against a hand count: of 2023's four listed items (one
    // merged away), item B closed on time, item A closed on time by the
    // indicator, the late item past its deadline: 2 of 3 due on time. c0 has
    // a recorded use with a weight of 25 %.
    let (_, html) = form(
        app,
        "/effect",
        &office,
        &[
            ("year", "2023"),
            ("region", c0),
            ("kind", "assessment"),
            ("note", "纳入县级班子考核"),
            ("weight", "25"),
            ("applied", "1"),
        ],
    )
    .await;
    assert!(html.contains("已登记"), "{html}");
    let due = app.store.rectify_due(2023).await.unwrap();
    let today = pingan_service::report::beijing(&pingan_store::now()).0;
    let due_now: Vec<_> = due
        .iter()
        .filter(|(d, closed)| closed.is_some() || d.as_str() < today.as_str())
        .collect();
    let in_time = due_now
        .iter()
        .filter(|(d, c)| c.as_ref().is_some_and(|c| c[..10] <= d[..10]))
        .count();
    assert_eq!((in_time, due_now.len()), (2, 3), "{due:?}");
    let (_, html) = page(app, "/effect?year=2023", &office).await;
    assert!(html.contains("2 / 3 项到期问题按期销号"), "{html}");
    assert!(html.contains("66.7%"), "{html}");
    assert!(html.contains("其中达到要求 <strong>1</strong>"), "{html}");
}

/// Everything the year wrote survives a backup and restore: notices,
/// items with their steps and files, 约谈, deductions, the publication,
/// objections and uses.
async fn kept_by_backup(app: &App, kind: Kind) {
    let (copy, store) = common::round_trip(app, kind).await;
    let before = &app.store.ctx.store;
    for y in [2023, 2024] {
        assert_eq!(
            store.notices(y).await.unwrap(),
            before.notices(y).await.unwrap()
        );
        let items = before.rectify_items(y, None).await.unwrap();
        assert_eq!(store.rectify_items(y, None).await.unwrap(), items);
        for i in &items {
            assert_eq!(
                store.rectify_steps(i.id).await.unwrap(),
                before.rectify_steps(i.id).await.unwrap()
            );
            assert_eq!(
                store.rectify_files(i.id).await.unwrap(),
                before.rectify_files(i.id).await.unwrap()
            );
        }
        assert_eq!(
            store.interviews(y).await.unwrap(),
            before.interviews(y).await.unwrap()
        );
        assert_eq!(
            store.deductions(y).await.unwrap(),
            before.deductions(y).await.unwrap()
        );
        assert_eq!(
            store.publication(y).await.unwrap(),
            before.publication(y).await.unwrap()
        );
        assert_eq!(
            store.objections(y).await.unwrap(),
            before.objections(y).await.unwrap()
        );
        assert_eq!(
            store.result_uses(y).await.unwrap(),
            before.result_uses(y).await.unwrap()
        );
    }
    assert!(
        !before.rectify_items(2023, None).await.unwrap().is_empty()
            || !before.rectify_items(2024, None).await.unwrap().is_empty()
    );
    copy.done().await;
}

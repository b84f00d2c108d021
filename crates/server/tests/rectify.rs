//! The 整改清单 (issue 21) on SQLite and PostgreSQL: opened from the issued
//! notice, the county files its plan, reports progress and asks for 销号,
//! the office refuses once and then closes after a written re-inspection;
//! each party only does its own steps, and another county sees nothing.

mod common;

use common::{App, page, spawn_app, submit as form};
use pingan_store::testing::Kind;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rectify_on_sqlite() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    rectify(&app).await;
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rectify_on_postgres() {
    if let Some(app) = spawn_app(Kind::Postgres).await {
        rectify(&app).await;
        app.db.done().await;
    }
}

/// The first item's id on the page.
fn first_item(html: &str) -> String {
    html.split("id=\"item-")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("an item")
        .to_string()
}

async fn rectify(app: &App) {
    let office = app.cookie("office").await;
    let county = app.cookie("county").await;
    let c0 = &app.counties[0];
    let path = format!("/rectify/{c0}");
    let at = format!("{path}?year=2024");
    // No notice yet: no list.
    let (_, html) = form(app, &path, &office, &[("year", "2024"), ("action", "open")]).await;
    assert!(html.contains("尚未印发整改通知书"), "{html}");
    let (s, _) = form(
        app,
        &format!("/report/{c0}/notice"),
        &office,
        &[("year", "2024")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The county may not open the list; the office does, once.
    let (s, _) = form(app, &path, &county, &[("year", "2024"), ("action", "open")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = form(app, &path, &office, &[("year", "2024"), ("action", "open")]).await;
    assert!(html.contains("已生成问题清单"), "{html}");
    let (_, html) = form(app, &path, &office, &[("year", "2024"), ("action", "open")]).await;
    assert!(html.contains("已生成"), "{html}");
    let (s, html) = page(app, &at, &county).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-state=\"open\"") && html.contains("待报整改方案"));
    let item = first_item(&html);
    let step = |action: &'static str| {
        vec![
            ("year", "2024"),
            ("item", item.as_str()),
            ("action", action),
        ]
    };

    // The office cannot plan for the county; an empty plan is refused.
    let (_, html) = form(app, &path, &office, &step("plan")).await;
    assert!(html.contains("由被测评地区办理"), "{html}");
    let (_, html) = form(app, &path, &county, &step("plan")).await;
    assert!(html.contains("请填写责任单位"), "{html}");
    let (_, html) = form(app, &path, &county, &step("request")).await;
    assert!(html.contains("请先报送整改方案"));
    let mut plan = step("plan");
    plan.extend([
        ("unit", "县公安局"),
        ("person", "张三"),
        ("measures", "增加巡逻警力"),
        ("target", "刑事案件发案率降至同级中位数以下"),
    ]);
    let (_, html) = form(app, &path, &county, &plan).await;
    assert!(
        html.contains("已报送整改方案（整改中）") && html.contains("县公安局"),
        "{html}"
    );
    let mut progress = step("progress");
    progress.push(("note", "已完成巡逻方案"));
    let (_, html) = form(app, &path, &county, &progress).await;
    assert!(html.contains("已完成巡逻方案"));
    let mut request = step("request");
    request.push(("note", "整改完成，附巡逻台账"));
    let (_, html) = form(app, &path, &county, &request).await;
    assert!(html.contains("已申请销号，待复查"), "{html}");
    // The county cannot close its own item; the office refuses, then closes.
    let mut approve = step("approve");
    approve.push(("recheck", "document"));
    let (_, html) = form(app, &path, &county, &approve).await;
    assert!(html.contains("由测评办在复查后办理"));
    let (_, html) = form(app, &path, &office, &step("refuse")).await;
    assert!(html.contains("请填写说明"), "a refusal needs its reason");
    let mut refuse = step("refuse");
    refuse.push(("note", "台账缺少签字"));
    let (_, html) = form(app, &path, &office, &refuse).await;
    assert!(
        html.contains("已驳回销号申请（整改中）") && html.contains("台账缺少签字"),
        "{html}"
    );
    let (_, _) = form(app, &path, &county, &request).await;
    let (_, html) = form(app, &path, &office, &approve).await;
    assert!(html.contains("已同意销号（已销号）"), "{html}");
    assert!(html.contains(&format!("id=\"item-{item}\" data-state=\"closed\"")));
    let (_, html) = form(app, &path, &office, &approve).await;
    assert!(html.contains("该问题已销号"));

    // Another county's list is not the county's to see; garbage is refused.
    let (s, _) = page(
        app,
        &format!("/rectify/{}?year=2024", app.counties[1]),
        &county,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = form(
        app,
        &path,
        &county,
        &[("year", "2024"), ("item", "x"), ("action", "plan")],
    )
    .await;
    assert!(html.contains("整改事项编号无效"));
    let (_, html) = form(
        app,
        &path,
        &county,
        &[("year", "2024"), ("item", &item), ("action", "fly")],
    )
    .await;
    assert!(html.contains("未知的整改操作"));
    let (_, html) = form(
        app,
        &path,
        &county,
        &[("year", "2024"), ("item", "999999"), ("action", "plan")],
    )
    .await;
    assert!(html.contains("不存在"));
    // A late item warns on the county's home page, not on another's.
    app.store
        .add_rectify_items(
            2024,
            c0,
            &[pingan_store::NewItem {
                source: "manual",
                indicator: "",
                problem: "逾期测试问题",
                plan_due: "2020-01-01",
                deadline: "2020-03-01",
            }],
            &pingan_store::Actor::cli("测试"),
        )
        .await
        .unwrap();
    let (_, html) = page(app, "/?period=2024", &county).await;
    assert!(
        html.contains("id=\"rectify-overdue\"") && html.contains("整改方案逾期未报"),
        "{html}"
    );
    let (_, html) = page(app, &at, &county).await;
    assert!(html.contains("逾期测试问题") && html.contains("class=\"tag danger overdue\""));

    // The office adds a problem by hand and rewords one; the county may not.
    let (_, html) = form(
        app,
        &path,
        &office,
        &[("year", "2024"), ("action", "add"), ("problem", "  ")],
    )
    .await;
    assert!(html.contains("请填写问题"), "{html}");
    let (_, html) = form(
        app,
        &path,
        &office,
        &[
            ("year", "2024"),
            ("action", "add"),
            ("problem", "社区监控有盲区"),
        ],
    )
    .await;
    assert!(
        html.contains("已添加问题") && html.contains("社区监控有盲区"),
        "{html}"
    );
    let (s, _) = form(
        app,
        &path,
        &county,
        &[("year", "2024"), ("action", "add"), ("problem", "x")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let open_item = html
        .split("data-state=\"open\"")
        .next()
        .and_then(|t| t.rsplit("id=\"item-").next())
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_string();
    let (_, html) = form(
        app,
        &path,
        &office,
        &[
            ("year", "2024"),
            ("action", "edit"),
            ("item", &open_item),
            ("problem", "改写后的问题"),
        ],
    )
    .await;
    assert!(
        html.contains("已修改问题") && html.contains("改写后的问题"),
        "{html}"
    );
    let (_, html) = form(
        app,
        &path,
        &office,
        &[
            ("year", "2024"),
            ("action", "edit"),
            ("item", &item),
            ("problem", "已销号的不能改"),
        ],
    )
    .await;
    assert!(html.contains("已销号或不存在"), "{html}");

    // 效果评估: one item closed on time, one past its deadline: 50 %; a use
    // recorded for one region; the office's page and workbook, not the county's.
    let (s, _) = page(app, "/effect?year=2024", &county).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = form(
        app,
        "/effect",
        &office,
        &[
            ("year", "2024"),
            ("region", c0.as_str()),
            ("kind", "assessment"),
            ("note", "纳入年度考核，权重 20%"),
        ],
    )
    .await;
    assert!(
        html.contains("已登记") && html.contains("纳入年度考核"),
        "{html}"
    );
    let (_, html) = form(
        app,
        "/effect",
        &office,
        &[
            ("year", "2024"),
            ("region", c0.as_str()),
            ("kind", "fun"),
            ("note", "x"),
        ],
    )
    .await;
    assert!(html.contains("用途“fun”无效"));
    let (s, html) = page(app, "/effect?year=2024", &office).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("1 / 2 项到期问题按期销号") && html.contains(">50%<"),
        "{html}"
    );
    assert!(html.contains("1 / ") && html.contains("个市、县有运用记录"));
    let r = app
        .http
        .get(format!("{}/export/effect.xlsx?year=2024", app.base))
        .header("cookie", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut book = String::new();
    std::io::Read::read_to_string(&mut z.by_name("xl/workbook.xml").unwrap(), &mut book).unwrap();
    assert!(
        book.contains("name=\"封面\"") && book.contains("name=\"效果评估\""),
        "{book}"
    );
    assert!(
        book.contains("专项经费倾斜") && book.contains("群众调查各项指数"),
        "the funding rule and the survey indices: {book}"
    );
}

//! The web pages over HTTP: login and its redirects, what each role may
//! open, the ranking table against the API, exports, static assets served
//! from the binary, and user management under 三员分立. (The headless
//! browser suite in `browser.rs` checks what a person sees.)

mod common;

use common::{App, PW, spawn_app};
use pingan_store::testing::Kind;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

struct Browser<'a> {
    app: &'a App,
    http: reqwest::Client,
    /// Cookies by name, as a browser keeps them.
    jar: std::collections::BTreeMap<String, String>,
    cookie: String,
    /// The outcome the last form left for its page: ("ok" | "err", text).
    flash: Option<(String, String)>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a App) -> Self {
        Browser {
            app,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .no_gzip()
                .build()
                .unwrap(),
            jar: Default::default(),
            cookie: String::new(),
            flash: None,
        }
    }

    /// Keep what an answer set, as a browser does.
    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let Some((k, v)) = v
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
            else {
                continue;
            };
            if v.is_empty() {
                self.jar.remove(k);
            } else {
                if k == "pingan_flash" {
                    let (kind, text) = v.split_once('.').unwrap();
                    let text = form_urlencoded::parse(format!("m={text}").as_bytes())
                        .next()
                        .unwrap()
                        .1
                        .into_owned();
                    self.flash = Some((kind.to_string(), text));
                }
                self.jar.insert(k.to_string(), v.to_string());
            }
        }
        self.cookie = self
            .jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
    }

    /// Whether the last form succeeded (its one-time banner said so).
    fn ok(&self) -> bool {
        self.flash.as_ref().is_some_and(|f| f.0 == "ok")
    }
    fn err(&self) -> bool {
        self.flash.as_ref().is_some_and(|f| f.0 == "err")
    }

    async fn login(app: &'a App, user: &str) -> Self {
        let mut b = Browser::new(app);
        let (s, loc, _) = b
            .post(
                "/login",
                &[("username", user), ("password", PW), ("next", "/")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{user}");
        assert!(!b.cookie.is_empty(), "{user} {loc}");
        b
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let s = r.status();
        let loc = location(&r);
        (s, loc, r.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.flash = None;
        self.keep(&r);
        let s = r.status();
        let loc = location(&r);
        (s, loc, r.text().await.unwrap())
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// `attr="…"` values in order of appearance.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_pages_and_assets() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut anon = Browser::new(&app);
    let (s, loc, _) = anon.get("/region/990101").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc, "/login?next=/region/990101");
    let (s, _, html) = anon.get("/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("平安建设测评平台") && html.contains("id=\"login\""));
    // A wrong password: the form again, with the reason in Chinese.
    let (s, _, html) = anon
        .post("/login", &[("username", "office"), ("password", "nope")])
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(html.contains("用户名或密码错误"), "{html}");
    // Never redirect off the site after login.
    let (s, loc, _) = anon
        .post(
            "/login",
            &[
                ("username", "office"),
                ("password", PW),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!((s, loc.as_str()), (StatusCode::SEE_OTHER, "/"));
    let (s, _, html) = anon.get("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("测评总览") && html.contains("id=\"ranking\""));
    // Every asset comes from this server.
    for url in attrs(&html, "src")
        .iter()
        .chain(attrs(&html, "href").iter())
    {
        assert!(url.starts_with('/') || url.is_empty(), "external: {url}");
    }
    let echarts = attrs(&html, "src")
        .into_iter()
        .find(|s| s.ends_with("echarts.min.js"))
        .unwrap();
    let r = anon
        .http
        .get(format!("{}{echarts}", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(r.bytes().await.unwrap().len() > 100_000);
    // Logout, then an old cookie is an expired session.
    let old = anon.cookie.clone();
    let (s, loc, _) = anon.post("/logout", &[]).await;
    assert_eq!((s, loc.as_str()), (StatusCode::SEE_OTHER, "/login?bye=1"));
    anon.cookie = old;
    let (_, loc, _) = anon.get("/").await;
    assert_eq!(loc, "/login?expired=1&next=/");
    let (_, _, html) = anon.get(&loc).await;
    assert!(html.contains("登录已超时"));
    // Forced password change comes first.
    let mut fresh = Browser::login(&app, "fresh").await;
    let (_, loc, _) = fresh.get("/").await;
    assert_eq!(loc, "/password");
    let (s, _, html) = fresh
        .post(
            "/password",
            &[
                ("old", PW),
                ("new", "Another-Pass-9"),
                ("confirm", "Another-Pass-8"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("两次输入的新密码不一致"));
    let (s, loc, _) = fresh
        .post(
            "/password",
            &[
                ("old", PW),
                ("new", "Another-Pass-9"),
                ("confirm", "Another-Pass-9"),
            ],
        )
        .await;
    assert_eq!((s, loc.as_str()), (StatusCode::SEE_OTHER, "/"));
    assert_eq!(fresh.get("/").await.0, StatusCode::OK);
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_pages_and_scope() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let (own, other) = (app.counties[0].clone(), app.counties[1].clone());
    let region_own = format!("/region/{own}?period=2024");
    let region_other = format!("/region/{other}?period=2024");
    let drill_other = format!("/?region={other}");
    // (user, path, expected status, redirect target)
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        ("office", "/", 200, ""),
        ("office", "/framework", 200, ""),
        ("office", &region_other, 200, ""),
        ("office", "/audit", 403, ""),
        ("office", "/users", 403, ""),
        ("county", "/", 200, ""),
        ("county", &region_own, 200, ""),
        ("county", &region_other, 403, ""),
        ("county", &drill_other, 403, ""),
        ("county", "/export/ranking.xlsx", 200, ""),
        ("super", "/audit", 200, ""),
        ("super", "/users", 403, ""),
        ("auditor", "/", 303, "/framework"),
        ("auditor", "/audit", 200, ""),
        ("auditor", "/users", 403, ""),
        ("auditor", &region_own, 403, ""),
        ("sysadmin", "/users", 200, ""),
        ("sysadmin", "/audit", 403, ""),
        ("secadmin", "/users", 200, ""),
        ("secadmin", "/export/users.xlsx", 200, ""),
        ("dept", "/", 303, "/work"),
        ("dept", "/work", 200, ""),
        ("dept", "/framework", 200, ""),
        ("dept", "/export/ranking.xlsx", 403, ""),
        ("expert", "/", 200, ""),
        ("expert", "/audit", 403, ""),
    ];
    let mut sessions: Vec<(String, Browser)> = Vec::new();
    for (user, path, status, to) in cases {
        if !sessions.iter().any(|(u, _)| u == user) {
            sessions.push((user.to_string(), Browser::login(&app, user).await));
        }
        let b = &mut sessions.iter_mut().find(|(u, _)| u == user).unwrap().1;
        let (s, loc, html) = b.get(path).await;
        assert_eq!(s.as_u16(), status, "{user} {path}");
        if !to.is_empty() {
            assert_eq!(loc, to, "{user} {path}");
        }
        if status == 403 {
            assert!(html.contains("无权") || html.contains("三员分立") || html.contains("只有"));
        }
    }
    // The county official's overview is their county, its townships ranked.
    let b = &mut sessions.iter_mut().find(|(u, _)| u == "county").unwrap().1;
    let (_, _, html) = b.get("/").await;
    let rows = attrs(&html, "data-region");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.starts_with(&own)), "{rows:?}");
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_table_equals_the_api_and_exports_open() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut b = Browser::login(&app, "office").await;
    let (_, _, html) = b.get("/?period=2024").await;
    let codes = attrs(&html, "data-region");
    let r = b
        .http
        .get(format!("{}/api/v1/scores?period=2024&level=city", app.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    let api: Value = r.json().await.unwrap();
    let results = api["results"].as_array().unwrap();
    let mut by_rank: Vec<&Value> = results.iter().collect();
    by_rank.sort_by_key(|r| r["rank"].as_u64());
    let api_codes: Vec<String> = by_rank
        .iter()
        .map(|r| r["region"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, api_codes);
    // Totals at full precision in data-value, in the same order.
    let totals: Vec<f64> = html
        .split("class=\"num total\" data-value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect();
    let api_totals: Vec<f64> = by_rank
        .iter()
        .map(|r| r["total"].as_f64().unwrap())
        .collect();
    assert_eq!(totals, api_totals);
    // Exports are real .xlsx files with a Chinese file name.
    for path in [
        "/export/ranking.xlsx?period=2024",
        &format!("/export/region.xlsx?region={}&period=2024", app.counties[0]),
        "/export/framework.xlsx",
        "/export/framework.xlsx?year=2024",
    ] {
        let r = b
            .http
            .get(format!("{}{path}", app.base))
            .header("cookie", &b.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''"),
        );
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"PK", "{path}");
        // Every export says what it is, whose view, who and when.
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
        let about = book.worksheet_range("导出说明").expect("an 导出说明 sheet");
        let text: Vec<String> = about.rows().flatten().map(|c| c.to_string()).collect();
        assert!(
            text.contains(&"导出人".to_string()) && text.contains(&"office".to_string()),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("北京时间")), "{text:?}");
    }
    let (s, _, html) = b
        .get(&format!("/region/{}?period=2024", app.counties[0]))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"indicators\"") && html.contains("id=\"veto-status\""));
    assert!(attrs(&html, "data-indicator").len() >= 40);
    // 测评报告 (issue 20): linked from the region page, its total the page's,
    // made at a named ledger head, every deduction listed.
    let total = html
        .split("id=\"region-total\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .expect("the region's total")
        .to_string();
    let link = format!("/report/{}?year=2024", app.counties[0]);
    assert!(html.contains(&link), "the region page links its report");
    let (s, _, doc) = b.get(&link).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert!(doc.contains(&format!("总分 {total} 分")), "{total}: {doc}");
    assert!(doc.contains("2024年平安建设测评报告") && doc.contains("、整改建议"));
    let hash = attrs(&doc, "data-hash");
    assert!(hash.len() == 1 && hash[0].len() == 64, "{hash:?}");
    let seq: i64 = attrs(&doc, "data-seq")[0].parse().unwrap();
    assert!(seq > 0);
    let (s, _, json) = b.get("/api/v1/scores?period=2024&level=county").await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&json).unwrap();
    let mine = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == app.counties[0].as_str())
        .expect("the county's result");
    let lost: Vec<String> = mine["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            !i["not_applicable"].as_bool().unwrap_or(false)
                && i["max"].as_f64().unwrap() - i["points"].as_f64().unwrap() > 1e-9
        })
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    let deductions = doc
        .split("id=\"report-deductions\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or("");
    let listed = attrs(deductions, "data-indicator");
    assert_eq!(listed.len(), lost.len(), "every indicator that lost points");
    // The same report as Word, with the same total.
    let docx = format!("/export/report.docx?region={}&year=2024", app.counties[0]);
    assert!(
        doc.contains(&docx.replace('&', "&amp;")),
        "the print view links its Word file"
    );
    let r = b
        .http
        .get(format!("{}{docx}", app.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("wordprocessingml")
    );
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a docx");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(xml.contains(&format!("总分 {total} 分")), "{total}");
    assert!(xml.contains(&hash[0]), "the ledger head");
    let (s, _, _) = b.get("/report/nowhere?year=2024").await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    let (s, _, html) = b.get("/framework").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("基础性指标，反映社会治安整体状况"));
    assert!(html.contains("id=\"lint-share\""));
    // Each indicator's 整改建议, which the 测评报告 prints.
    assert!(
        html.contains("整改建议：加强网格员队伍建设"),
        "suggestions shown"
    );
    // Rules in words: a benchmark by its name, never its code.
    assert!(
        html.contains("基准值（全国刑事案件发案率）") && !html.contains("national_criminal_rate"),
        "the framework page names benchmarks"
    );
    let (s, _, _) = b.get("/?period=20x4").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    app.db.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_management_keeps_the_three_admins_apart() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut sys = Browser::login(&app, "sysadmin").await;
    let mut sec = Browser::login(&app, "secadmin").await;
    let mut auditor = Browser::login(&app, "auditor").await;
    let own = app.counties[0].clone();
    let (s, loc, _) = sys
        .post(
            "/users",
            &[
                ("op", "add"),
                ("username", "zhang"),
                ("password", "Init-Pass-2024x"),
                ("region", &own),
                ("role", "region_official"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc == "/users" && sys.ok(), "{loc} {:?}", sys.flash);
    let u = app.store.user("zhang").await.unwrap().unwrap();
    assert!(u.must_change_password);
    // The system admin may not grant an admin role nor change roles.
    let (_, loc, _) = sys
        .post(
            "/users",
            &[
                ("op", "add"),
                ("username", "li"),
                ("password", "Li-Init-2024x"),
                ("role", "audit_admin"),
            ],
        )
        .await;
    assert!(loc == "/users" && sys.err(), "{loc} {:?}", sys.flash);
    let (s, _, _) = sys
        .post(
            "/users",
            &[("op", "roles"), ("username", "zhang"), ("role", "expert")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The security admin sets roles, never two of the three admin roles.
    let (_, loc, _) = sec
        .post(
            "/users",
            &[
                ("op", "roles"),
                ("username", "zhang"),
                ("role", "audit_admin"),
                ("role", "expert"),
            ],
        )
        .await;
    assert!(loc == "/users" && sec.err(), "{loc} {:?}", sec.flash);
    let (_, _, html) = sec.get(&loc).await;
    assert!(html.contains("三员分立"), "{html}");
    let (_, loc, _) = sec
        .post(
            "/users",
            &[
                ("op", "roles"),
                ("username", "zhang"),
                ("role", "expert"),
                ("role", "collector"),
                ("region", ""),
            ],
        )
        .await;
    assert!(loc == "/users" && sec.ok(), "{loc} {:?}", sec.flash);
    let u = app.store.user("zhang").await.unwrap().unwrap();
    assert_eq!(u.roles.len(), 2);
    assert_eq!(u.region, None);
    let (_, loc, _) = sec
        .post("/users", &[("op", "lock"), ("username", "zhang")])
        .await;
    assert!(loc == "/users" && sec.ok(), "{loc} {:?}", sec.flash);
    let (s, _, _) = sec
        .post(
            "/users",
            &[
                ("op", "reset"),
                ("username", "zhang"),
                ("password", "X-Reset-2024"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(auditor.get("/users").await.0, StatusCode::FORBIDDEN);
    // Every change is in the ledger, which the audit admin reads.
    let (s, _, html) = auditor.get("/audit?action=user_roles").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("user:zhang"));
    // Details read as fields: roles by their Chinese names, not codes.
    assert!(
        html.contains("角色：")
            && !html.contains("region_official")
            && !html.contains("office_admin"),
        "{html}"
    );
    let (_, _, html) = auditor.get("/audit?verify=1").await;
    assert!(html.contains("校验通过"), "{html}");
    app.db.done().await;
}

/// 三员分立: no one signed in changes an administrator's account — not
/// the system admin resetting the audit admin's password, not the
/// security admin locking or re-roling the system admin. Every pair and
/// every operation is tried; the stored account stays as it was, and the
/// page offers no button for it. (The command line still can.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_acts_on_another_admins_account() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let admins = ["sysadmin", "secadmin", "auditor"];
    let state = async |a: &str| {
        let c = app.store.credentials(a).await.unwrap().unwrap();
        let u = app.store.user(a).await.unwrap().unwrap();
        (c.password_hash, c.totp_secret, u.roles, u.locked_until)
    };
    let mut kept = Vec::new();
    for a in admins {
        kept.push(state(a).await);
    }
    for actor in admins {
        let mut b = Browser::login(&app, actor).await;
        for target in admins {
            for form in [
                vec![
                    ("op", "reset"),
                    ("username", target),
                    ("password", "Taken-Over-2024x"),
                ],
                vec![("op", "roles"), ("username", target), ("role", "expert")],
                vec![("op", "lock"), ("username", target)],
                vec![("op", "unlock"), ("username", target)],
            ] {
                let (s, loc, _) = b.post("/users", &form).await;
                assert!(
                    s == StatusCode::FORBIDDEN || (loc == "/users" && b.err()),
                    "{actor} {form:?} → {s} {loc}"
                );
            }
        }
        if actor != "auditor" {
            let (_, _, html) = b.get("/users").await;
            for target in admins {
                let row = &html[html.find(&format!("data-user=\"{target}\"")).unwrap()..];
                let row = &row[..row.find("</tr>").unwrap()];
                assert!(
                    !row.contains("name=\"op\""),
                    "{actor} sees a form for {target}"
                );
            }
        }
    }
    for (a, k) in admins.iter().zip(&kept) {
        assert!(&state(a).await == k, "{a} changed");
    }
    // The operator at the server's command line still resets one.
    let op = pingan_store::Actor::cli("ops");
    app.store
        .set_password("auditor", "Reset-By-Ops-2024x", true, &op)
        .await
        .unwrap();
    app.db.done().await;
}

/// A county official reads its own county's 测评报告 and no other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_reads_its_own_report_only() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut county = Browser::login(&app, "county").await;
    let (s, _, doc) = county
        .get(&format!("/report/{}?year=2024", app.counties[0]))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc.contains("id=\"report-overall\""));
    let (s, _, _) = county
        .get(&format!("/report/{}?year=2024", app.counties[1]))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.db.done().await;
}

/// A banner says what our own form did, once: words in a link (`?ok=`,
/// `?err=`) never appear as an official message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banners_come_from_our_forms_only() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut sec = Browser::login(&app, "secadmin").await;
    for q in [
        "?ok=%E8%AF%B7%E5%90%91%E8%B4%A6%E6%88%B7%E6%B1%87%E6%AC%BE",
        "?err=%E8%AF%B7%E5%90%91%E8%B4%A6%E6%88%B7%E6%B1%87%E6%AC%BE",
    ] {
        let (s, _, html) = sec.get(&format!("/users{q}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("请向账户汇款"), "{q}");
    }
    let (_, loc, _) = sec
        .post("/users", &[("op", "lock"), ("username", "county")])
        .await;
    assert_eq!(loc, "/users");
    assert!(!loc.contains("ok="));
    let (_, _, html) = sec.get("/users").await;
    assert!(html.contains("已锁定 county"), "the banner shows once");
    let (_, _, html) = sec.get("/users").await;
    assert!(!html.contains("已锁定 county"), "and not again");
    app.db.done().await;
}

/// No dead ends: a county official's region picker offers no way up into
/// a 403, and the "in review" note appears only on regions that have
/// values in review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pickers_and_notes_lead_nowhere_closed() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let mut county = Browser::login(&app, "county").await;
    let (s, _, html) = county.get("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("↑ 上级"), "{html}");
    let mut office = Browser::login(&app, "office").await;
    let (own, other) = (app.counties[0].clone(), app.counties[2].clone());
    let (_, _, html) = office.get(&format!("/?region={own}")).await;
    assert!(html.contains("↑ 上级"));
    // A department sends one value for a township of the first county.
    let dept = app.cookie("dept").await;
    let body = serde_json::json!({"dataValues": [{"region": format!("{own}001"), "period": "2024-06",
        "element": "criminal_cases", "value": 4, "source": "公安"}]});
    let (s, v) = common::post(&app, "/api/v1/dataValueSets", &dept, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, html) = office.get(&format!("/?region={own}&period=2024")).await;
    assert!(html.contains("尚在三级审核中"), "{html}");
    let (_, _, html) = office.get(&format!("/?region={other}&period=2024")).await;
    assert!(
        !html.contains("尚在三级审核中"),
        "another county has none in review"
    );
    app.db.done().await;
}

/// 搜索 finds regions (only in the viewer's scope) and indicators by name;
/// 帮助 explains the terms the quality pages link to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_glossary() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    let tree = app.store.region_tree().await.unwrap();
    let other = tree.get(tree.find(&app.counties[2]).unwrap()).name.clone();
    let mut office = Browser::login(&app, "office").await;
    let (s, _, html) = office
        .get(&format!("/search?q={}", urlencode(&other)))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("/region/{}", app.counties[2])),
        "{html}"
    );
    let (_, _, html) = office
        .get(&format!("/search?q={}", urlencode("刑事")))
        .await;
    assert!(html.contains("/framework#"), "indicators by name: {html}");
    let mut county = Browser::login(&app, "county").await;
    let (_, _, html) = county
        .get(&format!("/search?q={}", urlencode(&other)))
        .await;
    assert!(
        !html.contains(&format!("/region/{}", app.counties[2])),
        "out of scope"
    );
    let (s, _, html) = county.get("/help").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"mod_zscore\"") && html.contains("修正 z 值"));
    app.db.done().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// 工作台: each role sees the counts of what waits for it, each linking to
/// the page where it is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_board_shows_what_waits_for_each_role() {
    let app = spawn_app(Kind::Sqlite).await.unwrap();
    // One set waits for the first-level review.
    let dept = app.cookie("dept").await;
    let body = serde_json::json!({"dataValues": [{"region": format!("{}001", app.counties[0]),
        "period": "2024-06", "element": "criminal_cases", "value": 4, "source": "公安"}]});
    let (s, v) = common::post(&app, "/api/v1/dataValueSets", &dept, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut cookies = std::collections::HashMap::new();
    for (user, present, absent) in [
        (
            "collector",
            vec!["todo-review", "todo-flags"],
            vec!["todo-returned"],
        ),
        (
            "verifier",
            vec!["todo-review", "todo-tasks"],
            vec!["todo-returned"],
        ),
        (
            "dept",
            vec!["todo-returned"],
            vec!["todo-review", "todo-flags"],
        ),
        (
            "super",
            vec![],
            vec!["todo-review", "todo-flags", "todo-tasks"],
        ),
    ] {
        let mut b = Browser::login(&app, user).await;
        let (s, _, html) = b.get("/work").await;
        assert_eq!(s, StatusCode::OK, "{user}");
        assert!(html.contains("href=\"/work\""), "{user}: in the menu");
        for id in present {
            assert!(
                html.contains(&format!("id=\"{id}\"")),
                "{user} should see {id}"
            );
        }
        for id in absent {
            assert!(
                !html.contains(&format!("id=\"{id}\"")),
                "{user} should not see {id}"
            );
        }
        if user == "collector" {
            let at = html.find("id=\"todo-review\"").unwrap();
            assert!(
                html[at..].contains("<div class=\"n\">1</div>"),
                "one set waits: {}",
                &html[at..at + 300]
            );
        }
        // The menu's badges read the same counts from the API.
        let (s, w) = app.get("/api/v1/work", Some(&b.cookie)).await;
        cookies.insert(user, b.cookie.clone());
        assert_eq!(s, StatusCode::OK, "{user}: {w}");
        let ids: Vec<&str> = w["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        for id in ids.iter() {
            assert!(html.contains(&format!("id=\"{id}\"")), "{user}: {id}");
        }
        assert_eq!(ids.len(), html.matches("class=\"stat todo\"").count());
    }
    let count = |w: &serde_json::Value, id: &str| {
        w["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| t["count"].as_u64().unwrap())
    };
    let collector = cookies["collector"].clone();
    let (_, w) = app.get("/api/v1/work", Some(&collector)).await;
    assert_eq!(count(&w, "todo-review"), Some(1), "{w}");
    // Passed: the collector's count drops at once, the verifier's rises.
    let key = serde_json::json!({"department": "公安", "region": format!("{}001", app.counties[0]),
        "period": "2024-06"});
    let (s, v) = common::post(
        &app,
        "/api/v1/dataSets/review",
        &collector,
        serde_json::json!({"sets": [key], "action": "pass", "reason": ""}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, w) = app.get("/api/v1/work", Some(&collector)).await;
    assert_eq!(count(&w, "todo-review"), Some(0), "{w}");
    assert_eq!(
        w["total"].as_u64().unwrap(),
        count(&w, "todo-flags").unwrap()
    );
    let (_, w) = app.get("/api/v1/work", Some(&cookies["verifier"])).await;
    assert_eq!(count(&w, "todo-review"), Some(1), "{w}");
    let (s, _) = app.get("/api/v1/work", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.db.done().await;
}

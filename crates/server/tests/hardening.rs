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

/// Every error from `/api/v1` is `{status, code, message}` with a Chinese
/// message — also the ones the framework would answer in English or with
/// an empty body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_error_is_json_in_chinese() {
    let app = app().await;
    let office = app.cookie("office").await;
    let auditor = app.cookie("auditor").await;
    let send =
        async |method: reqwest::Method, path: &str, cookie: &str, ct: &str, body: Vec<u8>| {
            let r = app
                .http
                .request(method, format!("{}{path}", app.base))
                .header("cookie", cookie)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            let text = r.text().await.unwrap();
            (s, ct, text)
        };
    let json = "application/json";
    // (method, path, cookie, content type, body, expected status)
    type Case<'a> = (reqwest::Method, &'a str, &'a str, &'a str, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            reqwest::Method::GET,
            "/api/v1/flags?page=abc",
            &office,
            json,
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/flags?nonsense=1",
            &office,
            json,
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/verifications/abc",
            &office,
            json,
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/no-such-thing",
            &office,
            json,
            vec![],
            404,
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/regions",
            &office,
            json,
            vec![],
            405,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/dataValueSets",
            &office,
            json,
            b"{\"dataValues\": 5}".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/dataValueSets",
            &office,
            json,
            b"{\"dataValues\": [".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/dataValueSets",
            &office,
            "text/plain",
            b"{}".to_vec(),
            415,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/audit?from=garbage",
            &auditor,
            json,
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/audit?to=2024-13-45",
            &auditor,
            json,
            vec![],
            400,
        ),
    ];
    for (m, path, cookie, ct, body, want) in cases {
        let (s, got_ct, text) = send(m.clone(), path, cookie, ct, body).await;
        assert_eq!(s.as_u16(), want, "{m} {path}: {text}");
        assert_eq!(
            got_ct.as_deref(),
            Some("application/json"),
            "{m} {path}: {text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{m} {path}: {text}"));
        assert_eq!(v["status"], want, "{text}");
        assert!(v["code"].as_str().is_some_and(|c| !c.is_empty()), "{text}");
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{m} {path}: {msg}"
        );
        for english in [
            "Failed",
            "invalid type",
            "expected",
            "length limit",
            "Invalid URL",
        ] {
            assert!(!msg.contains(english), "{m} {path}: {msg}");
        }
    }
    // Too large: refused by its announced length, before it is read (a
    // raw request, since the server answers before the body is sent).
    let (s, text) = announce_only(&app, "/api/v1/dataValueSets", &office, 9 << 20).await;
    assert_eq!(s, 413, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["message"].as_str().unwrap().contains("请求体过大"), "{v}");
    // A page far past the end is empty (Schemathesis found it overflowed).
    let (s, v) = app
        .get("/api/v1/dataSets?page=444337145595578102", Some(&office))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"], json!([]));
    // A good date range still works.
    let (s, _) = app
        .get(
            "/api/v1/audit?from=2020-01-01&to=2099-12-31",
            Some(&auditor),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.db.done().await;
}

/// A POST that announces `len` bytes and sends none: the status and body.
async fn announce_only(app: &App, path: &str, cookie: &str, len: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((h, body)) = text.split_once("\r\n\r\n") {
            let want = h
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= want {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&got).to_string();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Pages and answers carry the security headers and are not cached; the
/// cookie is `Secure` when the server is told it is reached over TLS (or a
/// trusted proxy says so), and a proxy header from anyone else is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_and_secure_cookies() {
    let app = app().await;
    let office = app.cookie("office").await;
    for path in ["/login", "/api/v1/regions", "/api/v1/nope"] {
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .header("cookie", &office)
            .send()
            .await
            .unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(h.get("referrer-policy").is_some());
        assert_eq!(h.get("cache-control").unwrap(), "no-store", "{path}");
    }
    let page = app
        .http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("onchange=") && !page.contains("javascript:"));
    // Behind a TLS proxy.
    let proxied = |opts: pingan_server::Options| {
        let url = app.db.url.clone();
        async move {
            let store = pingan_store::Store::open(&url).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move {
                pingan_server::serve_with(store, listener, std::future::pending(), &opts)
                    .await
                    .unwrap()
            });
            base
        }
    };
    let login_cookie = async |base: &str, proto: Option<&str>| {
        let mut req = app
            .http
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"username": "office", "password": PW}));
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(
        !login_cookie(&app.base, Some("https"))
            .await
            .contains("Secure"),
        "untrusted proxy header"
    );
    let trusting = proxied(pingan_server::Options {
        deployment: pingan_server::Deployment {
            secure_cookie: false,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        },
        ..Default::default()
    })
    .await;
    assert!(
        login_cookie(&trusting, Some("https"))
            .await
            .contains("; Secure")
    );
    assert!(
        !login_cookie(&trusting, Some("http"))
            .await
            .contains("Secure")
    );
    let always = proxied(pingan_server::Options {
        deployment: pingan_server::Deployment {
            secure_cookie: true,
            trusted_proxies: vec![],
        },
        ..Default::default()
    })
    .await;
    assert!(login_cookie(&always, None).await.contains("; Secure"));
    app.db.done().await;
}

/// Sign-in answers do not tell which names exist: a name without an
/// account locks after as many failures as an account, with the same
/// answers. A password change is recorded as one, refuses the same
/// password, and another site cannot sign a user out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_session_edges() {
    let app = app().await;
    let answers = async |name: &str| {
        let mut out = Vec::new();
        for _ in 0..5 {
            let (s, v, _) = app.login(name, "Wrong-Pass-2024x").await;
            out.push((
                s.as_u16(),
                v["code"].as_str().unwrap_or_default().to_string(),
            ));
        }
        out
    };
    let real = answers("expert").await;
    let ghost = answers("no-such-person").await;
    assert_eq!(real, ghost);
    assert_eq!(real.last().unwrap().0, 423, "{real:?}");

    // The 11th attempt from one address within a minute waits, and says how long.
    let r = app
        .http
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": "office", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers().get("retry-after").unwrap(), "60");
    app.db.done().await;

    let app = self::app().await;
    let office = app.cookie("office").await;
    let change = async |old: &str, new: &str| {
        post(
            &app,
            "/api/v1/session/password",
            &office,
            json!({"old": old, "new": new}),
        )
        .await
    };
    let (s, v) = change(PW, PW).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["message"].as_str().unwrap().contains("不能与原密码相同"));
    let (s, _) = change("Not-The-Password-1", "Brand-New-Pass-2024x").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let auditor = app.cookie("auditor").await;
    let (_, log) = app
        .get("/api/v1/audit?user=office&page_size=1000", Some(&auditor))
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"password_check_failed"), "{actions:?}");
    assert_eq!(
        actions.iter().filter(|a| **a == "login_failed").count(),
        0,
        "{actions:?}"
    );

    // Signing out from another site's page is refused; from ours it works.
    let out = async |origin: &str| {
        app.http
            .delete(format!("{}/api/v1/session", app.base))
            .header("cookie", &office)
            .header("origin", origin)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(out("https://evil.example").await, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/regions", Some(&office)).await.0,
        StatusCode::OK
    );
    assert_eq!(out(&app.base).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/regions", Some(&office)).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.db.done().await;
}

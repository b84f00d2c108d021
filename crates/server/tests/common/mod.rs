//! The test server shared by the API, page and browser tests: a small generated
//! province in a fresh SQLite or PostgreSQL database, one account per role,
//! and `pingan_server::serve` on a random port.
#![allow(dead_code)]

use pingan_core::access::parse_roles;
use pingan_service::testing::{Db, Fresh, Kind, fresh};
use pingan_service::users::NewUser;
use pingan_store::{Actor, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct App {
    pub base: String,
    pub db: Fresh,
    /// Every county; the first is the county official's own.
    pub counties: Vec<String>,
    /// The database, through the service as the operator (and as the store).
    pub store: Db,
    pub http: reqwest::Client,
}

pub const PW: &str = "Pingan-2024x";

/// The province most tests use: two years, two cities.
pub fn small_province() -> pingan_synth::Options {
    pingan_synth::Options {
        seed: 9,
        cities: 2,
        counties: 4,
        townships: 8,
        first_year: 2023,
        last_year: 2024,
        anomalies: 0,
    }
}

pub async fn spawn_app(kind: Kind) -> Option<App> {
    spawn_app_with(kind, &small_province()).await
}

/// A server over `province` with one account per role (password `PW`;
/// `county` holds the first county, `fresh` must change its password).
pub async fn spawn_app_with(kind: Kind, province: &pingan_synth::Options) -> Option<App> {
    let db = fresh(kind).await?;
    let store = Db::new(db.store.clone());
    let p = pingan_synth::generate(province).unwrap();
    let a = Actor::cli("setup");
    store
        .import_framework(
            "f.toml",
            pingan_core::framework::DEFAULT_TOML.as_bytes(),
            Some(2000),
            false,
            &a,
        )
        .await
        .unwrap();
    store
        .import_regions("r.csv", p.regions.as_bytes(), false, &a)
        .await
        .unwrap();
    store
        .import_benchmarks("b.csv", p.benchmarks.as_bytes(), false, &a)
        .await
        .unwrap();
    // A province with planted anomalies keeps its rule breaches, for the
    // checks to find.
    if province.anomalies > 0 {
        store
            .import_values_accepting("v.csv", p.values.as_bytes(), &a)
            .await
            .unwrap();
    } else {
        store
            .import_values("v.csv", p.values.as_bytes(), false, &a)
            .await
            .unwrap();
    }
    let tree = store.region_tree().await.unwrap();
    let counties: Vec<String> = tree
        .regions()
        .iter()
        .filter(|r| r.level == pingan_core::Level::County)
        .map(|r| r.code.clone())
        .collect();
    let own = counties[0].clone();
    for (name, roles, region, dept, must) in [
        ("office", "office_admin", None, None, false),
        ("county", "region_official", Some(own.as_str()), None, false),
        ("super", "supervisor", None, None, false),
        ("auditor", "audit_admin", None, None, false),
        ("sysadmin", "system_admin", None, None, false),
        ("secadmin", "security_admin", None, None, false),
        ("dept", "department", None, Some("公安"), false),
        ("expert", "expert", None, None, false),
        ("collector", "collector", None, None, false),
        ("verifier", "verifier", None, None, false),
        ("fresh", "office_admin", None, None, true),
    ] {
        store
            .add_user(
                &NewUser {
                    username: name.into(),
                    password: PW.into(),
                    roles: parse_roles(roles).unwrap(),
                    region: region.map(Into::into),
                    department: dept.map(Into::into),
                    must_change_password: must,
                },
                &a,
            )
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let s = db.store.clone();
    tokio::spawn(async move {
        pingan_server::serve(s, listener, std::future::pending())
            .await
            .unwrap();
    });
    Some(App {
        base,
        db,
        counties,
        store,
        http: reqwest::Client::new(),
    })
}

impl App {
    /// Another server instance on the same database, as behind a load
    /// balancer; returns its base address.
    pub async fn second_instance(&self) -> String {
        let store = Store::open(&self.db.url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            pingan_server::serve(store, listener, std::future::pending())
                .await
                .unwrap();
        });
        base
    }

    pub async fn login(&self, user: &str, pw: &str) -> (StatusCode, Value, Option<String>) {
        let r = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({"username": user, "password": pw}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        (status, r.json().await.unwrap_or(Value::Null), cookie)
    }

    pub async fn cookie(&self, user: &str) -> String {
        let (s, _, c) = self.login(user, PW).await;
        assert_eq!(s, StatusCode::OK, "{user}");
        c.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// POST a JSON body with a session cookie: the status and the JSON answer.
pub async fn post(app: &App, path: &str, cookie: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// One more account, with the test password and no forced change.
pub async fn add_account(
    app: &App,
    name: &str,
    roles: &str,
    region: Option<&str>,
    dept: Option<&str>,
) {
    app.store
        .add_user(
            &NewUser {
                username: name.into(),
                password: PW.into(),
                roles: parse_roles(roles).unwrap(),
                region: region.map(Into::into),
                department: dept.map(Into::into),
                must_change_password: false,
            },
            &Actor::cli("setup"),
        )
        .await
        .unwrap();
}

/// A client that does not follow redirects, for posting page forms the way
/// `follow` finishes them.
pub fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Finish a page form's post as a browser does: keep the one-time banner
/// cookie the answer sets and open the page it redirects to with it. The
/// final status and page (the answer itself when it is not a redirect).
pub async fn follow(app: &App, r: reqwest::Response, cookie: &str) -> (StatusCode, String) {
    if !r.status().is_redirection() {
        let s = r.status();
        return (s, r.text().await.unwrap());
    }
    let flash = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with("pingan_flash="))
        .map(str::to_string);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let cookies = match flash {
        Some(f) => format!("{cookie}; {f}"),
        None => cookie.to_string(),
    };
    let r = app
        .http
        .get(format!("{}{loc}", app.base))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The 2024 survey of `small_province` (`respondents` answers) loaded
/// through the service as the operator: questionnaire, frame, margins and,
/// when `responses`, its answers. Returns the generated files.
pub async fn load_survey(
    app: &App,
    respondents: usize,
    responses: bool,
) -> pingan_synth::SurveyFiles {
    load_survey_of(app, &small_province(), 2024, respondents, responses).await
}

/// The survey of `year` of `province` (the app's), loaded the same way.
pub async fn load_survey_of(
    app: &App,
    province: &pingan_synth::Options,
    year: i32,
    respondents: usize,
    responses: bool,
) -> pingan_synth::SurveyFiles {
    use pingan_service::{Caller, cap, surveys};
    let s =
        pingan_synth::generate_survey(province, &pingan_synth::SurveyOptions { year, respondents })
            .unwrap();
    let form = pingan_input::survey::write_form(&pingan_core::survey::default::sheets()).unwrap();
    let op = Caller::operator("setup");
    let manage = op.authorize::<cap::SurveyManage>().unwrap();
    let ctx = &app.store.ctx;
    surveys::import_form(ctx, &manage, year, "survey-form.xlsx", &form)
        .await
        .unwrap();
    surveys::import_frame(ctx, &manage, year, "frame.csv", s.frame.as_bytes())
        .await
        .unwrap();
    surveys::import_margins(ctx, &manage, year, "margins.csv", s.margins.as_bytes())
        .await
        .unwrap();
    if responses {
        let answers = op.authorize::<cap::SurveyAnswers>().unwrap();
        surveys::import_responses(
            ctx,
            &answers,
            year,
            "responses.csv",
            s.responses.as_bytes(),
            false,
        )
        .await
        .unwrap();
    }
    s
}

/// Post a page form as a browser does and open the page it leads to.
pub async fn submit(
    app: &App,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let r = no_redirect()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    follow(app, r, cookie).await
}

/// A page as `cookie` sees it: its status and text.
pub async fn page(app: &App, path: &str, cookie: &str) -> (StatusCode, String) {
    let (s, b) = bytes(app, path, cookie).await;
    (s, String::from_utf8_lossy(&b).into_owned())
}

/// A download as `cookie` gets it: its status and bytes.
pub async fn bytes(app: &App, path: &str, cookie: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.bytes().await.unwrap().to_vec())
}

/// Back the app's database up and restore it into a fresh one of the same
/// kind: the restored store (drop the `Fresh` when done with it).
pub async fn round_trip(app: &App, kind: Kind) -> (Fresh, Store) {
    let file = tempfile::NamedTempFile::new().unwrap();
    app.store.ctx.store.backup(file.path()).await.unwrap();
    let copy = fresh(kind).await.expect("a second database");
    copy.store
        .restore(file.path(), &Actor::cli("restore"))
        .await
        .unwrap();
    let store = copy.store.clone();
    (copy, store)
}

/// Wait for the download centre to finish the caller's file whose name
/// ends with `ending` (".zip</a>" style: the name then the link's end) and
/// give its path; fails on a file marked 失败.
pub async fn made_file(app: &App, cookie: &str, ending: &str) -> String {
    let anchor = format!("{ending}</a>");
    for _ in 0..400 {
        let (_, html) = page(app, "/downloads", cookie).await;
        if let Some(end) = html.find(&anchor) {
            let at = html[..end].rfind(r#"href="/downloads/"#).unwrap();
            let rest = &html[at + r#"href=""#.len()..];
            return rest[..rest.find('"').unwrap()].to_string();
        }
        assert!(!html.contains("失败"), "{html}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {ending} file was made");
}

/// Ask the download centre for a file (a POST to `path`, no body) and
/// follow to the page it answers with.
pub async fn prepare(app: &App, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = no_redirect()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    follow(app, r, cookie).await
}

//! The web pages in a real browser: a server on a random port holding a
//! small generated province (three years), one account per role, and the
//! headless-Chromium suite in `tests/ui/run.mjs` (playwright-core from npm
//! through `tests/ui/package-lock.json`, Debian's `/usr/bin/chromium`).
//!
//! `.ci/run` installs Chromium and the npm packages. Set
//! `PINGAN_TEST_BROWSER=off` to skip this test with a printed reason.

mod common;

use common::PW;
use pingan_store::testing::Kind;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole suite takes well under a minute; this only stops a hung run.
const LIMIT: Duration = Duration::from_secs(600);

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

fn workspace() -> PathBuf {
    let w = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    w.canonicalize().unwrap_or(w)
}

/// `node --version`, or why there is none.
fn node_version() -> Result<String, String> {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => Err(format!("`node --version` exited with {}", o.status)),
        Err(e) => Err(format!("`node` not found: {e}")),
    }
}

/// `npm ci` in tests/ui unless playwright-core is installed there.
fn ensure_node_modules() {
    let dir = ui_dir();
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return;
    }
    eprintln!(
        "installing the browser suite's npm packages: npm ci in {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .unwrap_or_else(|e| {
            panic!("npm not found ({e}); .ci/run installs the browser suite's tools")
        });
    assert!(
        status.success(),
        "`npm ci` in {} failed ({status}); .ci/run runs it before the tests",
        dir.display()
    );
}

/// Run the suite, reading its output while it runs; kill it past `LIMIT`.
fn run_suite(envs: Vec<(&'static str, String)>) -> (Option<i32>, String, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new("node")
        .arg(ui_dir().join("run.mjs"))
        .current_dir(ui_dir())
        .envs(envs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait for node") {
            break s.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        code,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
        start.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_headless_chromium() {
    if std::env::var("PINGAN_TEST_BROWSER").as_deref() == Ok("off") {
        eprintln!("PINGAN_TEST_BROWSER=off: the headless-browser test is skipped");
        return;
    }
    let node = node_version().unwrap_or_else(|e| {
        panic!("the browser test needs Node.js 20+: {e}; .ci/run installs it (or set PINGAN_TEST_BROWSER=off)")
    });
    assert!(
        Path::new(CHROMIUM).is_file(),
        "the browser test needs Chromium at {CHROMIUM}: .ci/run installs it \
         (apt-get install chromium), or set PINGAN_TEST_BROWSER=off"
    );
    tokio::task::spawn_blocking(ensure_node_modules)
        .await
        .unwrap();

    let province = pingan_synth::Options {
        seed: 5,
        cities: 3,
        counties: 6,
        townships: 12,
        first_year: 2022,
        last_year: 2024,
        anomalies: 0,
    };
    let app = common::spawn_app_with(Kind::Sqlite, &province)
        .await
        .unwrap();
    // Two years of survey for the 群众调查 page to compare.
    common::load_survey_of(&app, &province, 2023, 600, true).await;
    let survey = common::load_survey_of(&app, &province, 2024, 900, true).await;
    let town = survey
        .frame
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .unwrap_or_default()
        .to_string();
    // A year of events for 网格事件, stored without deriving values (the
    // other pages' numbers stay as the province made them).
    {
        let mut bytes = Vec::new();
        pingan_synth::write_events(
            &province,
            &pingan_synth::EventOptions {
                year: 2024,
                total: 1500,
            },
            &mut bytes,
        )
        .unwrap();
        let tree = app.store.region_tree().await.unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let read = pingan_input::events::read_events("events.csv", &text, &tree).unwrap();
        let which: Vec<usize> = (0..read.events.len()).collect();
        let texts = pingan_service::events::written_texts(&read, &which);
        let rows = pingan_service::events::written(&read, &which, &tree, &texts);
        app.store
            .write_events(
                "events.csv",
                "-",
                read.rows,
                read.duplicates,
                &rows,
                &pingan_store::Actor::cli("setup"),
            )
            .await
            .unwrap();
    }
    // A plan, so the township has one-time invitation links.
    let op = pingan_service::Caller::operator("setup");
    let manage = op.authorize::<pingan_service::cap::SurveyManage>().unwrap();
    pingan_service::surveys::set_plan(
        &app.store.ctx,
        &manage,
        pingan_store::SurveyPlan {
            year: 2024,
            size: 600,
            allocation: "proportional".into(),
            min_per: 30,
            response_rate: "0.893".into(),
            made_by: String::new(),
            made_at: String::new(),
        },
    )
    .await
    .unwrap();
    let invite = pingan_service::surveys::invite::links(&app.store.ctx, &manage, 2024, Some(&town))
        .await
        .unwrap()
        .remove(0)
        .2;
    let counties = &app.counties;
    assert!(counties.len() >= 2, "{counties:?}");
    // Something for the review pages: 公安 sends its December for the first
    // county's first two townships through the review; a second verifier
    // makes the two-person field record possible.
    let pending = format!(
        "region,period,element,value,source\n{c}001,2024-12,criminal_cases,41,公安\n{c}002,2024-12,criminal_cases,37,公安\n",
        c = counties[0]
    );
    let dept = pingan_store::Actor::cli("dept");
    app.store
        .import_values_as("公安.csv", pending.as_bytes(), false, true, &dept)
        .await
        .unwrap();
    app.store
        .add_user(
            &pingan_service::users::NewUser {
                username: "verifier2".into(),
                password: PW.into(),
                roles: vec![pingan_core::access::Role::Verifier],
                region: None,
                department: None,
                must_change_password: false,
            },
            &dept,
        )
        .await
        .unwrap();
    // The province's generated outlines and a risk run, for 平安热力图
    // and 风险预警.
    let map = pingan_synth::generate_boundaries(&province).unwrap();
    let office = pingan_service::Caller::operator("setup");
    let direct = office
        .authorize::<pingan_service::cap::DirectImport>()
        .unwrap();
    pingan_service::boundaries::import(
        &app.store.ctx,
        &direct,
        "boundaries.geojson",
        map.as_bytes(),
        "code",
        false,
    )
    .await
    .unwrap();
    let notices = office.authorize::<pingan_service::cap::Notices>().unwrap();
    pingan_service::risk::refresh(&app.store.ctx, &notices, None, 40)
        .await
        .unwrap();
    let own = counties[0].clone();
    let other = counties[counties.len() - 1].clone();
    let base = app.base.clone();

    let shots = workspace().join("target/ui-screenshots");
    eprintln!(
        "browser suite: node {node}, server {base}, own county {own}, other county {other}, screenshots in {}",
        shots.display()
    );
    let envs = vec![
        ("PINGAN_UI_BASE", base),
        ("PINGAN_UI_PASSWORD", PW.to_string()),
        ("PINGAN_UI_OWN_COUNTY", own),
        ("PINGAN_UI_OTHER_COUNTY", other),
        ("PINGAN_UI_SHOTS", shots.display().to_string()),
        ("PINGAN_UI_SURVEY_TOWN", town),
        ("PINGAN_UI_INVITE", invite),
    ];
    let (code, out, err, took) = tokio::task::spawn_blocking(move || run_suite(envs))
        .await
        .unwrap();
    println!("{out}");
    if !err.trim().is_empty() {
        println!("stderr:\n{err}");
    }
    println!("browser suite took {:.1}s", took.as_secs_f64());
    // The full output is printed above; the panic names what failed.
    let failed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .chain(err.lines().filter(|l| !l.trim().is_empty()).take(20))
        .collect();
    let exit = match code {
        Some(c) => c.to_string(),
        None => "none: killed after the time limit".into(),
    };
    assert!(
        code == Some(0),
        "the browser suite failed (exit {exit}):\n{}",
        failed.join("\n")
    );
    app.db.done().await;
}

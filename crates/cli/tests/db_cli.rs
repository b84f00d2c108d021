//! The store through the CLI: init, import, scores, audit, backup, restore,
//! and an import killed mid-transaction.

mod common;

use common::{ok, pingan};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A small generated province and a fresh database in a temp folder.
fn setup(dir: &Path) -> String {
    let d = dir.to_str().unwrap();
    common::generated(d, [2, 4, 12], "2023-2024");
    let db = format!("sqlite://{d}/t.db");
    ok(pingan(&["init", "--db", &db]));
    for (kind, file) in [
        ("regions", "regions.csv"),
        ("benchmarks", "benchmarks.csv"),
        ("values", "values.csv"),
    ] {
        ok(pingan(&[
            "import",
            kind,
            &format!("{d}/{file}"),
            "--db",
            &db,
        ]));
    }
    db
}

#[test]
fn stored_scores_equal_file_scores() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let d = dir.path().to_str().unwrap();
    for level in [None, Some("county")] {
        let mut a = vec![
            "scores", "--db", &db, "--period", "2024", "--format", "json",
        ];
        let mut b = vec![
            "score".to_string(),
            "--regions".into(),
            format!("{d}/regions.csv"),
            "--values".into(),
            format!("{d}/values.csv"),
            "--benchmarks".into(),
            format!("{d}/benchmarks.csv"),
            "--period".into(),
            "2024".into(),
            "--format".into(),
            "json".into(),
        ];
        if let Some(l) = level {
            a.extend(["--level", l]);
            b.extend(["--level".to_string(), l.to_string()]);
        }
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        assert_eq!(ok(pingan(&a)), ok(pingan(&b)), "{level:?}");
    }
    let csv = ok(pingan(&[
        "scores", "--db", &db, "--period", "2024", "--format", "csv",
    ]));
    assert!(csv.starts_with("\u{feff}region,name,level,parent,total"));
}

#[test]
fn import_summary_dry_run_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let d = dir.path().to_str().unwrap();
    let values = format!("{d}/values.csv");
    let out = ok(pingan(&[
        "import",
        "values",
        &values,
        "--db",
        &db,
        "--dry-run",
        "--format",
        "json",
    ]));
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["imported"], 0);
    assert_eq!(s["ignored"], s["rows"]);
    assert_eq!(s["dry_run"], true);
    let text = ok(pingan(&["import", "values", &values, "--db", &db]));
    assert!(text.contains("新增 0，更新 0，未变"), "{text}");

    let log_before = ok(pingan(&["audit", "list", "--db", &db, "--format", "json"]));
    let bad = format!("{d}/bad.csv");
    std::fs::write(&bad, "region,period,element,value\n990101001,2024-01,population,1\n990101001,2024-13,population,1\n").unwrap();
    let out = pingan(&["import", "values", &bad, "--db", &db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{bad}:3: 期间“2024-13”无法识别")) && err.contains("未写入任何数据"),
        "{err}"
    );
    // A row that cannot be read and a logic rule broken by two that can:
    // both in one answer, so one round of corrections fixes the file.
    std::fs::write(
        &bad,
        "region,period,element,value\n990101001,2024-13,population,1\n990101001,2024-05,fraud_cases,10\n990101001,2024-05,fraud_solved,20\n",
    )
    .unwrap();
    let out = pingan(&["import", "values", &bad, "--db", &db]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{bad}:2: 期间“2024-13”无法识别"))
            && err.contains(&format!("{bad}:4: "))
            && err.contains("网络诈骗案件破案数 = 20"),
        "{err}"
    );
    // A NUL in a code is named where it sits, not printed invisibly.
    std::fs::write(
        &bad,
        "region,period,element,value\n9901\x0001001,2024-01,population,1\n",
    )
    .unwrap();
    let out = pingan(&["import", "values", &bad, "--db", &db]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("“9901[U+0000]01001”") && !err.contains('\0'),
        "{err}"
    );
    assert_eq!(
        ok(pingan(&["audit", "list", "--db", &db, "--format", "json"])),
        log_before
    );
}

#[test]
fn audit_head_verify_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let d = dir.path().to_str().unwrap();
    let head = ok(pingan(&["audit", "head", "--db", &db]))
        .trim()
        .to_string();
    assert_eq!(head.len(), 64);
    let v = ok(pingan(&["audit", "verify", "--db", &db, "--head", &head]));
    assert!(v.contains("校验通过"), "{v}");
    let out = pingan(&["audit", "verify", "--db", &db, "--head", &"0".repeat(64)]);
    assert_eq!(out.status.code(), Some(1));
    let list: Value = serde_json::from_str(&ok(pingan(&[
        "audit", "list", "--db", &db, "--format", "json",
    ])))
    .unwrap();
    let actions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..4],
        [
            "init",
            "import_framework",
            "import_regions",
            "import_benchmarks"
        ]
    );
    assert!(actions.contains(&"import_values") && actions.contains(&"score_run"));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["user"] == "测试员")
    );
    let only: Value = serde_json::from_str(&ok(pingan(&[
        "audit",
        "list",
        "--db",
        &db,
        "--action",
        "import_values",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    let csv = format!("{d}/audit.csv");
    ok(pingan(&[
        "audit", "list", "--db", &db, "--format", "csv", "--out", &csv,
    ]));
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("\u{feff}编号,时间,操作人,操作")
    );
    let xlsx = format!("{d}/audit.xlsx");
    ok(pingan(&[
        "audit", "list", "--db", &db, "--format", "xlsx", "--out", &xlsx,
    ]));
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
}

#[test]
fn backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let d = dir.path().to_str().unwrap();
    let file = format!("{d}/pingan.bak");
    ok(pingan(&["backup", "--db", &db, "--out", &file]));
    let copy = format!("sqlite://{d}/copy.db");
    let out = ok(pingan(&["restore", "--db", &copy, "--from", &file]));
    assert!(out.contains("校验通过"), "{out}");
    let a = ok(pingan(&[
        "scores", "--db", &db, "--period", "2024", "--format", "json",
    ]));
    let b = ok(pingan(&[
        "scores", "--db", &copy, "--period", "2024", "--format", "json",
    ]));
    assert_eq!(a, b);
    let out = pingan(&["restore", "--db", &db, "--from", &file]);
    assert_eq!(out.status.code(), Some(1), "only into an empty database");
}

#[test]
fn unreachable_database() {
    let out = pingan(&[
        "scores",
        "--db",
        "postgres://nobody@127.0.0.1:1/none",
        "--period",
        "2024",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("无法连接数据库"), "{err}");
}

/// A mistyped SQLite path is an error naming it for every command that only
/// reads or acts on what is there; only init, the imports and restore create
/// the file.
#[test]
fn a_missing_database_file_is_named_not_created() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let path = format!("{d}/typo.db");
    let db = format!("sqlite://{path}");
    for args in [
        vec!["scores", "--db", &db, "--period", "2024"],
        vec!["check", "--db", &db, "--period", "2024"],
        vec!["audit", "verify", "--db", &db],
        vec!["audit", "head", "--db", &db],
        vec!["backup", "--db", &db, "--out", &format!("{d}/b.bak")],
        vec!["user", "list", "--db", &db],
        vec!["serve", "--db", &db, "--bind", "127.0.0.1:0"],
    ] {
        let out = pingan(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("数据库文件 {path} 不存在")),
            "{args:?}: {err}"
        );
        assert!(!Path::new(&path).exists(), "{args:?} created {path}");
    }
    // An import may create the database, but one that is refused takes it
    // away again: no empty database is left to be mistaken for a real one.
    std::fs::write(
        format!("{d}/bad.csv"),
        "region,period,element,value\nX,2024-13,a,b\n",
    )
    .unwrap();
    for kind in ["values", "events"] {
        let out = pingan(&["import", kind, &format!("{d}/bad.csv"), "--db", &db]);
        assert_eq!(out.status.code(), Some(1), "import {kind}");
        assert!(!Path::new(&path).exists(), "import {kind} left {path}");
        assert!(!Path::new(&format!("{path}-wal")).exists());
    }
    ok(pingan(&["init", "--db", &db]));
    assert!(Path::new(&path).exists());
    ok(pingan(&["audit", "verify", "--db", &db]));
}
/// An import killed with SIGKILL mid-transaction leaves the database as it was.
#[test]
fn killed_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [2, 4, 12], "2024");
    let db = format!("sqlite://{d}/t.db");
    ok(pingan(&["init", "--db", &db]));
    ok(pingan(&[
        "import",
        "regions",
        &format!("{d}/regions.csv"),
        "--db",
        &db,
    ]));
    let head_before = ok(pingan(&["audit", "head", "--db", &db]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(["import", "values", &format!("{d}/values.csv"), "--db", &db])
        .env("PINGAN_TEST_PAUSE_AFTER_BATCHES", "3")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        "PINGAN_TEST_PAUSED",
        "three batches (3,000 rows) are in the open transaction"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(ok(pingan(&["audit", "head", "--db", &db])), head_before);
    assert!(ok(pingan(&["audit", "verify", "--db", &db])).contains("校验通过"));
    let dry: Value = serde_json::from_str(&ok(pingan(&[
        "import",
        "values",
        &format!("{d}/values.csv"),
        "--db",
        &db,
        "--dry-run",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(
        dry["imported"], dry["rows"],
        "no row of the killed import was kept"
    );
}

fn pingan_pw(args: &[&str], pw: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .env_remove("PINGAN_DB")
        .env("PINGAN_USER", "安全管理员")
        .env("PINGAN_PASSWORD", pw)
        .output()
        .unwrap()
}

#[test]
fn users_and_tokens_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let db = format!("sqlite://{d}/u.db");
    ok(pingan(&["init", "--db", &db]));
    let out = ok(pingan_pw(
        &[
            "user",
            "add",
            "li",
            "--role",
            "expert,office_admin",
            "--db",
            &db,
        ],
        "Pingan-2024x",
    ));
    assert!(out.contains("首次登录须修改密码"), "{out}");
    ok(pingan_pw(
        &[
            "user",
            "add",
            "demo",
            "--role",
            "supervisor",
            "--no-force-change",
            "--db",
            &db,
        ],
        "Pingan-2024x",
    ));
    let out = pingan_pw(
        &[
            "user",
            "add",
            "x",
            "--role",
            "system_admin,audit_admin",
            "--db",
            &db,
        ],
        "Pingan-2024x",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("三员分立"));
    let out = pingan_pw(
        &["user", "add", "y", "--role", "expert", "--db", &db],
        "weak",
    );
    assert_eq!(out.status.code(), Some(1));
    ok(pingan(&[
        "user", "lock", "li", "--reason", "离职", "--db", &db,
    ]));
    let list = ok(pingan(&["user", "list", "--db", &db]));
    assert!(
        list.contains("锁定") && list.contains("专家评审组"),
        "{list}"
    );
    ok(pingan(&["user", "unlock", "li", "--db", &db]));
    ok(pingan_pw(
        &["user", "passwd", "li", "--db", &db],
        "Another-Pass-9",
    ));
    let token = ok(pingan(&[
        "token",
        "create",
        "--name",
        "公安接口",
        "--department",
        "公安",
        "--db",
        &db,
    ]));
    assert!(
        token.trim().starts_with("pa_") && token.trim().len() == 67,
        "{token}"
    );
    ok(pingan(&["token", "revoke", "1", "--db", &db]));
    assert!(ok(pingan(&["token", "list", "--db", &db])).contains("已吊销"));
    let log = ok(pingan(&["audit", "list", "--db", &db, "--format", "json"]));
    assert!(!log.contains("Pingan-2024x") && !log.contains(token.trim()));
    assert!(ok(pingan(&["audit", "verify", "--db", &db])).contains("校验通过"));
}

#[test]
fn demo_builds_a_database_with_one_account_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = ok(pingan(&[
        "demo",
        "--out",
        d,
        "--no-serve",
        "--cities",
        "2",
        "--counties",
        "4",
        "--townships",
        "8",
        "--events",
        "3000",
    ]));
    assert!(
        out.contains("各市排名") && out.contains("演示账户"),
        "{out}"
    );
    // The eight event elements of values.csv are the events' aggregate,
    // and the database took the events of each year.
    let mut all = String::new();
    for y in 2022..=2024 {
        let t = std::fs::read_to_string(format!("{d}/events-{y}.csv")).unwrap();
        let skip = if all.is_empty() { 0 } else { 1 };
        for l in t.lines().skip(skip) {
            all.push_str(l);
            all.push('\n');
        }
    }
    std::fs::write(format!("{d}/all-events.csv"), all).unwrap();
    let derived = ok(pingan(&[
        "events",
        "aggregate",
        "--events",
        &format!("{d}/all-events.csv"),
        "--regions",
        &format!("{d}/regions.csv"),
    ]));
    let values = std::fs::read_to_string(format!("{d}/values.csv")).unwrap();
    let values: std::collections::HashSet<&str> = values.lines().collect();
    assert!(derived.lines().count() > 8 * 8 * 12);
    for line in derived.lines().skip(1) {
        assert!(values.contains(line), "{line} not in values.csv");
    }
    for role in [
        "测评办管理员",
        "部门报送员（公安）",
        "地区用户",
        "监督小组",
        "系统管理员",
        "安全管理员",
        "审计管理员",
    ] {
        assert!(out.contains(role), "{role}");
    }
    let db = format!("sqlite://{d}/pingan.db");
    let users: Value = serde_json::from_str(&ok(pingan(&[
        "audit", "list", "--db", &db, "--action", "user_add", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 11);
    let imports: Value = serde_json::from_str(&ok(pingan(&[
        "audit",
        "list",
        "--db",
        &db,
        "--action",
        "import_events",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(
        imports.as_array().unwrap().len(),
        3,
        "one events import a year"
    );
    let scores: Value = serde_json::from_str(&ok(pingan(&[
        "scores", "--db", &db, "--period", "2024", "--level", "city", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(scores["results"].as_array().unwrap().len(), 2);
}

#[test]
fn review_intake_and_preview_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let d = dir.path().to_str().unwrap();
    let official = |extra: &[&str]| {
        let mut a = vec![
            "scores", "--db", &db, "--period", "2024", "--format", "json",
        ];
        a.extend_from_slice(extra);
        ok(pingan(&a))
    };
    let before = official(&[]);
    // A 2024 value of some township, sent again ten times larger for review.
    let values = std::fs::read_to_string(format!("{d}/values.csv")).unwrap();
    let row: Vec<&str> = values
        .lines()
        .skip(1)
        .find(|l| l.contains(",2024-06,"))
        .unwrap()
        .split(',')
        .collect();
    let header: Vec<&str> = values.lines().next().unwrap().split(',').collect();
    let col = |n: &str| row[header.iter().position(|h| *h == n).unwrap()];
    let value: f64 = col("value").parse().unwrap();
    let file = format!("{d}/review.csv");
    std::fs::write(
        &file,
        format!(
            "region,period,element,value,source\n{},{},{},{},复核\n",
            col("region"),
            col("period"),
            col("element"),
            value * 10.0 + 100.0
        ),
    )
    .unwrap();
    let dry = ok(pingan(&[
        "import",
        "values",
        &file,
        "--db",
        &db,
        "--review",
        "--dry-run",
    ]));
    assert!(dry.contains("将进入三级审核：1 个数据集"), "{dry}");
    let out = ok(pingan(&[
        "import", "values", &file, "--db", &db, "--review",
    ]));
    assert!(out.contains("已进入三级审核：1 个数据集"), "{out}");
    assert_eq!(
        official(&[]),
        before,
        "pending values stay out of official scores"
    );
    let preview: Value = serde_json::from_str(&official(&["--preview"])).unwrap();
    assert_eq!(preview["preview"], true);
    assert_eq!(preview["pending_values"], 1);
    let table = ok(pingan(&[
        "scores",
        "--db",
        &db,
        "--period",
        "2024",
        "--preview",
    ]));
    assert!(table.starts_with("【预览"), "{table}");
    let out = pingan(&[
        "import",
        "regions",
        &format!("{d}/regions.csv"),
        "--db",
        &db,
        "--review",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--review 只适用于"));
}

//! `pingan template` and `pingan import excel` against a database.

mod common;

use std::process::{Command, Output};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .env_remove("PINGAN_DB")
        .env("PINGAN_USER", "测试员")
        .output()
        .unwrap()
}

fn ok(out: Output) -> (String, String) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_prefilled_template_imports_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [1, 2, 6], "2023-2024");
    let db = format!("sqlite://{d}/t.db");
    for (kind, file) in [("regions", "regions.csv"), ("values", "values.csv")] {
        ok(pingan(&[
            "import",
            kind,
            &format!("{d}/{file}"),
            "--db",
            &db,
        ]));
    }
    let t = format!("{d}/公安.xlsx");
    let (_, err) = ok(pingan(&[
        "template",
        "--department",
        "公安",
        "--period",
        "2024-06",
        "--period",
        "2024-07",
        "--region",
        "990101",
        "--prefill",
        "--db",
        &db,
        "--out",
        &t,
    ]));
    assert!(err.contains("2 个期间"), "{err}");
    let bytes = std::fs::read(&t).unwrap();
    assert!(bytes.starts_with(b"PK"));
    // The department's values arrive under its own source, once.
    let (out, _) = ok(pingan(&[
        "import", "excel", &t, "--db", &db, "--format", "json",
    ]));
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n = s["imported"].as_u64().unwrap();
    assert!(n > 0, "{s}");
    let (out, _) = ok(pingan(&[
        "import", "excel", &t, "--db", &db, "--format", "json",
    ]));
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["imported"], 0);
    assert_eq!(s["ignored"].as_u64().unwrap(), n);
    // Not a template: a clear error, nothing stored.
    let out = pingan(&["import", "excel", &format!("{d}/values.csv"), "--db", &db]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("不是 Excel") && err.contains("未写入任何数据"),
        "{err}"
    );
    let out = pingan(&[
        "template",
        "--department",
        "没有",
        "--year",
        "2024",
        "--db",
        &db,
        "--out",
        &t,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("没有部门"));
}

//! `pingan framework check|show` on the built-in framework and broken files.

use serde_json::Value;
use std::process::{Command, Output};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .output()
        .unwrap()
}

fn default_file() -> String {
    format!(
        "{}/../../frameworks/pingan-2024.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn default_framework_checks_clean_with_two_warnings() {
    let out = pingan(&["framework", "check", &default_file(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    let kinds: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["public_opinion_share", "provisional_rules"]);
    assert!((v["public_opinion_share"].as_f64().unwrap() - 0.116335).abs() < 1e-9);
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("0.116335")
    );
    let provisional = v["warnings"][1]["items"].as_array().unwrap().len();
    assert_eq!(provisional, 37);
    assert!(
        v["warnings"][1]["message"]
            .as_str()
            .unwrap()
            .starts_with("37 项指标")
    );
    // The built-in copy is the same file.
    let builtin = pingan(&["framework", "check", "--format", "json"]);
    assert_eq!(builtin.stdout, out.stdout);
    let table = pingan(&["framework", "check"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("群众意见指标占比：0.116335") && text.contains("0 个错误，2 个警告"),
        "{text}"
    );
}

#[test]
fn broken_framework_exits_1_naming_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    let src = std::fs::read_to_string(default_file()).unwrap();
    std::fs::write(&p, src.replacen("weight = 0.30", "weight = 0.35", 1)).unwrap();
    let out = pingan(&[
        "framework",
        "check",
        p.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["kind"], "weights_sum");
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("1.05"),
        "{v}"
    );
    let out = pingan(&["framework", "check", p.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("{}:", p.display())), "{text}");
    // Scoring with a broken framework is an input error on stderr.
    let out = pingan(&[
        "score",
        "--framework",
        p.to_str().unwrap(),
        "--regions",
        "r",
        "--values",
        "v",
        "--period",
        "2024",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:"));
}

#[test]
fn show_prints_effective_weights_and_full_points() {
    let out = pingan(&["framework", "show", "--format", "json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d1 = &v["dimensions"][0];
    assert_eq!(d1["code"], "D1");
    let i = &d1["domains"][0]["indicators"][0];
    assert_eq!(i["code"], "D1.1.1");
    assert!((i["max"].as_f64().unwrap() - 4.2).abs() < 1e-12);
    assert!((i["effective_weight"].as_f64().unwrap() - 0.042).abs() < 1e-12);
    let out = pingan(&["framework", "show"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("刑事案件发案率") && text.contains("【待定】") && text.contains("4.2"),
        "{text}"
    );
}

//! `pingan score` end to end on a province small enough to compute by hand,
//! and every input error of scoring.md §6.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/small")
        .join(name)
}

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .output()
        .unwrap()
}

fn score_small(extra: &[&str]) -> Output {
    let (f, r, v, b) = (
        fixture("framework.toml"),
        fixture("regions.csv"),
        fixture("values.csv"),
        fixture("benchmarks.csv"),
    );
    let mut args = vec![
        "score",
        "--framework",
        f.to_str().unwrap(),
        "--regions",
        r.to_str().unwrap(),
        "--values",
        v.to_str().unwrap(),
        "--benchmarks",
        b.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    pingan(&args)
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

fn result<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == code)
        .unwrap()
}

fn indicator<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .unwrap()
}

/// Worked by hand in the comments; see fixtures/small.
#[test]
fn small_province_by_hand() {
    let rep = json(&score_small(&["--period", "2024", "--format", "json"]));
    assert_eq!(rep["framework"], "small");
    assert_eq!(rep["period"], "2024");
    let codes: Vec<&str> = rep["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["P", "C1", "K1", "K2", "C2", "K3"],
        "file order; K4 merged in 2023 is left out"
    );

    // K1: rate 110 vs 100 → 10 % above → −5 of 30; sat 4.2 → 20; proportional 90/110 × 20.
    let k1 = result(&rep, "K1");
    close(&indicator(k1, "I1")["points"], 25.0);
    close(&indicator(k1, "I1")["value"], 110.0);
    assert_eq!(
        indicator(k1, "I1")["reasons"][0],
        "高于全国发案率（100起/10万人）10%（相对值），每1%扣0.5分，扣5分"
    );
    close(&indicator(k1, "I4")["points"], 90.0 / 110.0 * 20.0);
    close(&k1["total"], 25.0 + 30.0 + 20.0 + 90.0 / 110.0 * 20.0);
    assert_eq!(k1["grade"], "优秀");
    assert_eq!(
        (k1["rank"].as_u64(), k1["peers"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        (k1["level_rank"].as_u64(), k1["level_peers"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(k1["parent"], "C1");
    // K2: everything full but sat 3.8 → 60 % of 20.
    let k2 = result(&rep, "K2");
    close(&k2["total"], 92.0);
    assert_eq!(k2["rank"], 1);
    close(&k2["dimensions"][1]["points"], 32.0);
    close(&k2["dimensions"][1]["percent"], 80.0);
    // K3: months roll up to 120; a major case vetoes.
    let k3 = result(&rep, "K3");
    close(&indicator(k3, "I1")["value"], 120.0);
    close(&k3["total"], 40.0);
    assert_eq!(k3["veto"], true);
    assert_eq!(k3["grade"], "不合格");
    assert_eq!(
        (
            k3["rank"].as_u64(),
            k3["peers"].as_u64(),
            k3["level_rank"].as_u64()
        ),
        (Some(1), Some(1), Some(3))
    );
    // C1 = K1 + K2: rate 100, sat weighted 4.0 exactly → full.
    let c1 = result(&rep, "C1");
    close(&c1["total"], 100.0);
    close(&indicator(c1, "I3")["value"], 4.0);
    // C2 = K3 only (K4 not valid in 2024), months → 120.
    let c2 = result(&rep, "C2");
    close(&indicator(c2, "I1")["value"], 120.0);
    close(&c2["total"], 20.0 + 100.0 / 120.0 * 20.0);
    assert_eq!(c2["veto"], true);
    assert_eq!(c2["rank"], 2);
    // P = C1 + C2: 320 / 300000 → 106.67, sat (4.0·200000 + 3.4·100000) / 300000 = 3.8.
    let p = result(&rep, "P");
    assert_eq!(p["parent"], Value::Null);
    close(&indicator(p, "I1")["value"], 320.0 / 300000.0 * 100000.0);
    close(&indicator(p, "I3")["value"], 3.8);
    let i1 = 30.0 - (320.0 / 300000.0 * 100000.0 - 100.0) / 100.0 * 100.0 / 1.0 * 0.5;
    close(&p["total"], i1 + 0.0 + 12.0 + 20.0);
    close(&p["max"], 100.0);
    assert_eq!(p["grade"], "不合格");
    assert_eq!(p["bottom"], false);
}

#[test]
fn level_filters_output_only() {
    let all = json(&score_small(&["--period", "2024", "--format", "json"]));
    let counties = json(&score_small(&[
        "--period", "2024", "--format", "json", "--level", "county",
    ]));
    let codes: Vec<&str> = counties["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["K1", "K2", "K3"]);
    for r in counties["results"].as_array().unwrap() {
        assert_eq!(r, result(&all, r["region"].as_str().unwrap()));
    }
}

#[test]
fn merged_county_is_scored_for_its_own_years() {
    let rep = json(&score_small(&[
        "--period", "2023", "--format", "json", "--level", "county",
    ]));
    let codes: Vec<&str> = rep["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["K1", "K2", "K3", "K4"]);
    // No 2023 data at all: every indicator missing, 未报送不得分.
    let k4 = result(&rep, "K4");
    close(&k4["total"], 0.0);
    assert_eq!(indicator(k4, "I1")["missing"], true);
    assert_eq!(indicator(k4, "I1")["value"], Value::Null);
    let why = indicator(k4, "I1")["reasons"][0].as_str().unwrap();
    assert!(
        why.starts_with("未报送，不得分：缺少“案件数”（cases）：丁县 2023年未报送"),
        "{why}"
    );
}

#[test]
fn csv_and_table_formats() {
    let out = score_small(&["--period", "2024", "--format", "csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("\u{feff}region,name,level,parent,total,grade,veto,rank,peers,level_rank,level_peers,bottom,D1,D2\n"));
    assert!(
        text.contains("\nK2,乙县,county,C1,92,优秀,false,1,2,1,3,false,60,32\n"),
        "{text}"
    );
    let out = score_small(&["--period", "2024"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("乙县") && text.contains("一票否决"), "{text}");
}

#[test]
fn gb18030_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["regions.csv", "values.csv"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let (gb, _, _) = encoding_rs::GB18030.encode(&text);
        std::fs::write(dir.path().join(name), &gb).unwrap();
    }
    let (f, b) = (fixture("framework.toml"), fixture("benchmarks.csv"));
    let (r, v) = (
        dir.path().join("regions.csv"),
        dir.path().join("values.csv"),
    );
    let out = pingan(&[
        "score",
        "--framework",
        f.to_str().unwrap(),
        "--regions",
        r.to_str().unwrap(),
        "--values",
        v.to_str().unwrap(),
        "--benchmarks",
        b.to_str().unwrap(),
        "--period",
        "2024",
        "--format",
        "json",
    ]);
    let rep = json(&out);
    assert_eq!(result(&rep, "K1")["name"], "甲县");
    close(&result(&rep, "K2")["total"], 92.0);
}

/// Each bad input: exit 1, nothing on stdout, `file:line: …` on stderr.
#[test]
fn input_errors_exit_1_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let regions = std::fs::read_to_string(fixture("regions.csv")).unwrap();
    let values = std::fs::read_to_string(fixture("values.csv")).unwrap();
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "malformed row",
            regions.clone(),
            values.clone() + "K1,2024,cases\n",
            "values.csv:29: 本行有 3 列",
        ),
        (
            "unknown region",
            regions.clone(),
            values.clone() + "K9,2024,cases,1,,\n",
            "values.csv:29: 未知的地区代码“K9”",
        ),
        (
            "unknown element",
            regions.clone(),
            values.clone() + "K1,2024,casez,1,,\n",
            "values.csv:29: 未知的数据项代码“casez”",
        ),
        (
            "duplicate",
            regions.clone(),
            values.clone() + "K1,2024,cases,111,,\n",
            "values.csv:29: 重复的数据：地区 K1、期间 2024、数据项 cases 已在第 2 行出现",
        ),
        (
            "bad period",
            regions.clone(),
            values.clone() + "K1,2024-13,cases,1,,\n",
            "values.csv:29: 期间“2024-13”无法识别",
        ),
        (
            "not a number",
            regions.clone(),
            values.clone() + "K1,2023,cases,十,,\n",
            "values.csv:29: 数值“十”不是数字",
        ),
        (
            "non-finite",
            regions.clone(),
            values.clone() + "K1,2023,cases,NaN,,\n",
            "values.csv:29: 数值“NaN”不是有限数",
        ),
        (
            "unknown parent",
            regions.clone() + "K5,戊县,C9,county,,\n",
            values.clone(),
            "regions.csv:9: 上级地区代码 C9 不存在",
        ),
        (
            "cycle",
            regions.replace("C2,二市,P,city", "C2,二市,K3,city"),
            values.clone(),
            "循环",
        ),
        (
            "scientific code",
            regions.clone() + "3.3E+11,戊县,C2,county,,\n",
            values.clone(),
            "regions.csv:9: 地区代码“3.3E+11”是科学计数法",
        ),
    ];
    let (f, b) = (fixture("framework.toml"), fixture("benchmarks.csv"));
    for (what, r, v, want) in cases {
        let (rp, vp) = (
            dir.path().join("regions.csv"),
            dir.path().join("values.csv"),
        );
        std::fs::write(&rp, r).unwrap();
        std::fs::write(&vp, v).unwrap();
        let out = pingan(&[
            "score",
            "--framework",
            f.to_str().unwrap(),
            "--regions",
            rp.to_str().unwrap(),
            "--values",
            vp.to_str().unwrap(),
            "--benchmarks",
            b.to_str().unwrap(),
            "--period",
            "2024",
            "--format",
            "json",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}: stdout not empty");
        assert!(err.contains(want), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

#[test]
fn missing_or_zero_benchmark_is_an_input_error() {
    let (f, r, v) = (
        fixture("framework.toml"),
        fixture("regions.csv"),
        fixture("values.csv"),
    );
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("benchmarks.csv");
    for (content, want) in [
        (
            "benchmark,period,value\nnat_rate,2023,100\n",
            "缺少基准值 nat_rate（全国发案率）2024 的数据",
        ),
        (
            "benchmark,period,value\nnat_rate,2023,1\nnat_rate,2024,0\n",
            "benchmarks.csv:3: 基准值 nat_rate（全国发案率）2024 为 0",
        ),
    ] {
        std::fs::write(&b, content).unwrap();
        let out = pingan(&[
            "score",
            "--framework",
            f.to_str().unwrap(),
            "--regions",
            r.to_str().unwrap(),
            "--values",
            v.to_str().unwrap(),
            "--benchmarks",
            b.to_str().unwrap(),
            "--period",
            "2024",
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("benchmarks.csv:") && err.contains(want),
            "{err}"
        );
    }
    let out = pingan(&[
        "score",
        "--framework",
        f.to_str().unwrap(),
        "--regions",
        r.to_str().unwrap(),
        "--values",
        v.to_str().unwrap(),
        "--period",
        "2024",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    let out = pingan(&["score", "--regions", "x", "--values", "y", "--period", "24"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pingan(&["score", "--regions", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_file_is_an_input_error() {
    let out = pingan(&[
        "score",
        "--regions",
        "/nonexistent/regions.csv",
        "--values",
        "v.csv",
        "--period",
        "2024",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("/nonexistent/regions.csv: 无法读取文件")
    );
}

//! `pingan weights …` and `pingan sensitivity` end to end.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn close(v: &Value, want: f64, tol: f64) {
    let got = v.as_f64().unwrap();
    assert!((got - want).abs() < tol, "got {got}, want {want}");
}

#[test]
fn ahp_saaty_example_and_its_json_contract() {
    let d = tempfile::tempdir().unwrap();
    let m = write(
        d.path(),
        "m.csv",
        ",刑事,治安,重大\n刑事,1,3,5\n治安,1/3,1,3\n重大,1/5,1/3,1\n",
    );
    let v = json(&pingan(&["weights", "ahp", &m, "--format", "json"]));
    assert_eq!(v["items"], serde_json::json!(["刑事", "治安", "重大"]));
    for (i, w) in [0.6370, 0.2583, 0.1047].iter().enumerate() {
        close(&v["weights"][i], *w, 5e-5);
    }
    close(&v["lambda_max"], 3.0385, 5e-5);
    close(&v["cr"], 0.033, 5e-4);
    assert_eq!(v["ri"].as_f64(), Some(0.58));
    assert_eq!(v["ri_table"], "saaty-classic");
    assert_eq!(v["consistent"], true);
    assert_eq!(v["experts"][0]["file"], m);
    assert_eq!(v["worst_judgements"], serde_json::json!([]));
    let dd = json(&pingan(&[
        "weights",
        "ahp",
        &m,
        "--ri",
        "donegan-dodd",
        "--format",
        "json",
    ]));
    assert_eq!(dd["ri"].as_f64(), Some(0.4914));
    assert_eq!(dd["ri_table"], "donegan-dodd");
    let table = String::from_utf8(pingan(&["weights", "ahp", &m]).stdout).unwrap();
    assert!(
        table.contains("通过一致性检验") && table.contains("saaty-classic"),
        "{table}"
    );
}

#[test]
fn ahp_inconsistent_names_the_judgements_to_revisit() {
    let d = tempfile::tempdir().unwrap();
    let m = write(
        d.path(),
        "m.csv",
        ",a,b,c,d\na,1,9,1/9,3\nb,1/9,1,9,1/5\nc,9,1/9,1,7\nd,1/3,5,1/7,1\n",
    );
    let v = json(&pingan(&["weights", "ahp", &m, "--format", "json"]));
    assert_eq!(v["consistent"], false);
    let worst = v["worst_judgements"].as_array().unwrap();
    assert_eq!(worst.len(), 3);
    assert!(worst[0]["row"].is_string() && worst[0]["col"].is_string());
    let table = String::from_utf8(pingan(&["weights", "ahp", &m]).stdout).unwrap();
    assert!(
        table.contains("未通过一致性检验") && table.contains("最需要复核的判断"),
        "{table}"
    );
}

#[test]
fn ahp_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let good = write(d.path(), "good.csv", ",a,b\na,1,3\nb,1/3,1\n");
    let cases = [
        (",a,b\na,1,3\nb,0.3,1\n", "bad.csv:3: 判断矩阵不互反"),
        (
            ",a,b\na,1,-3\nb,1,1\n",
            "bad.csv:2: 第 3 列：判断值“-3”无效",
        ),
        (",a,b\na,1,3\n", "方阵"),
        (",a,c\na,1,3\nc,1/3,1\n", "项目与"),
    ];
    for (text, want) in cases {
        let bad = write(d.path(), "bad.csv", text);
        let out = pingan(&["weights", "ahp", &good, &bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(out.stdout.is_empty());
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn delphi_rounds_and_errors() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::from("round,expert,item,score\n");
    let r1 = [[5, 4, 3], [4, 4, 2], [5, 3, 3], [4, 5, 2]];
    for (e, row) in r1.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            s.push_str(&format!("1,E{e},I{i},{v}\n"));
        }
    }
    let r2 = [[5, 4, 2], [5, 4, 2], [5, 3, 2], [4, 4, 2]];
    for (e, row) in r2.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            s.push_str(&format!("2,E{e},I{i},{v}\n"));
        }
    }
    let scores = write(d.path(), "scores.csv", &s);
    let auth = write(
        d.path(),
        "auth.csv",
        "expert,ca,cs\nE0,0.9,0.8\nE1,0.7,0.6\n",
    );
    let v = json(&pingan(&[
        "weights",
        "delphi",
        &scores,
        "--authority",
        &auth,
        "--format",
        "json",
    ]));
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    for key in [
        "round",
        "experts",
        "w",
        "chi2",
        "df",
        "p",
        "consensus",
        "failing_items",
        "items",
    ] {
        assert!(rounds[0].get(key).is_some(), "{key}");
    }
    assert_eq!(rounds[0]["experts"], 4);
    assert_eq!(rounds[0]["df"], 2);
    // χ² = m(n − 1)W.
    close(
        &rounds[0]["chi2"],
        4.0 * 2.0 * rounds[0]["w"].as_f64().unwrap(),
        1e-12,
    );
    let item = &rounds[0]["items"][0];
    for key in ["item", "mean", "sd", "cv", "full_mark_ratio"] {
        assert!(item.get(key).is_some(), "{key}");
    }
    close(&item["mean"], 4.5, 1e-12);
    close(&item["full_mark_ratio"], 0.5, 1e-12);
    close(&v["authority"][0]["cr"], 0.85, 1e-12);
    let table = String::from_utf8(pingan(&["weights", "delphi", &scores]).stdout).unwrap();
    assert!(
        table.contains("肯德尔和谐系数") && table.contains("变异系数"),
        "{table}"
    );

    let bad = write(
        d.path(),
        "bad.csv",
        "round,expert,item,score\n1,E1,a,5\n1,E1,b,6\n1,E2,a,4\n1,E2,b,3\n",
    );
    let out = pingan(&["weights", "delphi", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("{bad}:3: ")));
    let lonely = write(
        d.path(),
        "one.csv",
        "round,expert,item,score\n1,E1,a,5\n1,E1,b,4\n",
    );
    let out = pingan(&["weights", "delphi", &lonely]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("至少需要 2 位专家"));
}

#[test]
fn entropy_critic_combine_and_apply() {
    let d = tempfile::tempdir().unwrap();
    let m = write(
        d.path(),
        "m.csv",
        "alternative,D1.1,D1.2,D1.3\nA,1,20,3\nB,2,10,3.5\nC,3,15,1\nD,2.5,12,2\n",
    );
    let e = json(&pingan(&[
        "weights",
        "entropy",
        &m,
        "--directions",
        "+,-,+",
        "--format",
        "json",
    ]));
    assert_eq!(e["criteria"], serde_json::json!(["D1.1", "D1.2", "D1.3"]));
    close(
        &Value::from(
            e["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_f64().unwrap())
                .sum::<f64>(),
        ),
        1.0,
        1e-12,
    );
    let c = json(&pingan(&[
        "weights",
        "critic",
        &m,
        "--directions",
        "+,-,+",
        "--format",
        "json",
    ]));
    assert_eq!(c["weights"].as_array().unwrap().len(), 3);
    let constant = write(d.path(), "c.csv", "alternative,x,y\nA,1,5\nB,2,5\n");
    let out = pingan(&["weights", "entropy", &constant, "--directions", "+,+"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("y"));

    let ahp = write(
        d.path(),
        "a.csv",
        ",D1.1,D1.2,D1.3\nD1.1,1,2,2\nD1.2,1/2,1,1\nD1.3,1/2,1,1\n",
    );
    let s_out = pingan(&["weights", "ahp", &ahp, "--format", "json"]);
    let s = write(
        d.path(),
        "s.json",
        &String::from_utf8(s_out.stdout).unwrap(),
    );
    let o = write(d.path(), "o.json", &serde_json::to_string(&e).unwrap());
    let comb = json(&pingan(&[
        "weights",
        "combine",
        "--subjective",
        &s,
        "--objective",
        &o,
        "--alpha",
        "0.6",
        "--format",
        "json",
    ]));
    for i in 0..3 {
        let want = 0.6 * [0.5, 0.25, 0.25][i] + 0.4 * e["weights"][i].as_f64().unwrap();
        close(&comb["weights"][i], want, 1e-12);
    }
    let combined = write(
        d.path(),
        "comb.json",
        &serde_json::to_string(&comb).unwrap(),
    );

    // Write them into a copy of the default framework.
    let fw_src = std::fs::read_to_string(format!(
        "{}/../../frameworks/pingan-2024.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let fw = write(d.path(), "fw.toml", &fw_src);
    let out = pingan(&[
        "weights",
        "apply",
        &combined,
        "--framework",
        &fw,
        "--parent",
        "D1",
        "--decimals",
        "4",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&fw).unwrap();
    assert_eq!(after.lines().count(), fw_src.lines().count(), "layout kept");
    let changed = fw_src
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, 3);
    let check = json(&pingan(&["framework", "check", &fw, "--format", "json"]));
    assert_eq!(check["errors"].as_array().unwrap().len(), 0);
    let out = pingan(&[
        "weights",
        "apply",
        &combined,
        "--framework",
        &fw,
        "--parent",
        "D2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("D2"));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/small")
        .join(name)
}

#[test]
fn sensitivity_contract() {
    let (f, r, v, b) = (
        fixture("framework.toml"),
        fixture("regions.csv"),
        fixture("values.csv"),
        fixture("benchmarks.csv"),
    );
    let args = [
        "sensitivity",
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
        "--level",
        "county",
        "--samples",
        "200",
        "--spread",
        "0.2",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let rep = json(&pingan(&args));
    let results = rep["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for x in results {
        for key in ["region", "nominal", "median", "p05", "p95"] {
            assert!(x.get(key).is_some(), "{key}");
        }
        assert!(x["p05"].as_f64().unwrap() <= x["median"].as_f64().unwrap());
        assert!(x["median"].as_f64().unwrap() <= x["p95"].as_f64().unwrap());
    }
    // K2 (92) leads K1 (91.36) by less than the weights can move: not always first.
    assert_eq!(results[1]["region"], "K2");
    assert_eq!(results[1]["nominal"], 1);
    assert!(rep["spearman"]["median"].as_f64().unwrap() <= 1.0);
    assert!(rep["spearman"]["p05"].is_number());
    assert!(!rep["oat"].as_array().unwrap().is_empty());
    // Same seed, same answer.
    let again = json(&pingan(&args));
    assert_eq!(rep, again);
}

//! `pingan survey` against an independent implementation of survey.md
//! (`survey_reference.py`, standard-library Python written from the
//! contract alone): size, plan and estimate on a generated survey agree to
//! 1e-9, with and without raking; and bad input is named and exits 1.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .output()
        .expect("run pingan")
}

fn reference(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/survey_reference.py");
    Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs the reference (every machine of this kind has it)")
}

fn ok(o: Output, who: &str) -> String {
    assert!(
        o.status.success(),
        "{who} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A small province and its survey, written by `pingan generate`.
fn generated() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = pingan(&[
        "generate",
        "--out",
        d.to_str().unwrap(),
        "--cities",
        "3",
        "--counties",
        "6",
        "--townships",
        "40",
        "--years",
        "2024",
        "--survey",
        "4000",
        "--seed",
        "11",
    ]);
    ok(out, "pingan generate");
    (dir, d)
}

fn close(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
                "{path}: {x} vs {y}"
            );
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut kx: Vec<&String> = x.keys().collect();
            let mut ky: Vec<&String> = y.keys().collect();
            kx.sort();
            ky.sort();
            assert_eq!(kx, ky, "{path}: keys");
            for k in kx {
                close(&x[k], &y[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: length");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                close(p, q, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn estimates_agree_with_an_independent_implementation() {
    let (_keep, d) = generated();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    let (form, regions, frame, responses, margins) = (
        p("survey-form.xlsx"),
        p("regions.csv"),
        p("frame.csv"),
        p("responses.csv"),
        p("margins.csv"),
    );
    let base = [
        "--form",
        &form,
        "--regions",
        &regions,
        "--frame",
        &frame,
        "--responses",
        &responses,
    ];
    for extra in [
        vec![],
        vec!["--margins", margins.as_str()],
        vec!["--margins", margins.as_str(), "--min-n", "80"],
    ] {
        let mut ours = vec!["survey", "estimate"];
        ours.extend(base);
        ours.extend(&extra);
        let mut theirs = vec!["estimate"];
        theirs.extend(base);
        theirs.extend(&extra);
        let a: Value = serde_json::from_str(&ok(pingan(&ours), "pingan survey estimate")).unwrap();
        let b: Value = serde_json::from_str(&ok(reference(&theirs), "reference")).unwrap();
        close(&a, &b, &format!("estimate {extra:?}"));
        let r = &a["responses"];
        assert!(r["duplicates"].as_u64().unwrap() > 0, "{r}");
        assert!(r["invalid"]["too_fast"].as_u64().unwrap() > 0, "{r}");
        assert!(r["invalid"]["incomplete"].as_u64().unwrap() > 0, "{r}");
        assert!(r["invalid"]["constraint"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(
            r["raking_sweeps"].as_u64().unwrap() > 0,
            !extra.is_empty(),
            "{r}"
        );
    }
}

#[test]
fn sizes_and_plans_agree_with_an_independent_implementation() {
    for args in [
        vec!["--margin", "0.03"],
        vec!["--margin", "0.02", "--confidence", "0.99"],
        vec!["--margin", "0.05", "--population", "2000", "--deff", "1.5"],
        vec!["--margin", "0.01", "--response-rate", "0.893"],
    ] {
        let mut ours = vec!["survey", "size"];
        ours.extend(&args);
        let mut theirs = vec!["size"];
        theirs.extend(&args);
        assert_eq!(
            ok(pingan(&ours), "pingan survey size").trim(),
            ok(reference(&theirs), "reference").trim(),
            "{args:?}"
        );
    }
    let (_keep, d) = generated();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    let (regions, frame) = (p("regions.csv"), p("frame.csv"));
    for args in [
        vec!["--size", "3000"],
        vec!["--size", "1201", "--allocation", "equal"],
        vec!["--size", "5000", "--min", "50", "--response-rate", "0.75"],
        vec!["--size", "1600", "--min", "40"],
    ] {
        let mut ours = vec!["survey", "plan", "--regions", &regions, "--frame", &frame];
        ours.extend(&args);
        let mut theirs = vec!["plan", "--regions", &regions, "--frame", &frame];
        theirs.extend(&args);
        assert_eq!(
            ok(pingan(&ours), "pingan survey plan"),
            ok(reference(&theirs), "reference"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_survey_input_is_named_and_nothing_is_printed() {
    let (_keep, d) = generated();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    let bad = p("bad.csv");
    std::fs::write(
        &bad,
        "instance_id,form_version,region,channel,started,submitted,sex\nx,1,990000,fax,2024-10-01 10:00:00,2024-10-01 10:09:00,m\n",
    )
    .unwrap();
    let out = pingan(&[
        "survey",
        "estimate",
        "--form",
        &p("survey-form.xlsx"),
        "--regions",
        &p("regions.csv"),
        "--frame",
        &p("frame.csv"),
        "--responses",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{bad}:2: 地区“990000”不在抽样框中"))
            && err.contains(&format!("{bad}:2: 未知的渠道“fax”")),
        "{err}"
    );
    // A frame smaller than the minimum per region.
    let out = pingan(&[
        "survey",
        "plan",
        "--regions",
        &p("regions.csv"),
        "--frame",
        &p("frame.csv"),
        "--size",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("小于各地区最少样本之和"));
    // Margins that contradict each other: raking cannot meet them.
    let m = p("contradictory.csv");
    let county = std::fs::read_to_string(p("margins.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        &m,
        format!(
            "region,variable,category,population\n{county},sex,m,1000\n{county},sex,f,1000\n{county},age_group,16_29,100\n{county},age_group,30_44,100\n{county},age_group,45_59,100\n{county},age_group,60_plus,100\n"
        ),
    )
    .unwrap();
    let out = pingan(&[
        "survey",
        "estimate",
        "--form",
        &p("survey-form.xlsx"),
        "--regions",
        &p("regions.csv"),
        "--frame",
        &p("frame.csv"),
        "--responses",
        &p("responses.csv"),
        "--margins",
        &m,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("未收敛") && err.contains(&county), "{err}");
}

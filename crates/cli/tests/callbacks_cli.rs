//! Callback sampling through the CLI: `pingan import cases` (bad rows named,
//! nothing kept, idempotent) and `pingan callbacks draw|list|record|evidence`
//! (the same seed draws the same cases in another database).

mod common;

use common::{ok, pingan_as};
use serde_json::Value;
use std::path::Path;

/// A generated province in a fresh database; returns the URL and the
/// first county with its townships.
fn pingan(args: &[&str]) -> std::process::Output {
    pingan_as("回访员", args)
}

fn setup(dir: &Path, name: &str) -> (String, String, Vec<String>) {
    let d = dir.to_str().unwrap();
    if !dir.join("regions.csv").exists() {
        common::generated(d, [1, 2, 6], "2024");
    }
    let db = format!("sqlite://{d}/{name}.db");
    ok(pingan(&["init", "--db", &db]));
    for kind in ["regions", "benchmarks", "values"] {
        ok(pingan(&[
            "import",
            kind,
            &format!("{d}/{kind}.csv"),
            "--db",
            &db,
        ]));
    }
    let regions = std::fs::read_to_string(dir.join("regions.csv")).unwrap();
    let rows: Vec<Vec<&str>> = regions.lines().map(|l| l.split(',').collect()).collect();
    let county = rows.iter().find(|r| r[3] == "county").unwrap()[0].to_string();
    let towns = rows
        .iter()
        .filter(|r| r[3] == "township" && r[2] == county)
        .map(|r| r[0].to_string())
        .collect();
    (db, county, towns)
}

fn register(towns: &[String]) -> String {
    let mut s =
        String::from("案件编号,地区代码,受理日期,纠纷类型,调解结果,是否达成协议,是否履行\n");
    for t in towns {
        for i in 0..10 {
            let ok = i % 5 != 0;
            s.push_str(&format!(
                "{t}-{i},{t},2024/{}/1,物业纠纷,{},{},否\n",
                i + 1,
                if ok {
                    "调解成功"
                } else {
                    "调解不成功"
                },
                if ok { "是" } else { "否" }
            ));
        }
    }
    s
}

fn draw_ids(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case"]["case_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn import_draw_record_and_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (db, county, towns) = setup(dir.path(), "a");
    let file = dir.path().join("cases.csv");
    let good = register(&towns);

    // A bad row: named on stderr, exit 1, nothing stored.
    std::fs::write(
        &file,
        format!("{good}X,{county},2024-13-01,物业纠纷,调解成功,是,否\n"),
    )
    .unwrap();
    let line = good.lines().count() + 1;
    let out = pingan(&["import", "cases", file.to_str().unwrap(), "--db", &db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cases.csv:{line}: 受理日期“2024-13-01”无法识别")),
        "{err}"
    );
    assert!(err.contains("未写入任何数据"));

    std::fs::write(&file, &good).unwrap();
    let f = file.to_str().unwrap();
    let out = ok(pingan(&["import", "cases", f, "--db", &db, "--dry-run"]));
    assert!(out.contains("试运行"), "{out}");
    let out = ok(pingan(&[
        "import", "cases", f, "--db", &db, "--format", "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imported"], towns.len() * 10);
    let out = ok(pingan(&[
        "import", "cases", f, "--db", &db, "--format", "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["imported"].as_u64(), v["ignored"].as_u64()),
        (Some(0), Some(towns.len() as u64 * 10))
    );

    let draw = |db: &str, seed: &str| {
        ok(pingan(&[
            "callbacks",
            "draw",
            "--region",
            &county,
            "--year",
            "2024",
            "--seed",
            seed,
            "--db",
            db,
            "--format",
            "json",
        ]))
    };
    let first = draw(&db, "11");
    let ids = draw_ids(&first);
    assert_eq!(ids.len(), (towns.len() * 8 * 3).div_ceil(10));
    // Another database with the same register and seed draws the same cases.
    let (db2, _, _) = setup(dir.path(), "b");
    ok(pingan(&["import", "cases", f, "--db", &db2]));
    assert_eq!(draw_ids(&draw(&db2, "11")), ids);
    // A second draw of the same region and year with another seed is refused.
    let out = pingan(&[
        "callbacks",
        "draw",
        "--region",
        &county,
        "--year",
        "2024",
        "--seed",
        "12",
        "--db",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("只能抽取一次"));
    // The rate is an option; out of range is an input error.
    let out = pingan(&[
        "callbacks",
        "draw",
        "--region",
        &county,
        "--year",
        "2025",
        "--rate",
        "2",
        "--db",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(1));

    let v: Value = serde_json::from_str(&first).unwrap();
    let id = v["id"].to_string();
    ok(pingan(&[
        "callbacks",
        "record",
        "--draw",
        &id,
        "--case",
        &ids[0],
        "--result",
        "属实",
        "--db",
        &db,
    ]));
    ok(pingan(&[
        "callbacks",
        "record",
        "--draw",
        &id,
        "--case",
        &ids[1],
        "--result",
        "不属实",
        "--note",
        "当事人称未调解",
        "--db",
        &db,
    ]));
    let out = pingan(&[
        "callbacks",
        "record",
        "--draw",
        &id,
        "--case",
        &ids[2],
        "--result",
        "也许",
        "--db",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let list = ok(pingan(&["callbacks", "list", "--draw", &id, "--db", &db]));
    assert!(list.contains("属实") && list.contains("待回访"), "{list}");
    let all = ok(pingan(&["callbacks", "list", "--db", &db]));
    assert!(all.contains("共 1 次抽取"), "{all}");

    let e: Value = serde_json::from_str(&ok(pingan(&[
        "callbacks",
        "evidence",
        "--region",
        &county,
        "--year",
        "2024",
        "--db",
        &db,
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(e["confirmed"], 1);
    assert_eq!(e["not_confirmed"], 1);
    assert_eq!(e["confirmed_share"], 50.0);
    assert!(e["reported_rate"].is_number(), "{e}");
    let text = ok(pingan(&[
        "callbacks",
        "evidence",
        "--region",
        &county,
        "--year",
        "2024",
        "--db",
        &db,
    ]));
    assert!(text.contains("回访确认比例：50.0%"), "{text}");

    let audit = ok(pingan(&[
        "audit",
        "list",
        "--db",
        &db,
        "--action",
        "callback_record",
        "--format",
        "json",
    ]));
    let entries: Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[0]["user"], "回访员");

    let help = ok(pingan(&["callbacks", "--help"]));
    assert!(help.contains("回访"), "{help}");
}

//! `pingan events aggregate` against DuckDB running events.md §2–3 as SQL
//! (`tools/events_duckdb.py`): the same CSV, byte for byte, on a generated
//! year of events (versions, repeats, open events, every kind), with and
//! without `--year`; JSON as the same numbers; bad input named by line,
//! exit 1, nothing on standard output.

use std::path::Path;
use std::process::{Command, Output};

fn pingan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pingan"))
        .args(args)
        .output()
        .expect("run pingan")
}

fn duckdb(args: &[&str]) -> Option<Output> {
    if std::env::var("PINGAN_TEST_DUCKDB").as_deref() == Ok("off") {
        eprintln!("PINGAN_TEST_DUCKDB=off: the DuckDB comparison is skipped");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/events_duckdb.py");
    let o = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "DuckDB reference failed (pip install duckdb==2.0.1, or PINGAN_TEST_DUCKDB=off): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(o)
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn aggregate_agrees_with_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let g = pingan(&[
        "generate",
        "--out",
        d,
        "--cities",
        "3",
        "--counties",
        "9",
        "--townships",
        "60",
        "--years",
        "2024",
        "--events",
        "40000",
    ]);
    ok(&g);
    let (events, regions) = (format!("{d}/events.csv"), format!("{d}/regions.csv"));
    let ours = ok(&pingan(&[
        "events",
        "aggregate",
        "--events",
        &events,
        "--regions",
        &regions,
    ]));
    assert!(ours.starts_with("region,period,element,value\n"));
    assert_eq!(
        ours.lines().count(),
        1 + 60 * 12 * 8,
        "every township, twelve months, eight elements"
    );
    if let Some(theirs) = duckdb(&[&events, &regions]) {
        assert_eq!(ours, String::from_utf8(theirs.stdout).unwrap());
    }
    let only = ok(&pingan(&[
        "events",
        "aggregate",
        "--events",
        &events,
        "--regions",
        &regions,
        "--year",
        "2023",
    ]));
    assert_eq!(only, "region,period,element,value\n");
    let json = ok(&pingan(&[
        "events",
        "aggregate",
        "--events",
        &events,
        "--regions",
        &regions,
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 60 * 12 * 8);
    let first = ours.lines().nth(1).unwrap().split(',').collect::<Vec<_>>();
    assert_eq!(rows[0]["region"], first[0]);
    assert_eq!(rows[0]["value"].to_string(), first[3]);

    // Bad input: named by line, exit 1, nothing printed.
    let bad = format!("{d}/bad.csv");
    std::fs::write(
        &bad,
        "event_id,kind,region,category,urgency,departments,reported_at,handled_at,dispatched_at,arrived_at,updated_at\n\
         x,grid,nowhere,,一般,1,2024-01-01 08:00:00,,,,2024-01-01 08:00:00\n",
    )
    .unwrap();
    let o = pingan(&[
        "events",
        "aggregate",
        "--events",
        &bad,
        "--regions",
        &regions,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.csv:2: 未知的地区“nowhere”"));
}

//! `pingan forecast` (forecast.md §1, issue 22) on a generated province:
//! the CSV and JSON contract for every region (roll-ups included), the
//! backtest table, series too short skipped and counted, and clear errors
//! for what cannot be forecast.

mod common;

use common::{fails, ok, pingan};
use serde_json::Value;

#[test]
fn forecasts_backtests_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [2, 4, 8], "2021-2024");
    let regions = format!("{d}/regions.csv");
    let values = format!("{d}/values.csv");
    let run = |more: &[&str]| {
        let mut args = vec![
            "forecast",
            "--regions",
            regions.as_str(),
            "--values",
            values.as_str(),
        ];
        args.extend_from_slice(more);
        pingan(&args)
    };
    let base = [
        "--element",
        "criminal_cases,fire_incidents",
        "--train-end",
        "2023-12",
    ];
    let out = ok(run(&[&base[..], &["--horizon", "12"]].concat()));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("region,element,period,forecast,lo,hi,model")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 1 province + 2 cities + 4 counties + 8 townships, two elements, 12 months.
    assert_eq!(rows.len(), 15 * 2 * 12);
    for r in &rows {
        let [lo, f, hi]: [f64; 3] = [r[4], r[3], r[5]].map(|x| x.parse().unwrap());
        assert!(lo <= f && f <= hi, "{r:?}");
        assert!(["seasonal_naive", "mstl_ets"].contains(&r[6]), "{r:?}");
    }
    assert!(rows.iter().any(|r| r[0] == "990000" && r[2] == "2024-12"));
    // The province (a roll-up of its townships) alone, as JSON.
    let json: Value = serde_json::from_str(&ok(run(&[
        &base[..],
        &["--region", "990000", "--format", "json", "--horizon", "3"],
    ]
    .concat())))
    .unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 2 * 3);
    assert_eq!(list[0]["period"], "2024-01");
    assert!(list[0]["lo"].as_f64().unwrap() <= list[0]["forecast"].as_f64().unwrap());

    // The backtest: one line per element and model, MASE and coverage.
    let bt = ok(run(&[&base[..], &["--backtest"]].concat()));
    assert!(
        bt.starts_with("element,model,series,mase,coverage,chosen"),
        "{bt}"
    );
    assert_eq!(bt.lines().count(), 1 + 2 * 2, "{bt}");
    for l in bt.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        let mase: f64 = c[3].parse().unwrap();
        assert!(mase > 0.0 && mase < 3.0, "{l}");
    }

    // Too short before --train-end: skipped and counted, nothing invented.
    let out = run(&["--element", "criminal_cases", "--train-end", "2022-06"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("跳过 15 个序列"));

    // Errors.
    let e = fails(run(&[
        "--element",
        "campus_order_rating",
        "--train-end",
        "2023-12",
    ]));
    assert!(
        e.contains("campus_order_rating") && e.contains("不是月度数据"),
        "{e}"
    );
    let e = fails(run(&["--element", "nope", "--train-end", "2023-12"]));
    assert!(e.contains("nope"), "{e}");
    let e = fails(run(&[
        "--element",
        "criminal_cases",
        "--train-end",
        "2023-12",
        "--region",
        "42",
    ]));
    assert!(e.contains("42"), "{e}");
    let e = fails(run(&[
        "--element",
        "criminal_cases",
        "--train-end",
        "2023-12",
        "--horizon",
        "0",
    ]));
    assert!(e.contains("--horizon"), "{e}");
    let out = run(&["--element", "criminal_cases", "--train-end", "2023"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM"));
    let e = fails(pingan(&[
        "forecast",
        "--regions",
        &regions,
        "--values",
        &format!("{d}/missing.csv"),
        "--element",
        "criminal_cases",
        "--train-end",
        "2023-12",
    ]));
    assert!(e.contains("missing.csv"), "{e}");
}

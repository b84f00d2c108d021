//! `pingan risk` (issue 22, forecast.md §3) on a generated province kept
//! in a database: nothing to show before a refresh; `--refresh` forecasts
//! every region's eight monthly event elements, assesses next year and
//! keeps the run with a ledger entry; the kept run reads back the same.

mod common;

use common::{fails, ok, pingan};
use serde_json::Value;

#[test]
fn risk_refresh_keeps_forecasts_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [2, 4, 16], "2021-2024");
    let db = format!("sqlite://{d}/p.db");
    ok(pingan(&["init", "--db", &db]));
    for (kind, file) in [
        ("regions", "regions.csv"),
        ("benchmarks", "benchmarks.csv"),
        ("values", "values.csv"),
        ("boundaries", "boundaries.geojson"),
    ] {
        ok(pingan(&[
            "import",
            kind,
            &format!("{d}/{file}"),
            "--db",
            &db,
        ]));
    }

    let err = fails(pingan(&["risk", "--db", &db]));
    assert!(err.contains("还没有风险评估结果"), "{err}");
    let out = pingan(&["risk", "--db", &db, "--period", "2025"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不是月份"));

    let out = ok(pingan(&[
        "risk",
        "--db",
        &db,
        "--refresh",
        "--draws",
        "60",
        "--format",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["period"], "2025-01");
    assert_eq!(v["train_end"], "2024-12");
    // 1 + 2 + 4 + 16 regions × 8 elements, four years each: none skipped.
    assert_eq!(v["series"], 23 * 8);
    assert_eq!(v["skipped"], 0);
    // Probabilities recalibrated on 2024, assessed from 2021–2023.
    assert_eq!(v["calibration"]["year"], 2024, "{}", v["calibration"]);
    assert!(v["calibration"]["n"].as_u64().unwrap() > 0);
    let (m, r) = (
        v["calibration"]["brier_model"].as_f64().unwrap(),
        v["calibration"]["brier_recalibrated"].as_f64().unwrap(),
    );
    assert!(
        r <= m + 1e-12,
        "the fitted map never does worse in-sample: {r} > {m}"
    );
    assert_eq!(v["totals"].as_array().unwrap().len(), 23);
    let backtest = v["backtest"].as_array().unwrap();
    assert_eq!(backtest.len(), 8);
    for b in backtest {
        assert!(b["mase"].as_f64().unwrap() > 0.0, "{b}");
        assert!(b["naive_mase"].as_f64().unwrap() > 0.0, "{b}");
    }
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        !warnings.is_empty(),
        "a generated province loses some points"
    );
    let mut last = f64::INFINITY;
    for w in warnings {
        let e = w["expected_loss"].as_f64().unwrap();
        assert!(e <= last + 1e-12, "sorted by expected loss");
        last = e;
        for p in ["p_loss", "p_veto"] {
            let x = w[p].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{p} {x}");
        }
        assert!(e <= w["max"].as_f64().unwrap() + 1e-9);
        assert!(!w["elements"].as_array().unwrap().is_empty(), "{w}");
        assert_eq!(w["history"].as_array().unwrap().len(), 3, "{w}");
    }

    // The kept run prints again without forecasting, as a table.
    let table = ok(pingan(&["risk", "--db", &db, "--top", "5"]));
    assert!(
        table.contains("失分概率") && table.contains("grid_events"),
        "{table}"
    );
    let again: Value =
        serde_json::from_str(&ok(pingan(&["risk", "--db", &db, "--format", "json"]))).unwrap();
    assert_eq!(again["warnings"], v["warnings"]);

    // From July: six months forecast, the first half of 2025 missing,
    // so the months before July are as reported (none): still assessed.
    let mid: Value = serde_json::from_str(&ok(pingan(&[
        "risk",
        "--db",
        &db,
        "--refresh",
        "--period",
        "2024-07",
        "--draws",
        "20",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(mid["train_end"], "2024-06");
    assert_eq!(mid["year"], 2024);

    // Calibration: 2024 assessed from 2021–2023 against what it scored.
    let cal: Value = serde_json::from_str(&ok(pingan(&[
        "risk",
        "--db",
        &db,
        "--calibrate",
        "--period",
        "2024-01",
        "--draws",
        "40",
        "--format",
        "json",
    ])))
    .unwrap();
    let model = &cal["model"];
    let n = model["n"].as_u64().unwrap();
    assert!(n > 0, "{cal}");
    let binned: u64 = model["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["n"].as_u64().unwrap())
        .sum();
    assert_eq!(binned, n);
    let brier = model["brier"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&brier), "{cal}");
    // The map fitted on 2023 (assessed from 2021–2022), applied to 2024.
    assert_eq!(cal["map_year"], 2023, "{cal}");
    assert_eq!(cal["recalibrated"]["n"], model["n"]);
    let err = fails(pingan(&[
        "risk",
        "--db",
        &db,
        "--calibrate",
        "--period",
        "2025-01",
    ]));
    assert!(err.contains("还没有数据"), "{err}");

    let ledger = ok(pingan(&[
        "audit",
        "list",
        "--db",
        &db,
        "--action",
        "refresh_risk",
        "--format",
        "json",
    ]));
    let entries: Value = serde_json::from_str(&ledger).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2, "{ledger}");
    ok(pingan(&["audit", "verify", "--db", &db]));
}

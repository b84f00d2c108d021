//! `pingan import boundaries` (issue 22): a GeoJSON of the cities is
//! imported; a file with a missing, an extra and a malformed feature is
//! refused whole, each named.

mod common;

use common::{fails, ok, pingan};

fn square(code: &str, x: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},30],[{x1},30],[{x1},31],[{x},31],[{x},30]]]}}}}"#,
        x1 = x + 1.0
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

#[test]
fn boundaries_import_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    common::generated(d, [2, 4, 8], "2023-2024");
    let db = format!("sqlite://{d}/p.db");
    ok(pingan(&["init", "--db", &db]));
    ok(pingan(&[
        "import",
        "regions",
        &format!("{d}/regions.csv"),
        "--db",
        &db,
    ]));
    let regions = std::fs::read_to_string(format!("{d}/regions.csv")).unwrap();
    let cities: Vec<&str> = regions
        .lines()
        .filter(|l| l.contains(",city"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(cities.len(), 2, "{regions}");
    let file = dir.path().join("cities.geojson");
    let path = file.to_str().unwrap();
    let import = |more: &[&str]| {
        let mut args = vec!["import", "boundaries", path, "--db", db.as_str()];
        args.extend_from_slice(more);
        pingan(&args)
    };

    std::fs::write(
        &file,
        collection(&[square(cities[0], 110.0), square(cities[1], 111.0)]),
    )
    .unwrap();
    let out = ok(import(&["--dry-run"]));
    assert!(out.contains("试运行") && out.contains("2 个地区"), "{out}");
    let out = ok(import(&[]));
    assert!(out.contains("已导入 2 个地区的边界"), "{out}");

    // One city missing, one feature for no region, one ring not closed.
    let broken = square(cities[1], 111.0).replace("[111,30]]]", "[111,30.5]]]");
    std::fs::write(
        &file,
        collection(&[
            square("000000", 112.0),
            broken,
            square("000001", 113.0).replace("Polygon", "Point"),
        ]),
    )
    .unwrap();
    let e = fails(import(&[]));
    assert!(
        e.contains("要素 1：地区代码 000000 不在地区表中（多余的要素）"),
        "{e}"
    );
    assert!(
        e.contains(&format!("要素 2（{}）：环没有闭合", cities[1])),
        "{e}"
    );
    std::fs::write(&file, collection(&[square(cities[0], 110.0)])).unwrap();
    let e = fails(import(&[]));
    assert!(
        e.contains(&format!("缺少 1 个市的边界：{}", cities[1])),
        "{e}"
    );
    std::fs::write(&file, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    let e = fails(import(&[]));
    assert!(e.contains("不是有效的 GeoJSON"), "{e}");
}

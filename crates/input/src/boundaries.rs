//! Region boundaries from GeoJSON (issue 22: the 平安热力图 on a real map):
//! a FeatureCollection whose features carry the region code in a property
//! (`code`, or `adcode` as the 行政区划 data names it) and a Polygon or
//! MultiPolygon. All or nothing: a feature for no region (extra), a region
//! of a level the file covers without a feature (missing) and a geometry
//! that is not closed rings of [longitude, latitude] (malformed) are each
//! named, with the feature's number.

use crate::error::{Collector, InputErrors};
use pingan_core::region::{Level, RegionTree};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// One region's outline, its geometry kept as GeoJSON text.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    pub region: String,
    pub geometry: String,
}

/// Missing regions named at most (then how many more).
const NAMED: usize = 10;

fn ring_problem(ring: &Value) -> Option<String> {
    let Some(points) = ring.as_array() else {
        return Some("环不是坐标数组".into());
    };
    if points.len() < 4 {
        return Some(format!(
            "环只有 {} 个点，至少需要 4 个（首尾相同）",
            points.len()
        ));
    }
    for p in points {
        let xy: Option<Vec<f64>> = p
            .as_array()
            .filter(|a| a.len() >= 2)
            .map(|a| a.iter().take(2).filter_map(Value::as_f64).collect());
        match xy.as_deref() {
            Some([lon, lat]) if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => {}
            Some([lon, lat]) => return Some(format!("坐标 [{lon}, {lat}] 超出经纬度范围")),
            _ => return Some(format!("坐标 {p} 不是 [经度, 纬度]")),
        }
    }
    if points.first() != points.last() {
        return Some("环没有闭合（首尾坐标应相同）".into());
    }
    None
}

fn polygon_problem(rings: &Value) -> Option<String> {
    match rings.as_array() {
        Some(r) if !r.is_empty() => r.iter().find_map(ring_problem),
        _ => Some("多边形没有环".into()),
    }
}

/// What is wrong with a geometry, if anything.
fn geometry_problem(g: &Value) -> Option<String> {
    let coords = &g["coordinates"];
    match g["type"].as_str() {
        Some("Polygon") => polygon_problem(coords),
        Some("MultiPolygon") => match coords.as_array() {
            Some(ps) if !ps.is_empty() => ps.iter().find_map(polygon_problem),
            _ => Some("MultiPolygon 没有多边形".into()),
        },
        Some(t) => Some(format!("几何类型为 {t}，应为 Polygon 或 MultiPolygon")),
        None => Some("缺少 geometry 或其 type".into()),
    }
}

/// The boundaries in `bytes` (GeoJSON), matched to `tree` by `property`.
pub fn read_boundaries(
    file: &str,
    bytes: &[u8],
    tree: &RegionTree,
    property: &str,
) -> Result<Vec<Boundary>, InputErrors> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| InputErrors::one(file, Some(e.line()), format!("不是有效的 GeoJSON：{e}")))?;
    let Some(features) = doc["features"]
        .as_array()
        .filter(|_| doc["type"] == "FeatureCollection")
    else {
        return Err(InputErrors::one(
            file,
            None,
            "应为 GeoJSON FeatureCollection（含 features 数组）",
        ));
    };
    let mut c = Collector::new(file);
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, f) in features.iter().enumerate() {
        let n = k + 1;
        let code = match &f["properties"][property] {
            Value::String(s) => s.trim().to_string(),
            Value::Number(x) => x.to_string(),
            _ => {
                c.push(
                    None,
                    format!("要素 {n}：properties 中没有地区代码 {property}"),
                );
                continue;
            }
        };
        if tree.find(&code).is_none() {
            c.push(
                None,
                format!("要素 {n}：地区代码 {code} 不在地区表中（多余的要素）"),
            );
            continue;
        }
        if let Some(first) = seen.insert(code.clone(), n) {
            c.push(None, format!("要素 {n}：地区 {code} 与要素 {first} 重复"));
            continue;
        }
        if let Some(p) = geometry_problem(&f["geometry"]) {
            c.push(None, format!("要素 {n}（{code}）：{p}"));
            continue;
        }
        out.push(Boundary {
            region: code,
            geometry: f["geometry"].to_string(),
        });
    }
    // Every region of a level the file covers needs its outline.
    let levels: BTreeSet<Level> = seen
        .keys()
        .filter_map(|code| tree.find(code))
        .map(|i| tree.get(i).level)
        .collect();
    for level in levels {
        let missing: Vec<String> = tree
            .regions()
            .iter()
            .filter(|r| r.level == level && !seen.contains_key(&r.code))
            .map(|r| format!("{}（{}）", r.code, r.name))
            .collect();
        if !missing.is_empty() {
            let more = missing.len().saturating_sub(NAMED);
            c.push(
                None,
                format!(
                    "缺少 {} 个{}的边界：{}{}",
                    missing.len(),
                    level.label(),
                    missing[..missing.len().min(NAMED)].join("、"),
                    if more > 0 {
                        format!(" 等（另有 {more} 个）")
                    } else {
                        String::new()
                    }
                ),
            );
        }
    }
    if c.errors.is_empty() {
        Ok(out)
    } else {
        Err(InputErrors(c.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> RegionTree {
        crate::read_regions(
            "regions.csv",
            "code,name,parent,level\n99,省,,province\n9901,甲市,99,city\n9902,乙市,99,city\n"
                .as_bytes(),
        )
        .unwrap()
    }

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
    fn a_complete_level_is_read() {
        let g = collection(&[square("9901", 110.0), square("9902", 111.0)]);
        let b = read_boundaries("b.geojson", g.as_bytes(), &tree(), "code").unwrap();
        assert_eq!(b.len(), 2);
        assert!(b[0].geometry.contains("Polygon"));
        // adcode as a number, as 行政区划 data gives it.
        let g = g
            .replace(r#""code":"9901""#, r#""adcode":9901"#)
            .replace(r#""code":"9902""#, r#""adcode":9902"#);
        assert_eq!(
            read_boundaries("b.geojson", g.as_bytes(), &tree(), "adcode")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn missing_extra_and_malformed_features_are_named() {
        let broken = square("9902", 111.0).replace("[111,30]]]", "[111,30.5]]]");
        let g = collection(&[square("9901", 110.0), square("9999", 112.0), broken]);
        let e = read_boundaries("b.geojson", g.as_bytes(), &tree(), "code")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.geojson: 要素 2：地区代码 9999 不在地区表中（多余的要素）"),
            "{e}"
        );
        assert!(e.contains("要素 3（9902）：环没有闭合"), "{e}");
        let g = collection(&[square("9901", 110.0)]);
        let e = read_boundaries("b.geojson", g.as_bytes(), &tree(), "code")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "b.geojson: 缺少 1 个市的边界：9902（乙市）");
        let e = read_boundaries("b.geojson", b"{\"type\": \"Feature", &tree(), "code")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.geojson:1: 不是有效的 GeoJSON"), "{e}");
        let e = read_boundaries("b.geojson", br#"{"type":"Point"}"#, &tree(), "code")
            .unwrap_err()
            .to_string();
        assert!(e.contains("FeatureCollection"), "{e}");
        let point = square("9901", 110.0).replace("\"Polygon\"", "\"Point\"");
        let g = collection(&[point, square("9902", 111.0)]);
        let e = read_boundaries("b.geojson", g.as_bytes(), &tree(), "code")
            .unwrap_err()
            .to_string();
        assert!(e.contains("几何类型为 Point"), "{e}");
        let far = square("9901", 200.0);
        let g = collection(&[far, square("9902", 111.0)]);
        let e = read_boundaries("b.geojson", g.as_bytes(), &tree(), "code")
            .unwrap_err()
            .to_string();
        assert!(e.contains("超出经纬度范围"), "{e}");
    }

    #[test]
    fn garbage_never_panics() {
        for g in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"type\":\"FeatureCollection\",\"features\":[1,null,{}]}",
            &[0xff, 0xfe, 0x00],
        ] {
            assert!(read_boundaries("b.geojson", g, &tree(), "code").is_err());
        }
    }
}

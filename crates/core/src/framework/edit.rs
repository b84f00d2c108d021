//! Writing weights back into a framework file (`pingan weights apply`),
//! keeping its comments and layout: the file is the office's document.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("无法解析指标体系文件：{0}")]
    Parse(String),
    #[error("找不到代码为 {0} 的维度或领域（体系根节点请用 framework）")]
    UnknownParent(String),
    #[error("{parent} 的下级中没有 {code}")]
    UnknownChild { parent: String, code: String },
    #[error("{parent} 的下级 {code} 没有给出权重")]
    MissingChild { parent: String, code: String },
    #[error("权重 {code} = {value} 无效：必须为非负有限数")]
    BadWeight { code: String, value: f64 },
}

fn code_of(t: &Table) -> Option<&str> {
    t.get("code").and_then(Item::as_str)
}

/// The array of child tables under `parent`: `framework` → dimensions,
/// a dimension code → its domains, a domain code → its indicators.
fn children<'d>(doc: &'d mut DocumentMut, parent: &str) -> Option<&'d mut ArrayOfTables> {
    if parent == "framework" {
        return doc.get_mut("dimension")?.as_array_of_tables_mut();
    }
    let dims = doc.get_mut("dimension")?.as_array_of_tables_mut()?;
    for d in dims.iter_mut() {
        if code_of(d) == Some(parent) {
            return d.get_mut("domain")?.as_array_of_tables_mut();
        }
        if let Some(domains) = d.get_mut("domain").and_then(Item::as_array_of_tables_mut) {
            for m in domains.iter_mut() {
                if code_of(m) == Some(parent) {
                    return m.get_mut("indicator")?.as_array_of_tables_mut();
                }
            }
        }
    }
    None
}

/// Set the weights of `parent`'s children (every child exactly once).
pub fn set_weights(
    src: &str,
    parent: &str,
    weights: &[(String, f64)],
) -> Result<String, EditError> {
    let mut doc: DocumentMut = src
        .parse()
        .map_err(|e: toml_edit::TomlError| EditError::Parse(e.message().to_string()))?;
    for (code, value) in weights {
        if !(value.is_finite() && *value >= 0.0) {
            return Err(EditError::BadWeight {
                code: code.clone(),
                value: *value,
            });
        }
    }
    let kids =
        children(&mut doc, parent).ok_or_else(|| EditError::UnknownParent(parent.to_string()))?;
    let codes: Vec<String> = kids
        .iter()
        .filter_map(code_of)
        .map(str::to_string)
        .collect();
    for (code, _) in weights {
        if !codes.contains(code) {
            return Err(EditError::UnknownChild {
                parent: parent.to_string(),
                code: code.clone(),
            });
        }
    }
    for code in &codes {
        if !weights.iter().any(|(c, _)| c == code) {
            return Err(EditError::MissingChild {
                parent: parent.to_string(),
                code: code.clone(),
            });
        }
    }
    for t in kids.iter_mut() {
        let Some(code) = code_of(t).map(str::to_string) else {
            continue;
        };
        let w = weights
            .iter()
            .find(|(c, _)| *c == code)
            .map(|x| x.1)
            .unwrap_or_default();
        let decor = t
            .get("weight")
            .and_then(Item::as_value)
            .map(|v| v.decor().clone());
        t["weight"] = toml_edit::value(w);
        if let (Some(d), Some(v)) = (decor, t["weight"].as_value_mut()) {
            *v.decor_mut() = d;
        }
    }
    Ok(doc.to_string())
}

/// Round to `decimals` places so that the rounded weights still sum to 1:
/// the rounding residue goes to the largest weight.
pub fn round_weights(w: &[f64], decimals: u32) -> Vec<f64> {
    let scale = 10f64.powi(decimals as i32);
    let mut units: Vec<i64> = w.iter().map(|x| (x * scale).round() as i64).collect();
    let total: i64 = units.iter().sum();
    let target = scale as i64;
    if let Some(big) = (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])) {
        units[big] += target - total;
    }
    units.into_iter().map(|u| u as f64 / scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{DEFAULT_TOML, check};

    #[test]
    fn keeps_comments_and_sets_only_the_children() {
        let w = vec![
            ("D1.1".to_string(), 0.5),
            ("D1.2".to_string(), 0.25),
            ("D1.3".to_string(), 0.25),
        ];
        let out = set_weights(DEFAULT_TOML, "D1", &w).unwrap();
        let before: Vec<&str> = DEFAULT_TOML
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        let after: Vec<&str> = out
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        assert_eq!(before, after, "comments kept");
        let changed = DEFAULT_TOML
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 3, "only the three weight lines change");
        let fw = check(&out).framework.unwrap();
        assert_eq!(fw.dimensions[0].domains[0].weight, 0.5);
    }

    #[test]
    fn indicators_and_dimensions() {
        let dims: Vec<(String, f64)> = ["D1", "D2", "D3", "D4", "D5"]
            .iter()
            .map(|c| (c.to_string(), 0.2))
            .collect();
        let out = set_weights(DEFAULT_TOML, "framework", &dims).unwrap();
        assert!(check(&out).errors.is_empty());
        let inds = vec![("D5.2.1".to_string(), 1.0)];
        assert!(set_weights(DEFAULT_TOML, "D5.2", &inds).is_ok());
    }

    #[test]
    fn errors() {
        let w = vec![("D1.1".to_string(), 1.0)];
        assert!(matches!(
            set_weights(DEFAULT_TOML, "D9", &w),
            Err(EditError::UnknownParent(_))
        ));
        assert!(matches!(
            set_weights(DEFAULT_TOML, "D1", &w),
            Err(EditError::MissingChild { .. })
        ));
        let bad = vec![("X".to_string(), 1.0)];
        assert!(matches!(
            set_weights(DEFAULT_TOML, "D1", &bad),
            Err(EditError::UnknownChild { .. })
        ));
    }

    #[test]
    fn rounding_keeps_the_sum() {
        let w = round_weights(&[0.6370, 0.2583, 0.1047], 2);
        assert_eq!(w, vec![0.64, 0.26, 0.10]);
        let w = round_weights(&[1.0 / 3.0; 3], 2);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{w:?}");
    }
}

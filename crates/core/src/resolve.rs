//! The value of an element for a region and period (scoring.md §3): direct
//! value, else the year from the region's own months or quarters, else the
//! roll-up of its children — recursively, memoised.

use crate::data::DataSet;
use crate::framework::{Framework, RegionAgg, TimeAgg};
use crate::grid::Grid;
use crate::period::Period;
use crate::region::RegionTree;

pub struct Resolver<'a> {
    fw: &'a Framework,
    tree: &'a RegionTree,
    data: &'a DataSet,
    /// Derived values; a NaN marks "derived: no value".
    memo: Grid,
}

impl<'a> Resolver<'a> {
    pub fn new(fw: &'a Framework, tree: &'a RegionTree, data: &'a DataSet) -> Self {
        Resolver {
            fw,
            tree,
            data,
            memo: Grid::new(tree.len(), fw.elements.len()),
        }
    }

    pub fn value(&mut self, region: usize, period: Period, element: usize) -> Option<f64> {
        if let Some(v) = self.data.get(region, period, element) {
            return Some(v);
        }
        if let Some(v) = self.memo.get(region, period, element) {
            return (!v.is_nan()).then_some(v);
        }
        let v = self.derive(region, period, element);
        self.memo
            .set(region, period, element, v.unwrap_or(f64::NAN));
        v
    }

    fn derive(&mut self, region: usize, period: Period, element: usize) -> Option<f64> {
        if let Period::Year(y) = period {
            if let Some(v) = self.over_time(region, Period::months(y), element) {
                return Some(v);
            }
            if let Some(v) = self.over_time(region, Period::quarters(y), element) {
                return Some(v);
            }
        }
        self.over_children(region, period, element)
    }

    fn over_time(
        &mut self,
        region: usize,
        parts: impl Iterator<Item = Period>,
        element: usize,
    ) -> Option<f64> {
        let agg = self.fw.elements[element].time_agg;
        let (mut sum, mut max, mut last, mut n) = (0.0, f64::NEG_INFINITY, 0.0, 0usize);
        for p in parts {
            let v = self.value(region, p, element)?;
            sum += v;
            max = max.max(v);
            last = v;
            n += 1;
        }
        Some(match agg {
            TimeAgg::Sum => sum,
            TimeAgg::Mean => sum / n as f64,
            TimeAgg::Last => last,
            TimeAgg::Max => max,
        })
    }

    fn over_children(&mut self, region: usize, period: Period, element: usize) -> Option<f64> {
        let el = &self.fw.elements[element];
        let (agg, weight_by) = (el.region_agg, el.weight_by);
        if agg == RegionAgg::None {
            return None;
        }
        let tree = self.tree;
        let mut n = 0usize;
        let (mut sum, mut weighted, mut weights) = (0.0, 0.0, 0.0);
        for &c in tree.children(region) {
            if !tree.get(c).valid_in(period) {
                continue;
            }
            let v = self.value(c, period, element)?;
            n += 1;
            sum += v;
            if agg == RegionAgg::WeightedMean {
                let w = self.value(c, period, weight_by?)?;
                weighted += w * v;
                weights += w;
            }
        }
        if n == 0 {
            return None;
        }
        match agg {
            RegionAgg::Sum => Some(sum),
            RegionAgg::Mean => Some(sum / n as f64),
            RegionAgg::WeightedMean if weights == 0.0 => None,
            RegionAgg::WeightedMean => Some(weighted / weights),
            RegionAgg::None => None,
        }
    }

    /// Why there is no value, in Chinese: which region and period lacks data.
    /// Slow path, only for indicators that end up missing.
    pub fn explain_missing(&mut self, region: usize, period: Period, element: usize) -> String {
        let el = &self.fw.elements[element];
        let what = format!("“{}”（{}）", el.name, el.code);
        let (r, detail) = self.first_gap(region, period, element);
        let name = &self.tree.get(r).name;
        format!("缺少{what}：{name} {detail}")
    }

    fn first_gap(&mut self, region: usize, period: Period, element: usize) -> (usize, String) {
        let el = &self.fw.elements[element];
        let (agg, weight_by) = (el.region_agg, el.weight_by);
        let tree = self.tree;
        let valid: Vec<usize> = tree
            .children(region)
            .iter()
            .copied()
            .filter(|&c| tree.get(c).valid_in(period))
            .collect();
        if agg != RegionAgg::None && !valid.is_empty() {
            for &c in &valid {
                if self.value(c, period, element).is_none() {
                    return self.first_gap(c, period, element);
                }
            }
            if let Some(w) = weight_by {
                for &c in &valid {
                    if self.value(c, period, w).is_none() {
                        return self.first_gap(c, period, w);
                    }
                }
                return (
                    region,
                    format!(
                        "{}下级地区的权重（{}）合计为0",
                        period.label(),
                        self.fw.elements[w].name
                    ),
                );
            }
        }
        if let Period::Year(y) = period {
            let missing: Vec<String> = Period::months(y)
                .filter(|&m| self.value(region, m, element).is_none())
                .map(|m| match m {
                    Period::Month(_, mm) => format!("{mm}月"),
                    other => other.to_string(),
                })
                .collect();
            if missing.len() < 12 {
                return (region, format!("{y}年{}未报送", missing.join("、")));
            }
        }
        (region, format!("{}未报送", period.label()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::check;
    use crate::region::{Level, RegionRow};

    fn fw(region_agg: &str, time_agg: &str) -> Framework {
        let weight = if region_agg == "weighted_mean" {
            r#"weight_by = "pop""#
        } else {
            ""
        };
        let src = format!(
            r#"
[framework]
code = "t"
name = "t"
[[element]]
code = "x"
name = "x"
region_agg = "{region_agg}"
time_agg = "{time_agg}"
{weight}
[[element]]
code = "pop"
name = "人口"
time_agg = "last"
[[dimension]]
code = "D1"
name = "d"
weight = 1
  [[dimension.domain]]
  code = "D1.1"
  name = "m"
  weight = 1
    [[dimension.domain.indicator]]
    code = "I"
    name = "i"
    formula = "x + pop"
    weight = 1
    rule = {{ kind = "linear", zero_at = 0, full_at = 1 }}
"#
        );
        let r = check(&src);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        r.framework.unwrap()
    }

    /// P ─ C ─ {K1, K2}; C also reports yearly for itself.
    fn tree() -> RegionTree {
        let row = |c: &str, p: Option<&str>, l| RegionRow {
            code: c.into(),
            name: c.into(),
            parent: p.map(Into::into),
            level: l,
            valid_from: None,
            valid_to: None,
        };
        RegionTree::new(vec![
            row("P", None, Level::Province),
            row("C", Some("P"), Level::City),
            row("K1", Some("C"), Level::County),
            row("K2", Some("C"), Level::County),
        ])
        .unwrap()
    }

    const X: usize = 0;
    const POP: usize = 1;

    fn monthly(d: &mut DataSet, r: usize, base: f64) {
        for m in 1..=12 {
            d.insert(r, Period::Month(2024, m), X, base + m as f64)
                .unwrap();
            d.insert(r, Period::Month(2024, m), POP, 100.0 * (r as f64))
                .unwrap();
        }
    }

    /// The worked example of scoring.md §3.
    #[test]
    fn direct_wins_at_its_own_place_and_is_not_used_above() {
        let f = fw("mean", "max");
        let t = tree();
        let mut d = DataSet::new(4, 2);
        monthly(&mut d, 2, 0.0); // K1: 1..12
        monthly(&mut d, 3, 10.0); // K2: 11..22
        d.insert(1, Period::Year(2024), X, 999.0).unwrap();
        let mut r = Resolver::new(&f, &t, &d);
        assert_eq!(r.value(1, Period::Year(2024), X), Some(999.0));
        // P's year = max over P's months; P's month m = C's month m, the
        // mean of K1 (m) and K2 (10 + m) → max is 17, not C's 999.
        assert_eq!(r.value(0, Period::Year(2024), X), Some(17.0));
    }

    #[test]
    fn months_then_quarters_then_children() {
        let f = fw("sum", "sum");
        let t = tree();
        let mut d = DataSet::new(4, 2);
        for q in 1..=4 {
            d.insert(2, Period::Quarter(2024, q), X, 10.0).unwrap();
        }
        d.insert(2, Period::Month(2024, 1), X, 1.0).unwrap(); // months incomplete: ignored
        d.insert(3, Period::Year(2024), X, 5.0).unwrap();
        let mut r = Resolver::new(&f, &t, &d);
        assert_eq!(r.value(2, Period::Year(2024), X), Some(40.0));
        assert_eq!(r.value(1, Period::Year(2024), X), Some(45.0));
        // Quarters are never derived from months.
        assert_eq!(r.value(3, Period::Quarter(2024, 1), X), None);
    }

    #[test]
    fn weighted_mean_and_missing_children() {
        let f = fw("weighted_mean", "mean");
        let t = tree();
        let mut d = DataSet::new(4, 2);
        d.insert(2, Period::Year(2024), X, 4.0).unwrap();
        d.insert(3, Period::Year(2024), X, 3.0).unwrap();
        for m in 1..=12 {
            d.insert(2, Period::Month(2024, m), POP, 300.0).unwrap();
            d.insert(3, Period::Month(2024, m), POP, 100.0).unwrap();
        }
        let mut r = Resolver::new(&f, &t, &d);
        assert_eq!(
            r.value(1, Period::Year(2024), X),
            Some((300.0 * 4.0 + 100.0 * 3.0) / 400.0)
        );
        // A child lacking the value: nothing.
        let mut d2 = DataSet::new(4, 2);
        d2.insert(2, Period::Year(2024), X, 4.0).unwrap();
        let mut r = Resolver::new(&f, &t, &d2);
        assert_eq!(r.value(1, Period::Year(2024), X), None);
        let why = r.explain_missing(1, Period::Year(2024), X);
        assert!(why.contains("K2") && why.contains("2024年未报送"), "{why}");
    }

    #[test]
    fn region_agg_none_and_invalid_children() {
        let f = fw("none", "sum");
        let t = tree();
        let mut d = DataSet::new(4, 2);
        d.insert(2, Period::Year(2024), X, 4.0).unwrap();
        let mut r = Resolver::new(&f, &t, &d);
        assert_eq!(r.value(1, Period::Year(2024), X), None);
    }

    #[test]
    fn explains_partial_months() {
        let f = fw("sum", "sum");
        let t = tree();
        let mut d = DataSet::new(4, 2);
        for m in [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12] {
            d.insert(2, Period::Month(2024, m), X, 1.0).unwrap();
        }
        let mut r = Resolver::new(&f, &t, &d);
        assert_eq!(r.value(2, Period::Year(2024), X), None);
        assert_eq!(
            r.explain_missing(2, Period::Year(2024), X),
            "缺少“x”（x）：K1 2024年3月未报送"
        );
    }
}

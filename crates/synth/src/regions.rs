//! The region tree: how counties and townships are spread over their parents,
//! their 行政区划代码-like codes and their names.

use std::ops::Range;

use crate::names::Namer;
use crate::rng::{Stream, tag};

pub(crate) const PROVINCE_CODE: &str = "990000";
pub(crate) const PROVINCE_NAME: &str = "平安省";
/// Codes have two digits for a city's counties and three for a county's townships.
pub(crate) const MAX_CITIES: usize = 99;
pub(crate) const MAX_COUNTIES_PER_CITY: usize = 99;
pub(crate) const MAX_TOWNS_PER_COUNTY: usize = 999;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TownKind {
    /// 街道: urban, larger and denser.
    Subdistrict,
    /// 镇
    Town,
    /// 乡: rural, small.
    Rural,
}

pub(crate) struct City {
    pub code: String,
    pub name: String,
    pub counties: Range<usize>,
}

pub(crate) struct County {
    pub code: String,
    pub name: String,
    pub city: usize,
    pub towns: Range<usize>,
}

pub(crate) struct Town {
    pub code: String,
    pub name: String,
    pub county: usize,
    pub city: usize,
    pub kind: TownKind,
}

pub(crate) struct Tree {
    pub cities: Vec<City>,
    pub counties: Vec<County>,
    pub towns: Vec<Town>,
}

/// Split `total` children over parents with weights: each parent gets at least
/// one and at most `cap`, the rest in proportion (largest remainder).
pub(crate) fn allocate(weights: &[f64], total: usize, cap: usize) -> Vec<usize> {
    let n = weights.len();
    debug_assert!(n <= total && total <= n * cap);
    let mut counts = vec![1usize; n];
    let mut left = total - n;
    while left > 0 {
        let open: Vec<usize> = (0..n).filter(|&i| counts[i] < cap).collect();
        let wsum: f64 = open.iter().map(|&i| weights[i]).sum();
        let mut remainders = Vec::with_capacity(open.len());
        let mut given = 0;
        for &i in &open {
            let quota = left as f64 * weights[i] / wsum;
            // Float quotas may overshoot by an ulp: never hand out more than is left.
            let add = (quota.floor() as usize)
                .min(cap - counts[i])
                .min(left - given);
            counts[i] += add;
            given += add;
            remainders.push((quota - quota.floor(), i));
        }
        left -= given;
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            if counts[i] < cap {
                counts[i] += 1;
                left -= 1;
            }
        }
    }
    counts
}

pub(crate) fn build(seed: u64, n_cities: usize, n_counties: usize, n_towns: usize) -> Tree {
    let mut s = Stream::new(&[seed, tag::TREE]);
    let mut names = Stream::new(&[seed, tag::NAMES]);

    // Uneven sizes: a lognormal weight per parent.
    let city_w: Vec<f64> = (0..n_cities).map(|_| s.lognormal(1.0, 0.45)).collect();
    let per_city = allocate(&city_w, n_counties, MAX_COUNTIES_PER_CITY);
    let county_w: Vec<f64> = (0..n_counties).map(|_| s.lognormal(1.0, 0.45)).collect();
    let per_county = allocate(&county_w, n_towns, MAX_TOWNS_PER_COUNTY);

    let mut tree = Tree {
        cities: Vec::with_capacity(n_cities),
        counties: Vec::with_capacity(n_counties),
        towns: Vec::with_capacity(n_towns),
    };
    let mut city_names = Namer::new();
    // County names are unique province-wide: the province ranks all counties
    // in one list, where two 富岗县 would confuse a reader.
    let mut county_names = Namer::new();
    for (ci, &nk) in per_city.iter().enumerate() {
        let city_code = format!("99{:02}00", ci + 1);
        let city_name = city_names.draw(&mut names, "市");
        let k0 = tree.counties.len();
        // A city's first one to three counties are its urban districts (区).
        let districts = (1 + s.below(3)).min(nk);
        for j in 0..nk {
            let kc = tree.counties.len();
            let is_district = j < districts;
            let county_code = format!("99{:02}{:02}", ci + 1, j + 1);
            let county_name = county_names.draw(&mut names, if is_district { "区" } else { "县" });
            let t0 = tree.towns.len();
            let mut town_names = Namer::new();
            for t in 0..per_county[kc] {
                let kind = if is_district {
                    if s.uniform() < 0.8 {
                        TownKind::Subdistrict
                    } else {
                        TownKind::Town
                    }
                } else if t == 0 {
                    TownKind::Town // the county seat
                } else {
                    let u = s.uniform();
                    if u < 0.65 {
                        TownKind::Town
                    } else if u < 0.95 {
                        TownKind::Rural
                    } else {
                        TownKind::Subdistrict
                    }
                };
                let suffix = match kind {
                    TownKind::Subdistrict => "街道",
                    TownKind::Town => "镇",
                    TownKind::Rural => "乡",
                };
                let name = if !is_district && t == 0 {
                    town_names.take_fixed("城关镇")
                } else {
                    None
                }
                .unwrap_or_else(|| town_names.draw(&mut names, suffix));
                tree.towns.push(Town {
                    code: format!("{county_code}{:03}", t + 1),
                    name,
                    county: kc,
                    city: ci,
                    kind,
                });
            }
            tree.counties.push(County {
                code: county_code,
                name: county_name,
                city: ci,
                towns: t0..tree.towns.len(),
            });
        }
        tree.cities.push(City {
            code: city_code,
            name: city_name,
            counties: k0..tree.counties.len(),
        });
    }
    tree
}

/// regions.csv, depth-first so a reader sees the tree.
pub(crate) fn write_csv(tree: &Tree) -> String {
    let mut out = String::with_capacity(
        64 * (1 + tree.cities.len() + tree.counties.len() + tree.towns.len()),
    );
    let mut row = |code: &str, name: &str, parent: &str, level: &str| {
        for (i, f) in [code, name, parent, level].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(f);
        }
        out.push('\n');
    };
    row("code", "name", "parent", "level");
    row(PROVINCE_CODE, PROVINCE_NAME, "", "province");
    for city in &tree.cities {
        row(&city.code, &city.name, PROVINCE_CODE, "city");
        for county in &tree.counties[city.counties.clone()] {
            row(&county.code, &county.name, &city.code, "county");
            for town in &tree.towns[county.towns.clone()] {
                row(&town.code, &town.name, &county.code, "township");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocate_respects_bounds() {
        let w = [1.0, 5.0, 0.1, 2.0];
        let c = allocate(&w, 40, 99);
        assert_eq!(c.iter().sum::<usize>(), 40);
        assert!(c.iter().all(|&x| x >= 1));
        assert!(c[1] > c[0] && c[0] >= c[2]);
        let c = allocate(&w, 20, 6);
        assert_eq!(c.iter().sum::<usize>(), 20);
        assert!(c.iter().all(|&x| (1..=6).contains(&x)));
        assert_eq!(allocate(&w, 4, 1), vec![1, 1, 1, 1]);
    }

    #[test]
    fn tree_codes_and_names() {
        let t = build(3, 4, 11, 60);
        assert_eq!(
            (t.cities.len(), t.counties.len(), t.towns.len()),
            (4, 11, 60)
        );
        let mut county_seen = std::collections::HashSet::new();
        for city in &t.cities {
            assert!(city.name.ends_with('市'));
            assert!(!city.counties.is_empty());
            for county in &t.counties[city.counties.clone()] {
                assert!(county.code.starts_with(&city.code[..4]));
                assert!(county.name.ends_with('县') || county.name.ends_with('区'));
                assert!(county_seen.insert(&county.name));
                assert!(!county.towns.is_empty());
                let mut seen_t = std::collections::HashSet::new();
                for town in &t.towns[county.towns.clone()] {
                    assert_eq!(town.code.len(), 9);
                    assert!(town.code.starts_with(&county.code));
                    assert!(seen_t.insert(&town.name));
                    assert!(["镇", "乡", "街道"].iter().any(|s| town.name.ends_with(s)));
                }
            }
        }
    }
}

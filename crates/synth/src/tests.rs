//! Whole-output properties: determinism, completeness, consistency.

use std::collections::{HashMap, HashSet};

use crate::elements::{ELEMENTS, El, Format, Kind, RATIO_PAIRS, YEAR_TO_DATE};
use crate::{Error, Options, generate};

fn small() -> Options {
    Options {
        seed: 7,
        cities: 3,
        counties: 10,
        townships: 60,
        first_year: 2022,
        last_year: 2024,
        anomalies: 0,
    }
}

struct Parsed {
    /// (code, name, parent, level)
    regions: Vec<[String; 4]>,
    /// (township, year) → element → monthly (or a single annual) values.
    values: HashMap<(String, i32), Vec<Vec<f64>>>,
}

fn parse(o: &Options) -> Parsed {
    let out = generate(o).expect("valid options");
    assert!(!out.values.starts_with('\u{feff}'));
    assert!(!out.values.contains('\r'));
    let mut lines = out.regions.lines();
    assert_eq!(lines.next(), Some("code,name,parent,level"));
    let regions: Vec<[String; 4]> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "{l}");
            [0, 1, 2, 3].map(|i| f[i].to_owned())
        })
        .collect();
    let index: HashMap<&str, usize> = ELEMENTS
        .iter()
        .enumerate()
        .map(|(i, e)| (e.code, i))
        .collect();
    let mut values: HashMap<(String, i32), Vec<Vec<f64>>> = HashMap::new();
    let mut lines = out.values.lines();
    assert_eq!(lines.next(), Some("region,period,element,value"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 4, "{l}");
        let e = index[f[2]];
        let decimals = f[3].split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
        let want = match ELEMENTS[e].format {
            Format::Int => 0,
            Format::Tenths => 1,
            Format::Hundredths => 2,
        };
        assert_eq!(decimals, want, "{l}");
        let v: f64 = f[3].parse().expect(l);
        assert!(v.is_finite() && v >= 0.0, "{l}");
        let year: i32 = f[1][..4].parse().unwrap();
        let entry = values
            .entry((f[0].to_owned(), year))
            .or_insert_with(|| vec![Vec::new(); ELEMENTS.len()]);
        match ELEMENTS[e].kind {
            Kind::Flow | Kind::Snapshot => {
                let month = entry[e].len() + 1;
                assert_eq!(f[1], format!("{year}-{month:02}"), "{l}");
            }
            Kind::Rating | Kind::Survey => assert_eq!(f[1], year.to_string(), "{l}"),
        }
        entry[e].push(v);
    }
    Parsed { regions, values }
}

#[test]
fn deterministic() {
    let a = generate(&small()).unwrap();
    let b = generate(&small()).unwrap();
    assert_eq!(a, b);
    let c = generate(&Options { seed: 8, ..small() }).unwrap();
    assert_ne!(a.values, c.values);
    assert_ne!(a.regions, c.regions);
}

#[test]
fn a_year_does_not_depend_on_the_range() {
    let all = generate(&small()).unwrap();
    let late = generate(&Options {
        first_year: 2024,
        ..small()
    })
    .unwrap();
    assert_eq!(all.regions, late.regions);
    let rows_2024 = |text: &str| -> Vec<String> {
        let in_2024 = |l: &&str| l.split(',').nth(1).is_some_and(|p| p.starts_with("2024"));
        text.lines().filter(in_2024).map(String::from).collect()
    };
    assert_eq!(rows_2024(&all.values), rows_2024(&late.values));
    assert_eq!(rows_2024(&all.benchmarks), rows_2024(&late.benchmarks));
}

#[test]
fn region_tree() {
    let o = small();
    let p = parse(&o);
    let count = |lvl: &str| p.regions.iter().filter(|r| r[3] == lvl).count();
    assert_eq!(count("province"), 1);
    assert_eq!(count("city"), o.cities);
    assert_eq!(count("county"), o.counties);
    assert_eq!(count("township"), o.townships);
    assert_eq!(
        p.regions[0],
        ["990000", "平安省", "", "province"].map(String::from)
    );
    // Depth-first: every parent appears before its children, and codes are unique.
    let mut seen = HashSet::new();
    let mut names = HashSet::new();
    for r in &p.regions {
        assert!(r[2].is_empty() || seen.contains(&r[2]), "{r:?}");
        assert!(seen.insert(r[0].clone()));
        assert!(
            names.insert((r[2].clone(), r[1].clone())),
            "duplicate name {r:?}"
        );
    }
    // Every city and county has a child.
    for r in p.regions.iter().filter(|r| r[3] != "township") {
        assert!(p.regions.iter().any(|c| c[2] == r[0]), "{r:?}");
    }
}

#[test]
fn complete_and_consistent() {
    let o = small();
    let p = parse(&o);
    let towns: Vec<&String> = p
        .regions
        .iter()
        .filter(|r| r[3] == "township")
        .map(|r| &r[0])
        .collect();
    assert_eq!(p.values.len(), towns.len() * 3);
    for t in &towns {
        for y in o.first_year..=o.last_year {
            let v = &p.values[&((*t).clone(), y)];
            for (e, el) in ELEMENTS.iter().enumerate() {
                let want = if matches!(el.kind, Kind::Flow | Kind::Snapshot) {
                    12
                } else {
                    1
                };
                assert_eq!(v[e].len(), want, "{t} {y} {}", el.code);
            }
            for &(num, den) in RATIO_PAIRS {
                let pairs = v[num as usize].iter().zip(&v[den as usize]);
                for (m, (a, b)) in pairs.enumerate() {
                    assert!(
                        a <= b,
                        "{t} {y}-{} {} {a} > {} {b}",
                        m + 1,
                        ELEMENTS[num as usize].code,
                        ELEMENTS[den as usize].code
                    );
                }
            }
            for &e in YEAR_TO_DATE {
                assert!(
                    v[e as usize].windows(2).all(|w| w[0] <= w[1]),
                    "{t} {y} {e:?}"
                );
            }
            for (e, el) in ELEMENTS.iter().enumerate() {
                let x = v[e][0];
                match el.kind {
                    Kind::Rating => assert!((0.0..=100.0).contains(&x)),
                    Kind::Survey => assert!((1.0..=5.0).contains(&x)),
                    _ => {}
                }
            }
            // Denominators of snapshots do not move within a year.
            for e in [
                El::Villages,
                El::TransitTotal,
                El::VaccinationTarget,
                El::BacklogCases,
            ] {
                assert!(
                    v[e as usize].windows(2).all(|w| w[0] == w[1]),
                    "{t} {y} {e:?}"
                );
            }
        }
    }
}

#[test]
fn few_major_cases() {
    let p = parse(&small());
    for y in 2022..=2024 {
        let n: f64 = p
            .values
            .iter()
            .filter(|((_, yy), _)| *yy == y)
            .map(|(_, v)| v[El::MajorCases as usize].iter().sum::<f64>())
            .sum();
        assert!((1.0..=2.0).contains(&n), "{y}: {n}");
    }
}

#[test]
fn tiny_province() {
    let o = Options {
        seed: 3,
        cities: 2,
        counties: 3,
        townships: 5,
        first_year: 2024,
        last_year: 2024,
        anomalies: 0,
    };
    let p = parse(&o);
    assert_eq!(p.regions.len(), 1 + 2 + 3 + 5);
    assert_eq!(p.values.len(), 5);
    let one = Options {
        cities: 1,
        counties: 1,
        townships: 1,
        ..o
    };
    assert_eq!(parse(&one).regions.len(), 4);
}

#[test]
fn far_years_stay_plausible() {
    for (first_year, last_year) in [(1000, 1001), (9998, 9999)] {
        let o = Options {
            seed: 2,
            cities: 1,
            counties: 2,
            townships: 3,
            first_year,
            last_year,
            anomalies: 0,
        };
        let out = generate(&o).unwrap();
        for row in out.benchmarks.lines().skip(1) {
            let v: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
            assert!((100.0..2000.0).contains(&v), "{row}");
        }
        let p = parse(&o);
        for v in p.values.values() {
            let pop = v[El::Population as usize][11];
            assert!((1_000.0..5_000_000.0).contains(&pop), "{pop}");
        }
    }
}

#[test]
fn benchmarks_per_year() {
    let out = generate(&small()).unwrap();
    let rows: Vec<&str> = out.benchmarks.lines().collect();
    assert_eq!(rows[0], "benchmark,period,value");
    assert_eq!(rows.len(), 4);
    for (i, y) in (2022..=2024).enumerate() {
        let f: Vec<&str> = rows[i + 1].split(',').collect();
        assert_eq!(
            (f[0], f[1]),
            ("national_criminal_rate", y.to_string().as_str())
        );
        let v: f64 = f[2].parse().unwrap();
        assert!((320.0..380.0).contains(&v), "{v}");
    }
}

#[test]
fn bad_options_are_errors() {
    let d = Options::default();
    let cases = [
        Options {
            cities: 0,
            ..d.clone()
        },
        Options {
            cities: 100,
            counties: 200,
            townships: 2000,
            ..d.clone()
        },
        Options {
            counties: 12,
            ..d.clone()
        },
        Options {
            cities: 1,
            counties: 100,
            ..d.clone()
        },
        Options {
            townships: 99,
            ..d.clone()
        },
        Options {
            counties: 13,
            townships: 13 * 999 + 1,
            ..d.clone()
        },
        Options {
            first_year: 2025,
            ..d.clone()
        },
        Options {
            first_year: -5,
            ..d.clone()
        },
        Options {
            townships: 99_000,
            ..d.clone()
        },
    ];
    for o in cases {
        let e: Error = generate(&o).expect_err(&format!("{o:?}"));
        assert!(!e.to_string().is_empty());
    }
    assert!(matches!(
        generate(&Options {
            first_year: 2025,
            ..d
        }),
        Err(Error::YearOrder { .. })
    ));
}

#[test]
fn default_sizes() {
    let o = Options::default();
    let out = generate(&o).unwrap();
    let rows = out.values.lines().count() - 1;
    assert_eq!(rows, 1000 * 3 * (67 * 12 + 13));
    assert_eq!(out.regions.lines().count(), 1 + 1 + 13 + 100 + 1000);
    // Population: a few tens of millions.
    let pop: u64 = out
        .values
        .lines()
        .filter(|l| l.contains(",2024-12,population,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!((20_000_000..80_000_000).contains(&pop), "{pop}");
}

#[test]
fn anomalies_are_listed_and_only_change_the_last_year() {
    let base = Options {
        seed: 4,
        cities: 2,
        counties: 6,
        townships: 40,
        first_year: 2022,
        last_year: 2024,
        anomalies: 0,
    };
    let clean = generate(&base).unwrap();
    let dirty = generate(&Options {
        anomalies: 21,
        ..base.clone()
    })
    .unwrap();
    let list: Vec<&str> = dirty.anomalies.lines().skip(1).collect();
    assert_eq!(list.len(), 21);
    for kind in crate::anomalies::KINDS {
        assert_eq!(
            list.iter()
                .filter(|l| l.ends_with(&format!(",{kind}")))
                .count(),
            3,
            "{kind}"
        );
    }
    assert_eq!(clean.anomalies, "region,element,period,kind\n");
    // Every earlier-year row is unchanged (plus an empty source column).
    let dirty_rows: std::collections::HashSet<&str> = dirty.values.lines().collect();
    for row in clean
        .values
        .lines()
        .skip(1)
        .filter(|r| !r.contains(",2024"))
    {
        assert!(dirty_rows.contains(format!("{row},").as_str()), "{row}");
    }
    assert_eq!(
        dirty.values.lines().next(),
        Some("region,period,element,value,source")
    );
    // Cross-source rows name their source; timeliness rows fall in 2025.
    assert_eq!(dirty.values.matches(",网格平台\n").count(), 3);
    assert_eq!(dirty.values.matches(",2025-0").count(), 3);
}

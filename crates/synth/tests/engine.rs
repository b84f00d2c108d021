//! The generated files go through the real readers and the scoring engine
//! with the built-in framework: no input error, no missing indicator, and
//! totals in a plausible band.

use pingan_core::{Period, default_framework, score::score};
use pingan_input::{read_benchmarks, read_regions, read_values};
use pingan_synth::{Options, generate};

#[test]
fn engine_scores_the_synthetic_province() {
    let opts = Options {
        seed: 11,
        cities: 4,
        counties: 12,
        townships: 90,
        first_year: 2023,
        last_year: 2024,
        anomalies: 0,
    };
    let out = generate(&opts).unwrap();
    let fw = default_framework();
    let tree = read_regions("regions.csv", out.regions.as_bytes()).expect("regions.csv");
    let mut data =
        read_values("values.csv", out.values.as_bytes(), &fw, &tree).expect("values.csv");
    read_benchmarks("benchmarks.csv", out.benchmarks.as_bytes(), &fw, &mut data)
        .expect("benchmarks.csv");

    let report = score(&fw, &tree, &data, Period::Year(2024), None).expect("score");
    assert_eq!(report.results.len(), 1 + 4 + 12 + 90);
    for r in &report.results {
        let missing: Vec<&str> = r
            .indicators
            .iter()
            .filter(|i| i.missing)
            .map(|i| i.code.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "{} {}: missing {missing:?}",
            r.region,
            r.name
        );
        if r.level != "township" {
            assert!(
                (45.0..=100.0).contains(&r.total),
                "{} {}: {}",
                r.region,
                r.name,
                r.total
            );
        }
    }
    // The province sums every township, so it carries the year's veto.
    let vetoed = report.results.iter().filter(|r| r.veto).count();
    assert!(report.results[0].veto && vetoed >= 4, "{vetoed}");
}

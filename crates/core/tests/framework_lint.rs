//! The lint on the built-in framework and on broken copies of it.

use pingan_core::framework::{DEFAULT_TOML, check};

#[test]
fn default_framework_has_no_error_and_exactly_two_warnings() {
    let r = check(DEFAULT_TOML);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let kinds: Vec<&str> = r.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec!["public_opinion_share", "provisional_rules"]);
    assert!((r.public_opinion_share.unwrap() - 0.116335).abs() < 1e-9);
    assert!(
        r.warnings[0].message.contains("0.116335"),
        "{}",
        r.warnings[0].message
    );
    let fw = r.framework.unwrap();
    assert_eq!(fw.dimensions.len(), 5);
    assert_eq!(
        fw.dimensions.iter().map(|d| d.domains.len()).sum::<usize>(),
        15
    );
    let placed = fw.indicators();
    assert_eq!(placed.len(), 47);
    let total: f64 = placed.iter().map(|p| p.max).sum();
    assert!((total - 100.0).abs() < 1e-9);
    // Seed §2.3: 刑事案件发案率 is 0.35 of 0.40 of 0.30.
    let d111 = placed
        .iter()
        .find(|p| p.indicator.code == "D1.1.1")
        .unwrap();
    assert!((d111.max - 4.2).abs() < 1e-12);
    let d511 = placed
        .iter()
        .find(|p| p.indicator.code == "D5.1.1")
        .unwrap();
    assert!(
        (d511.effective_weight - 0.05).abs() < 1e-12,
        "群众安全感指数 = half of D5"
    );
}

fn broken(from: &str, to: &str) -> Vec<(String, String, Option<usize>)> {
    assert!(DEFAULT_TOML.contains(from), "{from}");
    let src = DEFAULT_TOML.replacen(from, to, 1);
    let r = check(&src);
    assert!(r.framework.is_none());
    r.errors
        .into_iter()
        .map(|e| (e.kind.to_string(), e.message, e.line))
        .collect()
}

#[test]
fn each_error_is_named_with_its_line() {
    let e = broken("weight = 0.30", "weight = 0.31");
    assert_eq!(e[0].0, "weights_sum", "{e:?}");
    assert!(e[0].2.is_some());
    let e = broken(
        "criminal_cases / population * 100000",
        "criminal_case / population * 100000",
    );
    assert_eq!(e[0].0, "unknown_element");
    assert!(e[0].1.contains("criminal_case"));
    let e = broken(
        "criminal_cases / population * 100000",
        "criminal_cases / * 100000",
    );
    assert_eq!(e[0].0, "formula");
    let e = broken("step = 1, deduct = 0.5", "step = 0, deduct = 0.5");
    assert_eq!(e[0].0, "rule_value");
    let e = broken("step = 1, deduct = 0.5", "deduct = 0.5");
    assert_eq!(e[0].0, "rule_key_missing");
    let e = broken(
        "step = 1, deduct = 0.5",
        "step = 1, deduct = 0.5, colour = 1",
    );
    assert_eq!(e[0].0, "rule_key_unknown");
    let e = broken("step = 1, deduct = 0.5", "step = \"1\", deduct = 0.5");
    assert_eq!(e[0].0, "rule_key_type");
    let e = broken("code = \"D1.1.2\"", "code = \"D1.1.1\"");
    assert_eq!(e[0].0, "duplicate_code");
    let e = broken("weight_by = \"population\"", "");
    assert_eq!(e[0].0, "weight_by");
    let e = broken("full_at = 100", "full_at = 60");
    assert_eq!(e[0].0, "rule_value");
    let e = broken("[framework]", "[framework]\ncolour = 1");
    assert_eq!(e[0].0, "parse");
    assert!(e[0].1.contains("colour"), "{e:?}");
    assert_eq!(e[0].2, Some(check_line_of("colour = 1")));
    let e = broken("weight = 0.30", "weight = \"0.30\"");
    assert_eq!(e[0].0, "parse");
    assert!(e[0].1.contains("dimension.weight"), "{e:?}");
    let e = broken("[framework]", "[framework\n");
    assert_eq!(e[0].0, "parse");
    // A setting that is not one of its options names them all.
    let e = broken("time_agg = \"sum\"", "time_agg = \"avg\"");
    assert_eq!(e[0].0, "value");
    assert!(
        e[0].1
            .contains("time_agg“avg”无效：可用 sum、mean、last、max"),
        "{e:?}"
    );
    let e = broken("region_agg = \"sum\"", "region_agg = \"total\"");
    assert!(
        e[0].1.contains("可用 sum、mean、weighted_mean、none"),
        "{e:?}"
    );
    let e = broken("polarity = \"lower\"", "polarity = \"down\"");
    assert!(
        e[0].1.contains("的 polarity“down”无效：可用 higher、lower") && e[0].1.starts_with("指标 "),
        "{e:?}"
    );
}

fn check_line_of(needle: &str) -> usize {
    let src = DEFAULT_TOML.replacen("[framework]", "[framework]\ncolour = 1", 1);
    src.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// Every indicator of the default framework carries the 整改建议 the
/// 测评报告 prints where it loses points (issue 20), and the key is read
/// from any framework file.
#[test]
fn suggestions_are_read_and_the_default_has_one_per_indicator() {
    let fw = check(DEFAULT_TOML).framework.expect("default framework");
    let placed = fw.indicators();
    assert_eq!(placed.len(), 47);
    for p in &placed {
        let i = p.indicator;
        assert!(
            i.suggestion.chars().count() >= 15,
            "{} has no suggestion",
            i.code
        );
    }
    let suggestion = |fw: &pingan_core::Framework, code: &str| {
        fw.indicators()
            .iter()
            .find(|p| p.indicator.code == code)
            .map(|p| p.indicator.suggestion.clone())
    };
    assert!(
        suggestion(&fw, "D4.1.1")
            .unwrap()
            .contains("加强网格员队伍建设")
    );
    // Optional: a file without the key reads as before.
    let without: String = DEFAULT_TOML
        .lines()
        .filter(|l| !l.trim_start().starts_with("suggestion ="))
        .collect::<Vec<_>>()
        .join("\n");
    let fw = check(&without).framework.expect("without suggestions");
    assert_eq!(suggestion(&fw, "D4.1.1").as_deref(), Some(""));
}

//! The framework file (`pingan_core::framework::check`: TOML → lint →
//! `Framework`). A framework that checks is then used the way the CLI and
//! server use it (tree view, rules and formulas in words, grades), and
//! rewritten with `framework::edit::set_weights` (`pingan weights apply`)
//! with its own dimension weights: the rewritten file must check too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::framework::{check, edit, view};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let report = check(src);
    let _ = report.error_lines("framework.toml");
    assert_eq!(
        report.framework.is_some(),
        report.errors.is_empty(),
        "a framework exactly when there are no errors"
    );
    let Some(fw) = report.framework else {
        return;
    };
    let _ = view::tree(&fw);
    let _ = fw.prev_depth();
    let _ = fw.public_opinion_share();
    for total in [-1.0, 0.0, 59.99, 60.0, 85.0, fw.total, f64::NAN] {
        let g = fw.grade_for(total);
        assert!(
            g < fw.grades.len().max(1),
            "grade index {g} of {}",
            fw.grades.len()
        );
    }
    for p in fw.indicators() {
        let i = p.indicator;
        let _ = fw.rule_in_words(&i.rule, &i.unit);
        let _ = fw.in_words(&i.formula_text);
    }

    let weights: Vec<(String, f64)> = fw
        .dimensions
        .iter()
        .map(|d| (d.code.clone(), d.weight))
        .collect();
    if let Ok(again) = edit::set_weights(src, "framework", &weights) {
        let r2 = check(&again);
        let Some(fw2) = r2.framework else {
            panic!(
                "set_weights kept the weights but the file no longer checks: {:?}\n--- rewritten ---\n{again}",
                r2.errors
            );
        };
        assert_eq!(fw2.indicators().len(), fw.indicators().len());
        for (a, b) in fw.dimensions.iter().zip(&fw2.dimensions) {
            assert_eq!(
                a.weight.to_bits(),
                b.weight.to_bits(),
                "weight of {}",
                a.code
            );
        }
    }
});

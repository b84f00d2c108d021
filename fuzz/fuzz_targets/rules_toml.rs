//! The data-quality rules file (`pingan_core::quality::rules::RuleSet::parse`,
//! `frameworks/pingan-2024.rules.toml`) against the built-in framework.
//! Every error must carry a line inside the file; a rule set that parses
//! is evaluated once on made-up values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::Period;
use pingan_core::quality::rules::RuleSet;
use pingan_fuzz::DEFAULT;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let fw = &*DEFAULT;
    match RuleSet::parse("rules.toml", src, fw) {
        Err(errs) => {
            assert!(!errs.is_empty(), "Err with no error");
            let lines = src.split('\n').count();
            for e in &errs {
                assert!(
                    (1..=lines).contains(&e.line),
                    "line {} of a {lines}-line file: {e}",
                    e.line
                );
                let _ = e.to_string();
            }
        }
        Ok(set) => {
            let p = Period::Month(2024, 6);
            let mut get = |e: usize, _p: Period| Some(e as f64 + 0.5);
            for r in &set.rules {
                let _ = r.principal();
                let _ = r.operator.symbol();
                let _ = (r.importance.code(), r.importance.label());
                let (a, b) = (r.left.eval(p, &mut get), r.right.eval(p, &mut get));
                if let (
                    pingan_core::formula::Eval::Value(a),
                    pingan_core::formula::Eval::Value(b),
                ) = (a, b)
                {
                    let _ = r.operator.holds(a, b);
                }
            }
            for r in &set.ranges {
                assert!(r.elements.iter().all(|&e| e < fw.elements.len()));
            }
        }
    }
});

//! Indicator formulas (`pingan_core::formula::parse`, scoring.md §2), with
//! the built-in framework's element codes, then evaluated at a month, a
//! quarter and a year on made-up values (some missing, some zero).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::Period;
use pingan_core::formula::{self, Eval, FormulaError};
use pingan_fuzz::DEFAULT;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let fw = &*DEFAULT;
    let lookup = |code: &str| fw.element_index(code);
    let expr = match formula::parse(src, &lookup) {
        Ok(e) => e,
        Err(e) => {
            if let FormulaError::Syntax { pos, .. } = &e {
                assert!(*pos <= src.chars().count(), "error at {pos}, past the end");
            }
            let _ = e.to_string();
            return;
        }
    };
    let depth = expr.prev_depth();
    let elements = expr.elements();
    assert!(elements.iter().all(|&e| e < fw.elements.len()));
    let _ = fw.in_words(src);
    for p in [
        Period::Month(2024, 1),
        Period::Quarter(2024, 1),
        Period::Year(2024),
    ] {
        // Every value present: never Missing.
        let mut all = |e: usize, q: Period| Some((e as f64) - f64::from(q.year() % 7));
        assert!(!matches!(expr.eval(p, &mut all), Eval::Missing(_)));
        // Odd elements missing: only elements the formula reads, at most
        // `depth` years back, are named.
        let mut some = |e: usize, _q: Period| (e % 2 == 0).then_some(0.0);
        if let Eval::Missing(m) = expr.eval(p, &mut some) {
            for (e, q) in m {
                assert!(elements.contains(&e));
                assert!(p.year() - q.year() <= depth as i32);
            }
        }
    }
});

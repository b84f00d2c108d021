//! XLSForm `relevant` / `constraint` expressions
//! (`pingan_core::survey::expr::parse`, survey.md §1), then evaluated on
//! made-up answers. The server sends the parsed tree to the browser as
//! JSON, so it must serialise too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::survey::expr::{self, Answers};

struct Fixed;

impl Answers for Fixed {
    fn answer(&self, name: &str) -> &str {
        match name.len() % 4 {
            0 => "",
            1 => "3",
            2 => "a b c",
            _ => "-1.5",
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let e = match expr::parse(src) {
        Ok(e) => e,
        Err(err) => {
            // Offsets count characters (they counted bytes until fuzzing
            // found it: crashes/survey_expr/error-offset-in-bytes.txt).
            assert!(err.at <= src.chars().count(), "error at {}, past the end", err.at);
            let _ = err.to_string();
            return;
        }
    };
    let _ = e.refs();
    for current in ["", "2", "yes no", "x"] {
        let v = e.eval(&Fixed, current);
        let _ = (v.number(), v.boolean());
        let _ = e.holds(&Fixed, current);
    }
    let _ = serde_json::to_string(&e);
});

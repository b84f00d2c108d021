//! The questionnaire checks behind the XLSForm reader
//! (`pingan_input::survey::form_of` → `Form::from_sheets`), on the sheets as
//! text — the layout of `frameworks/survey-2024/*.tsv`: the input is the
//! `survey`, `choices` and `settings` sheets separated by form feeds
//! (0x0C), rows by newlines, cells by tabs. A missing part is a missing
//! sheet. This is where the questionnaire logic is; the xlsx targets spend
//! most of their time in the zip and XML layers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::survey::form::Sheet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\u{c}');
    let mut sheet = |name: &str| {
        parts.next().map(|t| Sheet {
            name: name.to_string(),
            rows: t
                .lines()
                .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
                .collect(),
        })
    };
    let sheets = [sheet("survey"), sheet("choices"), sheet("settings")];
    pingan_fuzz::check_form_sheets([sheets[0].as_ref(), sheets[1].as_ref(), sheets[2].as_ref()]);
});

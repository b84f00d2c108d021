//! An XLSForm questionnaire as uploaded (`pingan_input::survey::read_form`):
//! any bytes as `.xlsx`, element codes from the built-in framework.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pingan_fuzz::check_form(data);
});

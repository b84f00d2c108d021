//! A filled Excel template, as uploaded (`pingan_input::excel::
//! read_template_partly`): any bytes as `.xlsx`, against the built-in
//! framework and the small region tree. Seeds are templates written by
//! `write_template` (see examples/make_seeds.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pingan_fuzz::check_template(data);
});

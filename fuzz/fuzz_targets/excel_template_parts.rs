//! The Excel template reader again, with the input taken as the workbook's
//! XML parts (`name NUL content NUL …`, see `pingan_fuzz::pack_parts`)
//! packed into an uncompressed `.xlsx`: the fuzzer edits sheet XML, shared
//! strings and the workbook's sheet list directly instead of deflate
//! streams, so it reaches the template checks (hidden `_codes` sheet,
//! period sheet names, headers, cells).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(xlsx) = pingan_fuzz::pack_parts(data) {
        pingan_fuzz::check_template(&xlsx);
    }
});

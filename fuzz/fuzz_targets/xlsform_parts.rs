//! The XLSForm reader with the input taken as the workbook's XML parts,
//! packed into an uncompressed `.xlsx` (see `pingan_fuzz::pack_parts`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(xlsx) = pingan_fuzz::pack_parts(data) {
        pingan_fuzz::check_form(&xlsx);
    }
});

//! `regions.csv` (`pingan_input::read_regions`): any bytes, UTF-8 with or
//! without BOM or GB18030. A tree that reads must be usable: every code
//! finds its own row, and the walks the template and scoring do terminate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::Period;

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = pingan_input::read_regions("regions.csv", data) else {
        return;
    };
    let periods = [
        Period::Year(2024),
        Period::Quarter(2024, 2),
        Period::Month(2024, 6),
    ];
    for i in 0..tree.len() {
        let r = tree.get(i);
        assert_eq!(
            tree.find(&r.code),
            Some(i),
            "code {:?} finds its row",
            r.code
        );
        let _ = tree.place(i);
        let _ = tree.children(i);
        if let Some(root) = tree.root() {
            let root = tree.find(&root.code).unwrap();
            let _ = tree.is_within(i, root);
        }
        for p in periods {
            let _ = r.valid_in(p);
        }
    }
    let _ = pingan_input::excel::base_regions(&tree, None, &periods);
});

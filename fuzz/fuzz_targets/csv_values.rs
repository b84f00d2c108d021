//! `values.csv` and `benchmarks.csv` (`pingan_input::read_values`,
//! `read_benchmark_rows`, `benchmark_line`) against the small test
//! framework and region tree of `crates/cli/tests/fixtures/small`. The
//! same bytes go to both readers (the seeds hold both kinds of file).
//! Inputs stay below the 4 MiB where `for_each_value` switches to its
//! two-thread path, so that path is not reached here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingan_core::Period;
use pingan_fuzz::{SMALL, TREE};

fuzz_target!(|data: &[u8]| {
    let fw = &*SMALL;
    let tree = &*TREE;
    let _ = pingan_input::read_values("values.csv", data, fw, tree);
    if let Ok(rows) = pingan_input::read_benchmark_rows("benchmarks.csv", data, fw) {
        for r in rows {
            let code = &fw.benchmarks[r.benchmark].code;
            // The line a later message points at is the row that was read.
            assert_eq!(
                pingan_input::benchmark_line(data, code, r.period),
                Some(r.line),
                "benchmark_line({code}, {})",
                r.period
            );
        }
    }
    let _ = pingan_input::benchmark_line(data, "nat_rate", Period::Year(2024));
});

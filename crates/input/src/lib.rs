//! pingan-input: the CSV files of scoring.md §6 — `regions.csv`,
//! `values.csv`, `benchmarks.csv` — read from bytes in UTF-8 (with or
//! without BOM) or GB18030, with `file:line: what is wrong` errors — and the
//! departments' Excel templates (`excel`), with `Sheet "2024-06" C14` errors.

pub mod boundaries;
mod cases;
mod decode;
mod error;
pub mod events;
pub mod excel;
mod regions;
mod sheet;
pub mod survey;
mod table;
mod values;
mod weights;

pub use cases::{CaseRow, Outcome, case_row, parse_case_date, read_cases};
pub use decode::decode;
pub use error::{InputError, InputErrors, MAX_ERRORS};
pub use regions::read_regions;
pub use values::{
    BenchmarkRow, ValueRow, benchmark_line, for_each_value, parse_value, read_benchmark_rows,
    read_benchmarks, read_values, value_fields,
};
pub use weights::{
    read_authority, read_decision_matrix, read_delphi_scores, read_judgement_matrix,
};

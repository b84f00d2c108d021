//! Citizen surveys (群众安全感与满意度调查), the pure part of
//! `../shared/spec/survey.md`: the questionnaire and its expressions, the
//! sample plan, a response's validity, weights and estimates. Reading
//! files is `pingan-input`'s; storing is the store's.

pub mod client;
pub mod compare;
pub mod default;
pub mod estimate;
pub mod expr;
pub mod fieldwork;
pub mod form;
pub mod plan;
pub mod response;
pub mod run;
pub mod weights;

pub use form::{Form, FormError, Kind, Sheet};
pub use response::{Channel, Invalid};

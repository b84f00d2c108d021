//! pingan-service: the operations of the platform, between the ways in
//! (the JSON API, the pages, the command line) and the store. Each
//! operation is one function that every way in calls; it takes proof of
//! the capability it needs (`Authorized<C>`) and applies the caller's
//! region and department scope itself. Handlers parse input and render
//! output; the rules are here and in `pingan_core`.

pub mod access;
pub mod audit;
pub mod boundaries;
pub mod callbacks;
pub mod caller;
pub mod consequences;
pub mod ctx;
pub mod effect;
pub mod error;
pub mod events;
pub mod events_board;
pub mod events_list;
pub mod exports;
pub mod field;
mod held;
pub mod imports;
pub mod intake;
mod kept;
pub mod objections;
mod passwords;
pub mod progress;
pub mod publish;
pub mod quality;
pub mod rectify;
pub mod rectify_checks;
pub mod report;
pub mod report_edits;
mod report_findings;
pub mod review;
pub mod risk;
pub mod scores;
pub mod session;
pub mod structure;
pub mod submit;
pub mod surveys;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod totp;
pub mod users;
pub mod values;
pub mod work;

pub use access::{Capability, cap};
pub use caller::{Authorized, Caller, Principal};
pub use ctx::Ctx;
pub use error::{Loc, Problem, Refusal, Result, ServiceError};
pub use kept::Refresh;

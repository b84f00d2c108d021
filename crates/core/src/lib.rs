//! pingan-core: the pure evaluation engine of 平安建设测评平台 — framework
//! model and lint, formulas, element resolution, scoring rules, totals,
//! grades and ranks. No IO, no async, no database.

pub mod access;
pub mod bounds;
pub mod calibration;
pub mod consequence;
pub mod data;
pub mod effect;
pub mod events;
pub mod field;
pub mod formula;
pub mod framework;
mod grid;
pub mod labels;
pub mod num;
pub mod par;
pub mod period;
pub mod quality;
pub mod rectify;
pub mod redact;
pub mod region;
pub mod report;
pub mod resolve;
pub mod review;
pub mod risk;
pub mod rules;
pub mod score;
pub mod sensitivity;
pub mod survey;
pub mod text;
pub mod weights;

pub use framework::{Framework, default_framework};
pub use period::Period;
pub use region::{Level, RegionTree};

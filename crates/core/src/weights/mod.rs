//! Weights an expert panel can defend (seed §2.3, §3.1): AHP, Delphi,
//! objective weights (entropy, CRITIC) and their combination.

pub mod ahp;
pub mod combine;
pub mod delphi;
pub mod objective;

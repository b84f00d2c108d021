//! What every page shares: the frame and navigation, the signed-in viewer,
//! the one error page, form helpers, number formats, the Excel writer and
//! the static files.

pub mod assets;
pub mod error;
pub mod fmt;
pub mod forms;
pub mod layout;
pub mod prepared;
pub mod upload;
pub mod viewer;
pub mod xlsx;

pub use error::{PageError, PageResult};
pub use layout::{Frame, card, data_script};
pub use viewer::{Viewer, now_seconds, pick_region, pick_year};

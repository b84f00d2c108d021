//! Free text on its way in: `pingan_core::text`'s rule (NFC, nothing
//! hidden, a length limit per field) as a service error.

use crate::error::{Result, ServiceError};
pub use pingan_core::text::{Field, NOTE, SHORT, SOURCE};

pub(crate) fn clean(field: Field, s: &str) -> Result<String> {
    pingan_core::text::clean(field, s).map_err(ServiceError::Invalid)
}

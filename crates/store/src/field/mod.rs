//! The field verification tables (§5.3, §3.4): `verify_tasks`,
//! `verify_records` by two verifiers, `verify_photos`.

mod photos;
mod records;
mod tasks;

pub use photos::Photo;
pub use records::{NewRecord, Recheck, Record};
pub use tasks::{NewTask, Task, TaskFilter};

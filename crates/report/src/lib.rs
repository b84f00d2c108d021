//! The documents an office issues (issue 20), as bytes: the
//! 《平安建设测评报告》 as a Word document in the 党政机关公文格式
//! (GB/T 9704-2012), from `pingan_core::report::Report`, the same content
//! the print view shows.

mod docx;

pub use docx::{Ledger, report_docx};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("无法生成 Word 文档：{0}")]
    Docx(String),
}

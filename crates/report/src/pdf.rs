//! PDF through LibreOffice (`soffice --headless --convert-to pdf`) where it
//! is installed: the Word file is the document, and a second typesetting
//! engine would only disagree with it. Each conversion gets its own
//! profile directory, so conversions at once do not wait on one lock.

use crate::ReportError;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// `soffice`, or `PINGAN_SOFFICE` where it is elsewhere.
fn program() -> String {
    std::env::var("PINGAN_SOFFICE").unwrap_or_else(|_| "soffice".into())
}

/// Whether LibreOffice can be run here.
pub fn available() -> bool {
    Command::new(program())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The DOCX `docx` as PDF. Blocks for a few seconds: call it off the
/// async runtime.
pub fn from_docx(docx: &[u8]) -> Result<Vec<u8>, ReportError> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pingan-pdf-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let scratch = Scratch(dir);
    let io = |e: std::io::Error| ReportError::Pdf(format!("临时文件：{e}"));
    std::fs::create_dir_all(scratch.0.join("profile")).map_err(io)?;
    let input = scratch.0.join("document.docx");
    std::fs::write(&input, docx).map_err(io)?;
    let profile = format!("file://{}", scratch.0.join("profile").display());
    let out = Command::new(program())
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(&scratch.0)
        .arg(&input)
        .output()
        .map_err(|e| {
            ReportError::NoOffice(format!(
                "无法运行 {}（{e}）：PDF 需要安装 LibreOffice（Debian：apt-get install libreoffice-writer-nogui），或在浏览器中打开报告页“打印 / 另存为PDF”",
                program()
            ))
        })?;
    let pdf = scratch.0.join("document.pdf");
    match std::fs::read(&pdf) {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => Err(ReportError::Pdf(format!(
            "LibreOffice 未能转换（退出码 {:?}）：{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

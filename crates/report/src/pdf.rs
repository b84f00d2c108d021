//! PDF through LibreOffice (`soffice --headless --convert-to pdf`) where it
//! is installed: the Word file is the document, and a second typesetting
//! engine would only disagree with it. Conversions at once each hold a
//! profile directory of their own, so none waits on another's lock; a
//! profile is kept for the next conversion, as building a fresh one is about
//! a third of LibreOffice's start.

use crate::ReportError;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
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

/// The profiles not in use; a conversion takes one (or makes one) and puts
/// it back when LibreOffice succeeded with it.
static PROFILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Where this process keeps its profiles: one folder per process, so two
/// servers on one machine never share a profile. Folders of processes that
/// are gone are removed the first time.
fn profiles_root() -> PathBuf {
    static CLEANED: std::sync::Once = std::sync::Once::new();
    let tmp = std::env::temp_dir();
    CLEANED.call_once(|| {
        let Ok(dir) = std::fs::read_dir(&tmp) else {
            return;
        };
        for e in dir.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix("pingan-office-"))
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
    tmp.join(format!("pingan-office-{}", std::process::id()))
}

/// Removes what is at `p`, folder or not.
fn discard(p: &Path) {
    if std::fs::remove_dir_all(p).is_err() {
        let _ = std::fs::remove_file(p);
    }
}

fn new_profile() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    profiles_root().join(format!("p{}", N.fetch_add(1, Ordering::Relaxed)))
}

/// A kept profile (true) or a new one.
fn take_profile() -> (PathBuf, bool) {
    let kept = PROFILES.lock().unwrap_or_else(|p| p.into_inner()).pop();
    match kept {
        Some(p) => (p, true),
        None => (new_profile(), false),
    }
}

fn run(profile: &Path, input: &Path, outdir: &Path) -> Result<Output, ReportError> {
    std::fs::create_dir_all(profile).map_err(|e| ReportError::Pdf(format!("临时文件：{e}")))?;
    Command::new(program())
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(outdir)
        .arg(input)
        .output()
        .map_err(|e| {
            ReportError::NoOffice(format!(
                "无法运行 {}（{e}）：PDF 需要安装 LibreOffice（Debian：apt-get install libreoffice-writer-nogui），或在浏览器中打开报告页“打印 / 另存为PDF”",
                program()
            ))
        })
}

/// The DOCX `docx` as PDF. Blocks for about a second: call it off the
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
    std::fs::create_dir_all(&scratch.0).map_err(io)?;
    let input = scratch.0.join("document.docx");
    std::fs::write(&input, docx).map_err(io)?;
    let pdf = scratch.0.join("document.pdf");
    let converted = |out: &Output| match std::fs::read(&pdf) {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => Err(ReportError::Pdf(format!(
            "LibreOffice 未能转换（退出码 {:?}）：{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    };
    let attempt = |profile: &Path| run(profile, &input, &scratch.0).and_then(|o| converted(&o));
    let (profile, kept) = take_profile();
    let (result, profile) = match attempt(&profile) {
        // A kept profile that fails (left locked by a killed LibreOffice,
        // say) is dropped and the conversion tried once with a new one.
        Err(_) if kept => {
            discard(&profile);
            let fresh = new_profile();
            (attempt(&fresh), fresh)
        }
        r => (r, profile),
    };
    if result.is_ok() {
        PROFILES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(profile);
    } else {
        discard(&profile);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingan_core::report::doc::{Block, Doc};

    fn docx() -> Vec<u8> {
        crate::docx(&Doc {
            title: "测试报告".into(),
            blocks: vec![Block::Title("测试报告".into())],
            properties: Vec::new(),
        })
        .unwrap()
    }

    /// A profile is kept for the next conversion; a kept one that fails is
    /// replaced by a new one and the conversion still succeeds.
    #[test]
    fn profiles_are_kept_and_a_broken_one_is_replaced() {
        if !available() {
            eprintln!("跳过：本机没有 LibreOffice（soffice）");
            return;
        }
        let doc = docx();
        assert!(from_docx(&doc).unwrap().starts_with(b"%PDF"));
        let kept = PROFILES.lock().unwrap().clone();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(
            kept[0].join("user").is_dir(),
            "the profile LibreOffice built"
        );
        // Break it: its folder becomes a file LibreOffice cannot use.
        std::fs::remove_dir_all(&kept[0]).unwrap();
        std::fs::write(&kept[0], b"not a profile").unwrap();
        assert!(from_docx(&doc).unwrap().starts_with(b"%PDF"));
        let now = PROFILES.lock().unwrap().clone();
        assert_eq!(now.len(), 1);
        assert_ne!(now[0], kept[0], "the broken one is not kept");
        assert!(!kept[0].exists(), "and is removed");
        assert!(now[0].join("user").is_dir());
    }
}

//! PDF through LibreOffice where it is installed: the Word file is the
//! document, and a second typesetting engine would only disagree with it.
//!
//! LibreOffice takes about 1.2 s to start, more than a page may take. Where
//! the system Python has LibreOffice's UNO bridge (Debian: python3-uno,
//! installed with LibreOffice), one LibreOffice is kept running and driven
//! by `office.py` (the worker): a report then converts in a fraction of a
//! second. Elsewhere, or when the worker fails, each conversion runs
//! `soffice --headless --convert-to pdf` once; conversions at once each hold
//! a profile directory of their own, kept for the next one.

use crate::ReportError;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

mod worker;

/// `soffice`, or `PINGAN_SOFFICE` where it is elsewhere.
pub(crate) fn program() -> String {
    std::env::var("PINGAN_SOFFICE").unwrap_or_else(|_| "soffice".into())
}

/// Whether LibreOffice can be run here.
pub fn available() -> bool {
    Command::new(program())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) struct Scratch(pub(crate) PathBuf);

/// A new scratch folder of this process.
pub(crate) fn scratch() -> Result<Scratch, ReportError> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pingan-pdf-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::Pdf(format!("临时文件：{e}")))?;
    Ok(Scratch(dir))
}

/// Start the worker now, on a thread of its own, and have it convert a
/// document shaped like a report (the fonts of each heading level, a table,
/// a chart), so that the first report asked for waits neither for
/// LibreOffice nor for what it loads on its first such document
/// (`pingan serve`).
pub fn warm() {
    std::thread::spawn(|| {
        worker::start_if_possible();
        if let Ok(docx) = crate::docx(&sample()) {
            let _ = worker::convert(&docx);
        }
    });
}

/// A small document with every kind of block a report has.
fn sample() -> pingan_core::report::doc::Doc {
    use pingan_core::report::doc::{Block, Cell, Chart, ChartKind, Doc, Row, Series, Table};
    let text = "平安建设测评总分八十五分，等级为良好。".to_string();
    Doc {
        title: "预热".into(),
        blocks: vec![
            Block::Masthead {
                organ: "平安建设领导小组办公室".into(),
                number: "平安办〔2024〕1号".into(),
            },
            Block::Title("平安建设测评报告".into()),
            Block::Addressee("各市平安办：".into()),
            Block::Heading {
                key: "overview".into(),
                text: "一、总体情况".into(),
            },
            Block::Subheading("（一）得分".into()),
            Block::Para {
                id: String::new(),
                text: text.clone(),
            },
            Block::RunIn {
                lead: "（二）排名。".into(),
                text,
            },
            Block::Table(Table {
                id: String::new(),
                head: vec!["维度".into(), "得分".into()],
                rows: vec![Row {
                    key: String::new(),
                    cells: vec![Cell::text("社会治安"), Cell::points(18.5)],
                }],
            }),
            Block::Chart(Chart {
                id: "warm".into(),
                caption: "各维度得分率".into(),
                kind: ChartKind::Bar,
                categories: vec!["社会治安".into(), "公共安全".into()],
                series: vec![Series {
                    name: "得分率".into(),
                    values: vec![80.0, 90.0],
                }],
            }),
            Block::Signature {
                organ: "平安办".into(),
                date: "2024年12月1日".into(),
            },
            Block::Ledger {
                seq: 1,
                hash: "0".repeat(64),
                text: "预热".into(),
            },
        ],
        properties: Vec::new(),
    }
}

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
pub(crate) fn profiles_root() -> PathBuf {
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

/// The DOCX `docx` as PDF: through the worker where it runs, else with a
/// LibreOffice of its own. Blocks (a fraction of a second, or about one
/// second without the worker): call it off the async runtime.
pub fn from_docx(docx: &[u8]) -> Result<Vec<u8>, ReportError> {
    if let Some(pdf) = worker::convert(docx) {
        return Ok(pdf);
    }
    convert_once(docx)
}

/// The DOCX `docx` as PDF with `soffice --convert-to`, started for it.
fn convert_once(docx: &[u8]) -> Result<Vec<u8>, ReportError> {
    let scratch = scratch()?;
    let io = |e: std::io::Error| ReportError::Pdf(format!("临时文件：{e}"));
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

    /// Both tests use the process's kept profiles (the worker's test falls
    /// back to them while it replaces the worker): one at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn docx() -> Vec<u8> {
        crate::docx(&Doc {
            title: "测试报告".into(),
            blocks: vec![Block::Title("测试报告".into())],
            properties: Vec::new(),
        })
        .unwrap()
    }

    /// Without the worker, a profile is kept for the next conversion; a
    /// kept one that fails is replaced by a new one and the conversion still
    /// succeeds.
    #[test]
    fn profiles_are_kept_and_a_broken_one_is_replaced() {
        if !available() {
            eprintln!("跳过：本机没有 LibreOffice（soffice）");
            return;
        }
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        PROFILES.lock().unwrap().clear();
        let doc = docx();
        assert!(convert_once(&doc).unwrap().starts_with(b"%PDF"));
        let kept = PROFILES.lock().unwrap().clone();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(
            kept[0].join("user").is_dir(),
            "the profile LibreOffice built"
        );
        // Break it: its folder becomes a file LibreOffice cannot use.
        std::fs::remove_dir_all(&kept[0]).unwrap();
        std::fs::write(&kept[0], b"not a profile").unwrap();
        assert!(convert_once(&doc).unwrap().starts_with(b"%PDF"));
        let now = PROFILES.lock().unwrap().clone();
        assert_eq!(now.len(), 1);
        assert_ne!(now[0], kept[0], "the broken one is not kept");
        assert!(!kept[0].exists(), "and is removed");
        assert!(now[0].join("user").is_dir());
    }

    /// With python3-uno, one LibreOffice is kept and converts each report;
    /// when it dies, conversions go on (on their own, then through a new one).
    #[test]
    fn the_kept_office_converts_and_is_replaced_when_it_dies() {
        let uno = Command::new("/usr/bin/python3")
            .args(["-c", "import uno"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !available() || !uno {
            eprintln!("跳过：本机没有 LibreOffice 或 python3-uno");
            return;
        }
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let doc = docx();
        assert!(from_docx(&doc).unwrap().starts_with(b"%PDF"));
        let pid = worker::office_pid().expect("the worker runs");
        let t = std::time::Instant::now();
        assert!(from_docx(&doc).unwrap().starts_with(b"%PDF"));
        eprintln!(
            "a conversion through the kept LibreOffice: {:?}",
            t.elapsed()
        );
        assert_eq!(worker::office_pid(), Some(pid), "the same LibreOffice");
        worker::kill(pid);
        for _ in 0..3 {
            assert!(from_docx(&doc).unwrap().starts_with(b"%PDF"));
        }
        let now = worker::office_pid().expect("a new worker");
        assert_ne!(now, pid);
        worker::stop();
        assert_eq!(worker::office_pid(), None);
    }
}

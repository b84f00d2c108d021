//! The documents an office issues (issue 20), as bytes: the
//! 《平安建设测评报告》, the 《问题整改通知书》 and the province's summary, from
//! the blocks of `pingan_core::report::doc`, as Word in the 党政机关公文格式
//! (GB/T 9704-2012), as an A4 HTML page and as an Excel workbook, with
//! charts drawn here.

pub mod charts;
mod docx;
pub mod html;
pub mod pdf;
mod xlsx;

pub use docx::docx;
pub use xlsx::workbook;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("无法生成 Word 文档：{0}")]
    Docx(String),
    #[error("无法生成 Excel 工作簿：{0}")]
    Xlsx(String),
    #[error("无法生成图表：{0}")]
    Chart(String),
    #[error("无法生成 PDF：{0}")]
    Pdf(String),
    #[error("{0}")]
    NoOffice(String),
}

/// 发文机关标志's size in points: as large as fits the 156 mm (442 pt)
/// line, at most 36 pt (Word and the page alike).
pub fn masthead_pt(organ: &str) -> usize {
    let n = organ.chars().count().max(1);
    (440 / n).clamp(16, 36)
}

/// The forms a document is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Docx,
    Xlsx,
    Html,
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "docx" | "word" => Some(Format::Docx),
            "xlsx" | "excel" => Some(Format::Xlsx),
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }
}

/// `doc` written as `format`; `made_at` dates the workbook's cover. PDF
/// runs LibreOffice (seconds, blocking).
pub fn render(
    doc: &pingan_core::report::doc::Doc,
    format: Format,
    made_at: &str,
) -> Result<Vec<u8>, ReportError> {
    match format {
        Format::Docx => docx(doc),
        Format::Xlsx => workbook(doc, made_at),
        Format::Html => html::page(doc).map(String::into_bytes),
        Format::Pdf => pdf::from_docx(&docx(doc)?),
    }
}

/// A file name for `doc` as `format`: its title, without what file
/// systems refuse.
pub fn file_name(doc: &pingan_core::report::doc::Doc, format: Format) -> String {
    let clean: String = doc
        .title
        .chars()
        .map(|c| if "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    format!("{clean}.{}", format.extension())
}

/// A file's name and bytes.
pub type File = (String, Vec<u8>);

/// Every document of `docs` written as `format` on every core (charts and
/// zip are CPU work), in the order given: (file name, bytes). A name is
/// prefixed with its key (the region's code) so that names are unique.
pub fn render_all(
    docs: &[(String, pingan_core::report::doc::Doc)],
    format: Format,
    made_at: &str,
) -> Result<Vec<File>, ReportError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<File>>> = Mutex::new(vec![None; docs.len()]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores.min(docs.len()).max(1))
            .map(|_| {
                s.spawn(|| -> Result<(), ReportError> {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some((key, doc)) = docs.get(k) else {
                            return Ok(());
                        };
                        let bytes = render(doc, format, made_at)?;
                        let name = format!("{key}-{}", file_name(doc, format));
                        out.lock().unwrap_or_else(|e| e.into_inner())[k] = Some((name, bytes));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| ReportError::Docx("生成文件的线程意外退出".into()))??;
        }
        Ok::<_, ReportError>(())
    })?;
    Ok(out
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

/// Files in one zip (their names as given, UTF-8 flagged).
pub fn zip(files: &[File]) -> Result<Vec<u8>, ReportError> {
    use std::io::Write;
    let err = |e: String| ReportError::Docx(format!("无法打包：{e}"));
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Word files and workbooks are zips already: stored, not squeezed again.
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        z.start_file(name.as_str(), opts)
            .map_err(|e| err(e.to_string()))?;
        z.write_all(bytes).map_err(|e| err(e.to_string()))?;
    }
    Ok(z.finish().map_err(|e| err(e.to_string()))?.into_inner())
}

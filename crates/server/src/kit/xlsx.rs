//! The one Excel writer: a sheet with Chinese headers, the first row
//! frozen, numbers as numbers; and its download answer.

use super::error::PageError;
use super::forms::urlencode;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};

/// One cell of an exported table.
pub enum Cell {
    Text(String),
    Num(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::Text(s.clone())
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Num(x)
    }
}
impl From<usize> for Cell {
    fn from(x: usize) -> Cell {
        Cell::Num(x as f64)
    }
}
impl From<i64> for Cell {
    fn from(x: i64) -> Cell {
        Cell::Num(x as f64)
    }
}
impl From<Option<f64>> for Cell {
    fn from(x: Option<f64>) -> Cell {
        x.map_or(Cell::Text(String::new()), Cell::Num)
    }
}

/// A workbook of one sheet, and a sheet 导出说明 saying what it is, whose
/// view (scope), who exported it and when.
pub fn workbook(
    caller: &pingan_service::Caller,
    sheet: &str,
    headers: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<Vec<u8>, PageError> {
    let e = |e: rust_xlsxwriter::XlsxError| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("无法生成 Excel：{e}"),
        )
    };
    // Level 3, as `streamed_book`: most of a large workbook's time is its
    // zip, and the file is only a little larger.
    let mut book = Workbook::new();
    book.set_zip_compression_level(3);
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(e)?;
    let bold = Format::new().set_bold();
    for (j, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, *h, &bold)
            .map_err(e)?;
        ws.set_column_width(j as u16, 14).map_err(e)?;
    }
    for (i, row) in rows.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            let (r, col) = (i as u32 + 1, j as u16);
            match c {
                Cell::Text(s) => ws.write_string(r, col, s).map(|_| ()),
                Cell::Num(x) if x.is_finite() => ws.write_number(r, col, tidy(*x)).map(|_| ()),
                Cell::Num(_) => Ok(()),
            }
            .map_err(e)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    describe(&mut book, caller, sheet, rows.len()).map_err(e)?;
    book.save_to_buffer().map_err(e)
}

/// The sheet 导出说明: what the workbook is, whose view (scope), who
/// exported it, when, and how many rows.
pub fn describe(
    book: &mut Workbook,
    caller: &pingan_service::Caller,
    sheet: &str,
    rows_written: usize,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new().set_bold();
    let about = book.add_worksheet();
    about.set_name("导出说明")?;
    about.set_column_width(0, 14)?;
    about.set_column_width(1, 60)?;
    let scope = match (&caller.region, &caller.department) {
        (None, None) => "全省".to_string(),
        (Some(r), None) => format!("地区 {r} 及其下级"),
        (None, Some(d)) => format!("全省 · {d}"),
        (Some(r), Some(d)) => format!("地区 {r} 及其下级 · {d}"),
    };
    for (i, (k, v)) in [
        ("标题", format!("平安建设测评平台 · {sheet}")),
        ("数据范围", scope),
        ("导出人", caller.name()),
        (
            "导出时间",
            super::fmt::local_time(&pingan_store::now()) + "（北京时间）",
        ),
        ("行数", rows_written.to_string()),
        (
            "说明",
            "数值已去除计算机浮点误差（保留至 6 位小数）；完整精度见 JSON API 与 CSV。".to_string(),
        ),
    ]
    .iter()
    .enumerate()
    {
        about.write_string_with_format(i as u32, 0, *k, &bold)?;
        about.write_string(i as u32, 1, v)?;
    }
    Ok(())
}

/// A number without binary noise (4.199999999999999 → 4.2): six decimals
/// are more than any figure of ours carries; the API and CSV keep the
/// full value.
pub fn tidy(x: f64) -> f64 {
    let t = (x * 1e6).round() / 1e6;
    if t.is_finite() && (t - x).abs() <= 1e-6 * x.abs().max(1.0) {
        t + 0.0
    } else {
        x
    }
}

/// A workbook as a download named `name` (UTF-8 with an ASCII fallback,
/// RFC 6266), never cached.
pub fn download(name: &str, bytes: Vec<u8>) -> Response {
    download_as(
        name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    )
}

/// `bytes` as the file `name` of type `mime`, kept by no cache.
pub fn download_as(name: &str, mime: &'static str, bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Clients without RFC 5987 get the name itself when it is plain ASCII,
    // else "export" with the name's extension.
    let fallback = if name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        name.to_string()
    } else {
        format!("export.{}", name.rsplit('.').next().unwrap_or("xlsx"))
    };
    let disposition = format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        urlencode(name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The bytes of a workbook, handed to the response as they are written.
pub struct ByteSink(tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>);

impl ByteSink {
    pub fn new(tx: tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>) -> ByteSink {
        ByteSink(tx)
    }
}

impl std::io::Write for ByteSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(axum::body::Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::other("下载已中断"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A workbook for `streamed`: zipped at deflate level 3, not 6. On the
/// million-row events export the zip was the largest single cost; level 3
/// takes a second or two off it for a file 13 % larger (level 1 saved a
/// little more time but made the file 63 % larger).
pub fn streamed_book() -> rust_xlsxwriter::Workbook {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.set_zip_compression_level(3);
    book
}

/// A large workbook as a download named `name`, written by `write` on a
/// blocking thread (rust_xlsxwriter's constant-memory sheets) and sent as
/// the zip is made; an error ends the download short, so the client sees
/// a broken file rather than a complete-looking one.
pub fn streamed<F>(name: &str, write: F) -> Response
where
    F: FnOnce(ByteSink) -> Result<(), String> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(16);
    let errors = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(m) = write(ByteSink(tx)) {
            tracing::warn!(error = %m, "Excel export failed");
            let _ = errors.blocking_send(Err(std::io::Error::other(m)));
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = download(name, Vec::new());
    *resp.body_mut() = axum::body::Body::from_stream(stream);
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_lose_binary_noise() {
        assert_eq!(super::tidy(4.199999999999999), 4.2);
        assert_eq!(super::tidy(86.62412361382411), 86.624124);
        assert_eq!(super::tidy(1e12), 1e12);
        assert_eq!(super::tidy(-0.0).to_string(), "0");
    }
}

//! A workbook made in the background into the download centre (下载中心):
//! the same writer as a streamed download, its bytes kept in parts as the
//! zip is made, so a request for a million rows answers at once and the
//! file is fetched when it is ready, from any instance.

use super::forms::back;
use super::xlsx::ByteSink;
use axum::response::Response;
use pingan_service::{Ctx, exports};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often a file still being made says it is alive while it has no
/// part to keep (the rows are written before the zip is).
const HEARTBEAT: Duration = Duration::from_secs(20);

/// Make export `id` (recorded with `exports::start`) with `write`, which is
/// given the sink and the count of rows it has written (the download
/// centre shows it), and answer with the download centre saying that
/// `what` is being made.
pub fn start<F>(ctx: Ctx, id: i64, what: &str, write: F) -> Response
where
    F: FnOnce(ByteSink, &AtomicU64) -> Result<(), String> + Send + 'static,
{
    let rows = Arc::new(AtomicU64::new(0));
    let counter = rows.clone();
    prepare(ctx, id, rows, move |out| write(out, &counter));
    back(
        "/downloads",
        Ok(format!("已提交：{what}正在后台生成，完成后在此下载")),
    )
}

/// Make export `id` with `write` on a blocking thread; `rows` is its count
/// of rows written so far. Returns at once; the outcome is in the export's
/// row.
fn prepare<F>(ctx: Ctx, id: i64, rows: Arc<AtomicU64>, write: F)
where
    F: FnOnce(ByteSink) -> Result<(), String> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(16);
    let writer = tokio::task::spawn_blocking(move || write(ByteSink::new(tx)));
    tokio::spawn(async move {
        let rows_now = || rows.load(Ordering::Relaxed) as i64;
        let mut part = Vec::with_capacity(exports::PART_BYTES);
        let mut n = 0i64;
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        let mut failure: Option<String> = None;
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(Ok(bytes)) => {
                        part.extend_from_slice(&bytes);
                        if part.len() >= exports::PART_BYTES {
                            if let Err(e) = exports::add_part(&ctx, id, n, &part, rows_now()).await {
                                failure = Some(format!("无法保存文件：{e}"));
                                break;
                            }
                            n += 1;
                            part.clear();
                        }
                    }
                    Some(Err(e)) => {
                        failure = Some(e.to_string());
                        break;
                    }
                    None => break,
                },
                _ = beat.tick() => {
                    let _ = exports::progress(&ctx, id, rows_now()).await;
                }
            }
        }
        // Stop the writer if we stopped first (its next write fails).
        drop(rx);
        let outcome = writer.await;
        let failure = failure.or(match outcome {
            Ok(Ok(())) => None,
            Ok(Err(m)) => Some(m),
            Err(e) => Some(format!("生成文件的线程意外退出：{e}")),
        });
        if failure.is_none()
            && !part.is_empty()
            && let Err(e) = exports::add_part(&ctx, id, n, &part, rows_now()).await
        {
            let _ = exports::end(&ctx, id, rows_now(), Some(&format!("无法保存文件：{e}"))).await;
            return;
        }
        if let Some(m) = &failure {
            tracing::warn!(export = id, error = %m, "background export failed");
        }
        let _ = exports::end(&ctx, id, rows_now(), failure.as_deref()).await;
    });
}

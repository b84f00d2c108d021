//! `pingan serve`: the JSON API on one address.

use crate::cmd_db::{DbArgs, open_store, runtime};
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// 单次请求（上传文件）的大小上限，单位 MB；超过的在读取前即被拒绝（413）
    #[arg(long, env = "PINGAN_MAX_UPLOAD_MB", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_upload_mb: u32,
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    serve_url(&a.db.db, &a.bind, (a.max_upload_mb as usize) << 20)
}

/// Serve the database at `url` on `bind` until Ctrl-C, refusing request
/// bodies over `body_limit` bytes.
pub fn serve_url(url: &str, bind: &str, body_limit: usize) -> Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PINGAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .try_init();
    runtime()?.block_on(async {
        let db = DbArgs {
            db: url.to_string(),
            user: None,
        };
        let store = open_store(&db).await?;
        let listener = pingan_server::bind(bind)
            .await
            .with_context(|| format!("无法监听 {bind}"))?;
        eprintln!(
            "平安建设测评平台已启动：网页 http://{0}/ ，接口文档 http://{0}/api/v1/openapi.json（Ctrl-C 停止）",
            listener.local_addr()?
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        pingan_server::serve_limited(store.clone(), listener, shutdown, body_limit).await?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

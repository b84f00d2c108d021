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
    /// 会话 Cookie 始终带 Secure 标记（仅经 HTTPS 访问时使用）
    #[arg(long, env = "PINGAN_SECURE_COOKIE")]
    secure_cookie: bool,
    /// 受信任的反向代理地址（可多次给出，或以逗号分隔）：只有来自这些地址的
    /// X-Forwarded-Proto / X-Forwarded-For 才被采信（https 时 Cookie 带 Secure）
    #[arg(
        long = "trusted-proxy",
        env = "PINGAN_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// 公开答题页面每个客户端地址每 10 分钟可提交的答卷数（压测时可调高）
    #[arg(long, env = "PINGAN_ANSWER_LIMIT", default_value_t = pingan_server::ANSWERS_PER_ADDRESS,
          value_parser = clap::value_parser!(u32).range(1..))]
    answer_limit: u32,
    /// 每隔多少分钟检查一次：风险评估之后数据若有变动即重算（0 = 不检查，只靠定时任务 pingan risk --refresh）
    #[arg(long, env = "PINGAN_RISK_REFRESH_MINUTES", default_value_t = 60)]
    risk_refresh_minutes: u64,
}

/// The API's OpenAPI document on standard output, for validators and
/// client generators (the same as `/api/v1/openapi.json`).
pub fn openapi() -> Result<ExitCode> {
    println!(
        "{}",
        serde_json::to_string_pretty(&pingan_server::openapi())?
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let opts = pingan_server::Options {
        body_limit: (a.max_upload_mb as usize) << 20,
        deployment: pingan_server::Deployment {
            secure_cookie: a.secure_cookie,
            trusted_proxies: a.trusted_proxies,
        },
        warm_up: true,
        answers_per_address: a.answer_limit,
        risk_every: (a.risk_refresh_minutes > 0)
            .then(|| std::time::Duration::from_secs(a.risk_refresh_minutes * 60)),
    };
    serve_url(&a.db.db, &a.bind, &opts)
}

/// Serve the database at `url` on `bind` until Ctrl-C, as `opts` say.
pub fn serve_url(url: &str, bind: &str, opts: &pingan_server::Options) -> Result<ExitCode> {
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
        // The first PDF report asked for need not wait for LibreOffice.
        pingan_report::pdf::warm();
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
        pingan_server::serve_with(store.clone(), listener, shutdown, opts).await?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

//! `pingan bench api`: latency of one API path under many concurrent
//! keep-alive connections (a small HTTP/1.1 client, so the benchmark needs
//! nothing but this binary).

use anyhow::{Context, Result, bail};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request on an open connection; returns (status, body length).
pub(crate) async fn request(
    sock: &mut TcpStream,
    host: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
    gzip: bool,
) -> Result<(u16, Vec<u8>, String)> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n");
    if gzip {
        req.push_str("Accept-Encoding: gzip\r\n");
    }
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    sock.write_all(req.as_bytes()).await?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            bail!("连接被关闭");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("无法解析响应")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            bail!("响应不完整");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let set_cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();
    Ok((status, buf[head_end..head_end + len].to_vec(), set_cookie))
}

/// Signs in over a connection of its own; returns the session cookie.
pub(crate) async fn sign_in(addr: &str, user: &str, password: &str) -> Result<String> {
    let mut sock = TcpStream::connect(addr)
        .await
        .with_context(|| format!("无法连接 {addr}"))?;
    let login = serde_json::json!({"username": user, "password": password}).to_string();
    let (status, body, cookie) = request(
        &mut sock,
        addr,
        "POST",
        "/api/v1/session",
        "",
        &login,
        false,
    )
    .await?;
    if status != 200 {
        bail!(
            "{user} 登录失败（{status}）：{}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(cookie)
}

pub fn run(
    addr: &str,
    user: &str,
    password: &str,
    path: &str,
    connections: usize,
    requests: usize,
    gzip: bool,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cookie = sign_in(addr, user, password).await?;
        let per = requests.div_ceil(connections.max(1));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections.max(1) {
            let (addr, path, cookie) = (addr.to_string(), path.to_string(), cookie.clone());
            tasks.push(tokio::spawn(async move {
                let mut sock = TcpStream::connect(&addr).await?;
                let mut lat = Vec::with_capacity(per);
                let mut bytes = 0usize;
                for _ in 0..per {
                    let t = Instant::now();
                    let (status, body, _) =
                        request(&mut sock, &addr, "GET", &path, &cookie, "", gzip).await?;
                    if status != 200 {
                        bail!("请求失败（{status}）：{}", String::from_utf8_lossy(&body));
                    }
                    bytes += body.len();
                    lat.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>((lat, bytes))
            }));
        }
        let mut all: Vec<Duration> = Vec::new();
        let mut bytes = 0;
        for t in tasks {
            let (lat, b) = t.await??;
            all.extend(lat);
            bytes += b;
        }
        let wall = started.elapsed();
        all.sort();
        println!(
            "{} 个请求，{} 个并发连接，用时 {:.2} 秒（{:.0} 请求/秒，平均响应 {} 字节）",
            all.len(),
            connections,
            wall.as_secs_f64(),
            all.len() as f64 / wall.as_secs_f64(),
            bytes / all.len().max(1)
        );
        println!("{}", latencies(&all));
        Ok(())
    })
}

/// The latency line of a run: p50, p90, p99 and the largest, of sorted
/// latencies.
pub(crate) fn latencies(sorted: &[Duration]) -> String {
    let pct =
        |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    format!(
        "延迟（毫秒）：p50 {:.1}，p90 {:.1}，p99 {:.1}，最大 {:.1}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    )
}

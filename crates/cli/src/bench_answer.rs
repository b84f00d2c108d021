//! `pingan bench answer`: many people answering the public page at once.
//! Each connection hands in answers from a generated `responses.csv` (as
//! `/s/{year}/{township}` receives them from phones), and every so many is
//! handed in twice, as a phone on a bad network retries: the retry must
//! come back as a duplicate and a first answer never as one, so the run
//! shows nothing lost or doubled as well as the latencies.

use crate::bench_api::request;
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One answer as the page posts it, and where.
struct Answer {
    path: String,
    body: String,
}

fn answers(dir: &std::path::Path, year: i32, prefix: &str, n: usize) -> Result<Vec<Answer>> {
    let path = dir.join("responses.csv");
    let mut rd =
        csv::Reader::from_path(&path).with_context(|| format!("无法读取 {}", path.display()))?;
    let head: Vec<String> = rd.headers()?.iter().map(str::to_string).collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| h.trim_start_matches('\u{feff}') == n)
    };
    let (Some(id), Some(region), Some(started), Some(submitted)) = (
        col("instance_id"),
        col("region"),
        col("started"),
        col("submitted"),
    ) else {
        bail!(
            "{}：不是 responses.csv（缺少 instance_id、region、started 或 submitted 列）",
            path.display()
        );
    };
    let mut out = Vec::with_capacity(n);
    // The file repeats some answers as ODK resubmits them; the run sends
    // its own repeats and must know which are which.
    let mut seen = std::collections::HashSet::new();
    for rec in rd.records() {
        if out.len() == n {
            break;
        }
        let rec = rec?;
        if !seen.insert(rec.get(id).unwrap_or_default().to_string()) {
            continue;
        }
        let mut a = Map::new();
        for (i, h) in head.iter().enumerate().skip(6) {
            let v = rec.get(i).unwrap_or_default();
            if !v.is_empty() && !h.starts_with('_') {
                a.insert(h.clone(), Value::String(v.to_string()));
            }
        }
        let body = json!({
            "instance_id": format!("{prefix}{}", rec.get(id).unwrap_or_default()),
            "started": rec.get(started).unwrap_or_default(),
            "submitted": rec.get(submitted).unwrap_or_default(),
            "answers": a,
        });
        out.push(Answer {
            path: format!("/s/{year}/{}", rec.get(region).unwrap_or_default()),
            body: body.to_string(),
        });
    }
    if out.is_empty() {
        bail!("{} 中没有答卷", path.display());
    }
    Ok(out)
}

/// What one connection saw.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    retries: usize,
    /// First answers the server called duplicates (doubled ids).
    doubled: usize,
    /// Retries the server did not call duplicates (counted twice).
    retried_new: usize,
    /// Statuses other than 200, with one message each.
    failed: Vec<(u16, String)>,
}

pub fn run(
    addr: &str,
    dir: &std::path::Path,
    year: i32,
    connections: usize,
    requests: usize,
    retry_every: usize,
) -> Result<()> {
    let prefix = format!(
        "bench-{}-",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let all = answers(dir, year, &prefix, requests)?;
    let connections = connections.clamp(1, all.len());
    let mut lanes: Vec<Vec<Answer>> = (0..connections).map(|_| Vec::new()).collect();
    for (i, a) in all.into_iter().enumerate() {
        lanes[i % connections].push(a);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for lane in lanes {
            let addr = addr.to_string();
            tasks.push(tokio::spawn(async move {
                let mut sock = TcpStream::connect(&addr)
                    .await
                    .with_context(|| format!("无法连接 {addr}"))?;
                let mut seen = Seen::default();
                for (k, a) in lane.iter().enumerate() {
                    let tries = if retry_every > 0 && k.is_multiple_of(retry_every) {
                        2
                    } else {
                        1
                    };
                    seen.retries += tries - 1;
                    for attempt in 0..tries {
                        let t = Instant::now();
                        let (status, body, _) =
                            request(&mut sock, &addr, "POST", &a.path, "", &a.body, false).await?;
                        seen.latencies.push(t.elapsed());
                        if status != 200 {
                            seen.failed
                                .push((status, String::from_utf8_lossy(&body).into_owned()));
                            continue;
                        }
                        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let dup = v["duplicate"].as_bool() == Some(true);
                        if attempt == 0 && dup {
                            seen.doubled += 1;
                        }
                        if attempt == 1 && !dup {
                            seen.retried_new += 1;
                        }
                    }
                }
                Ok::<_, anyhow::Error>(seen)
            }));
        }
        let mut all = Seen::default();
        for t in tasks {
            let s = t.await??;
            all.latencies.extend(s.latencies);
            all.doubled += s.doubled;
            all.retries += s.retries;
            all.retried_new += s.retried_new;
            all.failed.extend(s.failed);
        }
        let wall = started.elapsed();
        all.latencies.sort();
        let lat = &all.latencies;
        println!(
            "{} 次提交（其中重试 {}），{} 个并发提交者，用时 {:.2} 秒（{:.0} 份/秒）",
            lat.len(),
            all.retries,
            connections,
            wall.as_secs_f64(),
            lat.len() as f64 / wall.as_secs_f64(),
        );
        println!("{}", crate::bench_api::latencies(lat));
        println!(
            "失败 {}，首次提交被当作重复 {}，重试未被识别为重复 {}",
            all.failed.len(),
            all.doubled,
            all.retried_new
        );
        if let Some((s, m)) = all.failed.first() {
            bail!("有提交失败（如 {s}：{m}）；压测需以 --answer-limit 调高服务端的每地址限额");
        }
        if all.doubled + all.retried_new > 0 {
            bail!("有答卷丢失或重复计数");
        }
        Ok(())
    })
}

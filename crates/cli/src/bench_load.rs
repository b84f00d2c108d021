//! `pingan bench load`: the load drill of docs/reliability.md. Many
//! clients at once, spread over one or more server instances that share a
//! database, mix the office's reads with a department's submissions for a
//! set time. Each client owns its own keys and counts up the value it
//! sends for each, so at the end every key's stored value must be the last
//! one sent, stored once, first imported once and never again; a retried
//! batch (a department system resending after a timeout) must change
//! nothing. One session cookie per account, signed in on the first
//! instance, serves all of them: the instances keep no state of their own.

use crate::bench_api::{latencies, request, sign_in};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

#[derive(clap::Args)]
pub struct LoadOptions {
    /// 服务地址，可重复（多个实例共用一个数据库时各给一次）
    #[arg(long = "addr", default_value = "127.0.0.1:8080")]
    pub addrs: Vec<String>,
    /// 读取用的账户（测评办），形如 用户名:密码
    #[arg(long, value_parser = account)]
    pub reader: (String, String),
    /// 报送用的账户（部门报送员），形如 用户名:密码
    #[arg(long, value_parser = account)]
    pub submitter: (String, String),
    /// 报送员所属部门（取该部门报送的数据项）
    #[arg(long, default_value = "公安")]
    pub department: String,
    /// `pingan generate` 或演示生成的数据目录（取其中的 regions.csv）
    #[arg(long)]
    pub dir: PathBuf,
    /// 读取的测评年度
    #[arg(long, default_value_t = 2024)]
    pub year: i32,
    /// 报送的期别（应是库中还没有该部门数据的期别；默认为测评年度的次年 1 月）
    #[arg(long)]
    pub period: Option<String>,
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// 持续秒数
    #[arg(long, default_value_t = 300)]
    pub seconds: u64,
    /// 每个客户端每隔多少个请求报送一批
    #[arg(long, default_value_t = 10)]
    pub submit_every: usize,
    /// 每隔多少批重发一次（0 不重发）
    #[arg(long, default_value_t = 5)]
    pub retry_every: usize,
    /// 每批的值个数
    #[arg(long, default_value_t = 5)]
    pub batch: usize,
}

/// `NAME:PASSWORD` of an account.
fn account(s: &str) -> Result<(String, String), String> {
    s.split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .ok_or_else(|| "应形如 用户名:密码".to_string())
}

/// One value a client owns: (region, element).
type Key = (String, String);

/// What a client saw.
#[derive(Default)]
struct Seen {
    reads: Vec<Duration>,
    /// Each read's latency by its kind (`read_kind`).
    by_kind: HashMap<String, Vec<Duration>>,
    writes: Vec<Duration>,
    retries: usize,
    /// Non-200 answers, connection failures and ERROR summaries, with a message.
    failed: Vec<String>,
    /// Per key: the last value sent.
    last: HashMap<Key, u64>,
    /// Retries the server did not ignore (a value stored twice over).
    retry_changed: usize,
}

/// The read mix: the office's everyday calls.
fn read_paths(year: i32, cities: &[String], towns: &[String]) -> Vec<String> {
    let mut p = vec![
        format!("/api/v1/scores?period={year}&level=city"),
        format!("/api/v1/framework?year={year}"),
        "/api/v1/regions".to_string(),
    ];
    for c in cities.iter().take(4) {
        p.push(format!(
            "/api/v1/scores?period={year}&level=county&parent={c}"
        ));
        p.push(format!("/api/v1/regions?parent={c}"));
    }
    for t in towns.iter().step_by((towns.len() / 8).max(1)).take(8) {
        p.push(format!("/api/v1/values?region={t}&period={year}-06"));
    }
    p
}

/// A read path without its codes: `/api/v1/scores?level=county&parent=…`
/// and `/api/v1/scores?level=city` are different reads, two townships'
/// values the same.
fn read_kind(path: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let names: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some(("level", _)) => p,
            Some((k, _)) => k,
            None => p,
        })
        .collect();
    if names.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", names.join("&"))
    }
}

/// Townships and cities of regions.csv (code,name,parent,level).
fn regions(dir: &std::path::Path) -> Result<(Vec<String>, Vec<String>)> {
    let path = dir.join("regions.csv");
    let mut rd =
        csv::Reader::from_path(&path).with_context(|| format!("无法读取 {}", path.display()))?;
    let (mut cities, mut towns) = (Vec::new(), Vec::new());
    for rec in rd.records() {
        let rec = rec?;
        match rec.get(3).unwrap_or_default() {
            "city" => cities.push(rec.get(0).unwrap_or_default().to_string()),
            "township" => towns.push(rec.get(0).unwrap_or_default().to_string()),
            _ => {}
        }
    }
    if towns.is_empty() {
        bail!("{} 中没有乡镇（level = township）", path.display());
    }
    Ok((cities, towns))
}

/// The department's elements, from the framework the server holds.
async fn elements(addr: &str, cookie: &str, year: i32, department: &str) -> Result<Vec<String>> {
    let mut sock = TcpStream::connect(addr).await?;
    let path = format!("/api/v1/framework?year={year}");
    let (status, body, _) = request(&mut sock, addr, "GET", &path, cookie, "", false).await?;
    if status != 200 {
        bail!("读取指标体系失败（{status}）");
    }
    let v: Value = serde_json::from_slice(&body)?;
    let out: Vec<String> = v["elements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["department"] == department)
        .filter_map(|e| e["code"].as_str().map(str::to_string))
        .collect();
    if out.is_empty() {
        bail!("指标体系中没有{department}报送的数据项");
    }
    Ok(out)
}

struct Shared {
    opts: LoadOptions,
    /// `--period`, else January of the year after the one read.
    period: String,
    reader: String,
    submitter: String,
    reads: Vec<String>,
    deadline: Instant,
}

/// A client's connection, reopened after a failure (counted as one).
struct Conn {
    addr: String,
    sock: Option<TcpStream>,
}

impl Conn {
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        cookie: &str,
        body: &str,
    ) -> Result<(u16, Vec<u8>)> {
        if self.sock.is_none() {
            self.sock = Some(TcpStream::connect(&self.addr).await?);
        }
        let sock = self.sock.as_mut().expect("connected above");
        match request(sock, &self.addr, method, path, cookie, body, false).await {
            Ok((s, b, _)) => Ok((s, b)),
            Err(e) => {
                self.sock = None;
                Err(e)
            }
        }
    }
}

async fn client(sh: Arc<Shared>, index: usize, keys: Vec<Key>) -> Seen {
    let o = &sh.opts;
    let mut conn = Conn {
        addr: o.addrs[index % o.addrs.len()].clone(),
        sock: None,
    };
    let mut seen = Seen::default();
    let mut next_key = 0;
    let mut submissions = 0usize;
    // Clients start at different places in the mix.
    let mut k = index;
    while Instant::now() < sh.deadline {
        k += 1;
        let submit = !keys.is_empty() && o.submit_every > 0 && k.is_multiple_of(o.submit_every);
        if !submit {
            let path = &sh.reads[k % sh.reads.len()];
            let t = Instant::now();
            match conn.call("GET", path, &sh.reader, "").await {
                Ok((200, _)) => {
                    let d = t.elapsed();
                    seen.reads.push(d);
                    seen.by_kind.entry(read_kind(path)).or_default().push(d);
                }
                Ok((s, b)) => seen
                    .failed
                    .push(format!("GET {path}：{s} {}", String::from_utf8_lossy(&b))),
                Err(e) => seen.failed.push(format!("GET {path}：{e}")),
            }
            continue;
        }
        submissions += 1;
        let mut values = Vec::new();
        let mut batch = Vec::new();
        for _ in 0..o.batch.min(keys.len()) {
            let key = keys[next_key % keys.len()].clone();
            next_key += 1;
            let v = seen.last.get(&key).copied().unwrap_or(0) + 1;
            values
                .push(json!({"region": key.0, "period": sh.period, "element": key.1, "value": v}));
            batch.push((key, v));
        }
        let body = json!({ "dataValues": values }).to_string();
        let tries = if o.retry_every > 0 && submissions.is_multiple_of(o.retry_every) {
            2
        } else {
            1
        };
        for attempt in 0..tries {
            let t = Instant::now();
            let got = conn
                .call("POST", "/api/v1/dataValueSets", &sh.submitter, &body)
                .await;
            let summary: Value = match got {
                Ok((200, b)) => {
                    seen.writes.push(t.elapsed());
                    serde_json::from_slice(&b).unwrap_or(Value::Null)
                }
                Ok((s, b)) => {
                    seen.failed.push(format!(
                        "POST dataValueSets：{s} {}",
                        String::from_utf8_lossy(&b)
                    ));
                    break;
                }
                Err(e) => {
                    // Whether it was stored is unknown; the retry below
                    // (as a department system would) settles it.
                    seen.failed.push(format!("POST dataValueSets：{e}"));
                    continue;
                }
            };
            if summary["status"] == "ERROR" {
                seen.failed
                    .push(format!("POST dataValueSets：ERROR {}", summary["errors"]));
                break;
            }
            let count = |f: &str| summary[f].as_u64().unwrap_or(0) as usize;
            if attempt == 0 {
                let (new, changed) = (count("imported"), count("updated"));
                // Which keys were new: those never sent before.
                let first = batch
                    .iter()
                    .filter(|(key, _)| !seen.last.contains_key(key))
                    .count();
                if new != first || new + changed != batch.len() {
                    seen.failed.push(format!(
                        "POST dataValueSets：新增 {new}、更新 {changed}，应为 {first}、{}",
                        batch.len() - first
                    ));
                }
                seen.last.extend(batch.iter().cloned());
            } else {
                seen.retries += 1;
                if count("imported") + count("updated") > 0 {
                    seen.retry_changed += 1;
                }
            }
        }
    }
    seen
}

/// Every key a client sent: stored once, with the last value sent.
async fn verify(sh: &Shared, last: &HashMap<Key, u64>) -> Result<(usize, usize)> {
    let o = &sh.opts;
    let user = &o.submitter.0;
    let (mut lost, mut doubled) = (0, 0);
    let mut conn = Conn {
        addr: o.addrs[o.addrs.len() - 1].clone(),
        sock: None,
    };
    for ((region, element), v) in last {
        let path = format!(
            "/api/v1/values?region={region}&period={}&element={element}",
            sh.period
        );
        let (s, b) = conn.call("GET", &path, &sh.submitter, "").await?;
        if s != 200 {
            bail!("核对时读取 {path} 失败（{s}）");
        }
        let page: Value = serde_json::from_slice(&b)?;
        let mine: Vec<f64> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["submitted_by"] == user.as_str())
            .filter_map(|r| r["value"].as_f64())
            .collect();
        match mine.as_slice() {
            [x] if *x == *v as f64 => {}
            [] => lost += 1,
            [_] => lost += 1,
            _ => doubled += 1,
        }
    }
    Ok((lost, doubled))
}

pub fn run(opts: LoadOptions) -> Result<()> {
    if opts.addrs.is_empty() {
        bail!("至少需要一个 --addr");
    }
    let (cities, towns) = regions(&opts.dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let first = opts.addrs[0].clone();
        let reader = sign_in(&first, &opts.reader.0, &opts.reader.1).await?;
        let submitter = sign_in(&first, &opts.submitter.0, &opts.submitter.1).await?;
        let elements = elements(&first, &submitter, opts.year, &opts.department).await?;
        // Keys dealt to clients in turn: each owns its own, so its count is
        // the truth about what the server must hold.
        let clients = opts.clients.max(1);
        let mut owned: Vec<Vec<Key>> = vec![Vec::new(); clients];
        let mut i = 0;
        for t in &towns {
            for e in &elements {
                owned[i % clients].push((t.clone(), e.clone()));
                i += 1;
            }
        }
        let sh = Arc::new(Shared {
            reads: read_paths(opts.year, &cities, &towns),
            deadline: Instant::now() + Duration::from_secs(opts.seconds),
            reader,
            submitter,
            period: opts
                .period
                .clone()
                .unwrap_or_else(|| format!("{}-01", opts.year + 1)),
            opts,
        });
        let started = Instant::now();
        let tasks: Vec<_> = owned
            .into_iter()
            .enumerate()
            .map(|(i, keys)| tokio::spawn(client(sh.clone(), i, keys)))
            .collect();
        let mut all = Seen::default();
        for t in tasks {
            let s = t.await?;
            all.reads.extend(s.reads);
            for (k, v) in s.by_kind {
                all.by_kind.entry(k).or_default().extend(v);
            }
            all.writes.extend(s.writes);
            all.retries += s.retries;
            all.retry_changed += s.retry_changed;
            all.failed.extend(s.failed);
            all.last.extend(s.last);
        }
        let wall = started.elapsed();
        let o = &sh.opts;
        let sent: usize = all.writes.len();
        println!(
            "{} 个客户端，{} 个服务实例，{:.0} 秒：读 {} 次，报送 {} 批（其中重试 {}，每批 {} 个值），共 {:.0} 请求/秒",
            clients,
            o.addrs.len(),
            wall.as_secs_f64(),
            all.reads.len(),
            sent,
            all.retries,
            o.batch,
            (all.reads.len() + sent) as f64 / wall.as_secs_f64()
        );
        for (what, lat) in [("读取", &mut all.reads), ("报送", &mut all.writes)] {
            lat.sort();
            if !lat.is_empty() {
                println!("{what}{}", latencies(lat));
            }
        }
        let mut kinds: Vec<_> = all.by_kind.iter_mut().collect();
        kinds.sort_by(|a, b| a.0.cmp(b.0));
        for (kind, lat) in kinds {
            lat.sort();
            println!("  {kind}（{} 次）：{}", lat.len(), latencies(lat));
        }
        let mut every: Vec<Duration> = all.reads.iter().chain(&all.writes).copied().collect();
        every.sort();
        if !every.is_empty() {
            println!("全部{}", latencies(&every));
        }
        let (lost, doubled) = verify(&sh, &all.last).await?;
        println!(
            "核对 {} 个数据项：丢失或不是最后一次报送的值 {lost}，重复存储 {doubled}，重试后被改动 {}；出错 {}",
            all.last.len(),
            all.retry_changed,
            all.failed.len()
        );
        for f in all.failed.iter().take(5) {
            println!("  {f}");
        }
        if !all.failed.is_empty() || lost + doubled + all.retry_changed > 0 {
            bail!("压测未通过");
        }
        println!("压测通过：无错误，无丢失或重复的值");
        Ok(())
    })
}

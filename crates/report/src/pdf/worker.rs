//! The kept LibreOffice (`office.py` over the UNO bridge): started once per
//! process, asked for one conversion at a time, replaced when it stops
//! answering. Where it cannot start (no Python with `uno`), it is not tried
//! again and every conversion starts a LibreOffice of its own.

use super::{Scratch, profiles_root, program, scratch};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const SCRIPT: &str = include_str!("office.py");
/// LibreOffice's start, at most.
const START: Duration = Duration::from_secs(60);
/// One conversion, at most (a long report takes about a second).
const CONVERT: Duration = Duration::from_secs(120);

static WORKER: Mutex<Option<Worker>> = Mutex::new(None);
/// The worker could not be started here: not tried again.
static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// The Python that has LibreOffice's UNO bridge: `PINGAN_OFFICE_PYTHON`, or
/// the system's (`/usr/bin/python3`; a virtualenv's has no `uno`).
fn python() -> String {
    std::env::var("PINGAN_OFFICE_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

struct Worker {
    python: Child,
    /// LibreOffice's process group, which outlives a killed Python.
    office: u32,
    requests: ChildStdin,
    replies: Receiver<String>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.python.kill();
        let _ = self.python.wait();
        kill(self.office);
    }
}

/// Ends a process group we started (through `kill(1)`: no `unsafe` for a
/// signal).
pub(super) fn kill(group: u32) {
    let _ = Command::new("kill")
        .args(["-9", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}

fn start() -> Option<Worker> {
    let root = profiles_root();
    let profile = root.join("worker");
    std::fs::create_dir_all(&profile).ok()?;
    let script = root.join("office.py");
    std::fs::write(&script, SCRIPT).ok()?;
    let mut python = Command::new(python())
        .arg(&script)
        .arg(program())
        .arg(&profile)
        .arg(format!("pingan_office_{}", std::process::id()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let (Some(requests), Some(out)) = (python.stdin.take(), python.stdout.take()) else {
        let _ = python.kill();
        return None;
    };
    let (tx, replies) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let office = match replies.recv_timeout(START) {
        Ok(line) => line
            .strip_prefix("ready ")
            .and_then(|p| p.parse::<u32>().ok()),
        Err(_) => None,
    };
    match office {
        Some(office) => Some(Worker {
            python,
            office,
            requests,
            replies,
        }),
        None => {
            let _ = python.kill();
            let _ = python.wait();
            None
        }
    }
}

/// Start the worker unless it runs or cannot. Asking whether LibreOffice
/// is installed runs it (about half a second), so only when starting.
pub(super) fn start_if_possible() {
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return;
    }
    let mut w = WORKER.lock().unwrap_or_else(|p| p.into_inner());
    if w.is_none() && !super::available() {
        UNAVAILABLE.store(true, Ordering::Relaxed);
        return;
    }
    if w.is_none() {
        *w = start();
        if w.is_none() {
            UNAVAILABLE.store(true, Ordering::Relaxed);
            tracing::info!("PDF: LibreOffice is started for each conversion (no python3-uno)");
        }
    }
}

/// `docx` as PDF through the worker; None where there is no worker or it
/// failed (the caller converts on its own, which also gives the message).
pub(super) fn convert(docx: &[u8]) -> Option<Vec<u8>> {
    start_if_possible();
    let mut guard = WORKER.lock().unwrap_or_else(|p| p.into_inner());
    let w = guard.as_mut()?;
    let scratch: Scratch = scratch().ok()?;
    let dir = &scratch.0;
    let (src, dst) = (dir.join("document.docx"), dir.join("document.pdf"));
    std::fs::write(&src, docx).ok()?;
    let asked = writeln!(w.requests, "{}\t{}", src.display(), dst.display())
        .and_then(|_| w.requests.flush());
    let reply = asked
        .ok()
        .and_then(|_| w.replies.recv_timeout(CONVERT).ok());
    match reply.as_deref() {
        Some("ok") => std::fs::read(&dst).ok().filter(|b| b.starts_with(b"%PDF")),
        // The document, not the worker: it keeps serving.
        Some(_) => None,
        // Gone or hung: replaced on the next conversion.
        None => {
            *guard = None;
            None
        }
    }
}

#[cfg(test)]
pub(super) fn office_pid() -> Option<u32> {
    WORKER
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|w| w.office)
}

#[cfg(test)]
pub(super) fn stop() {
    *WORKER.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

//! Answers from the answering pages arrive one at a time, from hundreds of
//! phones at once; a transaction and a ledger entry for each would cap
//! SQLite at a few hundred answers a second, every one waiting behind all
//! the others. So each answer is checked in its own request, then waits in
//! a queue while the write before it runs; whoever takes the write next
//! writes every waiting answer in one transaction with one ledger entry
//! (group commit), and each request is told what became of its own: new,
//! a duplicate of what is stored (a phone's retry) or a conflict.

use super::judge::{Judged, judge};
use super::{Paradata, ResponsesSummary, YearForm};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use pingan_core::survey::run::Response;
use pingan_store::{Actor, NewResponse, ResponsesWrite, StoreError};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Answers written together at most (one INSERT statement's worth).
const MOST: usize = 500;

/// One checked answer waiting to be written.
pub(crate) struct Job {
    pub form: Arc<YearForm>,
    pub row: Response,
    pub para: Paradata,
    pub actor: Actor,
    pub sha256: String,
    reply: oneshot::Sender<Result<ResponsesSummary>>,
}

/// The queue and the right to write it.
#[derive(Default)]
pub(crate) struct Lane {
    waiting: std::sync::Mutex<Vec<Job>>,
    writing: Arc<tokio::sync::Mutex<()>>,
}

/// Write `row` with whatever else is waiting; what became of it.
pub(crate) async fn submit(
    ctx: &Ctx,
    form: Arc<YearForm>,
    row: Response,
    para: Paradata,
    actor: Actor,
    sha256: String,
) -> Result<ResponsesSummary> {
    let lane = ctx.lane::<Lane>("survey-answers");
    let (reply, mut done) = oneshot::channel();
    lane.waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Job {
            form,
            row,
            para,
            actor,
            sha256,
            reply,
        });
    let writing = lane.writing.clone().lock_owned().await;
    // Written by the one who held the lock before us.
    if let Ok(r) = done.try_recv() {
        return r;
    }
    let jobs = std::mem::take(&mut *lane.waiting.lock().unwrap_or_else(|e| e.into_inner()));
    // Spawned, so that a phone hanging up does not cancel the write of
    // everyone else's answers half way.
    let ctx = ctx.clone();
    tokio::spawn(async move {
        write_all(&ctx, jobs).await;
        drop(writing);
    });
    done.await
        .unwrap_or_else(|_| Err(ServiceError::Internal("答卷写入中断，请重新提交".into())))
}

/// Write `jobs` in groups of one questionnaire and one actor.
async fn write_all(ctx: &Ctx, jobs: Vec<Job>) {
    let mut groups: HashMap<(i64, String), Vec<Job>> = HashMap::new();
    for j in jobs {
        groups
            .entry((j.form.stored.id, j.actor.user.clone()))
            .or_default()
            .push(j);
    }
    for (_, mut group) in groups {
        while !group.is_empty() {
            let rest = group.split_off(group.len().min(MOST));
            write_group(ctx, group).await;
            group = rest;
        }
    }
}

fn summary(imported: usize, duplicates: usize) -> ResponsesSummary {
    ResponsesSummary {
        file: "答题页面".into(),
        dry_run: false,
        rows: 1,
        imported,
        duplicates,
        ..Default::default()
    }
}

async fn write_group(ctx: &Ctx, jobs: Vec<Job>) {
    let form = jobs[0].form.clone();
    let tree = match ctx.tree().await {
        Ok(t) => t,
        Err(e) => return fail(jobs, &e),
    };
    let ids: Vec<&str> = jobs.iter().map(|j| j.row.instance_id.as_str()).collect();
    let mut stored = match ctx.store.response_digests_of(form.stored.id, &ids).await {
        Ok(s) => s,
        Err(e) => return fail(jobs, &e.into()),
    };
    let mut new: Vec<NewResponse> = Vec::new();
    let mut fates: Vec<Job> = Vec::with_capacity(jobs.len());
    let mut outcomes: Vec<Result<ResponsesSummary>> = Vec::with_capacity(jobs.len());
    for j in jobs {
        let judged = judge(
            &form,
            &tree,
            &j.row,
            stored.get(&j.row.instance_id),
            j.para.clone(),
        );
        match judged {
            Ok(Judged::Duplicate) => {
                outcomes.push(Ok(summary(0, 1)));
                fates.push(j);
            }
            Ok(Judged::Conflict) => {
                outcomes.push(Err(ServiceError::Conflict(format!(
                    "instance_id“{}”已存在且内容不同",
                    j.row.instance_id
                ))));
                fates.push(j);
            }
            Ok(Judged::New(row)) => {
                // A second copy in this same group is judged against it.
                stored.insert(row.instance_id.clone(), row.digest.clone());
                let mut s = summary(1, 0);
                s.count(&row);
                outcomes.push(Ok(s));
                new.push(*row);
                fates.push(j);
            }
            Err(e) => {
                outcomes.push(Err(e));
                fates.push(j);
            }
        }
    }
    if !new.is_empty() {
        let valid = outcomes
            .iter()
            .filter(|o| o.as_ref().is_ok_and(|s| s.valid == 1))
            .count();
        let name = format!("答题页面（{} 份）", new.len());
        let sha = pingan_store::sha256_hex(
            fates
                .iter()
                .map(|j| j.sha256.as_str())
                .collect::<Vec<_>>()
                .concat()
                .as_bytes(),
        );
        let detail = json!({"year": form.stored.year, "form": form.form.id,
            "version": form.form.version, "rows": fates.len(), "new": new.len(),
            "duplicates": fates.len() - new.len(), "valid": valid});
        let written = ctx
            .store
            .write_responses(
                &ResponsesWrite {
                    form: form.stored.id,
                    year: form.stored.year,
                    file: &name,
                    sha256: &sha,
                    rows: fates.len(),
                    duplicates: fates.len() - new.len(),
                    responses: &new,
                    detail,
                },
                &fates[0].actor,
            )
            .await;
        match written {
            Ok(id) => {
                for o in outcomes.iter_mut().flatten() {
                    o.import_id = Some(id);
                }
            }
            // Another write stored one of these meanwhile (an API batch
            // with the same instance): each answer again on its own, so
            // only the one that collided is told.
            Err(StoreError::Conflict(_)) if fates.len() > 1 => {
                for j in fates {
                    Box::pin(write_group(ctx, vec![j])).await;
                }
                return;
            }
            Err(e) => return fail(fates, &e.into()),
        }
    }
    for (j, o) in fates.into_iter().zip(outcomes) {
        let _ = j.reply.send(o);
    }
}

/// Tell every job of `jobs` that the write failed.
fn fail(jobs: Vec<Job>, e: &ServiceError) {
    tracing::warn!(error = %e, answers = jobs.len(), "writing answers failed");
    for j in jobs {
        let again = match e {
            ServiceError::Conflict(m) => ServiceError::Conflict(m.clone()),
            ServiceError::Busy { retry_after } => ServiceError::Busy {
                retry_after: *retry_after,
            },
            other => ServiceError::Internal(other.to_string()),
        };
        let _ = j.reply.send(Err(again));
    }
}

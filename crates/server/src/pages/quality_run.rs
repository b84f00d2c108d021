//! Running the checks from 数据质量. A whole year is 800 thousand values
//! and several seconds of work: the page waits a moment and, if the check
//! has not finished by then, answers that it goes on in the background
//! (its result goes into the queue and the ledger either way) rather than
//! holding the browser. The page shows the last check from the ledger, so
//! a result finished in the background, or on another instance, is seen,
//! and a check still running (its start in the ledger, not yet its end).

use crate::AppState;
use crate::kit::Viewer;
use crate::kit::fmt::local_time;
use crate::kit::forms::{Fields, back};
use crate::kit::{PageResult, card};
use axum::extract::State;
use maud::{Markup, html};
use pingan_service::quality::{self, LastCheck, RunningCheck};
use pingan_service::{Caller, cap};
use std::time::Duration;

/// How long the page waits for a check before leaving it to run on.
const WAIT: Duration = Duration::from_millis(500);

/// What the page says of a check that stopped without its result.
const STOPPED: &str = "检查未能完成，请稍后重试；若仍失败请联系系统管理员";

/// POST /quality: run the checks for a period and keep the flags.
pub(super) async fn action(State(state): State<AppState>, v: Viewer, body: String) -> PageResult {
    let who = v.0.authorize::<cap::Check>()?;
    let f = Fields::parse(&body);
    let period = match f.get("period").parse::<pingan_core::Period>() {
        Ok(p) => p,
        Err(e) => return Ok(back("/quality", Err(e.to_string()))),
    };
    // One check of a period at a time for each user: a second would do the
    // same work beside it (a province's year is seconds of both cores).
    if let Some(r) = quality::running_check(&state.ctx, &who).await?
        && r.period == period.to_string()
    {
        return Ok(back(
            "/quality",
            Err(format!(
                "{period} 的检查正在进行（{} 于 {} 开始）：完成后刷新本页，结果列入待核查队列",
                r.user,
                local_time(&r.at)
            )),
        ));
    }
    // In the ledger before it runs, so its end always comes after it.
    quality::check_started(&state.ctx, &who, period).await?;
    let (ctx, caller) = (state.ctx.clone(), v.0.clone());
    let task = tokio::spawn(async move {
        // A check that stopped, with an error or a panic, ends in the
        // ledger as one that finished does.
        let inner = {
            let (ctx, caller) = (ctx.clone(), caller.clone());
            tokio::spawn(async move { run(&ctx, &caller, period).await })
        };
        let result = inner.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "quality check stopped");
            Err(STOPPED.into())
        });
        if let (Err(e), Ok(who)) = (&result, caller.authorize::<cap::Check>())
            && let Err(le) = quality::check_failed(&ctx, &who, period, e).await
        {
            tracing::error!(error = %le, "could not note the failed check in the ledger");
        }
        result
    });
    let result = match tokio::time::timeout(WAIT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "quality check stopped");
            Err(STOPPED.into())
        }
        // The task runs on when its handle is dropped.
        Err(_) => Ok(format!(
            "{period} 检查已开始，正在后台进行（全省一年的数据约需十秒）：完成后刷新本页，结果列入待核查队列，并在“最近一次检查”中显示"
        )),
    };
    Ok(back("/quality", result))
}

/// The check and the sentence that reports it; a failure in the background
/// is logged, as no page is waiting for it.
async fn run(
    ctx: &pingan_service::Ctx,
    caller: &Caller,
    period: pingan_core::Period,
) -> Result<String, String> {
    let who = caller
        .authorize::<cap::Check>()
        .map_err(|e| e.to_string())?;
    let out = quality::check(ctx, &who, period, true).await.map_err(|e| {
        tracing::warn!(%period, error = %e, "quality check failed");
        e.to_string()
    })?;
    let s = out.saved.unwrap_or_default();
    let explained = match out.summary.explained {
        0 => String::new(),
        n => format!("；另有 {n} 条统计类提示的总量变化与其构成数据一致，不列入"),
    };
    Ok(format!(
        "{period} 检查完成：检查 {} 个数据值，发现 {} 条问题（新增 {}，更新 {}，已处理过的 {} 条保持不变；此前待核查、本次不再出现的 {} 条移出队列{explained}）",
        out.summary.values, s.found, s.new, s.updated, s.resolved_before, s.cleared
    ))
}

/// The last saved check and one still running, for those who may run
/// one.
#[derive(Default)]
pub(super) struct Checks {
    last: Option<LastCheck>,
    running: Option<RunningCheck>,
}

pub(super) async fn last(state: &AppState, c: &Caller) -> Checks {
    let Ok(who) = c.authorize::<cap::Check>() else {
        return Checks::default();
    };
    Checks {
        last: quality::last_check(&state.ctx, &who).await.ok().flatten(),
        running: quality::running_check(&state.ctx, &who)
            .await
            .ok()
            .flatten(),
    }
}

/// "正在进行的检查：…" and "最近一次检查：…" under the run form.
fn last_line(c: &Checks) -> Markup {
    html! {
        @if let Some(r) = &c.running {
            p.muted #running-check {
                "正在进行的检查：" (r.period) "，" (r.user) " 于 " (local_time(&r.at))
                " 开始，完成后刷新本页查看结果"
            }
        }
        p.muted #last-check {
            @match &c.last {
                Some(l) => {
                    "最近一次检查：" (l.period) "，" (l.user) " 于 " (local_time(&l.at)) " 完成，发现 "
                    (l.found) " 条问题（新增 " (l.new) "，移出 " (l.cleared) "）"
                }
                None => { "尚未运行过检查" }
            }
        }
    }
}

/// The card with the run form.
pub(super) fn form(latest: Option<i32>, checks: &Checks) -> Markup {
    card(
        "运行质量检查",
        None,
        html! {
            form.inline method="post" action="/quality" id="run-check" {
                input type="hidden" name="op" value="check";
                label for="c-period" { "期间" }
                input type="text" id="c-period" name="period" size="8" required
                    value=[latest.map(|y| y.to_string())] placeholder="2024 或 2024-06";
                button.btn.primary type="submit" { "检查并加入待核查队列" }
                span.muted { "逻辑校验、异常值（z 值、修正 z 值、突变、连续高于均值、占比突变、同级离群）、多来源差异与时效性" }
            }
            (last_line(checks))
        },
    )
}

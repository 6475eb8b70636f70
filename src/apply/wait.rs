//! `--wait-blocked`: a blocked pool is re-read until it is empty (then deleted, if it is still
//! the pool the plan named and still called for: each re-read renews its judgement), gone, or
//! time runs out.

use super::judgement::another_pool;
use super::run::{own_error, StepRun};
use super::shared::{Shared, MAX_WAIT_POLL};
use super::step::delete_until_settled;
use crate::core::model::{Pool, PoolRef};
use crate::core::report::{Outcome, StepResult};
use std::sync::Arc;
use std::time::Instant;

/// Why a pool re-read while waiting may no longer be deleted: it is not the pool the plan
/// named (id, name, creation time), or the config no longer calls for its deletion.
fn changed_while_waiting(sh: &Shared, planned: &PoolRef, now: &Pool) -> Option<String> {
    let mut changed = another_pool(planned, now);
    if let Err(why) = sh.judgements.judge().still_called_for(now) {
        changed.push(why);
    }
    (!changed.is_empty()).then(|| format!("changed while waiting: {}", changed.join("; ")))
}

/// Why a wait's sleep ended early: a signal, or another halt.
fn halt_note(sh: &Shared, halt: crate::api::Halt) -> String {
    match (halt, sh.client.pacer().interrupt().signal()) {
        (crate::api::Halt::Interrupted, Some(signal)) => format!(
            "the wait was interrupted ({}) while it still held desktops",
            signal.name()
        ),
        (halt, _) => format!("the wait stopped: {}", halt.short()),
    }
}

/// Why waiting on a pool is pointless: autoscale keeps idle desktops in it, or refilled it.
fn refilled_by_autoscale(pool: &crate::core::model::Pool, last_count: u64) -> Option<String> {
    let min_idle = pool.autoscale_min_idle()?;
    let refilled = pool.desktop_count > last_count;
    (min_idle > 0 || refilled).then(|| {
        format!(
            "stopped waiting: autoscale is on (min_idle {min_idle}) and {} the pool ({} desktop{} now); it cannot empty until autoscale is turned off",
            if refilled { "refilled" } else { "keeps refilling" },
            pool.desktop_count,
            if pool.desktop_count == 1 { "" } else { "s" },
        )
    })
}

/// Re-checks a blocked pool until it is empty (then deletes it, if it is still the pool the
/// plan named and still called for) or gone, or time runs out.
pub(super) async fn wait_until_clear(
    sh: Arc<Shared>,
    mut run: StepRun,
    mut result: StepResult,
    deadline: Instant,
) -> StepResult {
    let mut poll = sh.options.wait_poll;
    let mut last_count = run.step.pool().desktop_count;
    sh.set_waiting(run.step.pool(), Some(last_count));
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            result.note("still blocked when --wait-blocked ran out");
            break result;
        }
        if let Err(halt) = sh.client.pacer().sleep(poll.min(left)).await {
            result.note(&halt_note(&sh, halt));
            break result;
        }
        poll = (poll * 2).min(MAX_WAIT_POLL);
        let read_at = Instant::now();
        let shown = match sh.show(&run.step.pool().id).await {
            Err(_) => continue,
            Ok(shown) => shown,
        };
        match shown {
            Ok((None, request_id)) => {
                break run.settled(
                    Outcome::AlreadyAbsent,
                    request_id,
                    Some("deleted by someone else while blocked".into()),
                );
            }
            Ok((Some(pool), request_id)) => {
                if let Some(why) = changed_while_waiting(&sh, run.step.pool(), &pool) {
                    let mut failed = run.finish(
                        Outcome::Failed,
                        Some(own_error(why.clone(), request_id.clone())),
                        Some(format!("{why}; it was not deleted")),
                    );
                    failed.request_id = request_id;
                    break failed;
                }
                if let Some(why) = refilled_by_autoscale(&pool, last_count) {
                    result.note(&why);
                    break result;
                }
                // This re-read judged the pool again: its judgement is renewed.
                run.judged_at = read_at;
                last_count = pool.desktop_count;
                sh.set_waiting(run.step.pool(), Some(last_count));
                if pool.desktop_count == 0 {
                    let attempts_before = run.attempts;
                    let next = delete_until_settled(&sh, &mut run).await;
                    tracing::info!(pool = %pool.id, attempts = run.attempts - attempts_before, outcome = next.outcome.label(), "re-tried a blocked pool");
                    if next.outcome != Outcome::Blocked {
                        break next;
                    }
                    result = next;
                } else {
                    result.detail = Some(if pool.desktop_count == 1 {
                        "waiting: 1 desktop remains".to_owned()
                    } else {
                        format!("waiting: {} desktops remain", pool.desktop_count)
                    });
                }
            }
            Err(_) => {}
        }
    };
    sh.set_waiting(run.step.pool(), None);
    result
}

//! One step: DELETEs for one pool until it is gone, blocked, or not worth another try. Each
//! DELETE is sent only on a judgement younger than the age limit (renewed from a fresh listing
//! when it is not); a refusal is looked into (desktops left: blocked; a transient conflict:
//! retried); "gone" only on the API's word.

use super::run::{step_error, step_error_of_failure, StepRun};
use super::shared::{Shared, DESKTOPS_SHOWN};
use crate::api::{Absence, ApiError, HttpFailure};
use crate::core::model::{PoolDesktop, PoolRef};
use crate::core::plan::DeleteStep;
use crate::core::report::{Outcome, StepError, StepResult};
use crate::core::retry::{Decision, Observed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many times a 409 refusal of a pool with no desktops left (a transient conflict, such
/// as `WKS.00010032` while the pool is being updated) is retried before the step fails.
const CONFLICT_RETRIES: u32 = 3;

/// A refusal that may mean "desktops remain", whatever its code: any 4xx but 401, 403, 404
/// and 429 (which mean other things).
fn may_mean_busy(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 429)
}

/// What a blocked prepaid pool needs: its desktops cannot be deleted with the API.
const PREPAID_NOTE: &str = "its desktops are prepaid (yearly/monthly): unsubscribe them in the billing centre (Billing Center > Unsubscriptions); they cannot be deleted with the API";

/// What the autoscale of a pool means for deleting it, in words, when it is on.
fn autoscale_note(pool: &PoolRef) -> Option<String> {
    pool.autoscale.as_ref().map(|a| {
        format!(
            "autoscale is on (min_idle {}): desktops come back as they are removed until it is turned off (enable_autoscale: false); poolform never changes a pool",
            a.min_idle
        )
    })
}

/// The retry budget of one run of [`delete_until_settled`].
struct Budget {
    started: Instant,
    /// Failures other than transient conflicts.
    tries: u32,
    /// Transient conflicts (a 409 with no desktops left).
    conflicts: u32,
    last_error: Option<StepError>,
}

/// What follows a DELETE that failed.
enum Next {
    Settled(Box<StepResult>),
    RetryAfter(Duration),
}

/// Sends DELETEs for one pool until it is gone, blocked, or not worth another try. Each call
/// starts a fresh retry budget (attempts and time), whatever came before. No DELETE (first or
/// retried) is sent on a judgement older than the age limit.
pub(super) async fn delete_until_settled(sh: &Shared, run: &mut StepRun) -> StepResult {
    let mut budget = Budget {
        started: Instant::now(),
        tries: 0,
        conflicts: 0,
        last_error: None,
    };
    loop {
        if let Some(halt) = sh.halted() {
            return run.halted(halt, budget.last_error);
        }
        if let Some(ended) = sh
            .judgements
            .keep_fresh(&sh.client, sh.observer.as_ref(), run)
            .await
        {
            return ended;
        }
        let not_after = run.judged_at + sh.judgements.max_age();
        let error = match sh.client.delete_pool(&run.step.pool().id, not_after).await {
            Ok(deleted) => {
                run.attempts += 1;
                return run.settled(Outcome::Deleted, deleted.request_id, None);
            }
            // Not sent: the judgement aged while the call waited for its turn; renewed above.
            Err(ApiError::Expired { .. }) => continue,
            Err(e) => e,
        };
        if let Some(halt) = sh.halt_of(&error) {
            return run.halted(halt, budget.last_error);
        }
        run.attempts += 1;
        let delay = match after_failure(sh, run, &error, &mut budget).await {
            Next::Settled(result) => return *result,
            Next::RetryAfter(delay) => delay,
        };
        if let Err(halt) = sh.client.pacer().sleep(delay).await {
            return run.halted(halt, budget.last_error);
        }
    }
}

/// Reads a failed DELETE: gone (proven, or confirmed by a read), refused (blocked, failed, or
/// a transient conflict to retry), or a failure worth another try under the retry policy.
async fn after_failure(
    sh: &Shared,
    run: &mut StepRun,
    error: &ApiError,
    budget: &mut Budget,
) -> Next {
    if let Some(failure) = error.http_failure() {
        match failure.absence() {
            Absence::Proven => {
                let detail = if run.unanswered_before {
                    "an earlier attempt got no answer but was applied: the pool is gone".to_owned()
                } else {
                    format!("the pool was already gone ({failure})")
                };
                return Next::Settled(Box::new(run.settled(
                    Outcome::AlreadyAbsent,
                    failure.request_id.clone(),
                    Some(detail),
                )));
            }
            Absence::Hinted => {
                if let Some(settled) = confirm_absent(sh, run, error).await {
                    return Next::Settled(Box::new(settled));
                }
            }
            Absence::Unknown => {}
        }
        if may_mean_busy(failure.status) {
            match refused(sh, run, failure, budget.conflicts).await {
                Refused::Settled(result) => return Next::Settled(result),
                Refused::Transient => {
                    budget.conflicts += 1;
                    let delay = sh.client.pacer().backoff(budget.conflicts);
                    tracing::info!(pool = %run.step.pool().id, attempt = run.attempts, delay_ms = delay.as_millis() as u64, "a conflict with no desktops left; retrying");
                    let failed = step_error(error);
                    sh.observer
                        .retry(run.step.pool(), run.attempts, delay, &failed);
                    budget.last_error = Some(failed);
                    return Next::RetryAfter(delay);
                }
            }
        }
    }
    retry_or_give_up(sh, run, error, budget).await
}

/// A failure the retry policy decides on: another try after a delay, or the end of the step.
async fn retry_or_give_up(
    sh: &Shared,
    run: &mut StepRun,
    error: &ApiError,
    budget: &mut Budget,
) -> Next {
    let observed = match error.status() {
        Some(status) => Observed::Status(status),
        None if matches!(error, ApiError::Transport { .. }) => Observed::Transport,
        // An unreadable or oversized answer: the server did answer; do not guess.
        None => Observed::Status(0),
    };
    run.unanswered_before |= observed == Observed::Transport;
    budget.last_error = Some(step_error(error));
    budget.tries += 1;
    let pacer = sh.client.pacer();
    match pacer.decide(
        budget.tries,
        observed,
        error.retry_after(),
        budget.started.elapsed(),
    ) {
        Decision::RetryAfter(delay) => {
            tracing::info!(pool = %run.step.pool().id, attempt = run.attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            if let Some(failed) = &budget.last_error {
                sh.observer
                    .retry(run.step.pool(), run.attempts, delay, failed);
            }
            Next::RetryAfter(delay)
        }
        Decision::GiveUp(why) => {
            let mut detail = format!(
                "gave up after {}: {}",
                run.plural(budget.tries),
                why.describe()
            );
            if error.status() == Some(404) {
                detail.push_str(
                    "; a 404 without a Workspace error code means a wrong route, not a missing pool",
                );
            }
            let last = budget.last_error.take();
            Next::Settled(Box::new(if run.unanswered_before {
                settle_unanswered(sh, run, last, detail).await
            } else {
                run.finish(Outcome::Failed, last, Some(detail))
            }))
        }
    }
}

/// A DELETE answered `400 WKS.0001`: the pool may be gone, but the code is generic. A read
/// decides, and its request id settles the step. `None`: the pool still exists, and the answer
/// is a refusal like any other.
pub(super) async fn confirm_absent(
    sh: &Shared,
    run: &StepRun,
    error: &ApiError,
) -> Option<StepResult> {
    let answer = error
        .http_failure()
        .map(ToString::to_string)
        .unwrap_or_default();
    match sh.show(&run.step.pool().id).await {
        Err(halt) => Some(run.finish(
            Outcome::Failed,
            Some(step_error(error)),
            Some(format!(
                "DELETE answered {answer}; whether the pool is gone is unknown: {}",
                halt.why()
            )),
        )),
        Ok(Ok((None, request_id))) => Some(run.settled(
            Outcome::AlreadyAbsent,
            request_id,
            Some(format!(
                "DELETE answered {answer}, and a read confirms the pool is gone"
            )),
        )),
        Ok(Ok((Some(_), _))) => None,
        Ok(Err(e)) => Some(run.finish(
            Outcome::Failed,
            Some(step_error(error)),
            Some(format!(
                "DELETE answered {answer}; whether the pool is gone is unknown ({e})"
            )),
        )),
    }
}

/// What a refusal turned out to be.
enum Refused {
    /// Blocked (desktops remain) or failed: the step is settled.
    Settled(Box<StepResult>),
    /// A 409 with no desktops left: a transient conflict, worth another try.
    Transient,
}

/// A DELETE refused with a 4xx that may mean "desktops remain" (the code for it is not
/// published): the pool's desktops decide. Any left: blocked, with the real status and code
/// and the desktops named. None left: a 409 is a transient conflict, retried a few times;
/// anything else fails.
async fn refused(sh: &Shared, run: &StepRun, failure: &HttpFailure, conflicts: u32) -> Refused {
    let error = step_error_of_failure(failure, "DELETE refused".to_owned());
    let pool = run.step.pool();
    let blocked = |detail: String, desktops: Vec<PoolDesktop>| {
        let mut result = run.finish(Outcome::Blocked, Some(error.clone()), Some(detail));
        result.desktops = desktops;
        if let Some(note) = autoscale_note(pool) {
            result.note(&note);
        }
        if pool.prepaid {
            result.note(PREPAID_NOTE);
        }
        Refused::Settled(Box::new(result))
    };
    match sh.client.list_pool_desktops(&pool.id, DESKTOPS_SHOWN).await {
        Ok((total, desktops)) if total > 0 => {
            blocked(describe_desktops(total, &desktops), desktops)
        }
        Ok(_) if failure.status == 409 && conflicts < CONFLICT_RETRIES => Refused::Transient,
        Ok(_) => {
            let why = if failure.status == 409 {
                format!(
                    "a conflict that did not clear after {} tries, with no desktops left in the pool",
                    conflicts + 1
                )
            } else if failure.absence() == Absence::Hinted {
                "DELETE answered 400 WKS.0001, but a read shows the pool still exists, with no desktops in it".to_owned()
            } else {
                "refused with no desktops left in the pool".to_owned()
            };
            Refused::Settled(Box::new(run.finish(
                Outcome::Failed,
                Some(error),
                Some(why),
            )))
        }
        Err(e) => match sh.halt_of(&e) {
            // 409 is how the API refuses a pool that holds desktops: blocked, said with why
            // its desktops were not listed.
            Some(halt) if failure.status == 409 => blocked(
                format!(
                    "refused with 409; its desktops were not listed: {}",
                    halt.short()
                ),
                Vec::new(),
            ),
            Some(halt) => Refused::Settled(Box::new(run.halted(halt, Some(error)))),
            // 409 is how the API is documented to refuse a pool that holds desktops.
            None if failure.status == 409 => {
                blocked(format!("could not list its desktops: {e}"), Vec::new())
            }
            None => Refused::Settled(Box::new(run.finish(
                Outcome::Failed,
                Some(error),
                Some(format!(
                    "refused, and its desktops could not be listed to tell why: {e}"
                )),
            ))),
        },
    }
}

/// A step that gives up after attempts that got no answer may still have been applied: look
/// once, and report what is true rather than a failure that may not be one.
async fn settle_unanswered(
    sh: &Shared,
    run: &StepRun,
    last_error: Option<StepError>,
    detail: String,
) -> StepResult {
    match sh.show(&run.step.pool().id).await {
        Err(_) => run.finish(
            Outcome::Failed,
            last_error,
            Some(format!(
                "{detail}; whether an unanswered attempt was applied is unknown"
            )),
        ),
        Ok(Ok((None, request_id))) => run.settled(
            Outcome::AlreadyAbsent,
            request_id,
            Some(format!(
                "{detail}, but an unanswered attempt was applied: the pool is gone"
            )),
        ),
        Ok(Ok((Some(_), _))) => run.finish(
            Outcome::Failed,
            last_error,
            Some(format!("{detail}; the pool still exists")),
        ),
        Ok(Err(e)) => run.finish(
            Outcome::Failed,
            last_error,
            Some(format!(
                "{detail}; whether an unanswered attempt was applied is unknown ({e})"
            )),
        ),
    }
}

fn describe_desktops(total: u64, desktops: &[PoolDesktop]) -> String {
    if total == 0 {
        return "no desktops are listed; the pool may be in a transient state".to_owned();
    }
    let names: Vec<String> = desktops
        .iter()
        .map(|d| {
            let name = if d.computer_name.is_empty() {
                &d.desktop_id
            } else {
                &d.computer_name
            };
            if d.user_name.is_empty() {
                format!("{name} (unassigned)")
            } else {
                format!("{name} ({})", d.user_name)
            }
        })
        .collect();
    let more = total.saturating_sub(desktops.len() as u64);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{total} desktop{} remain{}: {}{tail}",
        if total == 1 { "" } else { "s" },
        if total == 1 { "s" } else { "" },
        names.join(", ")
    )
}

/// One step, start to end (without waiting on blocked pools).
pub(super) async fn run_step(
    sh: Arc<Shared>,
    step: DeleteStep,
    judged_at: Instant,
) -> (StepRun, StepResult) {
    let mut run = StepRun::new(step, judged_at);
    sh.observer.step_started(run.step.pool());
    let result = delete_until_settled(&sh, &mut run).await;
    (run, result)
}

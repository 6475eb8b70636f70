//! Runs a plan's delete steps: concurrently (bounded), under an adaptive rate limit, retrying
//! what is worth retrying, reporting refusals as blocked, accounting for every step; then
//! verifies with a listing that every pool reported gone is gone.
//!
//! "Gone" is only ever reported on the API's word: a DELETE answered 2xx, a 404 with a
//! Workspace error code, or a read that finds no such pool; and then confirmed by the
//! verification listing.

pub use crate::api::StopSignal;
use crate::api::{Absence, ApiError, Client, Halt, HttpFailure, ListFilter};
use crate::model::{Pool, PoolDesktop, PoolId, PoolRef};
use crate::plan::DeleteStep;
use crate::report::{Outcome, Report, StepError, StepResult, Verification};
use crate::retry::{Decision, Observed};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How many of a blocked pool's desktops are named in the report.
const DESKTOPS_SHOWN: u32 = 5;
/// The longest pause between two checks of a blocked pool.
const MAX_WAIT_POLL: Duration = Duration::from_secs(30);
/// The longest pause between two verification listings.
const MAX_VERIFY_POLL: Duration = Duration::from_secs(10);
/// How many times a 409 refusal of a pool with no desktops left (a transient conflict, such
/// as `WKS.00010032` while the pool is being updated) is retried before the step fails.
const CONFLICT_RETRIES: u32 = 3;

/// A refusal that may mean "desktops remain", whatever its code: any 4xx but 401, 403, 404
/// and 429 (which mean other things).
fn may_mean_busy(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 429)
}

/// What the autoscale of a pool means for deleting it, in words, when it is on.
fn autoscale_note(pool: &PoolRef) -> Option<String> {
    pool.autoscale.as_ref().map(|a| {
        format!(
            "autoscale is on (min_idle {}): desktops come back as they are removed until it is turned off (enable_autoscale: false); poolform never changes a pool",
            a.min_idle
        )
    })
}

/// Says whether a pool, as it reads now, may still be deleted: `Err(why not)`. Given by the
/// caller, from the config, so that a pool re-read while waiting is judged as the plan was.
pub type StillCalledFor = Arc<dyn Fn(&Pool) -> Result<(), String> + Send + Sync>;

/// How the steps are run. Pacing (rate, retry policy, interrupt) is the client's.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// DELETE calls in flight at once.
    pub parallelism: usize,
    /// Re-check blocked pools until this much time has passed, and delete them once empty.
    pub wait_blocked: Option<Duration>,
    /// The first pause between checks of a blocked pool (doubles, up to 30 s).
    pub wait_poll: Duration,
    /// How long the verification listing is polled for pools reported gone but still listed.
    pub verify_timeout: Duration,
    /// The first pause between verification listings (doubles, up to 10 s).
    pub verify_poll: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 8,
            wait_blocked: None,
            wait_poll: Duration::from_secs(2),
            verify_timeout: Duration::from_secs(60),
            verify_poll: Duration::from_secs(1),
        }
    }
}

/// What the applier works on.
pub struct Work {
    /// The deletes to send.
    pub steps: Vec<DeleteStep>,
    /// Steps already settled before the run (planned pools confirmed gone): reported, and
    /// verified with the rest.
    pub settled: Vec<StepResult>,
    /// Judges a pool re-read before a re-try (`--wait-blocked`).
    pub still_called_for: StillCalledFor,
}

/// What the applier tells as it goes, for a progress display or `--format jsonl`. Each method
/// is called from the applier's tasks; implementations must not block.
pub trait Observer: Send + Sync {
    /// A step's first DELETE is about to be sent (or its re-try, once a blocked pool emptied).
    fn step_started(&self, _pool: &PoolRef) {}
    /// A DELETE failed in a way worth another try, which starts after `delay`.
    fn retry(&self, _pool: &PoolRef, _attempt: u32, _delay: Duration, _error: &StepError) {}
    /// A step's result is final (before verification, which may still turn "gone" to failed).
    fn step_finished(&self, _result: &StepResult) {}
    /// `--wait-blocked`: the pools still waited on, with the desktops each holds, and the time
    /// left; said when the wait starts, then about once a second while it lasts.
    fn waiting(&self, _pools: &[(PoolRef, u64)], _left: Duration) {}
    /// The verification listing starts, to confirm `claimed` pools gone.
    fn verifying(&self, _claimed: usize) {}
    /// The verification listing is over: `claimed` are the results that reported their pool
    /// gone, as they end (`verified`, or turned to failed when the pool is still listed).
    fn verified(&self, _claimed: &[StepResult], _verification: &Verification) {}
}

/// An observer that ignores everything.
pub struct Unobserved;

impl Observer for Unobserved {}

struct Shared {
    client: Client,
    options: ApplyOptions,
    still_called_for: StillCalledFor,
    observer: Arc<dyn Observer>,
    /// `--wait-blocked`: desktops left in each pool waited on.
    waiting: std::sync::Mutex<HashMap<PoolId, (PoolRef, u64)>>,
}

fn step_error_of_failure(f: &HttpFailure, message: String) -> StepError {
    StepError {
        status: Some(f.status),
        error_code: f.body.error_code.clone(),
        error_msg: f.body.error_msg.clone().or_else(|| f.body.raw.clone()),
        request_id: f.request_id.clone(),
        message,
    }
}

fn step_error(e: &ApiError) -> StepError {
    match e.http_failure() {
        Some(f) => step_error_of_failure(f, e.to_string()),
        None => StepError {
            status: e.status(),
            error_code: None,
            error_msg: None,
            request_id: match e {
                ApiError::BodyTooLarge { request_id, .. } | ApiError::Decode { request_id, .. } => {
                    request_id.clone()
                }
                _ => None,
            },
            message: e.to_string(),
        },
    }
}

/// An error of poolform's own making (no answer carried it), for the report.
fn own_error(message: String, request_id: Option<String>) -> StepError {
    StepError {
        status: None,
        error_code: None,
        error_msg: None,
        request_id,
        message,
    }
}

impl Shared {
    /// Records the desktops left in a pool waited on (`None`: no longer waited on).
    fn set_waiting(&self, pool: &PoolRef, desktops: Option<u64>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match desktops {
            Some(n) => {
                waiting.insert(pool.id.clone(), (pool.clone(), n));
            }
            None => {
                waiting.remove(&pool.id);
            }
        }
    }

    /// The pools waited on, by name.
    fn still_waiting(&self) -> Vec<(PoolRef, u64)> {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mut pools: Vec<(PoolRef, u64)> = waiting.values().cloned().collect();
        pools.sort_by(|a, b| (&a.0.name, &a.0.id).cmp(&(&b.0.name, &b.0.id)));
        pools
    }

    fn halted(&self) -> Option<Halt> {
        self.client.pacer().halted()
    }

    /// Why a call was not made: the run stopped (an interrupt or a 401).
    fn halt_of(&self, e: &ApiError) -> Option<Halt> {
        matches!(e, ApiError::Stopped { .. }).then(|| self.halted().unwrap_or(Halt::Interrupted))
    }

    /// One read of a pool: `Ok((pool or None, request id))`, or why it could not be read.
    async fn show(
        &self,
        id: &PoolId,
    ) -> Result<Result<(Option<Pool>, Option<String>), ApiError>, Halt> {
        match self.client.show_pool(id).await {
            Ok(shown) => Ok(Ok((shown.pool, shown.request_id))),
            Err(e) => match self.halt_of(&e) {
                Some(halt) => Err(halt),
                None => Ok(Err(e)),
            },
        }
    }
}

/// The state of one step as it goes.
struct StepRun {
    step: DeleteStep,
    /// DELETE requests sent for this pool, in all.
    attempts: u32,
    /// An earlier attempt got no answer: it may have been applied.
    unanswered_before: bool,
}

impl StepRun {
    fn finish(
        &self,
        outcome: Outcome,
        error: Option<StepError>,
        detail: Option<String>,
    ) -> StepResult {
        let request_id = error.as_ref().and_then(|e| e.request_id.clone());
        StepResult {
            pool: self.step.pool().clone(),
            outcome,
            attempts: self.attempts,
            error,
            request_id,
            detail,
            desktops: Vec::new(),
            verified: false,
        }
    }

    /// A step settled by an answer that is not an error, with that answer's request id.
    fn settled(
        &self,
        outcome: Outcome,
        request_id: Option<String>,
        detail: Option<String>,
    ) -> StepResult {
        StepResult {
            request_id,
            ..self.finish(outcome, None, detail)
        }
    }

    fn halted(&self, halt: Halt, last: Option<StepError>) -> StepResult {
        let why = halt.short();
        if self.attempts == 0 {
            self.finish(Outcome::Skipped, None, Some(format!("not started: {why}")))
        } else {
            self.finish(
                Outcome::Failed,
                last,
                Some(format!("stopped before retrying: {why}")),
            )
        }
    }

    fn plural(&self, n: u32) -> String {
        format!("{n} attempt{}", if n == 1 { "" } else { "s" })
    }
}

/// Sends DELETEs for one pool until it is gone, blocked, or not worth another try. Each call
/// starts a fresh retry budget (attempts and time), whatever came before.
async fn delete_until_settled(sh: &Shared, run: &mut StepRun) -> StepResult {
    let pacer = sh.client.pacer();
    let started = Instant::now();
    let mut tries = 0;
    let mut conflicts = 0;
    let mut last_error: Option<StepError> = None;
    loop {
        if let Some(halt) = sh.halted() {
            return run.halted(halt, last_error);
        }
        let result = sh.client.delete_pool(&run.step.pool().id).await;
        let error = match result {
            Ok(deleted) => {
                run.attempts += 1;
                return run.settled(Outcome::Deleted, deleted.request_id, None);
            }
            Err(e) => e,
        };
        if let Some(halt) = sh.halt_of(&error) {
            return run.halted(halt, last_error);
        }
        run.attempts += 1;
        if let Some(failure) = error.http_failure() {
            match failure.absence() {
                Absence::Proven => {
                    let detail = if run.unanswered_before {
                        "an earlier attempt got no answer but was applied: the pool is gone"
                            .to_owned()
                    } else {
                        format!("the pool was already gone ({failure})")
                    };
                    return run.settled(
                        Outcome::AlreadyAbsent,
                        failure.request_id.clone(),
                        Some(detail),
                    );
                }
                Absence::Hinted => {
                    if let Some(settled) = confirm_absent(sh, run, &error).await {
                        return settled;
                    }
                }
                Absence::Unknown => {}
            }
            if may_mean_busy(failure.status) {
                match refused(sh, run, failure, conflicts).await {
                    Refused::Settled(result) => return *result,
                    Refused::Transient => {
                        conflicts += 1;
                        let delay = pacer.backoff(conflicts);
                        tracing::info!(pool = %run.step.pool().id, attempt = run.attempts, delay_ms = delay.as_millis() as u64, "a conflict with no desktops left; retrying");
                        let failed = step_error(&error);
                        sh.observer
                            .retry(run.step.pool(), run.attempts, delay, &failed);
                        last_error = Some(failed);
                        if let Err(halt) = pacer.sleep(delay).await {
                            return run.halted(halt, last_error);
                        }
                        continue;
                    }
                }
            }
        }
        let observed = match error.status() {
            Some(status) => Observed::Status(status),
            None if matches!(error, ApiError::Transport { .. }) => Observed::Transport,
            // An unreadable or oversized answer: the server did answer; do not guess.
            None => Observed::Status(0),
        };
        run.unanswered_before |= observed == Observed::Transport;
        let retry_after = error.retry_after();
        last_error = Some(step_error(&error));
        // Transient conflicts have a budget of their own; this counts the other failures.
        tries += 1;
        match pacer.decide(tries, observed, retry_after, started.elapsed()) {
            Decision::RetryAfter(delay) => {
                tracing::info!(pool = %run.step.pool().id, attempt = run.attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
                if let Some(failed) = &last_error {
                    sh.observer
                        .retry(run.step.pool(), run.attempts, delay, failed);
                }
                if let Err(halt) = pacer.sleep(delay).await {
                    return run.halted(halt, last_error);
                }
            }
            Decision::GiveUp(why) => {
                let mut detail = format!("gave up after {}: {}", run.plural(tries), why.describe());
                if error.status() == Some(404) {
                    detail.push_str(
                        "; a 404 without a Workspace error code means a wrong route, not a missing pool",
                    );
                }
                if run.unanswered_before {
                    return settle_unanswered(sh, run, last_error, detail).await;
                }
                return run.finish(Outcome::Failed, last_error, Some(detail));
            }
        }
    }
}

/// A DELETE answered `400 WKS.0001`: the pool may be gone, but the code is generic. A read
/// decides, and its request id settles the step. `None`: the pool still exists, and the answer
/// is a refusal like any other.
async fn confirm_absent(sh: &Shared, run: &StepRun, error: &ApiError) -> Option<StepResult> {
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
    let message = format!("DELETE refused: {failure}");
    let error = step_error_of_failure(failure, message);
    let pool = run.step.pool();
    let blocked = |detail: String, desktops: Vec<PoolDesktop>| {
        let mut result = run.finish(Outcome::Blocked, Some(error.clone()), Some(detail));
        result.desktops = desktops;
        if let Some(note) = autoscale_note(pool) {
            result.note(&note);
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
async fn run_step(sh: Arc<Shared>, step: DeleteStep) -> (StepRun, StepResult) {
    let mut run = StepRun {
        step,
        attempts: 0,
        unanswered_before: false,
    };
    sh.observer.step_started(run.step.pool());
    let result = delete_until_settled(&sh, &mut run).await;
    (run, result)
}

/// Why a pool re-read while waiting may no longer be deleted: it is not the pool the plan
/// named (id, name, creation time), or the config no longer calls for its deletion.
fn changed_while_waiting(sh: &Shared, planned: &PoolRef, now: &Pool) -> Option<String> {
    let mut changed = Vec::new();
    if now.id != planned.id {
        changed.push(format!("id {} is now {}", planned.id, now.id));
    }
    if now.name != planned.name {
        changed.push(format!("name {:?} is now {:?}", planned.name, now.name));
    }
    if now.created_time != planned.created_time {
        changed.push(format!(
            "created_time {:?} is now {:?}",
            planned.created_time, now.created_time
        ));
    }
    if let Err(why) = (sh.still_called_for)(now) {
        changed.push(why);
    }
    (!changed.is_empty()).then(|| format!("changed while waiting: {}", changed.join("; ")))
}

/// Re-checks a blocked pool until it is empty (then deletes it, if it is still the pool the
/// plan named and still called for) or gone, or time runs out.
async fn wait_until_clear(
    sh: Arc<Shared>,
    calls: Arc<Semaphore>,
    mut run: StepRun,
    mut result: StepResult,
    deadline: Instant,
) -> StepResult {
    let mut poll = sh.options.wait_poll;
    let mut last_count = run.step.pool().desktop_count;
    sh.set_waiting(run.step.pool(), Some(last_count));
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sh.client.pacer().sleep(poll.min(left)).await.is_err() {
            result.note(if left.is_zero() {
                "still blocked when --wait-blocked ran out"
            } else {
                "stopped while waiting"
            });
            break result;
        }
        poll = (poll * 2).min(MAX_WAIT_POLL);
        let Ok(_permit) = calls.acquire().await else {
            break result;
        };
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
                if let Some(min_idle) = pool.autoscale_min_idle() {
                    let refilled = pool.desktop_count > last_count;
                    if min_idle > 0 || refilled {
                        result.note(&format!(
                            "stopped waiting: autoscale is on (min_idle {min_idle}) and {} the pool ({} desktop{} now); it cannot empty until autoscale is turned off",
                            if refilled { "refilled" } else { "keeps refilling" },
                            pool.desktop_count,
                            if pool.desktop_count == 1 { "" } else { "s" },
                        ));
                        break result;
                    }
                }
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

/// Lists the pools again (polling with backoff up to the verify timeout) until every result
/// that claims its pool gone is confirmed; one still listed at the end is a failure.
async fn verify(sh: &Shared, results: &mut [StepResult]) -> Verification {
    let claimed: Vec<usize> = (0..results.len())
        .filter(|i| results[*i].claims_gone())
        .collect();
    let mut verification = Verification {
        claimed: claimed.len(),
        ..Verification::default()
    };
    if claimed.is_empty() {
        return verification;
    }
    let started = Instant::now();
    let mut pending = claimed;
    let mut poll = sh.options.verify_poll;
    let mut listings = 0;
    let mut last_listing = None;
    let mut last_error: Option<String>;
    loop {
        if let Some(halt) = sh.halted() {
            last_error = Some(halt.short().to_owned());
            break;
        }
        match sh.client.list_pools(&ListFilter::default()).await {
            Ok(live) => {
                listings += 1;
                pending.retain(|i| {
                    let gone = live.get(&results[*i].pool.id).is_none();
                    results[*i].verified = gone;
                    !gone
                });
                last_listing = Some(live);
                last_error = None;
            }
            Err(e) => last_error = Some(e.to_string()),
        }
        let spent = started.elapsed();
        if pending.is_empty() || spent.saturating_add(poll) > sh.options.verify_timeout {
            break;
        }
        if let Err(halt) = sh.client.pacer().sleep(poll).await {
            last_error = Some(halt.short().to_owned());
            break;
        }
        poll = (poll * 2).min(MAX_VERIFY_POLL);
    }
    verification.verified = verification.claimed - pending.len();
    for i in pending {
        let r = &mut results[i];
        match &last_listing {
            Some(live) if live.get(&r.pool.id).is_some() => {
                let listed_by = live.request_id_of(&r.pool.id).map(str::to_owned);
                let claim = match r.outcome {
                    Outcome::Deleted => format!(
                        "DELETE answered 2xx [request id: {}] but the pool is still listed",
                        r.request_id.as_deref().unwrap_or("none")
                    ),
                    _ => "reported already gone but the pool is still listed".to_owned(),
                };
                let message = format!(
                    "{claim} by {listings} listing{} over {} s [request id: {}]",
                    if listings == 1 { "" } else { "s" },
                    started.elapsed().as_secs(),
                    listed_by.as_deref().unwrap_or("none")
                );
                r.outcome = Outcome::Failed;
                r.error = Some(own_error(message, listed_by.clone()));
                r.request_id = listed_by;
                r.detail = Some(
                    "not gone: the verification listing after the deletes still shows it".into(),
                );
            }
            _ => r.note(&format!(
                "not verified: {}",
                last_error
                    .as_deref()
                    .unwrap_or("the verification listing did not finish")
            )),
        }
    }
    if verification.verified < verification.claimed {
        verification.incomplete = last_error;
    }
    verification
}

/// Applies `work` and reports every step, telling `observer` as it goes: each result as it is
/// final (before the verification listing, which may still turn a claimed "gone" into a
/// failure), retries, the wait on blocked pools, and the verification.
pub async fn apply(
    client: &Client,
    work: Work,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
) -> Report {
    let sh = Arc::new(Shared {
        client: client.clone(),
        options: options.clone(),
        still_called_for: work.still_called_for,
        observer,
        waiting: std::sync::Mutex::new(HashMap::new()),
    });
    let on_done = |r: &StepResult| sh.observer.step_finished(r);
    // At most one DELETE per pool is ever in flight: a pool is taken once.
    let mut taken = HashSet::new();
    let steps: Vec<DeleteStep> = work
        .steps
        .into_iter()
        .filter(|s| taken.insert(s.pool().id.clone()))
        .collect();
    let waiting = options.wait_blocked.is_some();
    let pools: Vec<PoolRef> = steps.iter().map(|s| s.pool().clone()).collect();
    let unfinished = |i: usize, outcome: Outcome, detail: String| {
        StepResult::without_call(pools[i].clone(), outcome, detail)
    };
    let mut results: Vec<Option<StepResult>> = vec![None; steps.len()];
    let mut blocked: Vec<(usize, StepRun, StepResult)> = Vec::new();
    let mut running = JoinSet::new();
    let mut index_of = HashMap::new();
    let mut pending = steps.into_iter().enumerate();
    loop {
        while running.len() < options.parallelism.max(1) && sh.halted().is_none() {
            let Some((i, step)) = pending.next() else {
                break;
            };
            let handle = running.spawn(run_step(sh.clone(), step));
            index_of.insert(handle.id(), i);
        }
        let Some(done) = running.join_next_with_id().await else {
            break;
        };
        let (i, result) = match done {
            Ok((id, (run, result))) => {
                let i = index_of[&id];
                if waiting && result.outcome == Outcome::Blocked && sh.halted().is_none() {
                    blocked.push((i, run, result));
                    continue;
                }
                (i, result)
            }
            // A step's task died (a bug): the step is still reported, never lost.
            Err(e) => {
                let i = index_of[&e.id()];
                (
                    i,
                    unfinished(i, Outcome::Failed, format!("internal error: {e}")),
                )
            }
        };
        on_done(&result);
        results[i] = Some(result);
    }
    if let Some(wait) = options.wait_blocked {
        // Flags bound the wait (a day at most); a deadline past what the clock can hold is
        // simply never reached.
        let now = Instant::now();
        let deadline = now
            .checked_add(wait)
            .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
            .unwrap_or(now);
        let calls = Arc::new(Semaphore::new(options.parallelism.max(1)));
        for (_, run, _) in &blocked {
            sh.set_waiting(run.step.pool(), Some(run.step.pool().desktop_count));
        }
        // Said when the wait starts, then every second while it lasts (the display decides
        // how often to show it).
        let ticker = {
            let sh = sh.clone();
            tokio::spawn(async move {
                loop {
                    let pools = sh.still_waiting();
                    if !pools.is_empty() {
                        let left = deadline.saturating_duration_since(Instant::now());
                        sh.observer.waiting(&pools, left);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        };
        let mut waiters = JoinSet::new();
        let mut index_of = HashMap::new();
        let mut fallback = HashMap::new();
        for (i, run, result) in blocked {
            fallback.insert(i, result.clone());
            let handle = waiters.spawn(wait_until_clear(
                sh.clone(),
                calls.clone(),
                run,
                result,
                deadline,
            ));
            index_of.insert(handle.id(), i);
        }
        while let Some(done) = waiters.join_next_with_id().await {
            let (i, result) = match done {
                Ok((id, result)) => (index_of[&id], result),
                Err(e) => {
                    let i = index_of[&e.id()];
                    (
                        i,
                        fallback.remove(&i).unwrap_or_else(|| {
                            unfinished(i, Outcome::Blocked, format!("internal error: {e}"))
                        }),
                    )
                }
            };
            on_done(&result);
            results[i] = Some(result);
        }
        ticker.abort();
    }
    let not_started = format!(
        "not started: {}",
        sh.halted().unwrap_or(Halt::Interrupted).short()
    );
    let mut all: Vec<StepResult> = work.settled;
    all.extend(results.into_iter().enumerate().map(|(i, r)| {
        r.unwrap_or_else(|| {
            let skipped = unfinished(i, Outcome::Skipped, not_started.clone());
            on_done(&skipped);
            skipped
        })
    }));
    let claimed: Vec<usize> = (0..all.len()).filter(|i| all[*i].claims_gone()).collect();
    if !claimed.is_empty() {
        sh.observer.verifying(claimed.len());
    }
    let verification = verify(&sh, &mut all).await;
    let claimed: Vec<StepResult> = claimed.into_iter().map(|i| all[i].clone()).collect();
    sh.observer.verified(&claimed, &verification);
    let pacer = client.pacer();
    let stopped = match pacer.halted() {
        Some(Halt::AuthFailed(reason)) => Some(reason),
        _ => None,
    };
    let interrupt = pacer.interrupt();
    let signal = interrupt.is_stopped().then(|| {
        interrupt
            .signal()
            .unwrap_or(crate::run_end::Signal::Interrupt)
    });
    Report {
        waited_for_blocked: options.wait_blocked.is_some(),
        ..Report::new(all, signal, stopped, verification)
    }
}

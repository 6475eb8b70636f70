//! Runs a plan's delete steps: concurrently (bounded), under an adaptive rate limit, retrying
//! what is worth retrying, reporting 409 refusals as blocked, and accounting for every step.

use crate::api::{ApiError, Client, DeleteOutcome, HttpFailure};
use crate::model::{PoolDesktop, PoolRef};
use crate::plan::DeleteStep;
use crate::ratelimit::{named_limit, AdaptiveRate};
use crate::report::{Outcome, Report, StepError, StepResult};
use crate::retry::{Decision, Observed, RetryPolicy};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

/// How many of a blocked pool's desktops are named in the report.
const DESKTOPS_SHOWN: u32 = 5;
/// The longest pause between two checks of a blocked pool.
const MAX_WAIT_POLL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// DELETE calls in flight at once.
    pub parallelism: usize,
    /// Requests per second never exceeded; the limiter starts here and adapts downwards.
    pub rate_ceiling: f64,
    pub retry: RetryPolicy,
    /// Re-check blocked pools until this much time has passed, and delete them once empty.
    pub wait_blocked: Option<Duration>,
    /// The first pause between checks of a blocked pool (doubles, up to 30 s).
    pub wait_poll: Duration,
    /// Seed of the jitter RNG.
    pub seed: u64,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 8,
            rate_ceiling: 1000.0,
            retry: RetryPolicy::default(),
            wait_blocked: None,
            wait_poll: Duration::from_secs(2),
            seed: 0,
        }
    }
}

/// A one-way switch that tasks can wait on: set by Ctrl-C, or by an authentication failure.
#[derive(Debug, Default)]
pub struct StopSignal {
    set: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    pub fn new() -> Arc<StopSignal> {
        Arc::new(StopSignal::default())
    }
    pub fn stop(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    pub fn is_stopped(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
    /// Resolves once stopped.
    pub async fn stopped(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

struct Shared {
    client: Client,
    options: ApplyOptions,
    limiter: Mutex<AdaptiveRate>,
    rng: Mutex<StdRng>,
    interrupt: Arc<StopSignal>,
    /// Set on a 401: no further call of any kind.
    auth_failed: StopSignal,
    auth_reason: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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

/// Why a step that was not (or no longer) allowed to call stops.
enum Halt {
    Interrupted,
    AuthFailed(String),
}

impl Halt {
    fn why(&self) -> &str {
        match self {
            Halt::Interrupted => "interrupted",
            Halt::AuthFailed(reason) => reason,
        }
    }
}

impl Shared {
    fn halted(&self) -> Option<Halt> {
        if self.auth_failed.is_stopped() {
            let reason = lock(&self.auth_reason).clone().unwrap_or_default();
            return Some(Halt::AuthFailed(reason));
        }
        self.interrupt.is_stopped().then_some(Halt::Interrupted)
    }

    fn check(&self) -> Result<(), Halt> {
        self.halted().map_or(Ok(()), Err)
    }

    /// Sleeps `d`, or stops early, saying why, when the run is stopped.
    async fn sleep(&self, d: Duration) -> Result<(), Halt> {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.interrupt.stopped() => {}
            _ = self.auth_failed.stopped() => {}
        }
        self.check()
    }

    /// Waits for the rate limiter, or says why the run stopped meanwhile.
    async fn admit(&self) -> Result<(), Halt> {
        loop {
            self.check()?;
            let wait = lock(&self.limiter).try_acquire(Instant::now());
            match wait {
                None => return Ok(()),
                Some(d) => self.sleep(d).await?,
            }
        }
    }

    /// Feeds an answer (or its absence) to the rate limiter: a 429 slows it down.
    fn observe_result<T>(&self, sent_at: Instant, result: &Result<T, ApiError>) {
        let mut limiter = lock(&self.limiter);
        match result.as_ref().err().and_then(ApiError::http_failure) {
            Some(f) if f.status == 429 => {
                let named = named_limit(f.body.error_msg.as_deref().unwrap_or_default());
                limiter.on_throttled(Instant::now(), sent_at, named);
            }
            _ => limiter.on_success(Instant::now()),
        }
    }

    fn note_auth_failure(&self, e: &ApiError) {
        if e.status() == Some(401) {
            *lock(&self.auth_reason) = Some(format!("authentication failed: {e}"));
            self.auth_failed.stop();
        }
    }
}

/// The state of one step as it goes.
struct StepRun {
    step: DeleteStep,
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
        let why = halt.why();
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
}

/// Sends DELETEs for one pool until it is gone, blocked, or not worth another try.
async fn delete_until_settled(sh: &Shared, run: &mut StepRun) -> StepResult {
    let started = Instant::now();
    let mut last_error: Option<StepError> = None;
    loop {
        if let Err(halt) = sh.admit().await {
            return run.halted(halt, last_error);
        }
        run.attempts += 1;
        let sent_at = Instant::now();
        let result = sh.client.delete_pool(&run.step.pool().id).await;
        sh.observe_result(sent_at, &result);
        let error = match result {
            Ok(DeleteOutcome::Deleted { request_id }) => {
                return run.settled(Outcome::Deleted, request_id, None)
            }
            Ok(DeleteOutcome::AlreadyAbsent { failure }) => {
                let detail = if run.unanswered_before {
                    "an earlier attempt got no answer but was applied: the pool is gone".to_owned()
                } else {
                    format!("the pool was already gone (HTTP {})", failure.status)
                };
                return run.settled(Outcome::AlreadyAbsent, failure.request_id, Some(detail));
            }
            Ok(DeleteOutcome::Conflict(failure)) => {
                let message = format!("DELETE refused: {failure}");
                return run.finish(
                    Outcome::Blocked,
                    Some(step_error_of_failure(&failure, message)),
                    None,
                );
            }
            Err(e) => e,
        };
        sh.note_auth_failure(&error);
        let observed = match error.status() {
            Some(status) => Observed::Status(status),
            None if matches!(error, ApiError::Transport { .. }) => Observed::Transport,
            // An unreadable or oversized answer: the server did answer; do not guess.
            None => Observed::Status(0),
        };
        run.unanswered_before |= observed == Observed::Transport;
        let retry_after = error.retry_after();
        last_error = Some(step_error(&error));
        let decision = {
            let mut rng = lock(&sh.rng);
            sh.options.retry.decide(
                run.attempts,
                observed,
                retry_after,
                started.elapsed(),
                &mut *rng,
            )
        };
        match decision {
            Decision::RetryAfter(delay) => {
                tracing::debug!(pool = %run.step.pool().id, attempt = run.attempts, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
                if let Err(halt) = sh.sleep(delay).await {
                    return run.halted(halt, last_error);
                }
            }
            Decision::GiveUp(why) => {
                let detail = format!(
                    "gave up after {} attempt{}: {}",
                    run.attempts,
                    if run.attempts == 1 { "" } else { "s" },
                    why.describe()
                );
                if run.unanswered_before {
                    return settle_unanswered(sh, run, last_error, detail).await;
                }
                return run.finish(Outcome::Failed, last_error, Some(detail));
            }
        }
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
    if sh.admit().await.is_err() {
        return run.finish(
            Outcome::Failed,
            last_error,
            Some(format!(
                "{detail}; whether an unanswered attempt was applied is unknown"
            )),
        );
    }
    let sent_at = Instant::now();
    let shown = sh.client.show_pool(&run.step.pool().id).await;
    sh.observe_result(sent_at, &shown);
    match shown {
        Ok(None) => run.finish(
            Outcome::AlreadyAbsent,
            None,
            Some(format!(
                "{detail}, but an unanswered attempt was applied: the pool is gone"
            )),
        ),
        Ok(Some(_)) => run.finish(
            Outcome::Failed,
            last_error,
            Some(format!("{detail}; the pool still exists")),
        ),
        Err(e) => {
            sh.note_auth_failure(&e);
            run.finish(
                Outcome::Failed,
                last_error,
                Some(format!(
                    "{detail}; whether an unanswered attempt was applied is unknown ({e})"
                )),
            )
        }
    }
}

/// Names up to five desktops that keep a pool from being deleted.
async fn explain_blocked(sh: &Shared, result: &mut StepResult) {
    if sh.admit().await.is_err() {
        return;
    }
    let sent_at = Instant::now();
    let listed = sh
        .client
        .list_pool_desktops(&result.pool.id, DESKTOPS_SHOWN)
        .await;
    sh.observe_result(sent_at, &listed);
    match listed {
        Ok((total, desktops)) => {
            result.detail = Some(describe_desktops(total, &desktops));
            result.desktops = desktops;
        }
        Err(e) => {
            sh.note_auth_failure(&e);
            result.detail = Some(format!("could not list its desktops: {e}"));
        }
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
    let mut result = delete_until_settled(&sh, &mut run).await;
    if result.outcome == Outcome::Blocked {
        explain_blocked(&sh, &mut result).await;
    }
    (run, result)
}

/// Re-checks a blocked pool until it is empty (then deletes it) or gone, or time runs out.
async fn wait_until_clear(
    sh: Arc<Shared>,
    calls: Arc<Semaphore>,
    mut run: StepRun,
    mut result: StepResult,
    deadline: Instant,
) -> StepResult {
    let mut poll = sh.options.wait_poll;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sh.sleep(poll.min(left)).await.is_err() {
            let waited = if left.is_zero() {
                "still blocked when --wait-blocked ran out"
            } else {
                "stopped while waiting"
            };
            result.detail = Some(match result.detail.take() {
                Some(d) => format!("{d}; {waited}"),
                None => waited.to_owned(),
            });
            return result;
        }
        poll = (poll * 2).min(MAX_WAIT_POLL);
        let Ok(_permit) = calls.acquire().await else {
            return result;
        };
        if sh.admit().await.is_err() {
            continue;
        }
        let sent_at = Instant::now();
        let shown = sh.client.show_pool(&run.step.pool().id).await;
        sh.observe_result(sent_at, &shown);
        match shown {
            Ok(None) => {
                return run.finish(
                    Outcome::AlreadyAbsent,
                    None,
                    Some("deleted by someone else while blocked".into()),
                );
            }
            Ok(Some(pool)) if pool.desktop_count == 0 => {
                let attempts_before = run.attempts;
                let next = delete_until_settled(&sh, &mut run).await;
                tracing::debug!(pool = %pool.id, attempts = run.attempts - attempts_before, outcome = next.outcome.label(), "re-tried a blocked pool");
                if next.outcome != Outcome::Blocked {
                    return next;
                }
                result = next;
            }
            Ok(Some(pool)) => {
                result.detail = Some(format!("waiting: {} desktops remain", pool.desktop_count));
            }
            Err(e) => sh.note_auth_failure(&e),
        }
    }
}

/// Applies `steps` and reports every one of them. `on_done` sees each result as it is final.
pub async fn apply(
    client: &Client,
    steps: Vec<DeleteStep>,
    options: &ApplyOptions,
    interrupt: Arc<StopSignal>,
    on_done: impl Fn(&StepResult),
) -> Report {
    let sh = Arc::new(Shared {
        client: client.clone(),
        options: options.clone(),
        limiter: Mutex::new(AdaptiveRate::new(options.rate_ceiling, Instant::now())),
        rng: Mutex::new(StdRng::seed_from_u64(options.seed)),
        interrupt,
        auth_failed: StopSignal::default(),
        auth_reason: Mutex::new(None),
    });
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
        let deadline = Instant::now() + wait;
        let calls = Arc::new(Semaphore::new(options.parallelism.max(1)));
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
    }
    let not_started = format!(
        "not started: {}",
        sh.halted().unwrap_or(Halt::Interrupted).why()
    );
    let all: Vec<StepResult> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                let skipped = unfinished(i, Outcome::Skipped, not_started.clone());
                on_done(&skipped);
                skipped
            })
        })
        .collect();
    let stopped = lock(&sh.auth_reason).clone();
    Report::new(all, sh.interrupt.is_stopped(), stopped)
}

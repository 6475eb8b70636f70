//! Runs a plan's delete steps: concurrently (bounded), under an adaptive rate limit, retrying
//! what is worth retrying, reporting refusals as blocked, accounting for every step; then
//! verifies with a listing that every pool reported gone is gone.
//!
//! "Gone" is only ever reported on the API's word: a DELETE answered 2xx, a 404 with a
//! Workspace error code, or a read that finds no such pool; and then confirmed by the
//! verification listing. No DELETE is sent on a judgement older than five minutes
//! ([`judgement`]).
//!
//! In phases: the steps run ([`step`]); blocked pools are waited on ([`wait`]); the results
//! are verified ([`verify`]).

mod absent;
mod calls;
mod judgement;
mod observer;
mod options;
mod run;
mod shared;
mod step;
mod verify;
mod wait;

pub use crate::api::StopSignal;
use crate::api::{Client, Deleter, Halt};
use crate::core::model::PoolRef;
use crate::core::plan::DeleteStep;
use crate::core::report::{ActedAs, Outcome, ProjectReport, StepResult};
pub use absent::{confirm_gone, AbsentError, MAX_ABSENT};
pub use judgement::Judge;
use judgement::Judgements;
pub use observer::{Observer, Tee, Unobserved};
pub use options::{ApplyOptions, DEFAULT_PARALLELISM, MAX_JUDGEMENT_AGE};
use run::StepRun;
use shared::Shared;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use step::run_step;
use tokio::task::JoinSet;

/// What the applier works on, in one project.
pub struct Work {
    /// The project's label, in a file with `projects:`.
    pub label: Option<String>,
    /// The deletes to send.
    pub steps: Vec<DeleteStep>,
    /// Steps already settled before the run (planned pools confirmed gone before it): reported,
    /// not verified (the run did not see them go).
    pub settled: Vec<StepResult>,
    /// The config the steps were judged by, to judge them again.
    pub judge: Judge,
    /// When the listing the steps were judged on was asked for.
    pub judged_at: Instant,
}

impl Work {
    /// Steps judged just now by `judge`, in a file of one project.
    pub fn new(steps: Vec<DeleteStep>, judge: Judge) -> Work {
        Work {
            label: None,
            steps,
            settled: Vec::new(),
            judge,
            judged_at: Instant::now(),
        }
    }
}

/// The steps' results so far (indexed like the steps), and the blocked ones to wait on.
struct Ran {
    results: Vec<Option<StepResult>>,
    blocked: Vec<(usize, StepRun, StepResult)>,
}

/// What the step loop waits for next.
enum Next {
    /// A slot of the project's parallelism is free: the next step may start.
    Slot(tokio::sync::OwnedSemaphorePermit),
    /// One of this project's steps ended (its slot given back once its result is taken).
    Done(Box<Result<(tokio::task::Id, Ended), tokio::task::JoinError>>),
    /// The run stopped: nothing more starts.
    Stopped,
}

/// A step's task, ended: its run, its result, and its slot of the project's parallelism.
type Ended = ((StepRun, StepResult), tokio::sync::OwnedSemaphorePermit);

/// Runs every step, `--parallelism` at a time, until each is settled or the run stops; blocked
/// steps are set aside when they are to be waited on. The calls of every project's steps
/// together are bounded by the run's call slots, held only while a call is in flight: a
/// project waiting on its throttled rate limiter or a retry's pause holds none of them.
async fn run_steps(sh: &Arc<Shared>, steps: Vec<DeleteStep>, judged_at: Instant) -> Ran {
    let waiting = sh.options.wait_blocked.is_some();
    let total = steps.len();
    let mut ran = Ran {
        results: vec![None; total],
        blocked: Vec::new(),
    };
    let pools: Vec<PoolRef> = steps.iter().map(|s| s.pool().clone()).collect();
    let mut running = JoinSet::new();
    let mut index_of = HashMap::new();
    let mut pending = steps.into_iter().enumerate().peekable();
    let slots = Arc::new(tokio::sync::Semaphore::new(sh.options.parallelism.max(1)));
    loop {
        let next = if pending.peek().is_some() && sh.halted().is_none() {
            tokio::select! {
                biased;
                Some(done) = running.join_next_with_id() => Next::Done(Box::new(done)),
                permit = slots.clone().acquire_owned() => permit.map_or(Next::Stopped, Next::Slot),
                () = sh.client.pacer().stopped() => Next::Stopped,
            }
        } else {
            match running.join_next_with_id().await {
                Some(done) => Next::Done(Box::new(done)),
                None => break,
            }
        };
        let done = match next {
            Next::Slot(permit) => {
                if let Some((i, step)) = pending.next() {
                    let step = run_step(sh.clone(), step, judged_at);
                    let handle = running.spawn(async move { (step.await, permit) });
                    index_of.insert(handle.id(), i);
                }
                continue;
            }
            Next::Stopped => continue,
            Next::Done(done) => *done,
        };
        // The slot is given back once the result is said: with one slot, steps follow each
        // other in order.
        let mut slot = None;
        let (i, result) = match done {
            Ok((id, ((run, result), permit))) => {
                slot = Some(permit);
                let i = index_of[&id];
                if waiting && result.outcome == Outcome::Blocked && sh.halted().is_none() {
                    ran.blocked.push((i, run, result));
                    continue;
                }
                (i, result)
            }
            // A step's task died (a bug): the step is still reported, never lost.
            Err(e) => {
                let i = index_of[&e.id()];
                let failed = format!("internal error: {e}");
                (
                    i,
                    StepResult::without_call(pools[i].clone(), Outcome::Failed, failed),
                )
            }
        };
        sh.observer.step_finished(&result);
        ran.results[i] = Some(result);
        drop(slot);
    }
    ran
}

/// Says the pools still waited on every second while the wait lasts (the display decides how
/// often to show it).
fn tick_while_waiting(sh: &Arc<Shared>, deadline: Instant) -> tokio::task::JoinHandle<()> {
    let sh = sh.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let pools = sh.still_waiting();
            if !pools.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                sh.observer.waiting(&pools, left);
            }
        }
    })
}

/// `--wait-blocked`: waits on every blocked step at once (their reads in the run's call
/// slots) until `wait` has passed.
async fn wait_on_blocked(sh: &Arc<Shared>, ran: &mut Ran, pools: &[PoolRef], wait: Duration) {
    // Flags bound the wait (a day at most); a deadline past what the clock can hold is
    // simply never reached.
    let now = Instant::now();
    let deadline = now
        .checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(now);
    for (_, run, _) in &ran.blocked {
        sh.set_waiting(run.step.pool(), Some(run.step.pool().desktop_count));
    }
    sh.observer.wait_started(&sh.still_waiting(), wait);
    let ticker = tick_while_waiting(sh, deadline);
    let mut waiters = JoinSet::new();
    let mut index_of = HashMap::new();
    let mut fallback = HashMap::new();
    for (i, run, result) in std::mem::take(&mut ran.blocked) {
        fallback.insert(i, result.clone());
        let handle = waiters.spawn(wait::wait_until_clear(sh.clone(), run, result, deadline));
        index_of.insert(handle.id(), i);
    }
    while let Some(done) = waiters.join_next_with_id().await {
        let (i, result) = match done {
            Ok((id, result)) => (index_of[&id], result),
            // A waiter died (a bug): the step keeps the result it had.
            Err(e) => {
                let i = index_of[&e.id()];
                let result = fallback.remove(&i).unwrap_or_else(|| {
                    let why = format!("internal error: {e}");
                    StepResult::without_call(pools[i].clone(), Outcome::Blocked, why)
                });
                (i, result)
            }
        };
        sh.observer.wait_ended(&result);
        sh.observer.step_finished(&result);
        ran.results[i] = Some(result);
    }
    ticker.abort();
}

/// Applies `work` and reports every step, telling `observer` as it goes: each result as it is
/// final (before the verification listing, which may still turn a claimed "gone" into a
/// failure), retries, the wait on blocked pools, and the verification.
pub async fn apply(
    client: &Deleter,
    work: Work,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
) -> ProjectReport {
    // At most one DELETE per pool is ever in flight: a pool is taken once.
    let mut taken = HashSet::new();
    let steps: Vec<DeleteStep> = work
        .steps
        .into_iter()
        .filter(|s| taken.insert(s.pool().id.clone()))
        .collect();
    let pools: Vec<PoolRef> = steps.iter().map(|s| s.pool().clone()).collect();
    let sh = Arc::new(Shared {
        client: client.clone(),
        options: options.clone(),
        judgements: Judgements::new(work.judge, options.max_judgement_age, pools.clone()),
        observer,
        waiting: std::sync::Mutex::new(HashMap::new()),
    });
    let mut ran = run_steps(&sh, steps, work.judged_at).await;
    if let Some(wait) = options.wait_blocked {
        wait_on_blocked(&sh, &mut ran, &pools, wait).await;
    }
    let not_started = format!(
        "not started: {}",
        sh.halted().unwrap_or(Halt::Interrupted).short()
    );
    let mut all: Vec<StepResult> = work.settled;
    all.extend(ran.results.into_iter().enumerate().map(|(i, r)| {
        r.unwrap_or_else(|| {
            let skipped =
                StepResult::without_call(pools[i].clone(), Outcome::Skipped, not_started.clone());
            sh.observer.step_finished(&skipped);
            skipped
        })
    }));
    finish(&sh, client, work.label, all, options).await
}

/// Verifies the results and makes the project's report.
async fn finish(
    sh: &Arc<Shared>,
    client: &Client,
    label: Option<String>,
    mut all: Vec<StepResult>,
    options: &ApplyOptions,
) -> ProjectReport {
    let claimed: Vec<usize> = (0..all.len()).filter(|i| all[*i].claims_gone()).collect();
    if !claimed.is_empty() {
        sh.observer.verifying(claimed.len());
    }
    let verification = verify::verify(sh, &mut all).await;
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
            .unwrap_or(crate::core::run_end::Signal::Interrupt)
    });
    let connection = client.connection();
    let acted_as = ActedAs {
        label,
        project_id: connection.project_id.clone(),
        endpoint: connection.endpoint_text(),
        identity: connection.identity.clone(),
    };
    ProjectReport {
        waited_for_blocked: options.wait_blocked.is_some(),
        ..ProjectReport::new(acted_as, all, signal, stopped, verification)
    }
}

//! Pacing of API calls: one adaptive rate limiter shared by every call of a run, the retry
//! policy (reads are retried by the client; DELETEs by the applier, with the same policy and
//! jitter), and the two ways a run stops: an interrupt, and an authentication failure, after
//! which no further call of any kind is made.

use super::run_share::{InFlight, RunLimits, RunShare};
use crate::core::ratelimit::{named_limit, AdaptiveRate};
use crate::core::retry::{Decision, Observed, RetryPolicy};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub use crate::core::run_end::Signal;

/// How a signal is kept in an atomic.
fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Interrupt => 1,
        Signal::Terminate => 2,
        Signal::Hangup => 3,
    }
}

fn signal_of(code: u8) -> Option<Signal> {
    match code {
        1 => Some(Signal::Interrupt),
        2 => Some(Signal::Terminate),
        3 => Some(Signal::Hangup),
        _ => None,
    }
}

/// A one-way switch that tasks can wait on: set by a signal, or by an authentication failure.
#[derive(Debug, Default)]
pub struct StopSignal {
    set: AtomicBool,
    /// The signal that set it, if one did.
    signal: AtomicU8,
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
    /// Stops for `signal`; the first signal is the one remembered.
    pub fn stop_for(&self, signal: Signal) {
        let _ = self.signal.compare_exchange(
            0,
            signal_code(signal),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.stop();
    }
    /// The signal that stopped the run, if one did.
    pub fn signal(&self) -> Option<Signal> {
        signal_of(self.signal.load(Ordering::SeqCst))
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

/// Why no further call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    Interrupted,
    AuthFailed(String),
}

impl Halt {
    /// The whole reason (the API's error, for an authentication failure).
    pub fn why(&self) -> &str {
        match self {
            Halt::Interrupted => "interrupted",
            Halt::AuthFailed(reason) => reason,
        }
    }

    /// The reason as each step not finished says it: the authentication error itself is said
    /// once, above the steps.
    pub fn short(&self) -> &'static str {
        match self {
            Halt::Interrupted => "interrupted",
            Halt::AuthFailed(_) => "authentication failed (above)",
        }
    }
}

/// What an attempt came back with, as pacing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// An HTTP answer, with the error message for a 429 (it may name the gateway's limit).
    Status(u16, &'a str),
    /// No answer: connection refused or broken, or a timeout.
    Transport,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pacing every call of one client (one project) goes through: its own adaptive limiter
/// beneath the run's ceiling.
#[derive(Debug)]
pub struct Pacer {
    limiter: Mutex<AdaptiveRate>,
    retry: RetryPolicy,
    rng: Mutex<StdRng>,
    interrupt: Arc<StopSignal>,
    auth: Arc<AuthStop>,
    /// The run's ceiling and its count of requests in flight.
    run: Arc<RunShare>,
}

/// The first authentication failure, shared by the pacers that stop on it.
#[derive(Debug, Default)]
pub struct AuthStop {
    signal: StopSignal,
    reason: Mutex<Option<String>>,
}

impl Pacer {
    pub fn new(
        rate_ceiling: f64,
        retry: RetryPolicy,
        seed: u64,
        interrupt: Arc<StopSignal>,
    ) -> Pacer {
        Pacer {
            limiter: Mutex::new(AdaptiveRate::new(rate_ceiling, Instant::now())),
            retry,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            interrupt,
            auth: Arc::default(),
            run: Arc::default(),
        }
    }

    /// Shares the run's limits with the other pacers of the run: its rate ceiling (set here
    /// when it is not yet) and its count of requests in flight.
    pub fn with_run(mut self, run: Arc<RunShare>, limits: &RunLimits) -> Pacer {
        run.set_limits(limits);
        self.run = run;
        self
    }

    /// Shares `auth` with other pacers: a 401 at any of them stops them all.
    pub fn with_auth_stop(mut self, auth: Arc<AuthStop>) -> Pacer {
        self.auth = auth;
        self
    }

    /// Marks a request in flight until the returned guard is dropped.
    pub fn sending(&self) -> InFlight<'_> {
        self.run.sending()
    }

    /// One of the run's call slots (see [`RunShare::call`]).
    pub async fn call_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.run.call().await
    }

    /// Requests of the whole run sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.run.in_flight()
    }

    /// The interrupt this run stops on (set by Ctrl-C and the like).
    pub fn interrupt(&self) -> &Arc<StopSignal> {
        &self.interrupt
    }

    /// Why calls may no longer be made, if they may not.
    pub fn halted(&self) -> Option<Halt> {
        if self.auth.signal.is_stopped() {
            let reason = lock(&self.auth.reason).clone().unwrap_or_default();
            return Some(Halt::AuthFailed(reason));
        }
        self.interrupt.is_stopped().then_some(Halt::Interrupted)
    }

    fn check(&self) -> Result<(), Halt> {
        self.halted().map_or(Ok(()), Err)
    }

    /// Resolves once the run is stopped, either way.
    pub async fn stopped(&self) {
        tokio::select! {
            _ = self.interrupt.stopped() => {}
            _ = self.auth.signal.stopped() => {}
        }
    }

    /// Sleeps `d`, or stops early, saying why, when the run is stopped.
    pub async fn sleep(&self, d: Duration) -> Result<(), Halt> {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.stopped() => {}
        }
        self.check()
    }

    /// Waits for the rate limiter (this project's, then the run's ceiling), or says why the
    /// run stopped meanwhile.
    pub async fn admit(&self) -> Result<(), Halt> {
        loop {
            self.check()?;
            let wait = lock(&self.limiter).try_acquire(Instant::now());
            match wait {
                None => break,
                Some(d) => self.sleep(d).await?,
            }
        }
        loop {
            self.check()?;
            match self.run.try_admit() {
                None => return Ok(()),
                Some(d) => self.sleep(d).await?,
            }
        }
    }

    /// Feeds an attempt's answer to the rate limiter: a 429 slows it down; a 5xx or no answer
    /// at all is neither a success that grows the rate nor a throttle.
    pub fn observe(&self, sent_at: Instant, answer: Answer<'_>) {
        let mut limiter = lock(&self.limiter);
        match answer {
            Answer::Status(429, message) => {
                limiter.on_throttled(Instant::now(), sent_at, named_limit(message));
            }
            Answer::Status(s, _) if s >= 500 => {}
            Answer::Transport => {}
            Answer::Status(..) => limiter.on_success(Instant::now()),
        }
    }

    /// A 401: no further call of any kind, for the reason given.
    pub fn stop_on_auth_failure(&self, reason: String) {
        lock(&self.auth.reason).get_or_insert(reason);
        self.auth.signal.stop();
    }

    /// A jittered backoff delay after failed attempt `tries` (1-based), whatever the answer.
    pub fn backoff(&self, tries: u32) -> Duration {
        let mut rng = lock(&self.rng);
        self.retry.delay(tries, None, &mut *rng)
    }

    /// The retry policy the pacer applies.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// What to do after failed attempt `tries` (1-based) of one call, `elapsed` since its first.
    pub fn decide(
        &self,
        tries: u32,
        observed: Observed,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Decision {
        let mut rng = lock(&self.rng);
        self.retry
            .decide(tries, observed, retry_after, elapsed, &mut *rng)
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_auth_failure_or_an_interrupt_stops_every_later_call() {
        let interrupt = StopSignal::new();
        let pacer = Pacer::new(1000.0, RetryPolicy::default(), 1, interrupt.clone());
        assert!(pacer.admit().await.is_ok());
        pacer.stop_on_auth_failure("authentication failed: 401".into());
        pacer.stop_on_auth_failure("a later one".into());
        assert_eq!(
            pacer.admit().await,
            Err(Halt::AuthFailed("authentication failed: 401".into()))
        );
        let pacer = Pacer::new(1000.0, RetryPolicy::default(), 1, interrupt.clone());
        let sleeping = pacer.sleep(Duration::from_secs(3600));
        interrupt.stop();
        assert_eq!(sleeping.await, Err(Halt::Interrupted));
    }

    #[test]
    fn server_errors_and_silence_never_grow_the_rate() {
        let pacer = Pacer::new(100.0, RetryPolicy::default(), 1, StopSignal::new());
        let t = Instant::now();
        pacer.observe(t, Answer::Status(429, ""));
        let cut = lock(&pacer.limiter).rate();
        for _ in 0..100 {
            pacer.observe(t, Answer::Status(503, ""));
            pacer.observe(t, Answer::Transport);
        }
        assert_eq!(lock(&pacer.limiter).rate(), cut);
        pacer.observe(t, Answer::Status(200, ""));
        assert!(lock(&pacer.limiter).rate() > cut);
    }

    #[test]
    fn a_401_at_one_projects_pacer_stops_every_pacer_that_shares_its_auth_stop() {
        let shared: Arc<AuthStop> = Arc::default();
        let one = Pacer::new(100.0, RetryPolicy::default(), 1, StopSignal::new())
            .with_auth_stop(shared.clone());
        let other =
            Pacer::new(100.0, RetryPolicy::default(), 2, StopSignal::new()).with_auth_stop(shared);
        let alone = Pacer::new(100.0, RetryPolicy::default(), 3, StopSignal::new());
        one.stop_on_auth_failure("401 APIGW.0301".into());
        assert_eq!(
            other.halted(),
            Some(Halt::AuthFailed("401 APIGW.0301".into()))
        );
        assert_eq!(
            alone.halted(),
            None,
            "a pacer of another run is not stopped"
        );
    }
}

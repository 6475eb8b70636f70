//! How the steps of a run are paced and waited on: parallelism, the wait on blocked pools, the
//! verification listing, and the age limit of a judgement.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The DELETE calls (and, while waiting on blocked pools, the reads) a run may have in flight
/// at once: `--parallelism`, shared by every project of the run, so that one project may use
/// all of it and all of them together never more.
#[derive(Debug, Clone)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(n: usize) -> Slots {
        Slots(Arc::new(Semaphore::new(n.max(1))))
    }

    /// The semaphore the calls take a permit of.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.0
    }
}

/// DELETE calls in flight at once when `--parallelism` is not given.
pub const DEFAULT_PARALLELISM: usize = 8;

/// The oldest judgement a DELETE is sent on. May be shortened (for tests), never lengthened.
pub const MAX_JUDGEMENT_AGE: Duration = Duration::from_secs(5 * 60);

/// How the steps are run. Pacing (rate, retry policy, interrupt) is the client's.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// DELETE calls in flight at once, for the whole run.
    pub parallelism: Slots,
    /// Re-check blocked pools until this much time has passed, and delete them once empty.
    pub wait_blocked: Option<Duration>,
    /// The first pause between checks of a blocked pool (doubles, up to 30 s).
    pub wait_poll: Duration,
    /// How long the verification listing is polled for pools reported gone but still listed.
    pub verify_timeout: Duration,
    /// The first pause between verification listings (doubles, up to 10 s).
    pub verify_poll: Duration,
    /// The oldest judgement a DELETE is sent on (at most [`MAX_JUDGEMENT_AGE`]).
    pub max_judgement_age: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: Slots::new(DEFAULT_PARALLELISM),
            wait_blocked: None,
            wait_poll: Duration::from_secs(2),
            verify_timeout: Duration::from_secs(60),
            verify_poll: Duration::from_secs(1),
            max_judgement_age: MAX_JUDGEMENT_AGE,
        }
    }
}

//! How the steps of a run are paced and waited on: parallelism, the wait on blocked pools, the
//! verification listing, and the age limit of a judgement.

use std::time::Duration;

/// Steps of a project under way at once, and calls of the run in flight at once, when
/// `--parallelism` is not given.
pub use crate::api::options::DEFAULT_CALLS_AT_ONCE as DEFAULT_PARALLELISM;

/// The oldest judgement a DELETE is sent on. May be shortened (for tests), never lengthened.
pub const MAX_JUDGEMENT_AGE: Duration = Duration::from_secs(5 * 60);

/// How the steps are run. Pacing (rate, retry policy, interrupt) is the client's.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// A project's steps under way at once (`--parallelism`; with one, they follow each other
    /// in plan order). The calls in flight are bounded for the whole run by the client's
    /// call slots (`ClientOptions::calls_at_once`), taken only while a call is in flight.
    pub parallelism: usize,
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
            parallelism: DEFAULT_PARALLELISM,
            wait_blocked: None,
            wait_poll: Duration::from_secs(2),
            verify_timeout: Duration::from_secs(60),
            verify_poll: Duration::from_secs(1),
            max_judgement_age: MAX_JUDGEMENT_AGE,
        }
    }
}

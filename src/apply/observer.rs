//! What a run tells as it goes, for a progress display or `--format jsonl`.

use crate::core::model::PoolRef;
use crate::core::report::{StepError, StepResult, Verification};
use std::time::Duration;

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
    /// The steps' judgement is older than `max_age`: the project is listed again to renew it.
    fn rejudging(&self, _max_age: Duration) {}
    /// The verification listing starts, to confirm `claimed` pools gone.
    fn verifying(&self, _claimed: usize) {}
    /// The verification listing is over: `claimed` are the results that reported their pool
    /// gone, as they end (`verified`, or turned to failed when the pool is still listed).
    fn verified(&self, _claimed: &[StepResult], _verification: &Verification) {}
}

/// An observer that ignores everything.
pub struct Unobserved;

impl Observer for Unobserved {}

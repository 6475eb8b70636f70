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
    /// `--wait-blocked` starts: the blocked pools, with the desktops each holds, and how long
    /// the wait may last (`--wait-blocked`, as given).
    fn wait_started(&self, _pools: &[(PoolRef, u64)], _wait: Duration) {}
    /// `--wait-blocked`: the pools still waited on, with the desktops each holds, and the time
    /// left; said about once a second while the wait lasts.
    fn waiting(&self, _pools: &[(PoolRef, u64)], _left: Duration) {}
    /// The wait on one pool is over: its result says how (deleted once empty, gone, still
    /// blocked when the time ran out, interrupted, changed).
    fn wait_ended(&self, _result: &StepResult) {}
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

/// Two observers told everything, in turn (a progress display and `--format jsonl`, say).
pub struct Tee<A, B>(pub A, pub B);

impl<A: Observer, B: Observer> Observer for Tee<A, B> {
    fn step_started(&self, pool: &PoolRef) {
        self.0.step_started(pool);
        self.1.step_started(pool);
    }
    fn retry(&self, pool: &PoolRef, attempt: u32, delay: Duration, error: &StepError) {
        self.0.retry(pool, attempt, delay, error);
        self.1.retry(pool, attempt, delay, error);
    }
    fn step_finished(&self, result: &StepResult) {
        self.0.step_finished(result);
        self.1.step_finished(result);
    }
    fn wait_started(&self, pools: &[(PoolRef, u64)], wait: Duration) {
        self.0.wait_started(pools, wait);
        self.1.wait_started(pools, wait);
    }
    fn waiting(&self, pools: &[(PoolRef, u64)], left: Duration) {
        self.0.waiting(pools, left);
        self.1.waiting(pools, left);
    }
    fn wait_ended(&self, result: &StepResult) {
        self.0.wait_ended(result);
        self.1.wait_ended(result);
    }
    fn rejudging(&self, max_age: Duration) {
        self.0.rejudging(max_age);
        self.1.rejudging(max_age);
    }
    fn verifying(&self, claimed: usize) {
        self.0.verifying(claimed);
        self.1.verifying(claimed);
    }
    fn verified(&self, claimed: &[StepResult], verification: &Verification) {
        self.0.verified(claimed, verification);
        self.1.verified(claimed, verification);
    }
}

impl<O: Observer + ?Sized> Observer for std::sync::Arc<O> {
    fn step_started(&self, pool: &PoolRef) {
        (**self).step_started(pool);
    }
    fn retry(&self, pool: &PoolRef, attempt: u32, delay: Duration, error: &StepError) {
        (**self).retry(pool, attempt, delay, error);
    }
    fn step_finished(&self, result: &StepResult) {
        (**self).step_finished(result);
    }
    fn wait_started(&self, pools: &[(PoolRef, u64)], wait: Duration) {
        (**self).wait_started(pools, wait);
    }
    fn waiting(&self, pools: &[(PoolRef, u64)], left: Duration) {
        (**self).waiting(pools, left);
    }
    fn wait_ended(&self, result: &StepResult) {
        (**self).wait_ended(result);
    }
    fn rejudging(&self, max_age: Duration) {
        (**self).rejudging(max_age);
    }
    fn verifying(&self, claimed: usize) {
        (**self).verifying(claimed);
    }
    fn verified(&self, claimed: &[StepResult], verification: &Verification) {
        (**self).verified(claimed, verification);
    }
}

//! The events of an apply, as `apply --format jsonl` writes them, one a line: a plain value
//! (like the plan and the report) whose JSON Schema `poolform schema --for events` prints.

use crate::core::model::{PoolDesktop, PoolRef};
use crate::core::plan::Reason;
use crate::core::report::{Outcome, ReportSummary, StepError, Verification};
use serde::Serialize;

/// A pool waited on, with the desktops it holds.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Waited {
    pub pool: PoolRef,
    pub desktops: u64,
}

/// One event of `apply --format jsonl`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A pool the run will settle, before any DELETE: why it is planned, and whether it was
    /// gone before the run started (settled without a DELETE).
    Planned {
        pool: PoolRef,
        likely_blocked: bool,
        reason: Reason,
        /// With the reason `expired`: the keep entry or protect rule that expired, and when.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expired: Option<crate::core::plan::Expiry>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        absent_before_apply: bool,
    },
    /// Applying an announcement: an announced pool that is not deleted, and why (before any
    /// DELETE).
    Dropped {
        pool: PoolRef,
        reason: crate::core::narrowing::DropReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A pool's DELETE is about to be sent (again, after a wait).
    StepStarted { pool: PoolRef },
    /// A DELETE failed in a way worth another try, which starts after `delay_ms`.
    Retry {
        pool: PoolRef,
        attempt: u32,
        delay_ms: u64,
        error: StepError,
    },
    /// A pool's result is final, before verification.
    StepFinished {
        pool: PoolRef,
        outcome: Outcome,
        attempts: u32,
        error: Option<StepError>,
        request_id: Option<String>,
        detail: Option<String>,
        desktops: Vec<PoolDesktop>,
    },
    /// A pool's DELETE was refused while it holds desktops.
    Blocked {
        pool: PoolRef,
        error: Option<StepError>,
        detail: Option<String>,
        desktops: Vec<PoolDesktop>,
    },
    /// `--wait-blocked` starts: the pools waited on, for at most `wait_s` seconds.
    WaitStarted { wait_s: u64, pools: Vec<Waited> },
    /// The wait on one pool is over, and how.
    WaitEnded {
        pool: PoolRef,
        outcome: Outcome,
        detail: Option<String>,
    },
    /// The pools left are judged again on a fresh listing: their judgement is older than
    /// `max_age_s`.
    Rejudging { max_age_s: u64 },
    /// A pool reported gone, after the verification listing.
    Verified {
        pool: PoolRef,
        verified: bool,
        outcome: Outcome,
    },
    /// The end of one project's part (with `project`), or of the whole run (the last line).
    Summary {
        summary: ReportSummary,
        verification: Verification,
        /// `completed`, `blocked`, `failed`, `stopped_by_auth` or `interrupted`.
        end: String,
        exit_code: u8,
        interrupted: bool,
        signal: Option<String>,
        stopped: Option<String>,
    },
}

/// An event as a line carries it: `type` and `time` first.
#[derive(Serialize, schemars::JsonSchema)]
pub struct EventLine {
    /// When, RFC 3339 with milliseconds.
    pub time: String,
    /// The project's label, in a file with `projects:`; none on the run's own summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(flatten)]
    pub event: Event,
}

//! `apply --format jsonl`: one JSON object per line on stdout, written as it happens, for a
//! machine to follow a run (as Terraform's `-json`). Every object has `type` and `time` (RFC
//! 3339, milliseconds); those about one pool carry `pool`.
//!
//! | type | when | more fields |
//! |---|---|---|
//! | `planned` | once per pool the run will settle, before any DELETE | `likely_blocked`, `reason` |
//! | `step_started` | a pool's DELETE is about to be sent (again, after a wait) | |
//! | `retry` | a DELETE failed in a way worth another try | `attempt`, `delay_ms`, `error` |
//! | `step_finished` | a pool's result is final, before verification | `outcome`, `attempts`, `error`, `request_id`, `detail`, `desktops` |
//! | `rejudging` | the pools left are judged again on a fresh listing (their judgement aged) | `max_age_s` |
//! | `verified` | once per pool reported gone, after the verification listing | `verified`, `outcome` |
//! | `summary` | last | `summary`, `verification`, `end`, `exit_code`, `interrupted`, `signal`, `stopped` |

use crate::apply::Observer;
use crate::core::model::PoolRef;
use crate::core::plan::Change;
use crate::core::report::{Report, StepError, StepResult, Verification};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

/// Writes the events of one apply to stdout.
pub struct JsonLines;

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// One event on one line: `type` and `time` first, then `fields` (an object).
fn line(kind: &str, fields: Value) -> String {
    let fields = fields.to_string();
    let rest = fields
        .strip_prefix('{')
        .filter(|rest| *rest != "}")
        .map_or_else(|| "}".to_owned(), |rest| format!(",{rest}"));
    format!(
        "{{\"type\":{},\"time\":{}{rest}\n",
        json!(kind),
        json!(now())
    )
}

/// Writes one event.
fn emit(kind: &str, fields: Value) {
    crate::cli::output::stdout(&line(kind, fields));
}

/// Events written together, a block at a time (tens of thousands of `planned` events must not
/// cost a write each).
#[derive(Default)]
pub struct Batch(String);

/// A batch is written once it holds this much.
const BATCH_BYTES: usize = 256 * 1024;

impl Batch {
    fn push(&mut self, kind: &str, fields: Value) {
        self.0.push_str(&line(kind, fields));
        if self.0.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Writes what is held.
    pub fn flush(&mut self) {
        if !self.0.is_empty() {
            crate::cli::output::stdout(&std::mem::take(&mut self.0));
        }
    }

    /// A delete the run will send.
    pub fn planned(&mut self, change: &Change) {
        self.push(
            "planned",
            json!({"pool": change.pool, "likely_blocked": change.likely_blocked, "reason": change.reason}),
        );
    }

    /// A delete the run will send, known only by its pool.
    pub fn planned_pool(&mut self, pool: &PoolRef) {
        self.push(
            "planned",
            json!({"pool": pool, "likely_blocked": pool.desktop_count > 0, "reason": Value::Null}),
        );
    }

    /// A planned pool already settled before the run (gone before it started).
    pub fn planned_settled(&mut self, result: &StepResult) {
        self.push(
            "planned",
            json!({"pool": result.pool, "likely_blocked": false, "reason": result.detail}),
        );
    }
}

impl JsonLines {
    /// The end of the run: the report's summary and how it ended.
    pub fn summary(&self, report: &Report) {
        emit(
            "summary",
            json!({
                "summary": report.summary,
                "verification": report.verification,
                "end": report.end.name(),
                "exit_code": report.end.exit_code(),
                "interrupted": report.interrupted,
                "signal": report.signal.map(|s| s.name()),
                "stopped": report.stopped,
            }),
        );
    }
}

impl Observer for JsonLines {
    fn step_started(&self, pool: &PoolRef) {
        emit("step_started", json!({ "pool": pool }));
    }

    fn retry(&self, pool: &PoolRef, attempt: u32, delay: Duration, error: &StepError) {
        emit(
            "retry",
            json!({"pool": pool, "attempt": attempt, "delay_ms": delay.as_millis() as u64, "error": error}),
        );
    }

    fn step_finished(&self, r: &StepResult) {
        emit(
            "step_finished",
            json!({
                "pool": r.pool,
                "outcome": r.outcome,
                "attempts": r.attempts,
                "error": r.error,
                "request_id": r.request_id,
                "detail": r.detail,
                "desktops": r.desktops,
            }),
        );
    }

    fn rejudging(&self, max_age: Duration) {
        emit("rejudging", json!({"max_age_s": max_age.as_secs()}));
    }

    fn verified(&self, claimed: &[StepResult], _verification: &Verification) {
        for r in claimed {
            emit(
                "verified",
                json!({"pool": r.pool, "verified": r.verified, "outcome": r.outcome}),
            );
        }
    }
}

//! `apply --format jsonl`: one JSON object per line on stdout, written as it happens, for a
//! machine to follow a run (as Terraform's `-json`). Every object has `type` and `time` (RFC
//! 3339, milliseconds); those about one pool carry `pool`. [`Event`] is the one definition:
//! what is written, and the JSON Schema `poolform schema --for events` prints.
//!
//! | type | when | more fields |
//! |---|---|---|
//! | `planned` | once per pool the run will settle, before any DELETE | `likely_blocked`, `reason` |
//! | `step_started` | a pool's DELETE is about to be sent (again, after a wait) | |
//! | `retry` | a DELETE failed in a way worth another try | `attempt`, `delay_ms`, `error` |
//! | `step_finished` | a pool's result is final, before verification | `outcome`, `attempts`, `error`, `request_id`, `detail`, `desktops` |
//! | `blocked` | a pool's DELETE was refused while it holds desktops | `error`, `detail`, `desktops` |
//! | `wait_started` | `--wait-blocked` starts waiting on the blocked pools | `wait_s`, `pools` |
//! | `wait_ended` | the wait on one pool is over | `outcome`, `detail` |
//! | `rejudging` | the pools left are judged again on a fresh listing (their judgement aged) | `max_age_s` |
//! | `verified` | once per pool reported gone, after the verification listing | `verified`, `outcome` |
//! | `summary` | last | `summary`, `verification`, `end`, `exit_code`, `interrupted`, `signal`, `stopped` |

use crate::apply::Observer;
use crate::core::model::{PoolDesktop, PoolRef};
use crate::core::plan::Change;
use crate::core::report::{Outcome, Report, ReportSummary, StepError, StepResult, Verification};
use serde::Serialize;
use std::time::{Duration, SystemTime};

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
    /// A pool the run will settle, before any DELETE.
    Planned {
        pool: PoolRef,
        likely_blocked: bool,
        reason: Option<String>,
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
    /// The end of the run.
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
    /// The project's label, in a many-project run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(flatten)]
    pub event: Event,
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// One event on one line: `type` and `time` first, then the event's fields.
fn line(event: Event, project: Option<&str>) -> String {
    let fields = serde_json::to_string(&event).unwrap_or_else(|_| "{}".to_owned());
    // `{"type":"…",rest}` becomes `{"type":"…","time":"…",rest}` (and `"project"` after the
    // time, for one project of several).
    let mut time = serde_json::to_string(&now()).unwrap_or_default();
    if let Some(project) = project {
        time.push_str(",\"project\":");
        time.push_str(&serde_json::to_string(project).unwrap_or_default());
    }
    match fields.split_once(',') {
        Some((kind, rest)) => format!("{kind},\"time\":{time},{rest}\n"),
        None => format!("{},\"time\":{time}}}\n", fields.trim_end_matches('}')),
    }
}

impl JsonLines {
    /// The events of one project of a many-project file: each carries its label.
    pub fn for_project(label: &str) -> JsonLines {
        JsonLines {
            project: Some(label.to_owned()),
        }
    }

    /// Writes one event.
    fn emit(&self, event: Event) {
        crate::cli::output::stdout(&line(event, self.project.as_deref()));
    }
}

/// Events written together, a block at a time (tens of thousands of `planned` events must not
/// cost a write each).
#[derive(Default)]
pub struct Batch {
    text: String,
    /// The project's label, in a many-project run.
    project: Option<String>,
}

/// A batch is written once it holds this much.
const BATCH_BYTES: usize = 256 * 1024;

impl Batch {
    /// The events of one project of a many-project file: each carries its label.
    pub fn for_project(label: &str) -> Batch {
        Batch {
            text: String::new(),
            project: Some(label.to_owned()),
        }
    }

    fn push(&mut self, event: Event) {
        self.text.push_str(&line(event, self.project.as_deref()));
        if self.text.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Writes what is held.
    pub fn flush(&mut self) {
        if !self.text.is_empty() {
            crate::cli::output::stdout(&std::mem::take(&mut self.text));
        }
    }

    /// A delete the run will send.
    pub fn planned(&mut self, change: &Change) {
        self.push(Event::Planned {
            pool: change.pool.clone(),
            likely_blocked: change.likely_blocked,
            reason: Some(change.reason.to_string()),
        });
    }

    /// A delete the run will send, known only by its pool.
    pub fn planned_pool(&mut self, pool: &PoolRef) {
        self.push(Event::Planned {
            pool: pool.clone(),
            likely_blocked: pool.desktop_count > 0,
            reason: None,
        });
    }

    /// A planned pool already settled before the run (gone before it started).
    pub fn planned_settled(&mut self, result: &StepResult) {
        self.push(Event::Planned {
            pool: result.pool.clone(),
            likely_blocked: false,
            reason: result.detail.clone(),
        });
    }
}

/// Writes the events of one apply (or of one project's part of it) to stdout.
#[derive(Debug, Clone, Default)]
pub struct JsonLines {
    /// The project's label, in a many-project run.
    project: Option<String>,
}

impl JsonLines {
    /// The end of the run: the report's summary and how it ended.
    pub fn summary(&self, report: &Report) {
        self.emit(Event::Summary {
            summary: report.summary,
            verification: report.verification.clone(),
            end: report.end.name().to_owned(),
            exit_code: report.end.exit_code(),
            interrupted: report.interrupted,
            signal: report.signal.map(|s| s.name().to_owned()),
            stopped: report.stopped.clone(),
        });
    }
}

impl Observer for JsonLines {
    fn step_started(&self, pool: &PoolRef) {
        self.emit(Event::StepStarted { pool: pool.clone() });
    }

    fn retry(&self, pool: &PoolRef, attempt: u32, delay: Duration, error: &StepError) {
        self.emit(Event::Retry {
            pool: pool.clone(),
            attempt,
            delay_ms: delay.as_millis() as u64,
            error: error.clone(),
        });
    }

    fn step_finished(&self, r: &StepResult) {
        if r.outcome == Outcome::Blocked {
            self.emit(Event::Blocked {
                pool: r.pool.clone(),
                error: r.error.clone(),
                detail: r.detail.clone(),
                desktops: r.desktops.clone(),
            });
        }
        self.emit(Event::StepFinished {
            pool: r.pool.clone(),
            outcome: r.outcome,
            attempts: r.attempts,
            error: r.error.clone(),
            request_id: r.request_id.clone(),
            detail: r.detail.clone(),
            desktops: r.desktops.clone(),
        });
    }

    fn wait_started(&self, pools: &[(PoolRef, u64)], wait: Duration) {
        self.emit(Event::WaitStarted {
            wait_s: wait.as_secs(),
            pools: pools
                .iter()
                .map(|(pool, desktops)| Waited {
                    pool: pool.clone(),
                    desktops: *desktops,
                })
                .collect(),
        });
    }

    fn wait_ended(&self, r: &StepResult) {
        self.emit(Event::WaitEnded {
            pool: r.pool.clone(),
            outcome: r.outcome,
            detail: r.detail.clone(),
        });
    }

    fn rejudging(&self, max_age: Duration) {
        self.emit(Event::Rejudging {
            max_age_s: max_age.as_secs(),
        });
    }

    fn verified(&self, claimed: &[StepResult], _verification: &Verification) {
        for r in claimed {
            self.emit(Event::Verified {
                pool: r.pool.clone(),
                verified: r.verified,
                outcome: r.outcome,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starts_with_type_and_time() {
        let l = line(Event::Rejudging { max_age_s: 300 }, None);
        assert!(l.starts_with("{\"type\":\"rejudging\",\"time\":\""), "{l}");
        assert!(l.ends_with(",\"max_age_s\":300}\n"), "{l}");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["max_age_s"], 300);
    }
}

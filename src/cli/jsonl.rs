//! `apply --format jsonl`: one JSON object per line on stdout, written as it happens, for a
//! machine to follow a run (as Terraform's `-json`). Every object has `type` and `time` (RFC
//! 3339, milliseconds); those about one pool carry `pool`. The events themselves
//! (`core::events`) are the one definition: what is written, and the JSON Schema `poolform
//! schema --for events` prints.
//!
//! | type | when | more fields |
//! |---|---|---|
//! | `planned` | once per pool the run will settle, before any DELETE | `likely_blocked`, `reason` (a code), `absent_before_apply` |
//! | `step_started` | a pool's DELETE is about to be sent (again, after a wait) | |
//! | `retry` | a DELETE failed in a way worth another try | `attempt`, `delay_ms`, `error` |
//! | `step_finished` | a pool's result is final, before verification | `outcome`, `attempts`, `error`, `request_id`, `detail`, `desktops` |
//! | `blocked` | a pool's DELETE was refused while it holds desktops | `error`, `detail`, `desktops` |
//! | `wait_started` | `--wait-blocked` starts waiting on the blocked pools | `wait_s`, `pools` |
//! | `wait_ended` | the wait on one pool is over | `outcome`, `detail` |
//! | `rejudging` | the pools left are judged again on a fresh listing (their judgement aged) | `max_age_s` |
//! | `verified` | once per pool reported gone, after the verification listing | `verified`, `outcome` |
//! | `summary` | once per project of a file with `projects:` (with its `project`), then last, once, for the whole run (no `project`) | `summary`, `verification`, `end`, `exit_code`, `interrupted`, `signal`, `stopped` |
//!
//! In a run over a file with `projects:`, every event about a project carries its label as
//! `project`; the run's own summary, the last line, carries none.

use crate::apply::Observer;
use crate::core::events::{Event, Waited};
use crate::core::model::PoolRef;
use crate::core::plan::Change;
use crate::core::report::{Outcome, Report, StepError, StepResult, Verification};
use std::time::{Duration, SystemTime};

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
    /// The announced pools that are not deleted, each with its project's label, before any
    /// DELETE.
    pub fn dropped(dropped: &[crate::core::narrowing::Dropped]) {
        for d in dropped {
            let mut batch = Batch::of(d.label.as_deref());
            batch.push(Event::Dropped {
                pool: d.pool.clone(),
                reason: d.reason,
                detail: d.detail.clone(),
            });
            batch.flush();
        }
    }

    /// The events of a project labelled `label`, or of a file of one project.
    pub fn of(label: Option<&str>) -> JsonLines {
        JsonLines {
            project: label.map(str::to_owned),
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
    /// The events of a project labelled `label`, or of a file of one project.
    pub fn of(label: Option<&str>) -> Batch {
        Batch {
            text: String::new(),
            project: label.map(str::to_owned),
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

    /// A planned delete the run will send.
    pub fn planned(&mut self, change: &Change) {
        self.push(Event::Planned {
            pool: change.pool.clone(),
            likely_blocked: change.likely_blocked,
            reason: change.reason,
            expired: change.expired.clone(),
            absent_before_apply: false,
        });
    }

    /// A planned delete the run settles without a DELETE: the pool was gone before it started.
    pub fn planned_gone(&mut self, change: &Change) {
        self.push(Event::Planned {
            pool: change.pool.clone(),
            likely_blocked: false,
            reason: change.reason,
            expired: change.expired.clone(),
            absent_before_apply: true,
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
    /// The end of the run: in a run over several projects, each project's summary (with its
    /// label), then the run's own (no `project`), the last line.
    pub fn summaries(report: &Report) {
        let event = |summary, verification, end: crate::core::run_end::RunEnd| Event::Summary {
            summary,
            verification,
            end: end.name().to_owned(),
            exit_code: end.exit_code(),
            interrupted: report.interrupted,
            signal: report.signal.map(|s| s.name().to_owned()),
            stopped: report.stopped.clone(),
        };
        for part in report.projects.iter().filter(|_| report.projects.len() > 1) {
            let one = event(part.summary, part.verification.clone(), part.end);
            JsonLines::of(part.acted_as.label.as_deref()).emit(one);
        }
        let whole = event(report.summary, report.verification(), report.end);
        JsonLines::default().emit(whole);
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

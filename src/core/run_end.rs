//! How a run ended, and the exit code that says it: the one place that decides. Pure.
//!
//! | end | code |
//! |---|---|
//! | completed: in sync, done, every planned pool gone | 0 |
//! | drift (`plan --detailed-exitcode`) | 2 |
//! | blocked: apply finished, blocked steps remain, none failed | 2 |
//! | failed: an error, a refusal, a failed or unstarted step, an unverified "gone" | 1 |
//! | stopped by an authentication failure | 1 |
//! | interrupted by SIGINT, SIGTERM, SIGHUP | 130, 143, 129 |

use crate::core::report::Report;

/// The signals a run stops on, as CI runners and terminals send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// How GitLab and GitHub cancel a job.
    Terminate,
    /// The terminal went away.
    Hangup,
}

impl Signal {
    /// 128 + the signal's number, as a shell reports a process it ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Done: in sync, nothing to do, or every planned pool gone (and verified).
    Completed,
    /// `plan --detailed-exitcode`: something to delete, missing or drifted.
    Drift,
    /// Apply finished; blocked steps remain and none failed.
    Blocked,
    /// An error or a refusal, or a step failed or was not started, or a pool reported gone
    /// could not be verified.
    Failed,
    /// An authentication failure stopped every further call.
    StoppedByAuth,
    /// A signal stopped the run: in-flight calls finished, the rest not started.
    Interrupted(Signal),
}

impl RunEnd {
    /// The exit code: README's table, exhaustively.
    pub fn exit_code(self) -> u8 {
        match self {
            RunEnd::Completed => 0,
            RunEnd::Drift | RunEnd::Blocked => 2,
            RunEnd::Failed | RunEnd::StoppedByAuth => 1,
            RunEnd::Interrupted(signal) => signal.exit_code(),
        }
    }

    /// How an apply ended, from its report and the signal that stopped it (if one did): a
    /// signal first, then an authentication failure, then any failure, then blocked steps.
    pub fn of_apply(report: &Report, signal: Option<Signal>) -> RunEnd {
        let s = &report.summary;
        if let Some(signal) = signal {
            RunEnd::Interrupted(signal)
        } else if report.stopped.is_some() {
            RunEnd::StoppedByAuth
        } else if s.failed > 0 || s.skipped > 0 || report.unverified() > 0 {
            RunEnd::Failed
        } else if s.blocked > 0 {
            RunEnd::Blocked
        } else {
            RunEnd::Completed
        }
    }

    /// The name the JSON report gives it.
    pub fn name(self) -> &'static str {
        match self {
            RunEnd::Completed => "completed",
            RunEnd::Drift => "drift",
            RunEnd::Blocked => "blocked",
            RunEnd::Failed => "failed",
            RunEnd::StoppedByAuth => "stopped_by_auth",
            RunEnd::Interrupted(_) => "interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Pool, PoolId, PoolRef};
    use crate::core::report::{Outcome, StepResult, Verification};

    fn step(n: usize, outcome: Outcome, verified: bool) -> StepResult {
        StepResult {
            verified,
            attempts: 1,
            ..StepResult::without_call(
                PoolRef::of(&Pool::new(
                    PoolId::parse(&format!("p-{n}")).unwrap(),
                    format!("ci-{n}"),
                )),
                outcome,
                String::new(),
            )
        }
    }

    /// Every combination that matters, against README's exit-code table.
    #[test]
    fn every_combination_maps_to_the_documented_exit_code() {
        use Outcome::*;
        let auth = Some("HTTP 401 APIGW.0301");
        let int = Some(Signal::Interrupt);
        let term = Some(Signal::Terminate);
        let hup = Some(Signal::Hangup);
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<Outcome>, bool, Option<&str>, Option<Signal>, RunEnd, u8)> = vec![
            ("nothing to do", vec![], true, None, None, RunEnd::Completed, 0),
            ("all deleted", vec![Deleted, AlreadyAbsent], true, None, None, RunEnd::Completed, 0),
            ("deleted, unverified", vec![Deleted], false, None, None, RunEnd::Failed, 1),
            ("blocked only", vec![Blocked], true, None, None, RunEnd::Blocked, 2),
            ("deleted + blocked", vec![Deleted, Blocked], true, None, None, RunEnd::Blocked, 2),
            ("blocked + failed", vec![Blocked, Failed], true, None, None, RunEnd::Failed, 1),
            ("failed only", vec![Failed], true, None, None, RunEnd::Failed, 1),
            ("skipped without a cause", vec![Deleted, Skipped], true, None, None, RunEnd::Failed, 1),
            ("stopped by auth + blocked", vec![Blocked, Skipped], true, auth, None, RunEnd::StoppedByAuth, 1),
            ("stopped by auth, a read failed, nothing else", vec![Blocked], true, auth, None, RunEnd::StoppedByAuth, 1),
            ("stopped by auth, zero steps", vec![], true, auth, None, RunEnd::StoppedByAuth, 1),
            ("interrupted with zero steps", vec![], true, None, int, RunEnd::Interrupted(Signal::Interrupt), 130),
            ("interrupted + blocked", vec![Deleted, Blocked, Skipped], true, None, int, RunEnd::Interrupted(Signal::Interrupt), 130),
            ("interrupted + failed", vec![Failed, Skipped], true, None, int, RunEnd::Interrupted(Signal::Interrupt), 130),
            ("interrupted + stopped by auth", vec![Skipped], true, auth, int, RunEnd::Interrupted(Signal::Interrupt), 130),
            ("SIGTERM", vec![Deleted, Skipped], true, None, term, RunEnd::Interrupted(Signal::Terminate), 143),
            ("SIGHUP", vec![Deleted, Skipped], true, None, hup, RunEnd::Interrupted(Signal::Hangup), 129),
        ];
        for (what, outcomes, verified, stopped, signal, want, code) in cases {
            let results: Vec<StepResult> = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| step(i, *o, verified && matches!(o, Deleted | AlreadyAbsent)))
                .collect();
            let report = Report::new(
                results,
                signal,
                stopped.map(str::to_owned),
                Verification::default(),
            );
            let end = RunEnd::of_apply(&report, signal);
            assert_eq!((end, end.exit_code()), (want, code), "{what}");
        }
        assert_eq!(RunEnd::Drift.exit_code(), 2);
        assert_eq!(RunEnd::Completed.exit_code(), 0);
    }
}

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

/// What decides how an apply ended, as its report counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyCounts {
    pub failed: usize,
    pub skipped: usize,
    /// Pools reported gone that no listing confirmed gone.
    pub unverified: usize,
    pub blocked: usize,
    /// An authentication failure stopped every further call.
    pub stopped_by_auth: bool,
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

    /// How an apply ended, from what its report counts and the signal that stopped it (if one
    /// did): a signal first, then an authentication failure, then any failure, then blocked
    /// steps.
    pub fn of_apply(counts: ApplyCounts, signal: Option<Signal>) -> RunEnd {
        if let Some(signal) = signal {
            RunEnd::Interrupted(signal)
        } else if counts.stopped_by_auth {
            RunEnd::StoppedByAuth
        } else if counts.failed > 0 || counts.skipped > 0 || counts.unverified > 0 {
            RunEnd::Failed
        } else if counts.blocked > 0 {
            RunEnd::Blocked
        } else {
            RunEnd::Completed
        }
    }

    /// How bad an end is, for [`RunEnd::worst`]: a signal, then an authentication stop, then
    /// an error, then blocked or drift, then in sync. Never the exit code's numeric order (2
    /// must not hide 1).
    fn severity(self) -> u8 {
        match self {
            RunEnd::Completed => 0,
            RunEnd::Drift => 1,
            RunEnd::Blocked => 2,
            RunEnd::Failed => 3,
            RunEnd::StoppedByAuth => 4,
            RunEnd::Interrupted(_) => 5,
        }
    }

    /// The worse of two ends (the first on a tie): how a run over several projects ends.
    pub fn worst(self, other: RunEnd) -> RunEnd {
        if other.severity() > self.severity() {
            other
        } else {
            self
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
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn every_end_has_its_documented_exit_code() {
        for (end, code) in [
            (RunEnd::Completed, 0),
            (RunEnd::Drift, 2),
            (RunEnd::Blocked, 2),
            (RunEnd::Failed, 1),
            (RunEnd::StoppedByAuth, 1),
            (RunEnd::Interrupted(Signal::Interrupt), 130),
            (RunEnd::Interrupted(Signal::Terminate), 143),
            (RunEnd::Interrupted(Signal::Hangup), 129),
        ] {
            assert_eq!(end.exit_code(), code, "{end:?}");
        }
    }

    #[test]
    fn the_worst_of_several_ends_never_hides_an_error_behind_drift() {
        let int = RunEnd::Interrupted(Signal::Terminate);
        for (ends, want) in [
            (
                vec![RunEnd::Completed, RunEnd::Completed],
                RunEnd::Completed,
            ),
            (vec![RunEnd::Completed, RunEnd::Drift], RunEnd::Drift),
            (
                vec![RunEnd::Drift, RunEnd::Failed, RunEnd::Drift],
                RunEnd::Failed,
            ),
            (vec![RunEnd::Blocked, RunEnd::Completed], RunEnd::Blocked),
            (
                vec![RunEnd::Failed, RunEnd::StoppedByAuth],
                RunEnd::StoppedByAuth,
            ),
            (vec![RunEnd::StoppedByAuth, int, RunEnd::Failed], int),
        ] {
            let worst = ends.iter().copied().fold(RunEnd::Completed, RunEnd::worst);
            assert_eq!(worst, want, "{ends:?}");
        }
    }
}

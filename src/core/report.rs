//! What an apply did: one result per step (deleted, already absent, blocked, failed, skipped),
//! the summary, and the exit code it implies.

use crate::core::model::{PoolDesktop, PoolRef};
use crate::core::run_end::{RunEnd, Signal};
use serde::{Deserialize, Serialize};

/// Version of the JSON report format: 2 gave one shape to reports of one and of many projects
/// (a `projects` list, one entry without a label for a file of one project).
pub const REPORT_FORMAT_VERSION: u32 = 2;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Deleted,
    AlreadyAbsent,
    Blocked,
    Failed,
    Skipped,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::AlreadyAbsent => "already absent",
            Outcome::Blocked => "blocked",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The API's answer that decided a step, as support will want it. The API's message is kept
/// once, in `error_msg` (bounded by the decoder); `message` holds poolform's words around it,
/// and [`StepError::text`] puts the two together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepError {
    pub status: Option<u16>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<String>,
    pub request_id: Option<String>,
    /// poolform's words: the whole error when the API gave no message, else what it was
    /// doing (`DELETE refused`).
    pub message: String,
}

impl StepError {
    /// The whole error, in words: `DELETE refused: HTTP 409 WKS.0001: msg (detail) [request
    /// id: r]`.
    pub fn text(&self) -> String {
        let Some(msg) = &self.error_msg else {
            return self.message.clone();
        };
        let mut out = format!("{}: ", self.message);
        if let Some(status) = self.status {
            out.push_str(&format!("HTTP {status}"));
        }
        if let Some(code) = &self.error_code {
            out.push_str(&format!(" {code}"));
        }
        out.push_str(&format!(": {msg}"));
        if let Some(detail) = &self.error_detail {
            out.push_str(&format!(" ({detail})"));
        }
        out.push_str(&format!(
            " [request id: {}]",
            self.request_id.as_deref().unwrap_or("none")
        ));
        out
    }

    /// The error that stopped the run (an authentication failure, said once above the steps):
    /// each step it stopped refers to it by status, code and request id only.
    pub fn stopped_the_run(&self) -> bool {
        self.status == Some(401)
    }

    /// `HTTP 401 APIGW.0301 [request id: ...]: authentication failed (above)`.
    pub fn as_auth_failure(&self) -> String {
        let mut out = String::from("authentication failed (above)");
        if let Some(status) = self.status {
            out = format!(
                "HTTP {status}{}: {out}",
                self.error_code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            );
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!(" [request id: {id}]"));
        }
        out
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepResult {
    pub pool: PoolRef,
    pub outcome: Outcome,
    /// DELETE requests sent for this pool.
    pub attempts: u32,
    pub error: Option<StepError>,
    /// The `X-Request-Id` of the answer that settled the step, for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Why, in words, when the outcome alone does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a blocked pool: some of the desktops that remain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub desktops: Vec<PoolDesktop>,
    /// For a pool reported gone: a listing after the deletes no longer showed it.
    #[serde(default)]
    pub verified: bool,
    /// Gone before this apply started (not listed, and a read confirmed it): settled without
    /// a DELETE, and never "verified" by the final listing, which did not see it go.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent_before_apply: bool,
}

impl StepResult {
    /// A step settled without a DELETE of its own: gone before the run, not started, or lost.
    pub fn without_call(pool: PoolRef, outcome: Outcome, detail: String) -> StepResult {
        StepResult {
            pool,
            outcome,
            attempts: 0,
            error: None,
            request_id: None,
            detail: Some(detail),
            desktops: Vec::new(),
            verified: false,
            absent_before_apply: false,
        }
    }

    /// Deleted or already absent during this run: what the verification listing must confirm.
    /// A pool absent before the run is not claimed gone by it.
    pub fn claims_gone(&self) -> bool {
        matches!(self.outcome, Outcome::Deleted | Outcome::AlreadyAbsent)
            && !self.absent_before_apply
    }

    /// Adds a sentence to the detail.
    pub fn note(&mut self, more: &str) {
        self.detail = Some(match self.detail.take() {
            Some(d) => format!("{d}; {more}"),
            None => more.to_owned(),
        });
    }
}

/// What the verification listing after the deletes found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verification {
    /// Pools reported gone (deleted or already absent) before the verification.
    pub claimed: usize,
    /// Of those, the ones a listing no longer showed.
    pub verified: usize,
    /// Why the verification could not be finished, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ReportSummary {
    pub deleted: usize,
    pub already_absent: usize,
    pub blocked: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl std::ops::Add for ReportSummary {
    type Output = ReportSummary;
    fn add(self, o: ReportSummary) -> ReportSummary {
        ReportSummary {
            deleted: self.deleted + o.deleted,
            already_absent: self.already_absent + o.already_absent,
            blocked: self.blocked + o.blocked,
            failed: self.failed + o.failed,
            skipped: self.skipped + o.skipped,
        }
    }
}

impl std::iter::Sum for ReportSummary {
    fn sum<I: Iterator<Item = ReportSummary>>(iter: I) -> ReportSummary {
        iter.fold(ReportSummary::default(), |a, b| a + b)
    }
}

impl ReportSummary {
    /// The one place results are counted.
    fn count(results: &[StepResult]) -> ReportSummary {
        let mut summary = ReportSummary::default();
        for r in results {
            *match r.outcome {
                Outcome::Deleted => &mut summary.deleted,
                Outcome::AlreadyAbsent => &mut summary.already_absent,
                Outcome::Blocked => &mut summary.blocked,
                Outcome::Failed => &mut summary.failed,
                Outcome::Skipped => &mut summary.skipped,
            } += 1;
        }
        summary
    }
}

/// Where and as whom one project's deletes were sent: the facts of its identity line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ActedAs {
    /// The project's label, in a file with `projects:`; null in a file of one project.
    pub label: Option<String>,
    pub project_id: crate::core::model::ProjectId,
    pub endpoint: String,
    pub identity: crate::core::plan::Identity,
}

/// What an apply did in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProjectReport {
    #[serde(flatten)]
    pub acted_as: ActedAs,
    pub summary: ReportSummary,
    /// How the project's part ended: `completed`, `blocked`, `failed`, `stopped_by_auth` or
    /// `interrupted`.
    #[serde(serialize_with = "end_name")]
    #[schemars(with = "EndName")]
    pub end: RunEnd,
    pub results: Vec<StepResult>,
    pub verification: Verification,
    /// The signal that stopped the run, if one did (said once, for the run).
    #[serde(skip)]
    pub signal: Option<Signal>,
    /// Why the run stopped early (an authentication failure), if it did (said once, for the
    /// run).
    #[serde(skip)]
    pub stopped: Option<String>,
    /// Blocked pools were waited on (`--wait-blocked`): the report's advice differs.
    #[serde(skip)]
    pub waited_for_blocked: bool,
}

/// What an apply did: every project's part, the counts added up, and how the whole run ended
/// (the worst of the projects, in `RunEnd`'s order). A file of one project is a report of one
/// part without a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub format_version: u32,
    /// Every project's counts added up.
    pub summary: ReportSummary,
    /// How the run ended (the exit code follows from it): `completed`, `blocked`, `failed`,
    /// `stopped_by_auth` or `interrupted`.
    #[serde(serialize_with = "end_name")]
    #[schemars(with = "EndName")]
    pub end: RunEnd,
    /// A signal stopped the run.
    pub interrupted: bool,
    /// Which signal (`SIGINT`, `SIGTERM`, `SIGHUP`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "signal_name"
    )]
    #[schemars(with = "Option<SignalName>")]
    pub signal: Option<Signal>,
    /// Why the run stopped early (an authentication failure), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub projects: Vec<ProjectReport>,
    /// The announcement applied (`apply FILE` of a plan made with `plan --notice`): its dates,
    /// and the announced pools it did not delete, with why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<AnnouncementApplied>,
}

/// What a report says of the announcement it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AnnouncementApplied {
    pub notice: crate::core::time::Span,
    pub announced_at: crate::core::time::Instant,
    pub not_before: crate::core::time::Instant,
    pub valid_until: crate::core::time::Instant,
    /// The announced pools not deleted, and why (gone before this apply, kept by the config
    /// now, another pool under the id, project no longer in the file), by project label, then
    /// pool name and id.
    pub dropped: Vec<crate::core::narrowing::Dropped>,
}

impl AnnouncementApplied {
    pub fn new(
        a: &crate::core::announcement::Announcement,
        mut dropped: Vec<crate::core::narrowing::Dropped>,
    ) -> AnnouncementApplied {
        dropped.sort_by(|a, b| {
            (&a.label, &a.pool.name, &a.pool.id).cmp(&(&b.label, &b.pool.name, &b.pool.id))
        });
        AnnouncementApplied {
            notice: a.notice,
            announced_at: a.announced_at,
            not_before: a.not_before,
            valid_until: a.valid_until,
            dropped,
        }
    }
}

/// How a report names a signal (for its schema).
#[derive(schemars::JsonSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
enum SignalName {
    SIGINT,
    SIGTERM,
    SIGHUP,
}

/// How a report names the way a run ended (for its schema).
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum EndName {
    Completed,
    Drift,
    Blocked,
    Failed,
    StoppedByAuth,
    Interrupted,
}

fn signal_name<S: serde::Serializer>(s: &Option<Signal>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(signal) => ser.serialize_str(signal.name()),
        None => ser.serialize_none(),
    }
}

fn end_name<S: serde::Serializer>(end: &RunEnd, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(end.name())
}

impl ProjectReport {
    /// Sorts the results by pool name then id, counts them, and says how the part ended.
    pub fn new(
        acted_as: ActedAs,
        mut results: Vec<StepResult>,
        signal: Option<Signal>,
        stopped: Option<String>,
        verification: Verification,
    ) -> ProjectReport {
        results.sort_by(|a, b| (&a.pool.name, &a.pool.id).cmp(&(&b.pool.name, &b.pool.id)));
        let mut report = ProjectReport {
            acted_as,
            summary: ReportSummary::count(&results),
            end: RunEnd::Completed,
            results,
            verification,
            signal,
            stopped,
            waited_for_blocked: false,
        };
        report.end = RunEnd::of_apply(report.counts(), signal);
        report
    }

    /// What decides how the part ended.
    pub fn counts(&self) -> crate::core::run_end::ApplyCounts {
        crate::core::run_end::ApplyCounts {
            failed: self.summary.failed,
            skipped: self.summary.skipped,
            unverified: self.unverified(),
            blocked: self.summary.blocked,
            stopped_by_auth: self.stopped.is_some(),
        }
    }

    /// Pools reported gone that no listing has yet confirmed gone.
    pub fn unverified(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.claims_gone() && !r.verified)
            .count()
    }
}

impl Report {
    /// The projects' parts, added up: the worst end, the first signal and stop.
    pub fn new(projects: Vec<ProjectReport>) -> Report {
        let end = projects
            .iter()
            .fold(RunEnd::Completed, |end, p| end.worst(p.end));
        let signal = projects.iter().find_map(|p| p.signal);
        Report {
            format_version: REPORT_FORMAT_VERSION,
            summary: projects.iter().map(|p| p.summary).sum(),
            end,
            interrupted: signal.is_some(),
            signal,
            stopped: projects.iter().find_map(|p| p.stopped.clone()),
            projects,
            announcement: None,
        }
    }

    /// The report of an applied announcement (`None`: a plan that is not one).
    pub fn with_announcement(mut self, announcement: Option<AnnouncementApplied>) -> Report {
        self.announcement = announcement;
        self
    }

    /// A report of a file of one project: one part, without a label.
    pub fn is_of_one_project(&self) -> bool {
        matches!(self.projects.as_slice(), [one] if one.acted_as.label.is_none())
    }

    /// What the verification listings of every project confirmed, added up (the first reason
    /// one could not finish).
    pub fn verification(&self) -> Verification {
        Verification {
            claimed: self.projects.iter().map(|p| p.verification.claimed).sum(),
            verified: self.projects.iter().map(|p| p.verification.verified).sum(),
            incomplete: self
                .projects
                .iter()
                .find_map(|p| p.verification.incomplete.clone()),
        }
    }

    /// Every result, of every project.
    pub fn results(&self) -> impl Iterator<Item = &StepResult> + '_ {
        self.projects.iter().flat_map(|p| p.results.iter())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes") + "\n"
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use crate::core::model::{Pool, PoolId};

    fn result(name: &str, outcome: Outcome) -> StepResult {
        StepResult {
            pool: PoolRef::of(&Pool::new(
                PoolId::parse(&format!("id-{name}")).unwrap(),
                name,
            )),
            outcome,
            attempts: 1,
            error: None,
            request_id: None,
            detail: None,
            desktops: vec![],
            verified: matches!(outcome, Outcome::Deleted | Outcome::AlreadyAbsent),
            absent_before_apply: false,
        }
    }

    /// One project's part, as a file of one project reports it.
    pub(crate) fn part(
        results: Vec<StepResult>,
        signal: Option<Signal>,
        stopped: Option<String>,
        verification: Verification,
    ) -> ProjectReport {
        let acted_as = ActedAs {
            label: None,
            project_id: crate::core::model::ProjectId::parse("p").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            identity: crate::core::identity::testing::identity(),
        };
        ProjectReport::new(acted_as, results, signal, stopped, verification)
    }

    #[test]
    fn ends() {
        use Outcome::*;
        let cases: Vec<(Vec<Outcome>, Option<Signal>, Option<&str>, RunEnd)> = vec![
            (vec![Deleted, AlreadyAbsent], None, None, RunEnd::Completed),
            (vec![Deleted, Blocked], None, None, RunEnd::Blocked),
            (vec![Blocked, Failed], None, None, RunEnd::Failed),
            (
                vec![Failed, Skipped],
                None,
                Some("401"),
                RunEnd::StoppedByAuth,
            ),
            (
                vec![Deleted, Skipped, Failed],
                Some(Signal::Interrupt),
                None,
                RunEnd::Interrupted(Signal::Interrupt),
            ),
            (vec![], None, None, RunEnd::Completed),
        ];
        for (outcomes, signal, stopped, end) in cases {
            let results = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| result(&format!("p{i}"), *o))
                .collect();
            let r = Report::new(vec![part(
                results,
                signal,
                stopped.map(str::to_owned),
                Verification::default(),
            )]);
            assert_eq!(r.end, end, "{outcomes:?}");
            assert_eq!(r.interrupted, signal.is_some());
        }
    }

    #[test]
    fn results_are_sorted_and_json_has_the_designed_shape() {
        let r = Report::new(vec![part(
            vec![result("b", Outcome::Deleted), result("a", Outcome::Blocked)],
            None,
            None,
            Verification {
                claimed: 1,
                verified: 1,
                incomplete: None,
            },
        )]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["format_version"], 2);
        assert_eq!(v["end"], "blocked");
        assert!(v.get("signal").is_none());
        let one = &v["projects"][0];
        assert_eq!(one["label"], serde_json::Value::Null);
        assert_eq!(one["end"], "blocked");
        assert_eq!(one["project_id"], "p");
        assert_eq!(one["results"][0]["pool"]["name"], "a");
        assert_eq!(one["results"][0]["outcome"], "blocked");
        assert_eq!(one["results"][1]["error"], serde_json::Value::Null);
        assert_eq!(one["results"][1]["verified"], true);
        assert_eq!(one["results"][0]["verified"], false);
        assert_eq!(
            one["verification"],
            serde_json::json!({"claimed": 1, "verified": 1})
        );
        assert_eq!(
            v["summary"],
            serde_json::json!({"deleted": 1, "already_absent": 0, "blocked": 1, "failed": 0, "skipped": 0})
        );
    }

    /// How an apply ends, for every combination that matters, against the exit-code table.
    mod ends {
        use super::super::*;
        use crate::core::model::{Pool, PoolId};
        use crate::core::run_end::Signal;

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
                let report = Report::new(vec![super::part(
                    results,
                    signal,
                    stopped.map(str::to_owned),
                    Verification::default(),
                )]);
                let end = report.end;
                assert_eq!((end, end.exit_code()), (want, code), "{what}");
            }
            assert_eq!(RunEnd::Drift.exit_code(), 2);
            assert_eq!(RunEnd::Completed.exit_code(), 0);
        }
    }
}

/// Ends of runs over several projects.
#[cfg(test)]
mod many {
    use super::*;

    #[test]
    fn the_whole_run_ends_as_its_worst_project() {
        let parts = [RunEnd::Blocked, RunEnd::Failed, RunEnd::Completed]
            .into_iter()
            .enumerate()
            .map(|(i, end)| {
                let mut p = tests::part(Vec::new(), None, None, Verification::default());
                p.acted_as.label = Some(format!("p{i}"));
                p.end = end;
                p
            })
            .collect();
        let many = Report::new(parts);
        assert_eq!(many.end, RunEnd::Failed);
        assert!(!many.is_of_one_project());
        let json: serde_json::Value = serde_json::from_str(&many.to_json()).unwrap();
        assert_eq!(json["end"], "failed");
        assert_eq!(json["projects"][0]["label"], "p0");
        assert_eq!(json["projects"][1]["end"], "failed");
    }
}

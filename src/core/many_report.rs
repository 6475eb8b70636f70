//! The report of a many-project apply: each project's report under its label, the counts
//! added up, and how the whole run ended (the worst of the projects, in `RunEnd`'s order).

use crate::core::report::{Report, ReportSummary};
use crate::core::run_end::RunEnd;
use serde::Serialize;

/// One project's part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProjectReport {
    pub label: String,
    pub report: Report,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ManyReport {
    pub format_version: u32,
    /// Every project's counts added up.
    pub summary: ReportSummary,
    /// How the whole run ended: the worst of the projects' ends.
    #[serde(serialize_with = "end_name")]
    #[schemars(with = "String")]
    pub end: RunEnd,
    pub projects: Vec<ProjectReport>,
}

fn end_name<S: serde::Serializer>(end: &RunEnd, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(end.name())
}

impl ManyReport {
    pub fn new(projects: Vec<ProjectReport>) -> ManyReport {
        let mut summary = ReportSummary::default();
        let mut end = RunEnd::Completed;
        for p in &projects {
            let s = &p.report.summary;
            summary.deleted += s.deleted;
            summary.already_absent += s.already_absent;
            summary.blocked += s.blocked;
            summary.failed += s.failed;
            summary.skipped += s.skipped;
            end = end.worst(p.report.end);
        }
        ManyReport {
            format_version: crate::core::report::REPORT_FORMAT_VERSION,
            summary,
            end,
            projects,
        }
    }

    /// `All 3 projects: 5 deleted, 1 already absent, 2 blocked, 0 failed.`
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        format!(
            "All {} projects: {} deleted, {} already absent, {} blocked, {} failed{} (ended: {}).",
            self.projects.len(),
            s.deleted,
            s.already_absent,
            s.blocked,
            s.failed,
            if s.skipped > 0 {
                format!(", {} skipped", s.skipped)
            } else {
                String::new()
            },
            self.end.name()
        )
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes") + "\n"
    }
}

/// What `apply --format json` prints: one project's report, or several projects' (for the
/// JSON Schema, `poolform schema --for report`).
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // a schema, never a value
pub enum AnyReport {
    One(Report),
    Many(ManyReport),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::report::Verification;

    fn report_ending(end: RunEnd) -> Report {
        let mut r = Report::new(Vec::new(), None, None, Verification::default());
        r.end = end;
        r
    }

    #[test]
    fn the_whole_run_ends_as_its_worst_project() {
        let many = ManyReport::new(
            [RunEnd::Blocked, RunEnd::Failed, RunEnd::Completed]
                .into_iter()
                .enumerate()
                .map(|(i, end)| ProjectReport {
                    label: format!("p{i}"),
                    report: report_ending(end),
                })
                .collect(),
        );
        assert_eq!(many.end, RunEnd::Failed);
        let json: serde_json::Value = serde_json::from_str(&many.to_json()).unwrap();
        assert_eq!(json["end"], "failed");
        assert_eq!(json["projects"][0]["label"], "p0");
    }
}

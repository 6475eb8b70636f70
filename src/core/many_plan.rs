//! The plan of a many-project file: one single-project plan per project (each bound to its
//! own endpoint, project and identity), the config's SHA-256 and the `--only` selection they
//! share, and one summary. Like [`Plan`], a plain value: printed, saved and applied as is.

use crate::core::plan::{Plan, PlanFileError, Summary, PLAN_FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One project's part of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPlan {
    /// `REGION/PROJECT` (with `@DOMAIN` for another account), as `--only` names it.
    pub label: String,
    pub plan: Plan,
}

/// A project that could not be resolved, reached or listed: the whole run fails, and nothing
/// of such a plan is ever saved or applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFailure {
    pub label: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManyPlan {
    pub format_version: u32,
    pub poolform_version: String,
    pub created_at: String,
    /// The config file, as named on the command line.
    pub source: String,
    /// Hex SHA-256 of the config file's bytes: applying the plan needs that very file.
    pub config_sha256: String,
    /// `--only` labels the plan was restricted to; empty for every project.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// Every project's counts added up (first in the file, for a quick read).
    pub summary: Summary,
    pub projects: Vec<ProjectPlan>,
    /// Projects that failed (only in printed plans; a plan with failures is never saved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<ProjectFailure>,
}

/// The counts of several plans, added up.
pub fn total(plans: impl IntoIterator<Item = Summary>) -> Summary {
    plans.into_iter().fold(Summary::default(), |mut t, s| {
        t.delete += s.delete;
        t.likely_blocked += s.likely_blocked;
        t.missing += s.missing;
        t.drift += s.drift;
        t.protected += s.protected;
        t.out_of_scope += s.out_of_scope;
        t.near_match += s.near_match;
        t.unchanged += s.unchanged;
        t
    })
}

impl ManyPlan {
    /// Anything to report as drift (`--detailed-exitcode` 2) in any project.
    pub fn has_drift(&self) -> bool {
        self.projects.iter().any(|p| p.plan.has_drift())
    }

    pub fn deletes(&self) -> usize {
        self.projects.iter().map(|p| p.plan.changes.len()).sum()
    }

    /// The JSON form, written as it is made.
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    }

    /// Is this plan file's text a many-project plan (a top-level `projects`)? Read without
    /// building the plan.
    pub fn is_many_json(text: &str) -> bool {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            projects: Option<serde::de::IgnoredAny>,
        }
        serde_json::from_str::<Probe>(text).is_ok_and(|p| p.projects.is_some())
    }

    /// Reads a saved many-project plan: each project's plan checked as a single plan is, the
    /// labels unique, every part bound to the same config, the summary the sum of the parts.
    pub fn parse_json(text: &str, file: &str) -> Result<ManyPlan, PlanFileError> {
        let err = |message: String| PlanFileError {
            file: file.to_owned(),
            message,
        };
        let plan: ManyPlan =
            serde_json::from_str(text).map_err(|e| err(format!("not a poolform plan: {e}")))?;
        plan.checked(file)
    }

    /// Checks a many-project plan read from `file` (see [`ManyPlan::parse_json`]).
    pub fn checked(self, file: &str) -> Result<ManyPlan, PlanFileError> {
        let err = |message: String| PlanFileError {
            file: file.to_owned(),
            message,
        };
        let plan = self;
        if plan.format_version != PLAN_FORMAT_VERSION {
            return Err(err(format!(
                "format_version {} is not supported; this poolform reads plan format {PLAN_FORMAT_VERSION}",
                plan.format_version
            )));
        }
        if !plan.failures.is_empty() {
            return Err(err(
                "it records projects that failed; such a plan is never applied: plan again".into(),
            ));
        }
        let mut labels = HashSet::new();
        for part in &plan.projects {
            if !labels.insert(&part.label) {
                return Err(err(format!(
                    "project {} appears twice; the plan was edited by hand",
                    part.label
                )));
            }
            if part.plan.config_sha256 != plan.config_sha256 {
                return Err(err(format!(
                    "project {} was planned from another config than the plan says; the plan was edited by hand",
                    part.label
                )));
            }
            part.plan
                .clone()
                .checked(&format!("{file} ({})", part.label))?;
        }
        if total(plan.projects.iter().map(|p| p.plan.summary)) != plan.summary {
            return Err(err(
                "its summary is not the sum of its projects'; the plan was edited by hand".into(),
            ));
        }
        Ok(plan)
    }
}

/// What a plan file or `plan --format json` holds: one project's plan, or several projects'
/// (for the JSON Schema, `poolform schema --for plan`).
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AnyPlan {
    One(Plan),
    Many(ManyPlan),
}

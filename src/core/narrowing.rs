//! Applying an announcement: of the pools it announced, those the config current now still
//! calls for (the same pool: id, name and creation time), and every other one dropped with its
//! reason. Pure: no I/O.

use crate::core::model::{Live, PoolRef, ProjectId};
use crate::core::plan::{Change, ProjectPlan};
use crate::core::planner::{self, PlanError};
use crate::core::rules::Rules;
use crate::core::time::Span;
use serde::Serialize;

/// The first project (its label: `None` for a file of one project) whose configured `notice`
/// is longer than `notice`, with that notice: an announcement of `notice` does not serve it.
pub fn notice_too_short(
    notice: Span,
    projects: &[crate::core::projects::Project],
) -> Option<(Option<&str>, Span)> {
    projects.iter().find_map(|p| match p.notice {
        Some(needed) if needed > notice => Some((p.label(), needed)),
        _ => None,
    })
}

/// Why an announced pool is not deleted when the announcement is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Not in the listing: gone before this apply (not read, not counted as absent).
    GoneBeforeApply,
    /// Its id is listed with another name or creation time: another pool, never announced.
    AnotherPool,
    /// The config current now does not call for its deletion (a keep entry, a protect rule,
    /// the scope, `min_age`, …).
    NotCalledFor,
    /// Its project is no longer in the config file.
    ProjectNotInFile,
}

impl DropReason {
    pub fn code(self) -> &'static str {
        match self {
            DropReason::GoneBeforeApply => "gone_before_apply",
            DropReason::AnotherPool => "another_pool",
            DropReason::NotCalledFor => "not_called_for",
            DropReason::ProjectNotInFile => "project_not_in_file",
        }
    }
}

/// An announced pool that is not deleted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Dropped {
    /// Its project's label, in a file with `projects:`; null in a file of one project.
    pub label: Option<String>,
    pub project_id: ProjectId,
    /// As announced.
    pub pool: PoolRef,
    pub reason: DropReason,
    /// What keeps it now, or what it is now, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An announced project's part, narrowed to what is both announced and still called for.
#[derive(Debug)]
pub struct Narrowed {
    /// The part made now, with only the announced deletes: what the apply runs.
    pub part: ProjectPlan,
    pub dropped: Vec<Dropped>,
    /// Pools the config calls for now that were not announced (never deleted by it).
    pub unannounced: Vec<PoolRef>,
}

/// Every announced pool of a project whose project is no longer in the file, dropped.
pub fn drop_project(announced: &ProjectPlan) -> Vec<Dropped> {
    announced
        .changes
        .iter()
        .map(|c| dropped(announced, c, DropReason::ProjectNotInFile, None))
        .collect()
}

fn dropped(
    announced: &ProjectPlan,
    change: &Change,
    reason: DropReason,
    detail: Option<String>,
) -> Dropped {
    Dropped {
        label: announced.label.clone(),
        project_id: announced.project_id.clone(),
        pool: change.pool.clone(),
        reason,
        detail,
    }
}

/// The deletes of `fresh` (the project planned now, from `live`, by `rules`) that `announced`
/// announced: the same id, name and creation time. Each other announced pool is dropped with
/// its reason: gone, another pool under its id, or no longer called for (in the words of the
/// current verdict; `source` names the config).
pub fn narrow(
    announced: &ProjectPlan,
    mut fresh: ProjectPlan,
    rules: &Rules,
    source: &str,
    live: &Live,
) -> Result<Narrowed, PlanError> {
    let verdicts = planner::verdicts(rules, live)?;
    let mut keep = std::collections::HashSet::new();
    let mut gone = Vec::new();
    for change in &announced.changes {
        let Some(index) = live.index_of(&change.pool.id) else {
            gone.push(dropped(
                announced,
                change,
                DropReason::GoneBeforeApply,
                None,
            ));
            continue;
        };
        let now = PoolRef::of(&live.pools()[index]);
        if now.name != change.pool.name || now.created_time != change.pool.created_time {
            let detail = format!(
                "id {} is now {:?}, created {}",
                now.id,
                now.name,
                now.created_time.as_deref().unwrap_or("at an unknown time")
            );
            gone.push(dropped(
                announced,
                change,
                DropReason::AnotherPool,
                Some(detail),
            ));
            continue;
        }
        match verdicts[index].why_kept(source) {
            Some(why) => gone.push(dropped(
                announced,
                change,
                DropReason::NotCalledFor,
                Some(why),
            )),
            None => {
                keep.insert(change.pool.id.clone());
            }
        }
    }
    let (kept, unannounced): (Vec<Change>, Vec<Change>) = std::mem::take(&mut fresh.changes)
        .into_iter()
        .partition(|c| keep.contains(&c.pool.id));
    fresh.changes = kept;
    let unannounced = unannounced.into_iter().map(|c| c.pool).collect();
    fresh.summary.delete = fresh.changes.len();
    fresh.summary.likely_blocked = fresh.changes.iter().filter(|c| c.likely_blocked).count();
    Ok(Narrowed {
        part: fresh,
        dropped: gone,
        unannounced,
    })
}

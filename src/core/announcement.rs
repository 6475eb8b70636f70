//! Announcements: a saved plan posted a notice period ahead of its deletes. When it is due
//! (by the API's clock), it deletes only what it announced that the config current then still
//! calls for; everything else it announced is dropped, with its reason. Pure: no I/O.

use crate::core::model::{Live, PoolRef, ProjectId};
use crate::core::plan::{Change, ProjectPlan};
use crate::core::planner::{self, PlanError};
use crate::core::rules::Rules;
use crate::core::time::{Instant, Span};
use serde::{Deserialize, Serialize};

/// What a plan made with `plan --notice` records: when it was announced and from when (and
/// until when) it may be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The notice period.
    pub notice: Span,
    /// When it was announced, by the API's clock (the latest of its projects' listings).
    pub announced_at: Instant,
    /// `announced_at` + `notice`: no pool of it is deleted before.
    pub not_before: Instant,
    /// `not_before` + `notice`: after it, the announcement is stale and refused ("announce
    /// again").
    pub valid_until: Instant,
}

/// Whether an announcement may be applied at an instant of the API's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Before `not_before`: nothing is deleted yet; it is due in `wait`.
    Early { wait: Span },
    Due,
    /// After `valid_until`: too old to act on.
    Lapsed { late: Span },
}

impl Announcement {
    /// Announced at `announced_at` (the API's clock), with `notice`.
    pub fn new(notice: Span, announced_at: Instant) -> Announcement {
        let not_before = announced_at.plus(notice);
        Announcement {
            notice,
            announced_at,
            not_before,
            valid_until: not_before.plus(notice),
        }
    }

    /// Announced now, for `parts` (each with the clock of its listing): the latest clock, so
    /// that no project's notice is shorter than announced. `None` when a part has no clock.
    pub fn of_parts(notice: Span, parts: &[ProjectPlan]) -> Option<Announcement> {
        let mut latest: Option<Instant> = None;
        for part in parts {
            let now = part.clock?.now;
            latest = Some(latest.map_or(now, |l| l.max(now)));
        }
        latest.map(|at| Announcement::new(notice, at))
    }

    /// Everything it says twice agrees (with itself and with its plan's clocks).
    pub fn check(&self, parts: &[ProjectPlan]) -> Result<(), String> {
        if self.notice == Span::ZERO {
            return Err("its notice is 0s".into());
        }
        let Some(fresh) = Announcement::of_parts(self.notice, parts) else {
            return Err("it is an announcement but a project records no clock".into());
        };
        if fresh != *self {
            return Err(format!(
                "its announcement (announced {}, not before {}, valid until {}) does not follow from its notice {} and its projects' clocks",
                self.announced_at, self.not_before, self.valid_until, self.notice
            ));
        }
        Ok(())
    }

    /// Whether it may be applied at `now` (the API's clock): from `not_before` to
    /// `valid_until`, both included.
    pub fn due(&self, now: Instant) -> Due {
        if now < self.not_before {
            Due::Early {
                wait: now.until(self.not_before),
            }
        } else if now > self.valid_until {
            Due::Lapsed {
                late: self.valid_until.until(now),
            }
        } else {
            Due::Due
        }
    }
}

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An announced project's part, narrowed to what is both announced and still called for.
#[derive(Debug)]
pub struct Narrowed {
    /// The part made now, with only the announced deletes: what the apply runs.
    pub part: ProjectPlan,
    pub dropped: Vec<Dropped>,
    /// Deletes the config calls for now that were not announced (never deleted by it).
    pub unannounced: usize,
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
    let before = fresh.changes.len();
    fresh.changes.retain(|c| keep.contains(&c.pool.id));
    let unannounced = before - fresh.changes.len();
    fresh.summary.delete = fresh.changes.len();
    fresh.summary.likely_blocked = fresh.changes.iter().filter(|c| c.likely_blocked).count();
    Ok(Narrowed {
        part: fresh,
        dropped: gone,
        unannounced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    #[test]
    fn due_from_not_before_to_one_notice_later_both_included() {
        let a = Announcement::new(Span::parse("4d").unwrap(), at("2026-12-07T09:00:00Z"));
        assert_eq!(a.not_before, at("2026-12-11T09:00:00Z"));
        assert_eq!(a.valid_until, at("2026-12-15T09:00:00Z"));
        let cases = [
            ("2026-12-11T08:59:59Z", Due::Early { wait: Span::from_secs(1) }),
            ("2026-12-11T09:00:00Z", Due::Due),
            ("2026-12-15T09:00:00Z", Due::Due),
            ("2026-12-15T09:00:01Z", Due::Lapsed { late: Span::from_secs(1) }),
            ("2026-12-07T09:00:00Z", Due::Early { wait: Span::from_secs(4 * 86_400) }),
        ];
        for (now, want) in cases {
            assert_eq!(a.due(at(now)), want, "{now}");
        }
    }

    #[test]
    fn an_announcement_that_does_not_follow_from_its_notice_is_refused() {
        let a = Announcement::new(Span::parse("4d").unwrap(), at("2026-12-07T09:00:00Z"));
        let mut forged = a;
        forged.not_before = at("2026-12-07T09:00:00Z");
        assert!(forged.check(&[]).is_err());
        let mut zero = a;
        zero.notice = Span::ZERO;
        assert_eq!(zero.check(&[]).unwrap_err(), "its notice is 0s");
    }
}

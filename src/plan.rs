//! The plan: a plain value (what would be deleted, what is missing, drifted or protected), its
//! JSON form (the `-o` plan file), and the staleness check against a fresh listing.

pub use crate::model::PoolRef;
use crate::model::{Live, PoolId, ProjectId};
use serde::{Deserialize, Serialize};

/// Version of the JSON plan format.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    pub pool: PoolRef,
    /// The pool holds desktops: the API will likely refuse with 409 (it is still attempted).
    pub likely_blocked: bool,
    /// Why, in words.
    pub reason: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Missing,
    Drift,
    Protected,
}

/// An attribute whose live value differs from the file's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub attribute: String,
    pub expected: String,
    pub live: String,
}

/// The pool a finding is about: a live one, or (for missing) what the file names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FindingPool {
    Live(PoolRef),
    Listed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<PoolId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl FindingPool {
    pub fn id(&self) -> Option<&PoolId> {
        match self {
            FindingPool::Live(p) => Some(&p.id),
            FindingPool::Listed { id, .. } => id.as_ref(),
        }
    }
    pub fn name(&self) -> Option<&str> {
        match self {
            FindingPool::Live(p) => Some(&p.name),
            FindingPool::Listed { name, .. } => name.as_deref(),
        }
    }
    pub fn live(&self) -> Option<&PoolRef> {
        match self {
            FindingPool::Live(p) => Some(p),
            FindingPool::Listed { .. } => None,
        }
    }
}

/// Something the plan reports but does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub pool: FindingPool,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

/// Counts of each category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub delete: usize,
    pub likely_blocked: usize,
    pub missing: usize,
    pub drift: usize,
    pub protected: usize,
    pub unchanged: usize,
}

/// The plan. Computing it does no I/O; it is the same value whether printed, saved or applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub poolform_version: String,
    pub created_at: String,
    pub project_id: ProjectId,
    pub endpoint: String,
    /// The config file the plan was made from.
    #[serde(default)]
    pub source: String,
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}

impl Plan {
    /// Deletes, missing or drift: what `--detailed-exitcode` reports as 2.
    pub fn has_drift(&self) -> bool {
        let s = &self.summary;
        s.delete + s.missing + s.drift > 0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes") + "\n"
    }

    /// Reads a saved plan, refusing anything truncated, corrupt, edited or of another version.
    pub fn from_json(text: &str, file: &str) -> Result<Plan, PlanFileError> {
        let err = |message: String| PlanFileError {
            file: file.to_owned(),
            message,
        };
        if text.trim().is_empty() {
            return Err(err("the file is empty".into()));
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let hint = if e.is_eof() {
                " (the file looks truncated)"
            } else {
                ""
            };
            err(format!(
                "not valid JSON at line {} column {}: {e}{hint}",
                e.line(),
                e.column()
            ))
        })?;
        match value.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(err(format!(
                    "format_version {v} is not supported; this poolform reads plan format {PLAN_FORMAT_VERSION}"
                )))
            }
            None => return Err(err("it has no format_version; it is not a poolform plan".into())),
        }
        let plan: Plan =
            serde_json::from_value(value).map_err(|e| err(format!("not a poolform plan: {e}")))?;
        for c in &plan.changes {
            if c.fingerprint != c.pool.fingerprint() {
                return Err(err(format!(
                    "the entry for pool {} ({}) does not match its fingerprint; the plan was edited by hand",
                    c.pool.id, c.pool.name
                )));
            }
        }
        let deletes = plan.changes.len();
        if plan.summary.delete != deletes {
            return Err(err(format!(
                "its summary says {} to delete but it lists {deletes}; the plan was edited by hand",
                plan.summary.delete
            )));
        }
        Ok(plan)
    }

    /// Compares the planned deletes with a fresh listing.
    pub fn check_against(&self, live: &Live) -> Staleness {
        let mut out = Staleness::default();
        for change in &self.changes {
            match live.get(&change.pool.id) {
                None => out.gone.push(change.clone()),
                Some(pool) => {
                    let now = PoolRef::of(pool);
                    if now.fingerprint() == change.fingerprint {
                        out.ready.push(change.clone());
                    } else {
                        out.changed.push((change.clone(), now));
                    }
                }
            }
        }
        out
    }
}

/// One DELETE the applier may send. Only a plan's changes make these, so no DELETE can be sent
/// for a pool that is not in the plan being applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteStep {
    pool: PoolRef,
}

impl DeleteStep {
    fn of(change: &Change) -> DeleteStep {
        DeleteStep {
            pool: change.pool.clone(),
        }
    }
    pub fn pool(&self) -> &PoolRef {
        &self.pool
    }
}

impl Plan {
    /// The plan's deletes, as steps for the applier.
    pub fn delete_steps(&self) -> Vec<DeleteStep> {
        self.changes.iter().map(DeleteStep::of).collect()
    }
}

/// A saved plan that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan file {file}: {message}")]
pub struct PlanFileError {
    pub file: String,
    pub message: String,
}

/// How a saved plan's deletes compare with the live pools now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staleness {
    /// Unchanged since planning: still to delete.
    pub ready: Vec<Change>,
    /// No longer live: already done.
    pub gone: Vec<Change>,
    /// Changed since planning (planned, now): the plan is stale.
    pub changed: Vec<(Change, PoolRef)>,
}

impl Staleness {
    pub fn is_stale(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The deletes still to send: the planned pools that are unchanged.
    pub fn ready_steps(&self) -> Vec<DeleteStep> {
        self.ready.iter().map(DeleteStep::of).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Pool;

    fn pool(id: &str, name: &str, desktops: u64) -> Pool {
        let mut p = Pool::new(PoolId::parse(id).unwrap(), name);
        p.status = Some("STEADY".into());
        p.desktop_count = desktops;
        p.created_time = Some("2026-01-05T08:00:00.000Z".into());
        p
    }

    fn plan_of(pools: &[Pool]) -> Plan {
        let changes: Vec<Change> = pools
            .iter()
            .map(|p| {
                let r = PoolRef::of(p);
                Change {
                    action: Action::Delete,
                    fingerprint: r.fingerprint(),
                    pool: r,
                    likely_blocked: false,
                    reason: "r".into(),
                }
            })
            .collect();
        Plan {
            format_version: 1,
            poolform_version: "0.1.0".into(),
            created_at: "2026-11-27T12:00:00Z".into(),
            project_id: ProjectId::parse("p").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            source: "pools.yaml".into(),
            summary: Summary {
                delete: changes.len(),
                ..Summary::default()
            },
            changes,
            findings: vec![Finding {
                kind: FindingKind::Missing,
                pool: FindingPool::Listed {
                    id: None,
                    name: Some("x".into()),
                },
                detail: "d".into(),
                differences: vec![],
            }],
        }
    }

    #[test]
    fn fingerprints_change_with_each_fingerprinted_field_only() {
        let base = PoolRef::of(&pool("a", "n", 0));
        let mut variants = vec![base.clone(); 5];
        variants[4].id = PoolId::parse("b").unwrap();
        variants[0].name = "m".into();
        variants[1].status = Some("TEMPORARY".into());
        variants[2].desktop_count = 1;
        variants[3].created_time = None;
        for v in &variants {
            assert_ne!(v.fingerprint(), base.fingerprint(), "{v:?}");
        }
        let mut typed = base.clone();
        typed.pool_type = Some("STATIC".into());
        assert_eq!(typed.fingerprint(), base.fingerprint());
    }

    #[test]
    fn json_round_trips() {
        let plan = plan_of(&[pool("a", "n", 0), pool("b", "m", 2)]);
        assert_eq!(Plan::from_json(&plan.to_json(), "p.json").unwrap(), plan);
    }

    #[test]
    fn bad_plan_files_are_clear_errors() {
        let good = plan_of(&[pool("a", "n", 0)]).to_json();
        let cases = [
            (String::new(), "the file is empty"),
            (good[..good.len() / 2].to_owned(), "looks truncated"),
            ("{\"changes\": []}".to_owned(), "no format_version"),
            (
                good.replace("\"format_version\": 1", "\"format_version\": 2"),
                "format_version 2 is not supported",
            ),
            (
                good.replace("\"name\": \"n\"", "\"name\": \"other\""),
                "does not match its fingerprint",
            ),
            (
                good.replace("\"delete\": 1", "\"delete\": 0"),
                "summary says 0 to delete but it lists 1",
            ),
            (
                good.replace("\"id\": \"a\"", "\"id\": \"../a\""),
                "not a poolform plan",
            ),
            ("garbage\u{0}".to_owned(), "not valid JSON at line 1"),
        ];
        for (text, want) in cases {
            let e = Plan::from_json(&text, "plan.json").unwrap_err().to_string();
            assert!(
                e.starts_with("plan file plan.json: ") && e.contains(want),
                "{want}: {e}"
            );
        }
    }

    #[test]
    fn staleness_sorts_changes_into_ready_gone_and_changed() {
        let plan = plan_of(&[pool("a", "n", 0), pool("b", "m", 0), pool("c", "o", 0)]);
        let live = Live::new(vec![pool("a", "n", 0), pool("c", "o", 3)]);
        let s = plan.check_against(&live);
        assert_eq!(
            s.ready
                .iter()
                .map(|c| c.pool.id.as_str())
                .collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(
            s.gone
                .iter()
                .map(|c| c.pool.id.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(s.changed.len(), 1);
        assert_eq!(s.changed[0].1.desktop_count, 3);
        assert!(s.is_stale());
    }
}

//! The plan: a plain value (what would be deleted, what is missing, drifted or protected) and
//! its JSON form (the `-o` plan file), read back only when it is whole and self-consistent.

pub use crate::core::identity::{Agency, CredentialKind, Identity};
pub use crate::core::model::PoolRef;
use crate::core::model::{PoolId, ProjectId};
pub use crate::core::target::TargetError;
use crate::core::target::TargetIndex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Version of the JSON plan format. 2 added the identity a plan is bound to, and near
/// matches; a plan of version 1 is refused with "re-plan".
pub const PLAN_FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub action: Action,
    pub pool: PoolRef,
    /// The pool holds desktops: the API will likely refuse with 409 (it is still attempted).
    pub likely_blocked: bool,
    /// Why, in words (shared between the changes that have the same reason).
    pub reason: crate::core::model::Text,
    pub fingerprint: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Missing,
    Drift,
    Protected,
    /// Listed in the file, live, but outside its scope: reported, not managed.
    OutOfScope,
    /// A would-be delete whose name matches a keep entry or a protect glob only once both
    /// are normalised: not deleted, reported (like drift, it needs a person).
    NearMatch,
}

impl FindingKind {
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Drift => "drift",
            FindingKind::Protected => "protected",
            FindingKind::OutOfScope => "out_of_scope",
            FindingKind::NearMatch => "near_match",
        }
    }
}

/// An attribute whose live value differs from the file's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    pub attribute: String,
    pub expected: String,
    pub live: String,
}

/// The pool a finding is about: a live one, or (for missing) what the file names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub kind: FindingKind,
    pub pool: FindingPool,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

/// Counts of each category.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub delete: usize,
    pub likely_blocked: usize,
    pub missing: usize,
    pub drift: usize,
    pub protected: usize,
    /// Listed pools that are live but outside the scope.
    #[serde(default)]
    pub out_of_scope: usize,
    /// Would-be deletes spared because their name reads as a keep entry or protect glob.
    #[serde(default)]
    pub near_match: usize,
    pub unchanged: usize,
}

impl Summary {
    /// Every count, in words: `3 to delete, 1 likely blocked, 0 missing, …`.
    pub fn counts_text(&self) -> String {
        format!(
            "{} to delete, {} likely blocked, {} missing, {} drifted, {} protected, {} out of scope, {} near matches",
            self.delete, self.likely_blocked, self.missing, self.drift, self.protected, self.out_of_scope, self.near_match
        )
    }

    /// The one place a plan's counts are made, from its changes and findings.
    pub fn count(changes: &[Change], findings: &[Finding], unchanged: usize) -> Summary {
        let mut s = Summary {
            delete: changes.len(),
            likely_blocked: changes.iter().filter(|c| c.likely_blocked).count(),
            unchanged,
            ..Summary::default()
        };
        for f in findings {
            *match f.kind {
                FindingKind::Missing => &mut s.missing,
                FindingKind::Drift => &mut s.drift,
                FindingKind::Protected => &mut s.protected,
                FindingKind::OutOfScope => &mut s.out_of_scope,
                FindingKind::NearMatch => &mut s.near_match,
            } += 1;
        }
        s
    }
}

/// The plan. Computing it does no I/O; it is the same value whether printed, saved or applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    pub poolform_version: String,
    pub created_at: String,
    pub project_id: ProjectId,
    pub endpoint: String,
    /// Whose identity the plan was made as; applying it needs the same.
    pub identity: Identity,
    /// The config file the plan was made from, as named on the command line.
    pub source: String,
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    /// Hex SHA-256 of the config file's bytes: applying the plan needs that very file.
    pub config_sha256: String,
    /// `--target`s the plan was cut down to (ids or exact names); empty for a whole plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

/// Hex SHA-256 of a config file's bytes, as plans record it.
pub fn config_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Only `format_version` of a plan file, read first so that another version gets a clear
/// message rather than a schema error.
#[derive(Deserialize)]
struct Header {
    format_version: Option<u64>,
}

impl Plan {
    /// Deletes, missing, drift or near matches: what `--detailed-exitcode` reports as 2.
    pub fn has_drift(&self) -> bool {
        let s = &self.summary;
        s.delete + s.missing + s.drift + s.near_match > 0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes") + "\n"
    }

    /// The JSON form, written as it is made (a large plan is never one string).
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    }

    /// Reads a saved plan, refusing anything truncated, corrupt or of another version; decoded
    /// straight into typed values, in time linear in its size. Whether it agrees with itself
    /// is [`Plan::checked`]'s to say.
    pub fn parse_json(text: &str, file: &str) -> Result<Plan, PlanFileError> {
        let err = |message: String| PlanFileError {
            file: file.to_owned(),
            message,
        };
        if text.trim().is_empty() {
            return Err(err("the file is empty".into()));
        }
        let json_error = |e: serde_json::Error| {
            let hint = if e.is_eof() {
                " (the file looks truncated)"
            } else {
                ""
            };
            match e.classify() {
                serde_json::error::Category::Data => err(format!("not a poolform plan: {e}")),
                _ => err(format!(
                    "not valid JSON at line {} column {}: {e}{hint}",
                    e.line(),
                    e.column()
                )),
            }
        };
        let header: Header = serde_json::from_str(text).map_err(json_error)?;
        match header.format_version {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) if v < u64::from(PLAN_FORMAT_VERSION) => {
                return Err(err(format!(
                    "it is a plan of format {v}, made by an earlier poolform, which did not record the identity a plan is bound to; re-plan with `poolform plan -o` and review the new plan"
                )))
            }
            Some(v) => {
                return Err(err(format!(
                    "format_version {v} is not supported; this poolform reads plan format {PLAN_FORMAT_VERSION}"
                )))
            }
            None => return Err(err("it has no format_version; it is not a poolform plan".into())),
        }
        serde_json::from_str(text).map_err(json_error)
    }

    /// Reads a saved plan and checks that it agrees with itself ([`Plan::parse_json`], then
    /// [`Plan::checked`]).
    pub fn from_json(text: &str, file: &str) -> Result<Plan, PlanFileError> {
        Self::parse_json(text, file)?.checked(file)
    }

    /// The plan, once everything it says twice agrees; else it was edited by hand.
    pub fn checked(self, file: &str) -> Result<Plan, PlanFileError> {
        self.check_consistent().map_err(|m| PlanFileError {
            file: file.to_owned(),
            message: format!("{m}; the plan was edited by hand"),
        })?;
        Ok(self)
    }

    /// Everything a plan says twice must agree: each change with its fingerprint, the summary
    /// with the changes and findings, the targets with the changes; no pool is planned twice.
    /// Linear in the plan's size, whatever its shape.
    fn check_consistent(&self) -> Result<(), String> {
        if self.config_sha256.len() != 64
            || !self
                .config_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "config_sha256 {:?} is not a SHA-256 in hex",
                self.config_sha256
            ));
        }
        let mut seen = HashSet::with_capacity(self.changes.len());
        for c in &self.changes {
            if !seen.insert(&c.pool.id) {
                return Err(format!("pool {} is planned for deletion twice", c.pool.id));
            }
            if c.fingerprint != c.pool.fingerprint() {
                return Err(format!(
                    "the entry for pool {} ({:?}) does not match its fingerprint",
                    c.pool.id, c.pool.name
                ));
            }
        }
        let counted = Summary::count(&self.changes, &self.findings, self.summary.unchanged);
        if counted != self.summary {
            return Err(format!(
                "its summary says {} but its changes and findings count {}",
                self.summary.counts_text(),
                counted.counts_text()
            ));
        }
        if !self.targets.is_empty() {
            let index = TargetIndex::of(self.changes.iter().map(|c| (&c.pool.id, &*c.pool.name)));
            let mut selected = vec![false; self.changes.len()];
            for t in &self.targets {
                let i = index
                    .select(t)
                    .map_err(|e| format!("its targets do not hold: {e}"))?;
                selected[i] = true;
            }
            if let Some(i) = selected.iter().position(|s| !s) {
                let c = &self.changes[i];
                return Err(format!(
                    "pool {} ({:?}) is planned but none of its targets names it",
                    c.pool.id, c.pool.name
                ));
            }
        }
        Ok(())
    }

    /// Is this a plan cut down with `--target`?
    pub fn is_partial(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Keeps only the deletes `wanted` selects (each target exactly one, by id or exact name),
    /// and records them. A target that selects no planned delete, or could mean two, is an
    /// error: nothing is guessed.
    /// Why the pool `target` names (by id or exact name) is not a planned delete, as far as
    /// the plan's findings say: protected, out of scope, a near match, kept (drifted), or
    /// missing. `None` when no finding names it: it is kept, or not live.
    pub fn why_not_planned(&self, target: &str) -> Option<String> {
        let id = PoolId::parse(target).ok();
        let f = self.findings.iter().find(|f| {
            f.pool.name() == Some(target) || (id.is_some() && f.pool.id() == id.as_ref())
        })?;
        let detail = crate::core::escape::visible(&f.detail);
        Some(match f.kind {
            FindingKind::Protected => format!("it is protected ({detail})"),
            FindingKind::OutOfScope => format!("it is out of scope ({detail})"),
            FindingKind::NearMatch => format!("it is a near match, never deleted ({detail})"),
            FindingKind::Drift => format!("it is kept: {} lists it (it has drifted)", self.source),
            FindingKind::Missing => {
                format!("{} lists it, but no live pool has this name", self.source)
            }
        })
    }

    /// Does `target` name one of this plan's deletes (or several, which `restrict` refuses)?
    pub fn answers_to(&self, target: &str) -> bool {
        let index = TargetIndex::of(self.changes.iter().map(|c| (&c.pool.id, &*c.pool.name)));
        !matches!(index.select(target), Err(TargetError::NotPlanned { .. }))
    }

    pub fn restrict(mut self, wanted: &[String]) -> Result<Plan, TargetError> {
        if wanted.is_empty() {
            return Ok(self);
        }
        let index = TargetIndex::of(self.changes.iter().map(|c| (&c.pool.id, &*c.pool.name)));
        let mut keep = vec![false; self.changes.len()];
        for target in wanted {
            match index.select(target) {
                Ok(i) => keep[i] = true,
                Err(TargetError::NotPlanned {
                    target, planned, ..
                }) => {
                    let why = self.why_not_planned(&target);
                    return Err(TargetError::NotPlanned {
                        target,
                        why,
                        planned,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        drop(index);
        let mut keep = keep.into_iter();
        self.changes.retain(|_| keep.next().unwrap_or(false));
        self.summary.delete = self.changes.len();
        self.summary.likely_blocked = self.changes.iter().filter(|c| c.likely_blocked).count();
        let mut recorded: HashSet<String> = self.targets.iter().cloned().collect();
        for t in wanted {
            if recorded.insert(t.clone()) {
                self.targets.push(t.clone());
            }
        }
        Ok(self)
    }
}

/// One DELETE the applier may send. Only [`crate::core::authorize`] makes these, from a plan's
/// change that the current config still calls for against the current listing: no DELETE can
/// be sent for a pool that is not both in the plan being applied and justified now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteStep {
    pool: PoolRef,
}

impl DeleteStep {
    pub(crate) fn new(pool: PoolRef) -> DeleteStep {
        DeleteStep { pool }
    }
    pub fn pool(&self) -> &PoolRef {
        &self.pool
    }
}

/// A saved plan that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan file {file}: {message}")]
pub struct PlanFileError {
    pub file: String,
    pub message: String,
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    use crate::core::model::{Pool, Tag};

    fn pool(id: &str, name: &str, desktops: u64) -> Pool {
        let mut p = Pool::new(PoolId::parse(id).unwrap(), name);
        p.status = Some("STEADY".into());
        p.desktop_count = desktops;
        p.created_time = Some("2026-01-05T08:00:00.000Z".into());
        p
    }

    pub(crate) fn plan_of(pools: &[Pool]) -> Plan {
        let changes: Vec<Change> = pools
            .iter()
            .map(|p| {
                let r = PoolRef::of(p);
                Change {
                    action: Action::Delete,
                    fingerprint: r.fingerprint(),
                    likely_blocked: r.desktop_count > 0,
                    pool: r,
                    reason: "r".into(),
                }
            })
            .collect();
        Plan {
            identity: crate::core::identity::testing::identity(),
            targets: Vec::new(),
            format_version: PLAN_FORMAT_VERSION,
            poolform_version: "0.1.0".into(),
            created_at: "2026-11-27T12:00:00Z".into(),
            project_id: ProjectId::parse("p").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            source: "pools.yaml".into(),
            summary: Summary {
                delete: changes.len(),
                likely_blocked: changes.iter().filter(|c| c.likely_blocked).count(),
                missing: 1,
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
            config_sha256: config_sha256(b"version: 1\n"),
        }
    }

    #[test]
    fn fingerprints_change_with_each_decision_field() {
        let base = PoolRef::of(&pool("a", "n", 0));
        let edits: Vec<(&str, fn(&mut PoolRef))> = vec![
            ("id", |p| p.id = PoolId::parse("b").unwrap()),
            ("name", |p| p.name = "m".into()),
            ("status", |p| p.status = Some("TEMPORARY".into())),
            ("desktop_count", |p| p.desktop_count = 1),
            ("created_time", |p| p.created_time = None),
            ("type", |p| p.pool_type = Some("STATIC".into())),
            ("enterprise_project_id", |p| {
                p.enterprise_project_id = Some("9".into())
            }),
            ("tags", |p| {
                p.tags = vec![Tag {
                    key: "env".into(),
                    value: "prod".into(),
                }]
            }),
            ("absent vs empty", |p| p.status = Some("".into())),
        ];
        for (what, edit) in edits {
            let mut v = base.clone();
            edit(&mut v);
            assert_ne!(v.fingerprint(), base.fingerprint(), "{what}");
        }
        // tag order does not matter
        let mut a = pool("a", "n", 0);
        a.tags = vec![
            Tag {
                key: "x".into(),
                value: "1".into(),
            },
            Tag {
                key: "y".into(),
                value: "2".into(),
            },
        ];
        let mut b = a.clone();
        b.tags.reverse();
        assert_eq!(PoolRef::of(&a).fingerprint(), PoolRef::of(&b).fingerprint());
    }

    /// A target selects exactly one planned delete: by id (case aside) or exact name; never
    /// two, never a guess.
    #[test]
    fn targets_select_exactly_one_planned_delete() {
        let uuid = "a130ab3a-72bf-4b71-baa9-af4987c8e338";
        let plan = plan_of(&[
            pool(uuid, "ci-a", 0),
            pool("b1", uuid, 0),
            pool("c1", "twin", 0),
            pool("c2", "twin", 0),
            pool("d1", "ci-d", 0),
        ]);
        let upper = uuid.to_ascii_uppercase();
        let ok = [
            (upper.as_str(), uuid),
            ("d1", "d1"),
            ("D1", "d1"),
            ("ci-d", "d1"),
            ("c1", "c1"),
        ];
        for (target, want) in ok {
            let cut = plan.clone().restrict(&[target.to_owned()]).unwrap();
            let ids: Vec<&str> = cut.changes.iter().map(|c| c.pool.id.as_str()).collect();
            assert_eq!(ids, [want], "{target}");
            assert_eq!(cut.summary.delete, 1);
            assert_eq!(cut.targets, [target]);
        }
        let refused = [
            (uuid.to_owned(), format!("--target \"{uuid}\" is the id of {uuid} (\"ci-a\") and the name of b1 (\"{uuid}\"); a target selects exactly one pool")),
            ("twin".to_owned(), "is the name of 2 planned deletes: c1 (\"twin\"), c2 (\"twin\")".to_owned()),
            ("nope".to_owned(), "--target \"nope\" is not a planned delete; the plan deletes 5 pools: ".to_owned()),
        ];
        for (target, want) in refused {
            let err = plan
                .clone()
                .restrict(std::slice::from_ref(&target))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&want), "{target}: {err}");
        }
        // a saved partial plan must still select what it holds, exactly
        let cut = plan.clone().restrict(&["d1".to_owned()]).unwrap();
        assert_eq!(Plan::from_json(&cut.to_json(), "p.json").unwrap(), cut);
        let mut forged = cut.clone();
        forged.targets = vec!["twin".into()];
        let err = Plan::from_json(&forged.to_json(), "p.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("its targets do not hold"), "{err}");
    }

    /// Reading a plan file is linear, whatever its shape: 100,000 targets, or 100,000 changes
    /// sharing one name, read in well under a second (a generous bound: it was minutes).
    #[test]
    fn large_plan_files_are_read_in_linear_time() {
        let pools: Vec<Pool> = (0..20_000)
            .map(|i| pool(&format!("p{i}"), "same", 0))
            .collect();
        let mut plan = plan_of(&pools);
        plan.targets = (0..20_000).map(|i| format!("p{i}")).collect();
        let text = plan.to_json();
        let started = std::time::Instant::now();
        assert_eq!(
            Plan::from_json(&text, "p.json").unwrap().changes.len(),
            20_000
        );
        let wanted: Vec<String> = (0..20_000).map(|i| format!("P{i}")).collect();
        assert_eq!(
            plan.clone().restrict(&wanted).unwrap().changes.len(),
            20_000
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn json_round_trips() {
        let plan = plan_of(&[pool("a", "n", 0), pool("b", "m", 2)]);
        assert_eq!(Plan::from_json(&plan.to_json(), "p.json").unwrap(), plan);
    }

    #[test]
    fn bad_plan_files_are_clear_errors() {
        let plan = plan_of(&[pool("a", "n", 0), pool("b", "m", 2)]);
        let good = plan.to_json();
        let mut twice = plan.clone();
        twice.changes.push(twice.changes[0].clone());
        twice.summary.delete = 3;
        let mut extra_field: serde_json::Value = serde_json::from_str(&good).unwrap();
        extra_field["changes"][0]["pool"]["colour"] = "red".into();
        let cases = [
            (String::new(), "the file is empty"),
            (good[..good.len() / 2].to_owned(), "looks truncated"),
            ("{\"changes\": []}".to_owned(), "no format_version"),
            (
                "{\"format_version\": \"1\"}".to_owned(),
                "not a poolform plan: invalid type: string",
            ),
            (
                good.replace("\"format_version\": 2", "\"format_version\": 3"),
                "format_version 3 is not supported",
            ),
            (
                good.replace("\"format_version\": 2", "\"format_version\": 1"),
                "it is a plan of format 1, made by an earlier poolform, which did not record the identity a plan is bound to; re-plan",
            ),
            (
                good.replace("\"name\": \"n\"", "\"name\": \"other\""),
                "does not match its fingerprint; the plan was edited by hand",
            ),
            (
                good.replace("\"delete\": 2", "\"delete\": 1"),
                "its summary says 1 to delete, 1 likely blocked, 1 missing, 0 drifted, 0 protected, 0 out of scope, 0 near matches but its changes and findings count 2 to delete, 1 likely blocked, 1 missing, 0 drifted, 0 protected, 0 out of scope, 0 near matches; the plan was edited by hand",
            ),
            (
                good.replace("\"likely_blocked\": 1", "\"likely_blocked\": 0"),
                "summary says 2 to delete, 0 likely blocked",
            ),
            (
                good.replace("\"missing\": 1", "\"missing\": 0"),
                "but its changes and findings count 2 to delete, 1 likely blocked, 1 missing",
            ),
            (twice.to_json(), "pool a is planned for deletion twice"),
            (
                good.replace(&plan.config_sha256, "abc"),
                "config_sha256 \"abc\" is not a SHA-256 in hex",
            ),
            (
                good.replace("\"config_sha256\"", "\"config_sha\""),
                "unknown field `config_sha`",
            ),
            (extra_field.to_string(), "unknown field `colour`"),
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
}

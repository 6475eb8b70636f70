//! The plan: a plain value (what would be deleted, what is missing, drifted or protected) and
//! its JSON form (the `-o` plan file), read back only when it is whole and self-consistent.

pub use crate::core::announcement::Announcement;
pub use crate::core::identity::{Agency, CredentialKind, Identity};
pub use crate::core::model::PoolRef;
use crate::core::model::{PoolId, ProjectId};
pub use crate::core::target::TargetError;
use crate::core::target::{Candidate, TargetIndex};
pub use crate::core::time::{Clock, ClockSource, Instant, Span};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Version of the JSON plan format. 2 added the identity a plan is bound to, and near
/// matches; 3 gave one shape to plans of one and of many projects (a `projects` list, one
/// entry without a label for a file of one project) and stored why a pool is planned as a
/// code; 4 added the API's clock, ages and expiries, and announcements. A plan of an earlier
/// version is refused with "re-plan".
pub const PLAN_FORMAT_VERSION: u32 = 4;

/// Why each earlier plan format cannot be applied, for the message that refuses it.
fn earlier_format(version: u64) -> &'static str {
    match version {
        1 => "which did not record the identity a plan is bound to",
        2 => "whose shape differs for one and for many projects",
        _ => "which did not record the API's clock, ages and expiries",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
}

/// Why a pool is planned for deletion, as a code the renderers word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// In scope, and neither listed in the config nor protected.
    NotInConfig,
    /// The keep entry or protect rule that kept it expired (the change names it).
    Expired,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotInConfig => "not_in_config",
            Reason::Expired => "expired",
        }
    }
}

/// The keep entry or protect rule that would still keep a pool, had it not expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    /// As the config spells it: `pools[2] name "lab-7"`, `protect[0] name "ci-prod-*"`.
    pub rule: String,
    pub expires: Instant,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub action: Action,
    pub pool: PoolRef,
    /// The pool holds desktops (or autoscale refills it): the API will likely refuse with 409
    /// (it is still attempted).
    pub likely_blocked: bool,
    pub reason: Reason,
    /// With the reason `expired`: the entry or rule that expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<Expiry>,
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
    /// A would-be delete younger than the scope's `min_age`: not deleted, not drift.
    Young,
    /// A would-be delete under a `min_age` whose creation time is missing or unreadable:
    /// kept, not drift.
    AgeUnknown,
    /// A keep entry or protect rule that expires within 7 days.
    Expiring,
    /// Kept: a Terraform state manages it (`rule` is its address, `filter` the state file).
    Terraform,
    /// A pool a Terraform state manages that is not live: a note (Terraform's drift).
    TerraformNotLive,
}

impl FindingKind {
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Drift => "drift",
            FindingKind::Protected => "protected",
            FindingKind::OutOfScope => "out_of_scope",
            FindingKind::NearMatch => "near_match",
            FindingKind::Young => "young",
            FindingKind::AgeUnknown => "age_unknown",
            FindingKind::Expiring => "expiring",
            FindingKind::Terraform => "terraform",
            FindingKind::TerraformNotLive => "terraform_not_live",
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

/// Something the plan reports but does not change: its kind, its pool, and the part of the
/// config it is about (the renderers word it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub kind: FindingKind,
    pub pool: FindingPool,
    /// The keep entry it is about (`pools[entry]`): missing, out of scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<usize>,
    /// The rule it is about, as the config spells it: `name "ci-prod-*"` (protected),
    /// `pools[1] name "x"` or `protect[0] name "x-*"` (near match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The scope filter that leaves a listed pool out: `name_prefix "ci-"` (out of scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// A young pool's age, and when it is old enough to be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_enough_at: Option<Instant>,
    /// When an expiring entry or rule expires, and in how many days (rounded up) from the
    /// plan's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u64>,
}

/// Counts of each category, for one project or (added up) for a run.
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
    /// Would-be deletes spared because they are younger than `min_age`, or their age is
    /// unknown.
    #[serde(default)]
    pub young: usize,
    /// Keep entries and protect rules that expire within 7 days.
    #[serde(default)]
    pub expiring: usize,
    /// Would-be deletes kept because a Terraform state manages them.
    #[serde(default)]
    pub terraform: usize,
    /// Pools a Terraform state manages that are not live (notes, not drift).
    #[serde(default)]
    pub terraform_not_live: usize,
    pub unchanged: usize,
}

impl std::ops::Add for Summary {
    type Output = Summary;
    fn add(self, o: Summary) -> Summary {
        Summary {
            delete: self.delete + o.delete,
            likely_blocked: self.likely_blocked + o.likely_blocked,
            missing: self.missing + o.missing,
            drift: self.drift + o.drift,
            protected: self.protected + o.protected,
            out_of_scope: self.out_of_scope + o.out_of_scope,
            near_match: self.near_match + o.near_match,
            young: self.young + o.young,
            expiring: self.expiring + o.expiring,
            terraform: self.terraform + o.terraform,
            terraform_not_live: self.terraform_not_live + o.terraform_not_live,
            unchanged: self.unchanged + o.unchanged,
        }
    }
}

impl std::iter::Sum for Summary {
    fn sum<I: Iterator<Item = Summary>>(iter: I) -> Summary {
        iter.fold(Summary::default(), |a, b| a + b)
    }
}

impl Summary {
    /// Every count, for a message: `3 to delete, 1 likely blocked, 0 missing, …`.
    pub fn counts_text(&self) -> String {
        let terraform = if self.terraform > 0 {
            format!(", {} managed by terraform", self.terraform)
        } else {
            String::new()
        };
        format!(
            "{} to delete, {} likely blocked, {} missing, {} drifted, {} protected, {} out of scope, {} near matches, {} young, {} expiring{terraform}",
            self.delete, self.likely_blocked, self.missing, self.drift, self.protected, self.out_of_scope, self.near_match, self.young, self.expiring
        )
    }

    /// The one place a project's counts are made, from its changes and findings.
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
                FindingKind::Young | FindingKind::AgeUnknown => &mut s.young,
                FindingKind::Expiring => &mut s.expiring,
                FindingKind::Terraform => &mut s.terraform,
                FindingKind::TerraformNotLive => &mut s.terraform_not_live,
            } += 1;
        }
        s
    }

    /// Deletes, missing, drift or near matches: what `--detailed-exitcode` reports as 2.
    pub fn has_drift(&self) -> bool {
        self.delete + self.missing + self.drift + self.near_match > 0
    }
}

/// One project's part of a plan: where and as whom it was made, what it deletes and finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPlan {
    /// `REGION/PROJECT` (with `@DOMAIN` for another account), as `--only` names it; null in a
    /// file of one project.
    pub label: Option<String>,
    pub project_id: ProjectId,
    pub endpoint: String,
    /// Whose identity the project was planned as; applying it needs the same.
    pub identity: Identity,
    /// "Now" as the project's listing saw it: every time rule was judged by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<Clock>,
    /// The live pools in the project's scope, which `max_deletes_percent` is a share of (at
    /// apply, the fresh listing's count is what the cap reads).
    #[serde(default)]
    pub in_scope: usize,
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}

/// A project that could not be resolved, reached or listed: the whole run fails, and nothing
/// of such a plan is ever saved or applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFailure {
    pub label: String,
    pub error: String,
}

/// The plan: every project's part, one summary, and what binds it. Computing it does no I/O;
/// it is the same value whether printed, saved or applied. A file of one project is a plan of
/// one part without a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    pub poolform_version: String,
    pub created_at: String,
    /// The config file the plan was made from, as named on the command line.
    pub source: String,
    /// Hex SHA-256 of the config file's bytes: applying the plan needs that very file.
    pub config_sha256: String,
    /// `--only` labels the plan was restricted to; empty for every project.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// `--target`s the plan was cut down to (ids or exact names); empty for a whole plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Every project's counts added up.
    pub summary: Summary,
    pub projects: Vec<ProjectPlan>,
    /// Projects that failed (only in printed plans; a plan with failures is never saved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<ProjectFailure>,
    /// The Terraform states whose pools were kept: applying the plan needs states of the same
    /// SHA-256s (an announcement reads them again instead).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terraform_states: Vec<StateDigest>,
    /// Made with `plan --notice`: an announcement, applied only once it is due, and only to
    /// what the config current then still calls for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<Announcement>,
}

/// A Terraform state a plan was made with: its name, and the SHA-256 of its bytes.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct StateDigest {
    pub file: String,
    pub sha256: String,
}

/// When and from which config a plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The config file, as named on the command line.
    pub source: String,
    /// Hex SHA-256 of its bytes.
    pub config_sha256: String,
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
    /// The plan of `projects`' parts (and of those that failed), restricted to `only`, with
    /// its summary added up.
    pub fn new(
        made: Made,
        only: Vec<String>,
        projects: Vec<ProjectPlan>,
        failures: Vec<ProjectFailure>,
    ) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            poolform_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: made.created_at,
            source: made.source,
            config_sha256: made.config_sha256,
            only,
            targets: Vec::new(),
            summary: projects.iter().map(|p| p.summary).sum(),
            projects,
            failures,
            terraform_states: Vec::new(),
            announcement: None,
        }
    }

    /// Is this plan an announcement (`plan --notice`)?
    pub fn is_announcement(&self) -> bool {
        self.announcement.is_some()
    }

    /// Anything to report as drift (`--detailed-exitcode` 2) in any project.
    pub fn has_drift(&self) -> bool {
        self.summary.has_drift()
    }

    /// How many pools the plan deletes, in every project.
    pub fn deletes(&self) -> usize {
        self.projects.iter().map(|p| p.changes.len()).sum()
    }

    /// A plan of a file of one project: one part, without a label.
    pub fn is_of_one_project(&self) -> bool {
        matches!(self.projects.as_slice(), [one] if one.label.is_none()) && self.failures.is_empty()
    }

    /// Is this a plan cut down with `--target`?
    pub fn is_partial(&self) -> bool {
        !self.targets.is_empty()
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
                    "it is a plan of format {v}, made by an earlier poolform, {}; re-plan with `poolform plan -o` and review the new plan",
                    earlier_format(v)
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
        if !self.failures.is_empty() {
            return Err(PlanFileError {
                file: file.to_owned(),
                message:
                    "it records projects that failed; such a plan is never applied: plan again"
                        .into(),
            });
        }
        self.check_consistent().map_err(|m| PlanFileError {
            file: file.to_owned(),
            message: format!("{m}; the plan was edited by hand"),
        })?;
        Ok(self)
    }

    /// Everything a plan says twice must agree: each change with its fingerprint, each
    /// project's summary with its changes and findings, the plan's with the projects', the
    /// targets with the changes; labels are all there or none (one project), never twice; no
    /// pool is planned twice in a project (two projects are two address spaces: a DELETE names
    /// its project). Linear in the plan's size, whatever its shape.
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
        self.check_labels()?;
        if let Some(a) = &self.announcement {
            a.check(self.projects.iter().map(|p| p.clock))?;
        }
        let mut seen = HashSet::new();
        for part in &self.projects {
            seen.clear();
            for c in &part.changes {
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
            let counted = Summary::count(&part.changes, &part.findings, part.summary.unchanged);
            if counted != part.summary {
                return Err(format!(
                    "{}summary says {} but its changes and findings count {}",
                    part.label
                        .as_deref()
                        .map(|l| format!("the part of {l}: its "))
                        .unwrap_or_else(|| "its ".to_owned()),
                    part.summary.counts_text(),
                    counted.counts_text()
                ));
            }
        }
        let total: Summary = self.projects.iter().map(|p| p.summary).sum();
        if total != self.summary {
            return Err(format!(
                "its summary says {} but its projects count {}",
                self.summary.counts_text(),
                total.counts_text()
            ));
        }
        self.check_targets()
    }

    /// One project without a label, or every project labelled, each label once (and in
    /// `only`, when the plan records one).
    fn check_labels(&self) -> Result<(), String> {
        if self.is_of_one_project() {
            return if self.only.is_empty() {
                Ok(())
            } else {
                Err("a plan of one project records --only".into())
            };
        }
        let mut labels = HashSet::new();
        for part in &self.projects {
            let Some(label) = &part.label else {
                return Err("one of its several projects has no label".into());
            };
            if !labels.insert(label) {
                return Err(format!("project {label} appears twice"));
            }
            if !self.only.is_empty() && !self.only.contains(label) {
                return Err(format!("project {label} is not among its --only projects"));
            }
        }
        Ok(())
    }

    /// Every target selects exactly one change of the run, and every change is selected.
    fn check_targets(&self) -> Result<(), String> {
        if self.targets.is_empty() {
            return Ok(());
        }
        let index = self.target_index();
        let mut selected = vec![false; self.deletes()];
        for t in &self.targets {
            let i = index
                .select(t)
                .map_err(|e| format!("its targets do not hold: {e}"))?;
            selected[i] = true;
        }
        if let Some(i) = selected.iter().position(|s| !s) {
            let c = self.changes().nth(i).map(|(_, c)| c);
            let (id, name) = c.map_or(("?", ""), |c| (c.pool.id.as_str(), &*c.pool.name));
            return Err(format!(
                "pool {id} ({name:?}) is planned but none of its targets names it"
            ));
        }
        Ok(())
    }

    /// The part of the project labelled `label` (none: a file of one project).
    pub fn part(&self, label: Option<&str>) -> Option<&ProjectPlan> {
        self.projects.iter().find(|p| p.label.as_deref() == label)
    }

    /// The finding about the pool `target` names (by id, case aside, or exact name), with its
    /// project's part: why a target is not a planned delete.
    pub fn finding_of(&self, target: &str) -> Option<(&ProjectPlan, &Finding)> {
        let id = PoolId::parse(target).ok();
        let names = |f: &Finding| {
            f.pool.name() == Some(target) || (id.is_some() && f.pool.id() == id.as_ref())
        };
        self.projects
            .iter()
            .find_map(|part| part.findings.iter().find(|f| names(f)).map(|f| (part, f)))
    }

    /// Every planned delete with its project, in plan order.
    pub fn changes(&self) -> impl Iterator<Item = (&ProjectPlan, &Change)> + '_ {
        self.projects
            .iter()
            .flat_map(|p| p.changes.iter().map(move |c| (p, c)))
    }

    /// The planned deletes of every project, as targets see them.
    fn target_index(&self) -> TargetIndex<'_> {
        TargetIndex::of(self.changes().map(|(p, c)| Candidate {
            id: &c.pool.id,
            name: &c.pool.name,
            label: p.label.as_deref(),
        }))
    }

    /// Keeps only the deletes `wanted` selects across the whole run (each target exactly one
    /// pool, by id or exact name, in any project), and records them; the projects no target
    /// names are left out (and out of `only`). A target that selects no planned delete, or
    /// could mean two pools (in one project or in two), is an error: nothing is guessed.
    pub fn restrict(self, wanted: &[String]) -> Result<Plan, TargetError> {
        self.restrict_saying(wanted, |_, _| None)
    }

    /// [`Plan::restrict`], with `why` to say why a target that is not a planned delete is
    /// not (the words are the caller's).
    pub fn restrict_saying(
        mut self,
        wanted: &[String],
        why: impl Fn(&Plan, &str) -> Option<String>,
    ) -> Result<Plan, TargetError> {
        if wanted.is_empty() {
            return Ok(self);
        }
        let index = self.target_index();
        let mut keep = vec![false; self.deletes()];
        for target in wanted {
            match index.select(target) {
                Ok(i) => keep[i] = true,
                Err(TargetError::NotPlanned {
                    target, planned, ..
                }) => {
                    drop(index);
                    let why = why(&self, &target);
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
        let one_project = self.is_of_one_project();
        for part in &mut self.projects {
            part.changes.retain(|_| keep.next().unwrap_or(false));
        }
        if !one_project {
            self.projects.retain(|p| !p.changes.is_empty());
            self.only = self
                .projects
                .iter()
                .filter_map(|p| p.label.clone())
                .collect();
        }
        self.recount();
        let mut recorded: HashSet<String> = self.targets.iter().cloned().collect();
        for t in wanted {
            if recorded.insert(t.clone()) {
                self.targets.push(t.clone());
            }
        }
        Ok(self)
    }

    /// Counts the deletes again, in each project and in all, after its changes were cut (or
    /// edited): the findings' counts stay as they are.
    pub fn recount(&mut self) {
        for part in &mut self.projects {
            part.summary.delete = part.changes.len();
            part.summary.likely_blocked = part.changes.iter().filter(|c| c.likely_blocked).count();
        }
        self.summary = self.projects.iter().map(|p| p.summary).sum();
    }

    /// Keeps only the projects labelled in `only` (all when it is empty), and records them.
    /// A label the plan does not hold is refused, naming the ones it does.
    pub fn select_projects(mut self, only: &[String]) -> Result<Plan, String> {
        if only.is_empty() {
            return Ok(self);
        }
        let labels: Vec<&str> = self
            .projects
            .iter()
            .filter_map(|p| p.label.as_deref())
            .collect();
        if let Some(extra) = only.iter().find(|o| !labels.contains(&o.as_str())) {
            return Err(format!(
                "--only {extra:?} is not a project of the plan; its projects are {}",
                labels.join(", ")
            ));
        }
        self.projects
            .retain(|p| p.label.as_ref().is_some_and(|l| only.contains(l)));
        self.summary = self.projects.iter().map(|p| p.summary).sum();
        self.only = only.to_vec();
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

    fn part_of(label: Option<&str>, pools: &[Pool]) -> ProjectPlan {
        let changes: Vec<Change> = pools
            .iter()
            .map(|p| {
                let r = PoolRef::of(p);
                Change {
                    action: Action::Delete,
                    fingerprint: r.fingerprint(),
                    likely_blocked: r.desktop_count > 0,
                    pool: r,
                    reason: Reason::NotInConfig,
                    expired: None,
                }
            })
            .collect();
        let findings = vec![Finding {
            kind: FindingKind::Missing,
            pool: FindingPool::Listed {
                id: None,
                name: Some("x".into()),
            },
            entry: Some(0),
            rule: None,
            filter: None,
            differences: vec![],
            age: None,
            old_enough_at: None,
            expires: None,
            expires_in_days: None,
        }];
        ProjectPlan {
            label: label.map(str::to_owned),
            identity: crate::core::identity::testing::identity(),
            clock: None,
            in_scope: changes.len(),
            project_id: ProjectId::parse("p").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            summary: Summary::count(&changes, &findings, 0),
            changes,
            findings,
        }
    }

    fn plan_of_parts(projects: Vec<ProjectPlan>) -> Plan {
        let made = Made {
            created_at: "2026-11-27T12:00:00Z".into(),
            source: "pools.yaml".into(),
            config_sha256: config_sha256(b"version: 1\n"),
        };
        Plan::new(made, Vec::new(), projects, Vec::new())
    }

    pub(crate) fn plan_of(pools: &[Pool]) -> Plan {
        plan_of_parts(vec![part_of(None, pools)])
    }

    fn ids(plan: &Plan) -> Vec<&str> {
        plan.changes().map(|(_, c)| c.pool.id.as_str()).collect()
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
        // tag order does not matter, nor the desktops in use (advice only)
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
        b.desktop_used = 3;
        assert_eq!(PoolRef::of(&a).fingerprint(), PoolRef::of(&b).fingerprint());
    }

    /// Fingerprints are stable across versions: a saved plan made by an earlier poolform
    /// still matches the same pool.
    #[test]
    fn fingerprints_are_stable_across_versions() {
        let mut p = pool("a130ab3a-72bf-4b71-baa9-af4987c8e338", "ci \"old\"", 2);
        p.tags = vec![
            Tag {
                key: "team".into(),
                value: "ci".into(),
            },
            Tag {
                key: "env".into(),
                value: "".into(),
            },
        ];
        p.status = None;
        let mut scaled = PoolRef::of(&p);
        scaled.autoscale = Some(crate::core::model::AutoscaleRef { min_idle: 3 });
        // As poolform has computed them since saved plans were bound to fingerprints.
        assert_eq!(
            PoolRef::of(&p).fingerprint(),
            "6fba2ce13ff85dff7b842679f8e00d20"
        );
        assert_eq!(scaled.fingerprint(), "54108af2660ccbdb63e37b4b535a2e16");
        assert_eq!(
            scaled.fingerprint_text(),
            r#"name: "ci \"old\""
type: (absent)
status: (absent)
desktop_count: 2
created_time: "2026-01-05T08:00:00.000Z"
enterprise_project_id: (absent)
tags: ["env"="", "team"="ci"]
autoscale: on (min_idle 3)
"#
        );
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
            assert_eq!(ids(&cut), [want], "{target}");
            assert_eq!(cut.summary.delete, 1);
            assert_eq!(cut.projects[0].summary.delete, 1);
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

    /// Across projects, a target is one pool of the whole run: the same name (or an id that
    /// is another project's pool's name) in two projects is refused, naming both projects.
    #[test]
    fn a_target_selects_one_pool_across_projects() {
        let uuid = "a130ab3a-72bf-4b71-baa9-af4987c8e338";
        let plan = plan_of_parts(vec![
            part_of(
                Some("r/one"),
                &[pool("a1", "lab-tmp", 0), pool(uuid, "x", 0)],
            ),
            part_of(
                Some("r/two"),
                &[pool("b1", "lab-tmp", 0), pool("b2", uuid, 0)],
            ),
            part_of(Some("r/three"), &[pool("c1", "keep-going", 0)]),
        ]);
        for (target, want) in [
            ("lab-tmp", "is the name of 2 planned deletes: a1 (\"lab-tmp\") in r/one, b1 (\"lab-tmp\") in r/two; a target selects one pool across the run: target it by id, or narrow the run with --only LABEL"),
            (uuid, "in r/one and the name of b2"),
        ] {
            let err = plan.clone().restrict(&[target.to_owned()]).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        let cut = plan.clone().restrict(&["b1".to_owned()]).unwrap();
        assert_eq!(ids(&cut), ["b1"]);
        assert_eq!(
            cut.only,
            ["r/two"],
            "the projects no target names are left out"
        );
        assert_eq!(cut.summary.delete, 1);
        assert_eq!(Plan::from_json(&cut.to_json(), "p.json").unwrap(), cut);
        // --only narrows, and is recorded
        let two = plan.clone().select_projects(&["r/two".to_owned()]).unwrap();
        assert_eq!(ids(&two), ["b1", "b2"]);
        assert!(plan.select_projects(&["r/four".to_owned()]).is_err());
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
        assert_eq!(Plan::from_json(&text, "p.json").unwrap().deletes(), 20_000);
        let wanted: Vec<String> = (0..20_000).map(|i| format!("P{i}")).collect();
        assert_eq!(plan.clone().restrict(&wanted).unwrap().deletes(), 20_000);
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
        let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
        assert_eq!(json["projects"][0]["label"], serde_json::Value::Null);
        assert_eq!(json["projects"][0]["changes"][0]["reason"], "not_in_config");
    }

    #[test]
    fn two_projects_may_each_plan_a_pool_of_the_same_id() {
        // Each DELETE names its project: pool a of r/one and pool a of r/two are two pools.
        let plan = plan_of_parts(vec![
            part_of(Some("r/one"), &[pool("a", "n", 0)]),
            part_of(Some("r/two"), &[pool("a", "n", 0)]),
        ]);
        let back = Plan::from_json(&plan.to_json(), "p.json").unwrap();
        assert_eq!(back.deletes(), 2);
    }

    #[test]
    fn bad_plan_files_are_clear_errors() {
        let plan = plan_of(&[pool("a", "n", 0), pool("b", "m", 2)]);
        let good = plan.to_json();
        let mut twice = plan.clone();
        let again = twice.projects[0].changes[0].clone();
        twice.projects[0].changes.push(again);
        twice.projects[0].summary.delete = 3;
        twice.summary.delete = 3;
        let mut extra_field: serde_json::Value = serde_json::from_str(&good).unwrap();
        extra_field["projects"][0]["changes"][0]["pool"]["colour"] = "red".into();
        let mut unlabelled = plan_of_parts(vec![
            part_of(Some("r/one"), &[pool("a", "n", 0)]),
            part_of(None, &[pool("b", "m", 0)]),
        ]);
        let mut same_label = unlabelled.clone();
        same_label.projects[1].label = Some("r/one".into());
        unlabelled.projects[0].label = Some("r/one".into());
        let mut top: serde_json::Value = serde_json::from_str(&good).unwrap();
        top["summary"]["delete"] = 1.into();
        let cases = [
            (String::new(), "the file is empty"),
            (good[..good.len() / 2].to_owned(), "looks truncated"),
            ("{\"changes\": []}".to_owned(), "no format_version"),
            (
                "{\"format_version\": \"1\"}".to_owned(),
                "not a poolform plan: invalid type: string",
            ),
            (
                good.replace("\"format_version\": 4", "\"format_version\": 5"),
                "format_version 5 is not supported",
            ),
            (
                good.replace("\"format_version\": 4", "\"format_version\": 3"),
                "it is a plan of format 3, made by an earlier poolform, which did not record the API's clock, ages and expiries; re-plan",
            ),
            (
                good.replace("\"format_version\": 4", "\"format_version\": 1"),
                "it is a plan of format 1, made by an earlier poolform, which did not record the identity a plan is bound to; re-plan",
            ),
            (
                good.replace("\"format_version\": 4", "\"format_version\": 2"),
                "it is a plan of format 2, made by an earlier poolform, whose shape differs for one and for many projects; re-plan",
            ),
            (
                good.replace("\"name\": \"n\"", "\"name\": \"other\""),
                "does not match its fingerprint; the plan was edited by hand",
            ),
            (
                good.replace("\"delete\": 2", "\"delete\": 1"),
                "its summary says 1 to delete, 1 likely blocked, 1 missing, 0 drifted, 0 protected, 0 out of scope, 0 near matches, 0 young, 0 expiring but its changes and findings count 2 to delete, 1 likely blocked, 1 missing, 0 drifted, 0 protected, 0 out of scope, 0 near matches, 0 young, 0 expiring; the plan was edited by hand",
            ),
            (top.to_string(), "its summary says 1 to delete, 1 likely blocked, 1 missing, 0 drifted, 0 protected, 0 out of scope, 0 near matches, 0 young, 0 expiring but its projects count 2 to delete"),
            (
                good.replace("\"likely_blocked\": 1", "\"likely_blocked\": 0"),
                "summary says 2 to delete, 0 likely blocked",
            ),
            (
                good.replace("\"missing\": 1", "\"missing\": 0"),
                "but its changes and findings count 2 to delete, 1 likely blocked, 1 missing",
            ),
            (twice.to_json(), "pool a is planned for deletion twice"),
            (unlabelled.to_json(), "one of its several projects has no label"),
            (same_label.to_json(), "project r/one appears twice"),
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
            (
                good.replace("\"not_in_config\"", "\"because\""),
                "not a poolform plan: unknown variant `because`",
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

//! `plan(&Rules, &Live) -> ProjectPlan`: decides, without any I/O, which live pools would be deleted
//! and what is missing, drifted, protected or only nearly named. The same verdicts decide, at
//! apply time, whether a reviewed delete is still called for.
//!
//! In phases: the config's entries are matched to live pools ([`match_entries`]); the entries
//! give the findings about listed pools (missing, drift, out of scope); then each live pool is
//! classified ([`judge`]) into a delete, a protected or near-match finding, or a kept pool.

use crate::core::config::{PoolEntry, ProtectRule};
use crate::core::model::{Live, Pool, PoolId, ProjectId};
use crate::core::names;
use crate::core::plan::{
    Action, Change, Difference, Expiry, Finding, FindingKind, FindingPool, PoolRef, ProjectPlan,
    Reason, Summary,
};
use crate::core::rules::Rules;
use crate::core::time::{Instant, Span};
use std::collections::HashMap;

/// Where and as whom a project's part of the plan was made; all passed in, none looked up.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The project's label, in a file with `projects:`.
    pub label: Option<String>,
    pub project_id: ProjectId,
    pub endpoint: String,
    /// Who the plan's calls were made as; bound into a saved plan.
    pub identity: crate::core::plan::Identity,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("pools[{entry}] names {name:?}, which matches {} live pools: {}; list the one to keep by id", ids.len(), ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", "))]
    AmbiguousName {
        entry: usize,
        name: String,
        ids: Vec<PoolId>,
    },
    #[error("the tags of {} pool{} that would be deleted are unknown (the listing gave none: {}), and the config has tag rules; nothing was planned", ids.len(), if ids.len() == 1 { "" } else { "s" }, ids.iter().take(5).map(|i| i.as_str()).collect::<Vec<_>>().join(", "))]
    TagsUnknown { ids: Vec<PoolId> },
}

/// What the config says of one live pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Listed in the config (`pools[entry]`): kept.
    Kept { entry: usize },
    /// Outside the scope: not managed. `filter` names the filter that excludes it.
    OutOfScope { filter: String },
    /// Protected by a rule, described.
    Protected { rule: String },
    /// Its name matches a keep entry or a protect glob only once both are normalised
    /// ([`names::fold`]): not deleted, reported. `rule` names the entry or rule.
    NearMatch { rule: String },
    /// Would be deleted, but its tags are unknown and the config has tag rules: not deleted
    /// until a read of the pool gives its tags.
    TagsUnknown,
    /// Would be deleted, but it is younger than the scope's `min_age`.
    Young { age: Span, old_enough_at: Instant },
    /// Would be deleted, but under a `min_age` its age is unknown (no or an unreadable
    /// `created_time`, or no clock to judge it by).
    AgeUnknown,
    /// Managed by Terraform (a state names it): kept.
    Terraform { address: String, file: String },
    /// Planned for deletion.
    Delete,
}

impl Verdict {
    /// Why the pool is not deleted, in words; `None` for [`Verdict::Delete`].
    pub fn why_kept(&self, source: &str) -> Option<String> {
        match self {
            Verdict::Kept { entry } => Some(format!("{source} now keeps it (pools[{entry}])")),
            Verdict::OutOfScope { filter } => Some(format!(
                "it is now outside the scope of {source} ({filter})"
            )),
            Verdict::Protected { rule } => Some(format!("it is now protected by {rule}")),
            Verdict::NearMatch { rule } => Some(format!(
                "its name now reads as {rule} once normalised (a near match is never deleted)"
            )),
            Verdict::TagsUnknown => {
                Some(format!("its tags are unknown and {source} has tag rules"))
            }
            Verdict::Young { age, .. } => Some(format!(
                "it is now {age} old, younger than the min_age of {source}"
            )),
            Verdict::AgeUnknown => Some(format!("its age is unknown, and {source} has a min_age")),
            Verdict::Terraform { address, file } => {
                Some(format!("it is managed by terraform: {address} ({file})"))
            }
            Verdict::Delete => None,
        }
    }
}

/// The folded names of the entries that keep pools by name (and have not expired at `now`),
/// for near matches.
struct NearNames {
    by_fold: HashMap<String, usize>,
    now: Option<Instant>,
}

impl NearNames {
    fn of(rules: &Rules, now: Option<Instant>) -> NearNames {
        let mut by_fold = HashMap::new();
        for (i, e) in rules.pools.iter().enumerate() {
            if let (None, Some(name), false) = (&e.id, &e.name, expired(e.expires, now)) {
                by_fold.entry(names::fold(name)).or_insert(i);
            }
        }
        NearNames { by_fold, now }
    }
}

/// The keep entry or protect glob `pool`'s name matches only once folded, described (an
/// expired one keeps nothing, near or exact).
fn near_match(rules: &Rules, near: &NearNames, pool: &Pool) -> Option<String> {
    let live_glob = |r: &ProtectRule| r.name.is_some() && !expired(r.expires, near.now);
    if near.by_fold.is_empty() && !rules.protect.iter().any(live_glob) {
        return None;
    }
    let folded = names::fold(&pool.name);
    if let Some(&i) = near.by_fold.get(&folded) {
        let name = rules.pools[i].name.as_deref().unwrap_or_default();
        return Some(format!("pools[{i}] name {name:?}"));
    }
    rules
        .protect
        .iter()
        .enumerate()
        .find(|(_, r)| live_glob(r) && r.matches_folded_name(&folded))
        .map(|(i, r)| format!("protect[{i}] {}", r.describe()))
}

/// Has an entry or rule that `expires` expired at `now`? Never without a clock: a rule that
/// cannot be judged keeps (fails closed).
fn expired(expires: Option<Instant>, now: Option<Instant>) -> bool {
    matches!((expires, now), (Some(at), Some(now)) if now >= at)
}

/// How old `pool` is at `now`, when both are known.
fn age_of(pool: &Pool, now: Option<Instant>) -> Option<(Span, Instant)> {
    let created = Instant::parse(pool.created_time.as_deref()?).ok()?;
    Some((created.until(now?), created))
}

/// The verdict on a pool once it is known whether the config lists it, at `now`.
fn judge(
    rules: &Rules,
    near: &NearNames,
    pool: &Pool,
    listed: Option<usize>,
    now: Option<Instant>,
) -> Verdict {
    if let Some(entry) = listed {
        return Verdict::Kept { entry };
    }
    if let Some(by) = rules.terraform.get(&pool.id) {
        return Verdict::Terraform {
            address: by.address.clone(),
            file: by.file.clone(),
        };
    }
    if let Some(filter) = rules.scope_excludes(pool) {
        return Verdict::OutOfScope { filter };
    }
    if let Some(rule) = rules
        .protect
        .iter()
        .find(|r| r.matches(pool) && !expired(r.expires, now))
    {
        return Verdict::Protected {
            rule: rule.describe(),
        };
    }
    if let Some(rule) = near_match(rules, near, pool) {
        return Verdict::NearMatch { rule };
    }
    if let Some(min) = rules.scope.as_ref().and_then(|s| s.min_age) {
        match age_of(pool, now) {
            None => return Verdict::AgeUnknown,
            Some((age, created)) if age < min => {
                return Verdict::Young {
                    age,
                    old_enough_at: created.plus(min),
                }
            }
            Some(_) => {}
        }
    }
    if pool.tags_unknown && rules.has_tag_rules() {
        return Verdict::TagsUnknown;
    }
    Verdict::Delete
}

/// The expired keep entry or protect rule that would still keep `pool`, had it not expired.
fn expired_keeper(rules: &Rules, pool: &Pool, now: Option<Instant>) -> Option<Expiry> {
    let entry = rules.pools.iter().enumerate().find(|(_, e)| {
        expired(e.expires, now)
            && match (&e.id, &e.name) {
                (Some(id), _) => *id == pool.id,
                (None, Some(name)) => **name == *pool.name,
                (None, None) => false,
            }
    });
    if let Some((i, e)) = entry {
        return Some(Expiry {
            rule: entry_words(i, e),
            expires: e.expires?,
        });
    }
    let (i, rule) = rules
        .protect
        .iter()
        .enumerate()
        .find(|(_, r)| expired(r.expires, now) && r.matches(pool))?;
    Some(Expiry {
        rule: format!("protect[{i}] {}", rule.describe()),
        expires: rule.expires?,
    })
}

/// A keep entry as expiries name it: `pools[2] name "lab-7"`.
fn entry_words(i: usize, e: &crate::core::config::PoolEntry) -> String {
    match (&e.id, &e.name) {
        (Some(id), _) => format!("pools[{i}] id {id}"),
        (None, name) => format!("pools[{i}] name {:?}", name.as_deref().unwrap_or_default()),
    }
}

/// The keep entries and protect rules already expired at `now` (this machine's clock, for
/// `validate`, which reads no API).
pub fn expired_rules(rules: &Rules, now: Instant) -> Vec<Expiry> {
    let entries = rules.pools.iter().enumerate().filter_map(|(i, e)| {
        let at = e.expires.filter(|_| expired(e.expires, Some(now)))?;
        Some(Expiry {
            rule: entry_words(i, e),
            expires: at,
        })
    });
    let protect = rules.protect.iter().enumerate().filter_map(|(i, r)| {
        let at = r.expires.filter(|_| expired(r.expires, Some(now)))?;
        Some(Expiry {
            rule: format!("protect[{i}] {}", r.describe()),
            expires: at,
        })
    });
    entries.chain(protect).collect()
}

/// The verdict on one pool seen on its own (re-read while waiting on it): an entry naming it
/// by id, or by its exact name, keeps it, without the rest of the listing to tell whether that
/// name is unique (which can only keep more).
pub fn verdict_alone(rules: &Rules, pool: &Pool, now: Option<Instant>) -> Verdict {
    let listed = rules.pools.iter().position(|e| {
        !expired(e.expires, now)
            && match (&e.id, &e.name) {
                (Some(id), _) => *id == pool.id,
                (None, Some(name)) => **name == *pool.name,
                (None, None) => false,
            }
    });
    judge(rules, &NearNames::of(rules, now), pool, listed, now)
}

/// Which config entry keeps each live pool (indexed like `live.pools()`), and which live pool
/// each entry matches (indexed like `rules.pools`; an expired entry matches none).
struct Matching {
    kept_by: Vec<Option<usize>>,
    found: Vec<Option<usize>>,
    /// Entries that expired: they keep nothing and are not missing.
    expired: Vec<bool>,
}

/// The live pools each name-keyed entry names, by name.
fn pools_by_name<'a>(rules: &'a Rules, live: &'a Live) -> HashMap<&'a str, Vec<&'a Pool>> {
    // Index only the names the file matches by (entries without an id).
    let mut by_name: HashMap<&str, Vec<&Pool>> = rules
        .pools
        .iter()
        .filter(|e| e.id.is_none())
        .filter_map(|e| e.name.as_deref())
        .map(|n| (n, Vec::new()))
        .collect();
    if !by_name.is_empty() {
        for pool in live.pools() {
            if let Some(found) = by_name.get_mut(&*pool.name) {
                found.push(pool);
            }
        }
    }
    by_name
}

fn match_entries(rules: &Rules, live: &Live) -> Result<Matching, PlanError> {
    let by_name = pools_by_name(rules, live);
    let now = live.clock().map(|c| c.now);
    let mut kept_by = vec![None; live.len()];
    let mut found_by_entry = Vec::with_capacity(rules.pools.len());
    let mut expired_entries = Vec::with_capacity(rules.pools.len());
    for (i, entry) in rules.pools.iter().enumerate() {
        let is_expired = expired(entry.expires, now);
        expired_entries.push(is_expired);
        if is_expired {
            found_by_entry.push(None);
            continue;
        }
        let found: Option<usize> = match (&entry.id, &entry.name) {
            (Some(id), _) => live.index_of(id),
            (None, Some(name)) => match by_name.get(name.as_str()).map(Vec::as_slice) {
                None | Some([]) => None,
                Some([one]) => live.index_of(&one.id),
                Some(many) => {
                    let mut ids: Vec<PoolId> = many.iter().map(|p| p.id.clone()).collect();
                    ids.sort();
                    return Err(PlanError::AmbiguousName {
                        entry: i,
                        name: name.clone(),
                        ids,
                    });
                }
            },
            (None, None) => None,
        };
        if let Some(index) = found {
            // The first entry that keeps a pool is the one named.
            kept_by[index].get_or_insert(i);
        }
        found_by_entry.push(found);
    }
    Ok(Matching {
        kept_by,
        found: found_by_entry,
        expired: expired_entries,
    })
}

/// The verdict on every live pool, indexed like `live.pools()`.
pub fn verdicts(rules: &Rules, live: &Live) -> Result<Vec<Verdict>, PlanError> {
    let matching = match_entries(rules, live)?;
    let now = live.clock().map(|c| c.now);
    let near = NearNames::of(rules, now);
    Ok(live
        .pools()
        .iter()
        .zip(matching.kept_by)
        .map(|(pool, listed)| judge(rules, &near, pool, listed, now))
        .collect())
}

/// Pools whose tags must be read from the pool itself before a plan can be made: would-be
/// deletes whose listing gave no tags, when the config has tag rules.
pub fn pools_needing_tags(rules: &Rules, live: &Live) -> Result<Vec<PoolId>, PlanError> {
    if !rules.has_tag_rules() || !live.pools().iter().any(|p| p.tags_unknown) {
        return Ok(Vec::new());
    }
    Ok(live
        .pools()
        .iter()
        .zip(verdicts(rules, live)?)
        .filter(|(_, v)| *v == Verdict::TagsUnknown)
        .map(|(p, _)| p.id.clone())
        .collect())
}

fn differences(entry: &PoolEntry, pool: &Pool) -> Vec<Difference> {
    let mut out = Vec::new();
    if let (Some(_), Some(name)) = (&entry.id, &entry.name) {
        if **name != *pool.name {
            out.push(Difference {
                attribute: "name".into(),
                expected: name.clone(),
                live: pool.name.to_string(),
            });
        }
    }
    if let Some(expect) = &entry.expect {
        out.extend(
            expect
                .differences(pool)
                .into_iter()
                .map(|(attribute, expected, live)| Difference {
                    attribute: attribute.to_owned(),
                    expected,
                    live,
                }),
        );
    }
    out
}

/// What the config's entries say of the live pools: missing, drift, out of scope.
struct EntryFindings {
    findings: Vec<Finding>,
    /// Live pools reported as drifted (indexed like `live.pools()`).
    drifted: Vec<bool>,
}

/// A finding about a pool: of `kind`, about the keep entry `entry` or the rule `rule`.
fn finding(kind: FindingKind, pool: FindingPool) -> Finding {
    Finding {
        kind,
        pool,
        entry: None,
        rule: None,
        filter: None,
        differences: Vec::new(),
        age: None,
        old_enough_at: None,
        expires: None,
        expires_in_days: None,
    }
}

/// Missing entries; drift of every pool the file keeps, whichever entries keep it; a kept
/// pool outside the scope is reported as such instead (it is not managed).
fn entry_findings(rules: &Rules, live: &Live, matching: &Matching) -> EntryFindings {
    let mut findings = Vec::new();
    let mut drifted = vec![false; live.len()];
    let mut outside = vec![false; live.len()];
    for (i, (entry, found)) in rules.pools.iter().zip(&matching.found).enumerate() {
        if matching.expired[i] {
            continue;
        }
        let Some(index) = *found else {
            let listed = FindingPool::Listed {
                id: entry.id.clone(),
                name: entry.name.clone(),
            };
            findings.push(Finding {
                entry: Some(i),
                ..finding(FindingKind::Missing, listed)
            });
            continue;
        };
        let pool = &live.pools()[index];
        if let Some(filter) = rules.scope_excludes(pool) {
            if !std::mem::replace(&mut outside[index], true) {
                findings.push(Finding {
                    entry: Some(i),
                    filter: Some(filter),
                    ..finding(
                        FindingKind::OutOfScope,
                        FindingPool::Live(PoolRef::of(pool)),
                    )
                });
            }
            continue;
        }
        let diffs = differences(entry, pool);
        if !diffs.is_empty() && !std::mem::replace(&mut drifted[index], true) {
            findings.push(Finding {
                differences: diffs,
                ..finding(FindingKind::Drift, FindingPool::Live(PoolRef::of(pool)))
            });
        }
    }
    EntryFindings { findings, drifted }
}

/// The delete of `pool`, and whether it is likely blocked (desktops, or autoscale that
/// refills it).
fn delete_change(pool: &Pool, expired: Option<Expiry>) -> Change {
    let autoscale = pool.autoscale_min_idle();
    let likely_blocked = pool.desktop_count > 0 || autoscale.is_some_and(|min_idle| min_idle > 0);
    let pool = PoolRef::of(pool);
    Change {
        action: Action::Delete,
        fingerprint: pool.fingerprint(),
        pool,
        likely_blocked,
        reason: if expired.is_some() {
            Reason::Expired
        } else {
            Reason::NotInConfig
        },
        expired,
    }
}

/// Each live pool classified: the deletes, the findings it adds (protected, near match), and
/// how many in-scope pools are kept unchanged.
struct Classified {
    changes: Vec<Change>,
    findings: Vec<Finding>,
    unchanged: usize,
}

fn classify(
    rules: &Rules,
    live: &Live,
    kept_by: &[Option<usize>],
    drifted: &[bool],
) -> Result<Classified, PlanError> {
    let now = live.clock().map(|c| c.now);
    let near = NearNames::of(rules, now);
    let now = live.clock().map(|c| c.now);
    let mut out = Classified {
        changes: Vec::new(),
        findings: Vec::new(),
        unchanged: 0,
    };
    let mut tags_unknown = Vec::new();
    for (index, (pool, listed)) in live.pools().iter().zip(kept_by).enumerate() {
        let about = |kind, rule| Finding {
            rule: Some(rule),
            ..finding(kind, FindingPool::Live(PoolRef::of(pool)))
        };
        match judge(rules, &near, pool, *listed, now) {
            Verdict::Kept { .. } => {
                if rules.in_scope(pool) {
                    out.unchanged += usize::from(!drifted[index]);
                }
            }
            Verdict::OutOfScope { .. } => {}
            Verdict::Protected { rule } => out.findings.push(about(FindingKind::Protected, rule)),
            Verdict::NearMatch { rule } => out.findings.push(about(FindingKind::NearMatch, rule)),
            Verdict::TagsUnknown => tags_unknown.push(pool.id.clone()),
            Verdict::Young { age, old_enough_at } => out.findings.push(Finding {
                age: Some(age),
                old_enough_at: Some(old_enough_at),
                ..finding(FindingKind::Young, FindingPool::Live(PoolRef::of(pool)))
            }),
            Verdict::AgeUnknown => out.findings.push(finding(
                FindingKind::AgeUnknown,
                FindingPool::Live(PoolRef::of(pool)),
            )),
            Verdict::Terraform { address, file } => out.findings.push(Finding {
                rule: Some(address),
                filter: Some(file),
                ..finding(FindingKind::Terraform, FindingPool::Live(PoolRef::of(pool)))
            }),
            Verdict::Delete => out
                .changes
                .push(delete_change(pool, expired_keeper(rules, pool, now))),
        }
    }
    if !tags_unknown.is_empty() {
        return Err(PlanError::TagsUnknown { ids: tags_unknown });
    }
    Ok(out)
}

/// How long before an entry or rule expires the plan says so.
pub const EXPIRY_NOTICE: Span = Span::from_secs(7 * 86_400);

/// Keep entries and protect rules that expire within [`EXPIRY_NOTICE`] of the listing's clock.
fn expiring(rules: &Rules, live: &Live, matching: &Matching) -> Vec<Finding> {
    let Some(now) = live.clock().map(|c| c.now) else {
        return Vec::new();
    };
    let soon = |at: Option<Instant>| at.filter(|at| now < *at && *at <= now.plus(EXPIRY_NOTICE));
    let mut out = Vec::new();
    for (i, entry) in rules.pools.iter().enumerate() {
        let Some(at) = soon(entry.expires) else {
            continue;
        };
        let pool = match matching.found[i] {
            Some(index) => FindingPool::Live(PoolRef::of(&live.pools()[index])),
            None => FindingPool::Listed {
                id: entry.id.clone(),
                name: entry.name.clone(),
            },
        };
        out.push(Finding {
            entry: Some(i),
            expires: Some(at),
            expires_in_days: Some(now.until(at).days_ceil()),
            ..finding(FindingKind::Expiring, pool)
        });
    }
    for (i, rule) in rules.protect.iter().enumerate() {
        if let Some(at) = soon(rule.expires) {
            out.push(Finding {
                rule: Some(format!("protect[{i}] {}", rule.describe())),
                expires: Some(at),
                expires_in_days: Some(now.until(at).days_ceil()),
                ..finding(
                    FindingKind::Expiring,
                    FindingPool::Listed {
                        id: None,
                        name: None,
                    },
                )
            });
        }
    }
    out
}

/// The pools a state manages that the listing does not show: notes (Terraform's drift, not
/// poolform's). Said in a file of one project only: in a file of several, a state's pool may
/// live in another of its projects.
fn managed_not_live(rules: &Rules, live: &Live) -> Vec<Finding> {
    rules
        .terraform
        .all()
        .into_iter()
        .filter(|(id, _)| live.index_of(id).is_none())
        .map(|(id, by)| Finding {
            rule: Some(by.address.clone()),
            filter: Some(by.file.clone()),
            ..finding(
                FindingKind::TerraformNotLive,
                FindingPool::Listed {
                    id: Some(id.clone()),
                    name: None,
                },
            )
        })
        .collect()
}

/// Computes one project's part of the plan.
pub fn plan(rules: &Rules, live: &Live, ctx: &PlanContext) -> Result<ProjectPlan, PlanError> {
    let matching = match_entries(rules, live)?;
    let entries = entry_findings(rules, live, &matching);
    let classified = classify(rules, live, &matching.kept_by, &entries.drifted)?;
    let mut changes = classified.changes;
    let mut findings = entries.findings;
    findings.extend(classified.findings);
    findings.extend(expiring(rules, live, &matching));
    if ctx.label.is_none() {
        findings.extend(managed_not_live(rules, live));
    }
    changes.sort_by(|a, b| (&a.pool.name, &a.pool.id).cmp(&(&b.pool.name, &b.pool.id)));
    findings.sort_by(|a, b| {
        (a.kind, a.pool.name(), a.pool.id()).cmp(&(b.kind, b.pool.name(), b.pool.id()))
    });
    Ok(ProjectPlan {
        label: ctx.label.clone(),
        project_id: ctx.project_id.clone(),
        endpoint: ctx.endpoint.clone(),
        identity: ctx.identity.clone(),
        clock: live.clock(),
        in_scope: live.pools().iter().filter(|p| rules.in_scope(p)).count(),
        summary: Summary::count(&changes, &findings, classified.unchanged),
        changes,
        findings,
    })
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use crate::core::config;
    use crate::core::model::Tag;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn ctx() -> PlanContext {
        PlanContext {
            label: None,
            project_id: ProjectId::parse("p").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            identity: crate::core::identity::testing::identity(),
        }
    }

    fn pool(id: &str, name: &str) -> Pool {
        let mut p = Pool::new(PoolId::parse(id).unwrap(), name);
        p.pool_type = Some("DYNAMIC".into());
        p.enterprise_project_id = Some("0".into());
        p.status = Some("STEADY".into());
        p
    }

    fn with(mut p: Pool, f: impl FnOnce(&mut Pool)) -> Pool {
        f(&mut p);
        p
    }

    /// The rules of a file of one project.
    fn cfg(yaml: &str) -> Rules {
        let file = config::parse(&format!("version: 1\n{yaml}"), "pools.yaml").unwrap();
        crate::core::projects::projects(&file).remove(0).rules
    }

    /// (id, kind) pairs: `delete`, `blocked`, or a finding kind.
    fn outcome(plan: &ProjectPlan) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = plan
            .changes
            .iter()
            .map(|c| {
                (
                    c.pool.id.to_string(),
                    if c.likely_blocked {
                        "blocked"
                    } else {
                        "delete"
                    },
                )
            })
            .collect();
        for f in &plan.findings {
            let key = f
                .pool
                .id()
                .map_or_else(|| f.pool.name().unwrap_or("").to_owned(), |i| i.to_string());
            let kind = f.kind.name();
            out.push((key, kind));
        }
        out.sort();
        out
    }

    #[test]
    fn every_branch() {
        let live = || {
            Live::new(vec![
                pool("k1", "ci-keep"),
                pool("k2", "ci-byname"),
                pool("d1", "ci-old"),
                with(pool("d2", "ci-busy"), |p| p.desktop_count = 2),
                pool("pr", "ci-prod-1"),
                with(pool("tg", "ci-tagged"), |p| {
                    p.tags = vec![Tag {
                        key: "env".into(),
                        value: "prod".into(),
                    }]
                }),
                with(pool("st", "ci-static"), |p| {
                    p.pool_type = Some("STATIC".into())
                }),
                with(pool("ep", "ci-ep"), |p| {
                    p.enterprise_project_id = Some("9".into())
                }),
                pool("xx", "other-team"),
                with(pool("dr", "ci-renamed"), |p| {
                    p.image_id = Some("img-2".into())
                }),
            ])
            .unwrap()
        };
        let cases: Vec<(&str, &str, Vec<(&str, &str)>, Summary)> = vec![
            (
                "scope, keep by id and name, protect by glob and tag, drift, missing",
                "scope: {name_prefix: ci-, type: DYNAMIC, enterprise_project_id: \"0\"}\npools:\n  - id: k1\n  - name: ci-byname\n  - id: dr\n    name: ci-finance\n    expect: {image_id: img-1}\n  - name: ci-gone\n  - id: zz\nprotect:\n  - name: \"ci-prod-*\"\n  - tag: {key: env, value: prod}\n",
                vec![("ci-gone", "missing"), ("d1", "delete"), ("d2", "blocked"), ("dr", "drift"), ("pr", "protected"), ("tg", "protected"), ("zz", "missing")],
                Summary { delete: 2, likely_blocked: 1, missing: 2, drift: 1, protected: 2, out_of_scope: 0, near_match: 0, young: 0, expiring: 0, terraform: 0, terraform_not_live: 0, unchanged: 2 },
            ),
            (
                "listed pools outside the scope are reported, not checked for drift or kept twice",
                "scope: {name_prefix: ci-, type: DYNAMIC}\npools:\n  - id: st\n    expect: {type: DYNAMIC}\n  - name: other-team\n  - id: k1\n",
                vec![("d1", "delete"), ("d2", "blocked"), ("dr", "delete"), ("ep", "delete"), ("k2", "delete"), ("pr", "delete"), ("st", "out_of_scope"), ("tg", "delete"), ("xx", "out_of_scope")],
                Summary { delete: 7, likely_blocked: 1, missing: 0, drift: 0, protected: 0, out_of_scope: 2, near_match: 0, young: 0, expiring: 0, terraform: 0, terraform_not_live: 0, unchanged: 1 },
            ),
            (
                "no scope: everything unlisted goes, including other teams' pools",
                "pools: [{id: k1}]\n",
                vec![("d1", "delete"), ("d2", "blocked"), ("dr", "delete"), ("ep", "delete"), ("k2", "delete"), ("pr", "delete"), ("st", "delete"), ("tg", "delete"), ("xx", "delete")],
                Summary { delete: 9, likely_blocked: 1, missing: 0, drift: 0, protected: 0, out_of_scope: 0, near_match: 0, young: 0, expiring: 0, terraform: 0, terraform_not_live: 0, unchanged: 1 },
            ),
            (
                "protect by id",
                "scope: {name_prefix: ci-old}\nprotect: [{id: d1}]\n",
                vec![("d1", "protected")],
                Summary { protected: 1, ..Summary::default() },
            ),
            (
                "a listed pool out of scope is reported as such (not managed: no drift), never deleted",
                "scope: {name_prefix: ci-k}\npools:\n  - id: xx\n    expect: {type: STATIC}\n  - id: k1\n",
                vec![("xx", "out_of_scope")],
                Summary { out_of_scope: 1, unchanged: 1, ..Summary::default() },
            ),
            (
                "the type filter",
                "scope: {type: STATIC}\npools: []\n",
                vec![("st", "delete")],
                Summary { delete: 1, ..Summary::default() },
            ),
            (
                "the enterprise project filter",
                "scope: {enterprise_project_id: \"9\"}\n",
                vec![("ep", "delete")],
                Summary { delete: 1, ..Summary::default() },
            ),
            (
                "in sync",
                "scope: {name_prefix: ci-keep}\npools: [{id: k1, name: ci-keep, expect: {type: DYNAMIC, status: STEADY, in_maintenance_mode: false}}]\n",
                vec![],
                Summary { unchanged: 1, ..Summary::default() },
            ),
            (
                "listed twice (by id and by name) counts once",
                "scope: {name_prefix: ci-keep}\npools: [{id: k1}, {name: ci-keep}]\n",
                vec![],
                Summary { unchanged: 1, ..Summary::default() },
            ),
            (
                "allow_delete_all",
                "pools: []\nallow_delete_all: true\n",
                vec![("d1", "delete"), ("d2", "blocked"), ("dr", "delete"), ("ep", "delete"), ("k1", "delete"), ("k2", "delete"), ("pr", "delete"), ("st", "delete"), ("tg", "delete"), ("xx", "delete")],
                Summary { delete: 10, likely_blocked: 1, ..Summary::default() },
            ),
        ];
        for (what, yaml, want, summary) in cases {
            let plan = plan(&cfg(yaml), &live(), &ctx()).unwrap_or_else(|e| panic!("{what}: {e}"));
            let want: Vec<(String, &str)> =
                want.into_iter().map(|(a, b)| (a.to_owned(), b)).collect();
            assert_eq!(outcome(&plan), want, "{what}");
            assert_eq!(plan.summary, summary, "{what}");
            assert_eq!(
                plan.summary.has_drift(),
                summary.delete + summary.missing + summary.drift > 0,
                "{what}"
            );
        }
    }

    #[test]
    fn autoscale_marks_a_delete_likely_blocked() {
        let policy = |min_idle| crate::core::model::AutoscalePolicy {
            min_idle: Some(min_idle),
            ..Default::default()
        };
        let live = Live::new(vec![
            with(pool("a1", "ci-auto-idle"), |p| {
                p.enable_autoscale = true;
                p.autoscale_policy = Some(Box::new(policy(2)));
            }),
            with(pool("a2", "ci-auto-zero"), |p| {
                p.enable_autoscale = true;
                p.autoscale_policy = Some(Box::new(policy(0)));
            }),
            with(pool("a3", "ci-auto-off"), |p| {
                p.autoscale_policy = Some(Box::new(policy(2)))
            }),
            with(pool("a4", "ci-one"), |p| p.desktop_count = 1),
        ])
        .unwrap();
        let plan = plan(&cfg("scope: {name_prefix: ci-}\n"), &live, &ctx()).unwrap();
        let got: Vec<(&str, bool, &str)> = plan
            .changes
            .iter()
            .map(|c| (c.pool.id.as_str(), c.likely_blocked, c.reason.code()))
            .collect();
        assert_eq!(
            got,
            [
                ("a1", true, "not_in_config"),
                ("a3", false, "not_in_config"),
                ("a2", false, "not_in_config"),
                ("a4", true, "not_in_config"),
            ]
        );
        assert_eq!(plan.summary.likely_blocked, 2);
    }

    #[test]
    fn drift_names_expected_and_live_values() {
        let plan = plan(&cfg("scope: {name_prefix: ci-r}\npools:\n  - id: dr\n    name: ci-finance\n    expect: {image_id: img-1, type: STATIC}\n"), &Live::new(vec![with(pool("dr", "ci-renamed"), |p| p.image_id = Some("img-2".into()))]).unwrap(), &ctx()).unwrap();
        let f = &plan.findings[0];
        assert_eq!(
            f.differences
                .iter()
                .map(|d| (d.attribute.as_str(), d.expected.as_str(), d.live.as_str()))
                .collect::<Vec<_>>(),
            [
                ("name", "ci-finance", "ci-renamed"),
                ("type", "STATIC", "DYNAMIC"),
                ("image_id", "img-1", "img-2")
            ]
        );
    }

    #[test]
    fn a_name_matching_several_pools_is_an_error_naming_them_all() {
        let live = Live::new(vec![pool("b", "dup"), pool("a", "dup"), pool("c", "other")]).unwrap();
        let err = plan(&cfg("pools: [{name: dup}]\n"), &live, &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pools[0] names \"dup\", which matches 2 live pools: a, b; list the one to keep by id"
        );
    }

    #[test]
    fn verdicts_name_why_a_pool_is_not_deleted() {
        let live = Live::new(vec![
            pool("k1", "ci-keep"),
            pool("k2", "ci-byname"),
            pool("pr", "ci-prod-1"),
            with(pool("tg", "ci-tagged"), |p| {
                p.tags = vec![Tag {
                    key: "env".into(),
                    value: "prod".into(),
                }]
            }),
            with(pool("st", "ci-static"), |p| {
                p.pool_type = Some("STATIC".into())
            }),
            with(pool("nt", "ci-notype"), |p| p.pool_type = None),
            pool("xx", "other"),
            pool("d1", "ci-old"),
        ])
        .unwrap();
        let config = cfg("scope: {name_prefix: ci-, type: DYNAMIC}\npools:\n  - id: k1\n  - name: ci-byname\nprotect:\n  - name: \"ci-prod-*\"\n  - tag: {key: env, value: prod}\n");
        let got: Vec<(String, Option<String>)> = live
            .pools()
            .iter()
            .zip(verdicts(&config, &live).unwrap())
            .map(|(p, v)| (p.id.to_string(), v.why_kept("pools.yaml")))
            .collect();
        let want = [
            ("d1", None),
            ("k1", Some("pools.yaml now keeps it (pools[0])")),
            ("k2", Some("pools.yaml now keeps it (pools[1])")),
            (
                "nt",
                Some("it is now outside the scope of pools.yaml (type DYNAMIC)"),
            ),
            ("pr", Some("it is now protected by name \"ci-prod-*\"")),
            (
                "st",
                Some("it is now outside the scope of pools.yaml (type DYNAMIC)"),
            ),
            ("tg", Some("it is now protected by tag env=prod")),
            (
                "xx",
                Some("it is now outside the scope of pools.yaml (name_prefix \"ci-\")"),
            ),
        ];
        let want: Vec<(String, Option<String>)> = want
            .iter()
            .map(|(id, w)| (id.to_string(), w.map(str::to_owned)))
            .collect();
        assert_eq!(got, want);
        // seen alone, a pool keeps the verdict the whole listing gives it
        for (pool, v) in live.pools().iter().zip(verdicts(&config, &live).unwrap()) {
            assert_eq!(verdict_alone(&config, pool, None), v, "{}", pool.id);
        }
        // and a rename onto a kept name keeps it, even without the listing
        let renamed = with(pool("d1", "ci-byname"), |_| {});
        assert_eq!(
            verdict_alone(&config, &renamed, None),
            Verdict::Kept { entry: 1 }
        );
    }

    /// A would-be delete whose name reads as a keep entry or a protect glob, once both are
    /// normalised, is not deleted: it is a near match, named with the rule, and counts as drift.
    #[test]
    fn near_matches_are_never_deleted() {
        let live = Live::new(vec![
            pool("k1", "ci-eng"),
            pool("z1", "ci-eng\u{200b}"),
            pool("z2", "CI-PROD-db"),
            pool("z3", "ci-\u{200b}prod-x"),
            pool("z4", "cafe\u{301}"),
            pool("z5", "ci-old\u{a0}"),
            pool("pr", "ci-prod-db\u{a0}"),
            pool("d1", "ci-other"),
        ])
        .unwrap();
        let config = cfg("pools:\n  - name: ci-eng\n  - name: café\n  - name: ci-old\nprotect:\n  - name: \"ci-prod-*\"\n");
        let plan = plan(&config, &live, &ctx()).unwrap();
        assert_eq!(
            outcome(&plan),
            [
                ("café".to_owned(), "missing"),
                ("ci-old".to_owned(), "missing"),
                ("d1".to_owned(), "delete"),
                ("pr".to_owned(), "protected"),
                ("z1".to_owned(), "near_match"),
                ("z2".to_owned(), "near_match"),
                ("z3".to_owned(), "near_match"),
                ("z4".to_owned(), "near_match"),
                ("z5".to_owned(), "near_match"),
            ]
        );
        assert_eq!(plan.summary.near_match, 5);
        assert!(plan.summary.has_drift());
        let rule = |id: &str| {
            plan.findings
                .iter()
                .find(|f| f.pool.id().is_some_and(|i| i.as_str() == id))
                .unwrap()
                .rule
                .clone()
                .unwrap_or_default()
        };
        assert_eq!(rule("z1"), "pools[0] name \"ci-eng\"");
        assert_eq!(rule("z2"), "protect[0] name \"ci-prod-*\"");
        assert_eq!(rule("z5"), "pools[2] name \"ci-old\"");
        // the same verdicts refuse a saved plan's delete of a near match
        let v = verdicts(&config, &live).unwrap();
        assert!(matches!(
            v[live.index_of(&PoolId::parse("z1").unwrap()).unwrap()],
            Verdict::NearMatch { .. }
        ));
        assert!(matches!(
            verdict_alone(
                &config,
                &live.pools()[live.index_of(&PoolId::parse("z2").unwrap()).unwrap()],
                None
            ),
            Verdict::NearMatch { .. }
        ));
    }

    /// Ids compare case-insensitively wherever a rule or an entry names one.
    #[test]
    fn ids_compare_without_case() {
        let id = "a130ab3a-72bf-4b71-baa9-af4987c8e338";
        let live = Live::new(vec![pool(id, "ci-a"), pool("b1", "ci-b")]).unwrap();
        let upper = id.to_ascii_uppercase();
        for yaml in [
            format!("scope: {{name_prefix: ci-}}\nprotect: [{{id: {upper}}}]\n"),
            format!("scope: {{name_prefix: ci-}}\npools: [{{id: {upper}}}]\n"),
        ] {
            let plan = plan(&cfg(&yaml), &live, &ctx()).unwrap();
            let deleted: Vec<&str> = plan.changes.iter().map(|c| c.pool.id.as_str()).collect();
            assert_eq!(deleted, ["b1"], "{yaml}");
        }
    }

    /// A would-be delete whose listing entry had no tags is never judged by a tag rule on tags
    /// assumed empty: the shell must read them first, and the plan refuses until it has.
    #[test]
    fn unknown_tags_fail_closed_only_where_a_tag_rule_reads_them() {
        let live = Live::new(vec![
            with(pool("u1", "ci-untagged"), |p| p.tags_unknown = true),
            with(pool("u2", "ci-kept"), |p| p.tags_unknown = true),
            pool("t1", "ci-tagged"),
        ])
        .unwrap();
        let tag_rules = cfg("scope: {name_prefix: ci-}\npools: [{name: ci-kept}]\nprotect: [{tag: {key: env, value: prod}}]\n");
        assert_eq!(
            pools_needing_tags(&tag_rules, &live).unwrap(),
            [PoolId::parse("u1").unwrap()]
        );
        let err = plan(&tag_rules, &live, &ctx()).unwrap_err();
        assert_eq!(
            err,
            PlanError::TagsUnknown {
                ids: vec![PoolId::parse("u1").unwrap()]
            }
        );
        assert!(
            err.to_string()
                .contains("tags of 1 pool that would be deleted are unknown"),
            "{err}"
        );
        // once read, the tag rule decides
        let mut read = live.clone();
        assert!(read.set_tags(
            &PoolId::parse("u1").unwrap(),
            vec![Tag {
                key: "env".into(),
                value: "prod".into()
            }]
        ));
        let plan_after = plan(&tag_rules, &read, &ctx()).unwrap();
        assert_eq!(
            outcome(&plan_after),
            [("t1".to_owned(), "delete"), ("u1".to_owned(), "protected")]
        );
        // without tag rules, unknown tags decide nothing
        let no_tags = cfg("scope: {name_prefix: ci-}\npools: [{name: ci-kept}]\n");
        assert!(pools_needing_tags(&no_tags, &live).unwrap().is_empty());
        assert_eq!(plan(&no_tags, &live, &ctx()).unwrap().changes.len(), 2);
    }

    #[test]
    fn output_is_sorted_by_name_then_id() {
        let live = Live::new(vec![
            pool("z", "a"),
            pool("y", "c"),
            pool("x", "b"),
            pool("w", "a"),
        ])
        .unwrap();
        let plan = plan(&cfg("pools: []\nallow_delete_all: true\n"), &live, &ctx()).unwrap();
        let order: Vec<_> = plan.changes.iter().map(|c| c.pool.id.as_str()).collect();
        assert_eq!(order, ["w", "z", "x", "y"]);
    }

    fn arb_pool() -> impl Strategy<Value = Pool> {
        (
            0u8..40,
            prop::sample::select(vec!["ci-", "ci-prod-", "tmp-", ""]),
            0u8..6,
            any::<bool>(),
            0u64..3,
            any::<bool>(),
        )
            .prop_map(|(id, prefix, name, stat, desktops, prod)| {
                let mut p = pool(&format!("id{id}"), &format!("{prefix}n{name}"));
                if stat {
                    p.pool_type = Some("STATIC".into());
                }
                p.desktop_count = desktops;
                if prod {
                    p.tags = vec![Tag {
                        key: "env".into(),
                        value: "prod".into(),
                    }];
                }
                p
            })
    }

    fn arb_config() -> impl Strategy<Value = String> {
        (
            prop::collection::btree_set(0u8..40, 0..10),
            prop::collection::btree_set(
                prop::sample::select(vec!["ci-n0", "ci-n1", "tmp-n2", "n3", "ci-prod-n4"]),
                0..3,
            ),
            prop::option::of(prop::sample::select(vec!["ci-", "tmp-", "ci-prod-"])),
            prop::option::of(prop::sample::select(vec!["DYNAMIC", "STATIC"])),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(ids, names, prefix, ty, glob, tag)| {
                let mut y = String::from("allow_delete_all: true\npools:\n");
                for id in ids {
                    y.push_str(&format!("  - id: id{id}\n"));
                }
                for n in names {
                    y.push_str(&format!("  - name: \"{n}\"\n"));
                }
                if prefix.is_some() || ty.is_some() {
                    y.push_str("scope:\n");
                    if let Some(p) = prefix {
                        y.push_str(&format!("  name_prefix: \"{p}\"\n"));
                    }
                    if let Some(t) = ty {
                        y.push_str(&format!("  type: {t}\n"));
                    }
                }
                y.push_str("protect:\n  - id: id39\n");
                if glob {
                    y.push_str("  - name: \"*prod*\"\n");
                }
                if tag {
                    y.push_str("  - tag: {key: env, value: prod}\n");
                }
                y
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Whatever the inputs: no pool that is listed, protected or out of scope is ever deleted.
        #[test]
        fn never_deletes_a_listed_protected_or_out_of_scope_pool(pools in prop::collection::vec(arb_pool(), 0..30), yaml in arb_config()) {
            let rules = cfg(&yaml);
            let mut pools = pools;
            pools.sort_by(|a, b| a.id.cmp(&b.id));
            pools.dedup_by(|a, b| a.id == b.id);
            let live = Live::new(pools).unwrap();
            if let Ok(plan) = plan(&rules, &live, &ctx()) {
                let listed_ids: HashSet<&PoolId> = rules.pools.iter().filter_map(|e| e.id.as_ref()).collect();
                let listed_names: HashSet<&str> = rules.pools.iter().filter(|e| e.id.is_none()).filter_map(|e| e.name.as_deref()).collect();
                for change in &plan.changes {
                    let p = live.get(&change.pool.id).expect("deletes only live pools");
                    prop_assert!(!listed_ids.contains(&p.id), "listed by id: {:?}", p.id);
                    prop_assert!(!listed_names.contains(&*p.name), "listed by name: {}", p.name);
                    prop_assert!(!rules.protect.iter().any(|r| r.matches(p)), "protected: {}", p.name);
                    prop_assert!(rules.in_scope(p), "out of scope: {}", p.name);
                }
                let accounted = plan.summary.delete + plan.summary.protected + plan.summary.unchanged
                    + plan.findings.iter().filter(|f| f.kind == FindingKind::Drift && f.pool.live().is_some_and(|r| live.get(&r.id).is_some_and(|p| rules.in_scope(p)))).count();
                prop_assert_eq!(accounted, live.pools().iter().filter(|p| rules.in_scope(p)).count());
            }
        }
    }
}

//! Whether a reviewed plan may be applied now, and which of its deletes may be sent: every
//! DELETE is justified twice, by the plan being applied and by the current config against the
//! current listing. Pure: the listing and the config are passed in.
//!
//! A plan is bound to what it was made from: the config file's bytes (SHA-256), the endpoint
//! and the project. At apply time the config is planned again against a fresh listing, and
//! each planned delete must be a delete there too, with the same fingerprint. So editing a plan
//! file can only ever remove deletes: an added, duplicated or redirected one is refused.

use crate::core::config::Config;
use crate::core::model::{Live, PoolRef, ProjectId};
use crate::core::plan::{Change, DeleteStep, Identity, Plan, ProjectPlan};
use crate::core::planner::{self, PlanError, Verdict};
use crate::core::rules::Rules;

/// The deletes that may be sent, and the planned pools the listing no longer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// Planned deletes the config still calls for, on pools unchanged since planning.
    pub steps: Vec<DeleteStep>,
    /// Planned pools missing from the listing: gone only once a read of each confirms it.
    pub unlisted: Vec<PoolRef>,
}

/// Why one planned delete may not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Objection {
    /// The pool changed in a field a decision reads since the plan was made.
    Changed { planned: Box<Change>, live: PoolRef },
    /// The config no longer calls for the pool's deletion: it keeps or protects it, or it is
    /// out of scope.
    NotCalledFor { pool: PoolRef, why: String },
}

/// Why a plan is refused as a whole. Nothing is deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{what} is stale or no longer called for: {}; nothing was deleted. Run `poolform plan` again and review the new plan", describe(objections))]
    Objections {
        what: String,
        objections: Vec<Objection>,
    },
    #[error("{what} cannot be checked against the config now: {error}; nothing was deleted")]
    Replan { what: String, error: PlanError },
}

fn describe(objections: &[Objection]) -> String {
    let changed = objections
        .iter()
        .filter(|o| matches!(o, Objection::Changed { .. }))
        .count();
    let mut parts = Vec::new();
    if changed > 0 {
        parts.push(format!(
            "{changed} of its pools changed since it was made (shown above)"
        ));
    }
    for o in objections {
        if let Objection::NotCalledFor { pool, why } = o {
            parts.push(format!("pool {} ({:?}): {why}", pool.id, pool.name));
        }
    }
    parts.join("; ")
}

/// Checks each of a project's planned deletes against its `rules` planned again on `live`.
/// `what` names the plan in messages ("the plan in plan.json").
pub fn authorize(
    plan: &ProjectPlan,
    what: &str,
    rules: &Rules,
    source: &str,
    live: &Live,
) -> Result<Authorized, Refusal> {
    let verdicts = planner::verdicts(rules, live).map_err(|error| Refusal::Replan {
        what: what.to_owned(),
        error,
    })?;
    let mut steps = Vec::new();
    let mut unlisted = Vec::new();
    let mut objections = Vec::new();
    for change in &plan.changes {
        let Some(index) = live.index_of(&change.pool.id) else {
            unlisted.push(change.pool.clone());
            continue;
        };
        let now = PoolRef::of(&live.pools()[index]);
        match &verdicts[index] {
            Verdict::Delete if now.fingerprint() == change.fingerprint => {
                steps.push(DeleteStep::new(now));
            }
            Verdict::Delete => objections.push(Objection::Changed {
                planned: Box::new(change.clone()),
                live: now,
            }),
            verdict => {
                let why = verdict.why_kept(source).unwrap_or_default();
                if now.fingerprint() != change.fingerprint {
                    objections.push(Objection::Changed {
                        planned: Box::new(change.clone()),
                        live: now.clone(),
                    });
                }
                objections.push(Objection::NotCalledFor { pool: now, why });
            }
        }
    }
    if objections.is_empty() {
        Ok(Authorized { steps, unlisted })
    } else {
        Err(Refusal::Objections {
            what: what.to_owned(),
            objections,
        })
    }
}

/// A plan made for something other than what this run would act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("{plan_file} was made from a file of one project, but {config_file} lists projects:; a plan applies only with a config of its own kind. Nothing was sent; plan again from {config_file} and review the new plan")]
    OneProjectPlan {
        plan_file: String,
        config_file: String,
    },
    #[error("{plan_file} was made from a file with projects:, but {config_file} names one project; a plan applies only with a config of its own kind. Nothing was sent; plan again from {config_file} and review the new plan")]
    ProjectsPlan {
        plan_file: String,
        config_file: String,
    },
    #[error("{plan_file} was made from {made_from} with SHA-256 {planned}, but {config_file} has SHA-256 {now}: the config changed since the plan was made (or this is another file). Nothing was sent; plan again and review the new plan")]
    Config {
        plan_file: String,
        /// The config the plan was made from, as it records it.
        made_from: String,
        config_file: String,
        planned: String,
        now: String,
    },
    #[error("{plan_file} is for endpoint {planned}, but this run resolves {now} (from flags, environment and {config_file}); refusing to apply it there. Nothing was sent")]
    Endpoint {
        plan_file: String,
        config_file: String,
        planned: String,
        now: String,
    },
    #[error("{plan_file} is for project {planned}, but this run resolves project {now} (from flags, environment and {config_file}); refusing to apply it there. Nothing was sent")]
    Project {
        plan_file: String,
        config_file: String,
        planned: ProjectId,
        now: ProjectId,
    },
    #[error("{plan_file} was made as another identity: it was planned with {difference}; refusing to apply it as someone else. Nothing was sent; plan again as this identity and review the new plan")]
    Identity {
        plan_file: String,
        difference: String,
    },
}

/// Checks, before anything is resolved, that `plan` was made from this very config: a file of
/// the same kind (one project, or `projects:`), whose bytes have the SHA-256 it records.
pub fn check_config(
    plan: &Plan,
    plan_file: &str,
    config_file: &str,
    config: &Config,
    config_sha256: &str,
) -> Result<(), Mismatch> {
    check_kind(plan, plan_file, config_file, config)?;
    if plan.config_sha256 != config_sha256 {
        return Err(Mismatch::Config {
            plan_file: plan_file.to_owned(),
            made_from: crate::core::escape::visible(&plan.source).into_owned(),
            config_file: config_file.to_owned(),
            planned: plan.config_sha256.clone(),
            now: config_sha256.to_owned(),
        });
    }
    Ok(())
}

/// Checks that a plan is of the config's kind (one project, or `projects:`): what binds an
/// announcement to its config, which may change during the notice.
pub fn check_kind(
    plan: &Plan,
    plan_file: &str,
    config_file: &str,
    config: &Config,
) -> Result<(), Mismatch> {
    let (plan_file, config_file) = (plan_file.to_owned(), config_file.to_owned());
    match (plan.is_of_one_project(), config.is_many()) {
        (true, true) => {
            return Err(Mismatch::OneProjectPlan {
                plan_file,
                config_file,
            })
        }
        (false, false) => {
            return Err(Mismatch::ProjectsPlan {
                plan_file,
                config_file,
            })
        }
        _ => {}
    }
    Ok(())
}

/// What this run would act on: resolved exactly as `plan` resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub config_file: &'a str,
    /// The endpoint as plans record it (no trailing slash).
    pub endpoint: &'a str,
    /// `None` while the project is still to be looked up at IAM.
    pub project_id: Option<&'a ProjectId>,
    /// Whose identity this run acts as.
    pub identity: &'a Identity,
}

/// Checks, before any request, that a project's part of a plan was made as the identity,
/// for the endpoint and the project that this run resolves. The plan's own `endpoint` is
/// never where anything is sent; it must only agree.
pub fn check_binding(
    plan: &ProjectPlan,
    plan_file: &str,
    target: &Target<'_>,
) -> Result<(), Mismatch> {
    if let Some(difference) = plan.identity.mismatch(target.identity) {
        return Err(Mismatch::Identity {
            plan_file: plan_file.to_owned(),
            difference,
        });
    }
    if plan.endpoint.trim_end_matches('/') != target.endpoint {
        return Err(Mismatch::Endpoint {
            plan_file: plan_file.to_owned(),
            config_file: target.config_file.to_owned(),
            planned: plan.endpoint.clone(),
            now: target.endpoint.to_owned(),
        });
    }
    match target.project_id {
        Some(now) if *now != plan.project_id => Err(Mismatch::Project {
            plan_file: plan_file.to_owned(),
            config_file: target.config_file.to_owned(),
            planned: plan.project_id.clone(),
            now: now.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use crate::core::config;
    use crate::core::model::{Pool, PoolId, Tag};
    use crate::core::plan::config_sha256;
    use crate::core::planner::PlanContext;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
    const ENDPOINT: &str = "http://127.0.0.1:9";
    const YAML: &str = "version: 1\nscope: {name_prefix: ci-}\npools:\n  - id: keep-1\n  - name: ci-by-name\nprotect:\n  - name: \"ci-prod-*\"\n  - tag: {key: env, value: prod}\n";

    fn pool(id: &str, name: &str) -> Pool {
        let mut p = Pool::new(PoolId::parse(id).unwrap(), name);
        p.pool_type = Some("DYNAMIC".into());
        p.status = Some("STEADY".into());
        p.created_time = Some("2026-01-05T08:00:00.000Z".into());
        p.enterprise_project_id = Some("0".into());
        p
    }

    fn world() -> Vec<Pool> {
        let mut tagged = pool("tagged", "ci-tagged");
        tagged.tags = vec![Tag {
            key: "env".into(),
            value: "prod".into(),
        }];
        let mut busy = pool("busy", "ci-busy");
        busy.desktop_count = 2;
        vec![
            pool("keep-1", "ci-keep"),
            pool("named", "ci-by-name"),
            pool("prod", "ci-prod-db"),
            tagged,
            pool("other", "marketing"),
            pool("old-1", "ci-old-1"),
            pool("old-2", "ci-old-2"),
            busy,
        ]
    }

    /// The rules of the one project of `YAML`.
    fn config() -> Rules {
        let file = config::parse(YAML, "pools.yaml").unwrap();
        crate::core::projects::projects(&file).remove(0).rules
    }

    /// The project's part of a plan made now.
    fn fresh_part(live: &Live) -> ProjectPlan {
        let ctx = PlanContext {
            label: None,
            project_id: ProjectId::parse(PROJECT).unwrap(),
            endpoint: ENDPOINT.into(),
            identity: crate::core::identity::testing::identity(),
        };
        planner::plan(&config(), live, &ctx).unwrap()
    }

    /// A whole plan of the one project, made now.
    fn fresh_plan(live: &Live) -> Plan {
        let made = crate::core::plan::Made {
            created_at: "2026-11-27T12:00:00Z".into(),
            source: "pools.yaml".into(),
            config_sha256: config_sha256(YAML.as_bytes()),
        };
        Plan::new(made, Vec::new(), vec![fresh_part(live)], Vec::new())
    }

    fn ids(steps: &[DeleteStep]) -> Vec<&str> {
        steps.iter().map(|s| s.pool().id.as_str()).collect()
    }

    fn live_of(pools: Vec<Pool>) -> Live {
        Live::new(pools).unwrap()
    }

    #[test]
    fn an_untouched_plan_authorizes_exactly_its_deletes() {
        let live = live_of(world());
        let plan = fresh_part(&live);
        let ok = authorize(&plan, "the plan", &config(), "pools.yaml", &live).unwrap();
        assert_eq!(ids(&ok.steps), ["busy", "old-1", "old-2"]);
        assert!(ok.unlisted.is_empty());
    }

    #[test]
    fn a_pool_gone_from_the_listing_needs_confirming_not_deleting() {
        let plan = fresh_part(&live_of(world()));
        let live = live_of(
            world()
                .into_iter()
                .filter(|p| p.id.as_str() != "old-1")
                .collect(),
        );
        let ok = authorize(&plan, "the plan", &config(), "pools.yaml", &live).unwrap();
        assert_eq!(ids(&ok.steps), ["busy", "old-2"]);
        assert_eq!(ok.unlisted.len(), 1);
        assert_eq!(ok.unlisted[0].id.as_str(), "old-1");
    }

    /// A planned pool that is now kept, protected, out of scope or changed refuses the plan.
    #[test]
    fn a_delete_no_longer_called_for_refuses_the_whole_plan() {
        let plan = fresh_part(&live_of(world()));
        let cases: Vec<(&str, fn(&mut Pool), &str)> = vec![
            (
                "renamed into a protect rule",
                |p| p.name = "ci-prod-old".into(),
                "it is now protected by name \"ci-prod-*\"",
            ),
            (
                "tagged into a protect rule",
                |p| {
                    p.tags = vec![Tag {
                        key: "env".into(),
                        value: "prod".into(),
                    }]
                },
                "it is now protected by tag env=prod",
            ),
            (
                "renamed out of scope",
                |p| p.name = "team-old".into(),
                "it is now outside the scope of pools.yaml (name_prefix \"ci-\")",
            ),
            (
                "renamed onto a kept name",
                |p| p.name = "ci-by-name".into(),
                "pools[1] names \"ci-by-name\", which matches 2 live pools",
            ),
            (
                "got desktops",
                |p| p.desktop_count = 3,
                "1 of its pools changed since it was made",
            ),
            (
                "recreated",
                |p| p.created_time = Some("2026-11-28T00:00:00.000Z".into()),
                "1 of its pools changed",
            ),
        ];
        for (what, edit, want) in cases {
            let mut pools = world();
            let target = pools.iter_mut().find(|p| p.id.as_str() == "old-1").unwrap();
            edit(target);
            let live = live_of(pools);
            let err = authorize(&plan, "the plan", &config(), "pools.yaml", &live).unwrap_err();
            assert!(err.to_string().contains(want), "{what}: {err}");
        }
    }

    #[test]
    fn the_binding_to_config_endpoint_project_and_identity() {
        use crate::core::plan::{Agency, CredentialKind};
        let whole = fresh_plan(&live_of(world()));
        let mut plan = whole.projects[0].clone();
        let key = |last4: &str, temporary: bool| Identity {
            credentials: CredentialKind::Variable,
            source: "HW_ACCESS_KEY".into(),
            access_key_last4: Some(last4.into()),
            temporary,
            agency: None,
            project_from: "pools.yaml".into(),
        };
        plan.identity = key("ABCD", false);
        let project = ProjectId::parse(PROJECT).unwrap();
        let other_project = ProjectId::parse("other").unwrap();
        let sha = config_sha256(YAML.as_bytes());
        let other_sha = config_sha256(b"version: 1\n");
        let same = key("ABCD", false);
        let target = |_sha: &str, endpoint, project, identity| Target {
            identity,
            config_file: "pools.yaml",
            endpoint,
            project_id: Some(project),
        };
        // the config: its kind, then its bytes
        let one = config::parse(YAML, "pools.yaml").unwrap();
        let many = config::parse(
            "version: 1\nprojects: [{region: cn-north-4, project_id: p, pools: [{name: x}]}]\n",
            "pools.yaml",
        )
        .unwrap();
        assert!(check_config(&whole, "plan.json", "pools.yaml", &one, &sha).is_ok());
        for (file, sha, want) in [
            (&one, &other_sha, "was made from pools.yaml with SHA-256"),
            (
                &many,
                &sha,
                "plan.json was made from a file of one project, but pools.yaml lists projects:",
            ),
        ] {
            let err = check_config(&whole, "plan.json", "pools.yaml", file, sha).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        assert!(
            check_binding(&plan, "plan.json", &target(&sha, ENDPOINT, &project, &same)).is_ok()
        );
        // another key, permanent or temporary, is not bound (a read-only key plans, a delete
        // key applies); its kind and agency are
        let other_keys = [key("WXYZ", true), key("WXYZ", false)];
        for other_key in &other_keys {
            assert!(check_binding(
                &plan,
                "plan.json",
                &target(&sha, ENDPOINT, &project, other_key)
            )
            .is_ok());
        }
        let token = crate::core::identity::testing::identity();
        let agency = Identity {
            agency: Some(Agency {
                name: "poolform".into(),
                domain_name: Some("tenant-b".into()),
                domain_id: None,
            }),
            ..key("ABCD", false)
        };
        let profile = Identity {
            credentials: CredentialKind::Profile,
            ..key("ABCD", false)
        };
        let cases = [
            (target(&sha, "https://workspace.cn-north-4.myhuaweicloud.com", &project, &same), "is for endpoint http://127.0.0.1:9, but this run resolves https://workspace.cn-north-4.myhuaweicloud.com"),
            (target(&sha, ENDPOINT, &other_project, &same), "is for project 0bec5db98280d2d02fd6c00c2de791ce, but this run resolves project other"),
            (target(&sha, ENDPOINT, &project, &token), "planned with an access key from HW_ACCESS_KEY, but this run has a token from HW_AUTH_TOKEN"),
            (target(&sha, ENDPOINT, &project, &agency), "planned with no agency, but this run assumes agency poolform@tenant-b"),
            (target(&sha, ENDPOINT, &project, &profile), "but this run has the credentials of"),
        ];
        for (t, want) in cases {
            let err = check_binding(&plan, "plan.json", &t)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    /// One edit an attacker (or a careless hand) can make to a plan file. Fingerprints and the
    /// summary are recomputed afterwards, as a determined attacker would.
    #[derive(Debug, Clone)]
    enum Edit {
        /// Point change `i` at live pool `j`, copying its content.
        Redirect(usize, usize),
        /// Add a change for live pool `j`.
        Add(usize),
        /// Duplicate change `i`.
        Duplicate(usize),
        /// Remove change `i`.
        Remove(usize),
        /// Rename the pool of change `i`.
        Rename(usize, String),
        /// Change the desktop count of change `i`.
        Desktops(usize, u64),
        /// Drop the tags of change `i`.
        Untag(usize),
        Endpoint(String),
        Project(String),
        ConfigSha(String),
        /// Set the summary's delete count.
        Summary(usize),
    }

    fn arb_edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (0..8usize, 0..8usize).prop_map(|(i, j)| Edit::Redirect(i, j)),
            (0..8usize).prop_map(Edit::Add),
            (0..8usize).prop_map(Edit::Duplicate),
            (0..8usize).prop_map(Edit::Remove),
            (
                0..8usize,
                prop::sample::select(vec![
                    "ci-keep",
                    "ci-by-name",
                    "ci-prod-x",
                    "marketing",
                    "ci-old-9"
                ])
            )
                .prop_map(|(i, n)| Edit::Rename(i, n.into())),
            (0..8usize, 0..3u64).prop_map(|(i, n)| Edit::Desktops(i, n)),
            (0..8usize).prop_map(Edit::Untag),
            prop::sample::select(vec![
                ENDPOINT,
                "http://127.0.0.1:10",
                "https://evil.example"
            ])
            .prop_map(|e| Edit::Endpoint(e.into())),
            prop::sample::select(vec![PROJECT, "other"]).prop_map(|p| Edit::Project(p.into())),
            prop::sample::select(vec!["0".repeat(64), config_sha256(YAML.as_bytes())])
                .prop_map(Edit::ConfigSha),
            (0..6usize).prop_map(Edit::Summary),
        ]
    }

    fn apply_edit(whole: &mut Plan, live: &[Pool], edit: &Edit) {
        match edit {
            Edit::ConfigSha(s) => whole.config_sha256 = s.clone(),
            Edit::Summary(d) => whole.summary.delete = *d,
            _ => {}
        }
        let plan = &mut whole.projects[0];
        let n = plan.changes.len();
        match edit {
            Edit::Redirect(i, j) if n > 0 => {
                plan.changes[i % n].pool = PoolRef::of(&live[j % live.len()]);
            }
            Edit::Add(j) => {
                let mut c = plan
                    .changes
                    .first()
                    .cloned()
                    .unwrap_or_else(|| fresh_part(&live_of(world())).changes[0].clone());
                c.pool = PoolRef::of(&live[j % live.len()]);
                plan.changes.push(c);
            }
            Edit::Duplicate(i) if n > 0 => plan.changes.push(plan.changes[i % n].clone()),
            Edit::Remove(i) if n > 0 => {
                plan.changes.remove(i % n);
            }
            Edit::Rename(i, name) if n > 0 => plan.changes[i % n].pool.name = name.as_str().into(),
            Edit::Desktops(i, d) if n > 0 => plan.changes[i % n].pool.desktop_count = *d,
            Edit::Untag(i) if n > 0 => plan.changes[i % n].pool.tags.clear(),
            Edit::Endpoint(e) => plan.endpoint = e.clone(),
            Edit::Project(p) => plan.project_id = ProjectId::parse(p).unwrap(),
            _ => {}
        }
    }

    /// Recomputes what a careful forger would: fingerprints, and (unless the edit was to the
    /// summary itself) the summary's counts.
    fn recompute(whole: &mut Plan, keep_summary: bool) {
        let plan = &mut whole.projects[0];
        for c in &mut plan.changes {
            c.fingerprint = c.pool.fingerprint();
            c.likely_blocked = c.pool.desktop_count > 0;
        }
        if !keep_summary {
            plan.summary.delete = plan.changes.len();
            plan.summary.likely_blocked = plan.changes.iter().filter(|c| c.likely_blocked).count();
            whole.summary = plan.summary;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever is edited in a plan file (with fingerprints recomputed), applying it never
        /// sends a DELETE that a fresh plan from the same config would not make.
        #[test]
        fn an_edited_plan_never_deletes_more_than_a_fresh_plan(
            edits in prop::collection::vec(arb_edit(), 1..4),
            drop_pool in prop::option::of(0..8usize),
        ) {
            let pools = world();
            let live = live_of(pools.clone());
            let mut plan = fresh_plan(&live);
            let summary_edited = edits.iter().any(|e| matches!(e, Edit::Summary(_)));
            for edit in &edits {
                apply_edit(&mut plan, &pools, edit);
            }
            recompute(&mut plan, summary_edited);
            // The world may also move on between plan and apply.
            let now: Vec<Pool> = pools.iter().enumerate().filter(|(i, _)| Some(*i) != drop_pool).map(|(_, p)| p.clone()).collect();
            let live_now = live_of(now);
            let fresh: BTreeSet<String> = fresh_part(&live_now).changes.iter().map(|c| c.pool.id.to_string()).collect();

            // The pipeline apply runs: read the file, check the binding, authorize.
            let Ok(read) = Plan::from_json(&plan.to_json(), "plan.json") else { return Ok(()) };
            let project = ProjectId::parse(PROJECT).unwrap();
            let sha = config_sha256(YAML.as_bytes());
            let identity = crate::core::identity::testing::identity();
            let target = Target { config_file: "pools.yaml", endpoint: ENDPOINT, project_id: Some(&project), identity: &identity };
            let file = config::parse(YAML, "pools.yaml").unwrap();
            if check_config(&read, "plan.json", "pools.yaml", &file, &sha).is_err() {
                return Ok(());
            }
            let read = read.projects[0].clone();
            if check_binding(&read, "plan.json", &target).is_err() {
                return Ok(());
            }
            prop_assert_eq!(&read.endpoint, ENDPOINT);
            prop_assert_eq!(read.project_id.as_str(), PROJECT);
            if let Ok(ok) = authorize(&read, "the plan", &config(), "pools.yaml", &live_now) {
                let mut seen = BTreeSet::new();
                for step in &ok.steps {
                    let id = step.pool().id.to_string();
                    prop_assert!(fresh.contains(&id), "DELETE of {} that a fresh plan would not make", id);
                    prop_assert!(seen.insert(id.clone()), "two DELETEs for {}", id);
                    let live_pool = live_now.get(&step.pool().id).unwrap();
                    prop_assert_eq!(step.pool(), &PoolRef::of(live_pool));
                }
            }
        }
    }
}

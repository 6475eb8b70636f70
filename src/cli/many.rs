//! Runs over a file with `projects:`: which projects (`--only`), each resolved exactly as a
//! single-project file is (its own region, project, endpoint and identity; an agency only
//! when the operator allows it), then connected, listed and planned at once, each through a
//! client of its own (its own adaptive rate limiter). Fail closed: one project that cannot be
//! resolved, reached or listed fails the run, and the others are never applied.

use crate::api::connection::{self, FileDefaults, Resolved};
use crate::api::{Client, ClientOptions};
use crate::cli::args::{ConnectionArgs, ProjectArgs};
use crate::cli::context::{connect_as, env_var, list_quietly, make_plan, LoadedConfig};
use crate::cli::output;
use crate::cli::progress::Activity;
use crate::core::escape::visible;
use crate::core::many_plan::{total, ManyPlan, ProjectFailure, ProjectPlan};
use crate::core::model::Live;
use crate::core::plan::{Plan, PLAN_FORMAT_VERSION};
use crate::core::projects::{self, Project};
use anyhow::{bail, Result};
use std::collections::HashMap;

/// Variables that name one region or project, which cannot name one of many: ignored, said
/// once.
const PLACE_VARIABLES: [&str; 3] = [
    "HW_REGION_NAME",
    "HW_PROJECT_ID",
    "HUAWEICLOUD_SDK_PROJECT_ID",
];

/// The agency variables: beside a file's `assume_role` they would chain agencies.
const AGENCY_VARIABLES: [&str; 3] = [
    "HW_ASSUME_ROLE_AGENCY_NAME",
    "HW_ASSUME_ROLE_DOMAIN_NAME",
    "HW_ASSUME_ROLE_DOMAIN_ID",
];

/// The projects this run covers, in file order. `--region`/`--project-id` name nothing here
/// and are refused with the way forward; the variables that would are ignored, said once.
pub fn select(
    loaded: &LoadedConfig,
    conn: &ConnectionArgs,
    only: &[String],
) -> Result<Vec<Project>> {
    let all = projects::projects(&loaded.config);
    let labels: Vec<String> = all.iter().map(|p| p.label.clone()).collect();
    for (flag, given) in [
        ("--region", &conn.region),
        ("--project-id", &conn.project_id),
    ] {
        if given.is_some() {
            bail!(
                "{flag} names nothing in {}, which lists {} projects, each with its own region and project; choose projects with --only LABEL (its labels: {}); nothing was sent",
                visible(&loaded.source),
                all.len(),
                labels.join(", ")
            );
        }
    }
    for name in PLACE_VARIABLES {
        if env_var(name).is_some_and(|v| !v.is_empty()) {
            output::stderr_line(&format!(
                "note: {name} is ignored: {} lists several projects, each naming its own region and project",
                visible(&loaded.source)
            ));
        }
    }
    Ok(projects::select(all, only, &loaded.source)?)
}

/// The agencies the operator allows: `--allow-agency` and `POOLFORM_ALLOW_AGENCIES`
/// (comma-separated).
pub fn allowed_agencies(args: &ProjectArgs) -> Vec<String> {
    let mut allowed = args.allow_agency.clone();
    if let Some(list) = env_var("POOLFORM_ALLOW_AGENCIES") {
        allowed.extend(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    allowed
}

/// One project's config as a single-project file's, with the file's name and SHA-256.
fn loaded_for(loaded: &LoadedConfig, project: &Project) -> LoadedConfig {
    LoadedConfig {
        config: project.config.clone(),
        source: loaded.source.clone(),
        sha256: loaded.sha256.clone(),
    }
}

/// Resolves one project, before any call: its region and project from the file alone, its
/// endpoint from `--endpoint` (`REGION=URL` first), its credentials as any run's, and its
/// agency only if the operator allows it (never on top of one from the environment or a
/// profile).
pub fn resolve_project(
    conn: &ConnectionArgs,
    project: &Project,
    source: &str,
    allowed: &[String],
) -> Result<Resolved> {
    let label = &project.label;
    let entry = &project.entry;
    let flags = connection::ConnectionFlags {
        endpoint: conn.endpoint_for(entry.region.as_str())?,
        region: None,
        project_id: None,
        cloud: conn.cloud.clone(),
        profile: conn.profile.clone(),
    };
    let file = FileDefaults {
        source: source.to_owned(),
        region: Some(entry.region.as_str().to_owned()),
        project_id: entry.project_id.as_ref().map(ToString::to_string),
        cloud: entry.cloud.as_ref().map(|c| c.as_str().to_owned()),
        project_name: entry.project_name.as_ref().map(|n| n.as_str().to_owned()),
        sole_source: true,
    };
    let Some(role) = &entry.assume_role else {
        return Ok(connection::resolve(&flags, &file, &env_var)?);
    };
    let key = role.allow_key();
    if !allowed.contains(&key) {
        bail!(
            "projects[{}] of {} assumes agency {key}, which the operator has not allowed: a file cannot choose to reach another account. If you trust this file with that account, pass --allow-agency {key} (or POOLFORM_ALLOW_AGENCIES); nothing was sent",
            project.index,
            visible(source)
        );
    }
    let base = connection::resolve(&flags, &file, &env_var)?;
    if let Some(agency) = base.agency() {
        let from = if AGENCY_VARIABLES.iter().any(|v| env_var(v).is_some()) {
            "HW_ASSUME_ROLE_AGENCY_NAME"
        } else {
            "the profile"
        };
        bail!(
            "{} assumes agency {key}, but {from} already assumes agency {}: poolform does not chain agencies; unset it, or drop assume_role from the project; nothing was sent",
            label,
            agency.name
        );
    }
    let injected = |name: &str| -> Option<String> {
        match name {
            "HW_ASSUME_ROLE_AGENCY_NAME" => Some(role.agency.as_str().to_owned()),
            "HW_ASSUME_ROLE_DOMAIN_NAME" => role.domain.as_ref().map(|d| d.as_str().to_owned()),
            "HW_ASSUME_ROLE_DOMAIN_ID" => role.domain_id.as_ref().map(|d| d.as_str().to_owned()),
            other => env_var(other),
        }
    };
    Ok(connection::resolve(&flags, &file, &injected)?)
}

/// A project resolved and connected: its client, and its config as a single file's.
pub struct Reached {
    pub project: Project,
    pub loaded: LoadedConfig,
    pub client: Client,
}

/// Resolves every project (all before any call), then connects them at once; refuses two
/// projects that turn out to be one (same endpoint and project id).
async fn reach(
    loaded: &LoadedConfig,
    selected: Vec<Project>,
    conn: &ConnectionArgs,
    allowed: &[String],
    options: &ClientOptions,
) -> Result<Vec<Reached>> {
    let mut resolved = Vec::with_capacity(selected.len());
    for project in selected {
        let r = resolve_project(conn, &project, &loaded.source, allowed)
            .map_err(|e| anyhow::anyhow!("{}: {e:#}", project.label))?;
        resolved.push((project, r));
    }
    connect_all(loaded, resolved, options).await
}

/// Says every project's identity line (in file order), then connects them at once (each with
/// listing counts of its own); one that cannot be reached fails them all.
pub async fn connect_all(
    loaded: &LoadedConfig,
    resolved: Vec<(Project, Resolved)>,
    options: &ClientOptions,
) -> Result<Vec<Reached>> {
    for (project, r) in &resolved {
        let line = format!("{}: {}", project.label, r.identity_line());
        output::stderr_line(&crate::cli::render::fit(
            &visible(&line),
            crate::cli::context::stderr_width(),
        ));
    }
    let mut tasks = Vec::with_capacity(resolved.len());
    for (project, r) in resolved {
        let options = ClientOptions {
            listing: std::sync::Arc::default(),
            ..options.clone()
        };
        let label = project.label.clone();
        tasks.push((
            project,
            tokio::spawn(async move { connect_as(r, options, Some(&label)).await }),
        ));
    }
    let mut reached = Vec::with_capacity(tasks.len());
    let mut failures = Vec::new();
    for (project, task) in tasks {
        match task.await? {
            Ok(client) => reached.push(Reached {
                loaded: loaded_for(loaded, &project),
                project,
                client,
            }),
            Err(e) => failures.push(format!("{}: {e:#}", project.label)),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} projects cannot be reached, so none is planned or applied:\n  {}",
            failures.len(),
            failures.len() + reached.len(),
            failures.join("\n  ")
        );
    }
    refuse_duplicates(&reached)?;
    Ok(reached)
}

/// Two entries that resolve to the same endpoint and project: one would delete the other's
/// keeps.
fn refuse_duplicates(reached: &[Reached]) -> Result<()> {
    let mut seen: HashMap<(String, String), &str> = HashMap::new();
    for r in reached {
        let c = r.client.connection();
        let key = (c.endpoint_text(), c.project_id.to_string());
        if let Some(first) = seen.insert(key.clone(), &r.project.label) {
            bail!(
                "{} and {} are the same project ({} at {}): each would delete the pools the other keeps; list it once; nothing was planned or deleted",
                first,
                r.project.label,
                key.1,
                key.0
            );
        }
    }
    Ok(())
}

/// One project listed and planned (or why not).
struct Planned {
    pub reached: Reached,
    pub outcome: Result<(Plan, Option<Live>), String>,
}

/// Lists and plans every project at once (one progress line for all of them); each listing is
/// kept only with `keep_live` (an apply approved in advance authorizes against it).
async fn plan_all(
    reached: Vec<Reached>,
    nothing_done: &'static str,
    keep_live: bool,
) -> Vec<Planned> {
    let counts: Vec<_> = reached
        .iter()
        .map(|r| r.client.listing_counts().clone())
        .collect();
    let projects = reached.len();
    let activity = Activity::start("Listing pools", move || {
        let (pages, pools) = counts.iter().fold((0, 0), |(pg, pl), c| {
            let (p, n, _) = c.read();
            (pg + p, pl + n)
        });
        format!("{pages} pages and {pools} pools read in {projects} projects")
    });
    let mut tasks = Vec::with_capacity(reached.len());
    for r in reached {
        let client = r.client.clone();
        let loaded = r.loaded.clone();
        let task = tokio::spawn(async move {
            let live = list_quietly(&client, &loaded, nothing_done)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let plan = make_plan(&loaded, &client, &live).map_err(|e| format!("{e:#}"))?;
            Ok((plan, keep_live.then_some(live)))
        });
        tasks.push((r, task));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for (reached, task) in tasks {
        let outcome = match task.await {
            Ok(o) => o,
            Err(e) => Err(format!(
                "internal error (a bug in poolform) while planning: {e}"
            )),
        };
        out.push(Planned { reached, outcome });
    }
    activity.finish();
    out
}

/// The plan of every project and the failures (which make it unsaveable), the plans moved
/// into it; and each project reached, with its listing when it was kept.
fn combine(
    planned: Vec<Planned>,
    loaded: &LoadedConfig,
    only: &[String],
) -> (ManyPlan, Vec<(Reached, Option<Live>)>) {
    let mut projects = Vec::new();
    let mut failures = Vec::new();
    let mut reached = Vec::with_capacity(planned.len());
    for p in planned {
        let label = p.reached.project.label.clone();
        match p.outcome {
            Ok((plan, live)) => {
                projects.push(ProjectPlan { label, plan });
                reached.push((p.reached, live));
            }
            Err(error) => failures.push(ProjectFailure { label, error }),
        }
    }
    let plan = ManyPlan {
        format_version: PLAN_FORMAT_VERSION,
        poolform_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: crate::cli::context::now_rfc3339(),
        source: loaded.source.clone(),
        config_sha256: loaded.sha256.clone(),
        only: only.to_vec(),
        summary: total(projects.iter().map(|p| p.plan.summary)),
        projects,
        failures,
    };
    (plan, reached)
}

/// Everything a run over a file with `projects:` does before it shows the plan: select the
/// projects (`--only`), resolve and reach each, list and plan them at once, combine the plans
/// and cut them to the `--target`s (unless a project failed: that plan is shown as it is and
/// refused). Each project reached comes back with its listing when `keep_live` asks for it.
pub async fn plan_projects(
    loaded: &LoadedConfig,
    conn: &ConnectionArgs,
    projects: &ProjectArgs,
    targets: &[String],
    options: &ClientOptions,
    keep_live: bool,
    nothing_done: &'static str,
) -> Result<(ManyPlan, Vec<(Reached, Option<Live>)>)> {
    let only = &projects.only;
    let selected = select(loaded, conn, only)?;
    let allowed = allowed_agencies(projects);
    let reached = reach(loaded, selected, conn, &allowed, options).await?;
    let planned = plan_all(reached, nothing_done, keep_live).await;
    let (plan, mut reached) = combine(planned, loaded, only);
    if !plan.failures.is_empty() {
        return Ok((plan, reached));
    }
    let plan = restrict_all(plan, targets)?;
    reached.retain(|(r, _)| plan.projects.iter().any(|p| p.label == r.project.label));
    Ok((plan, reached))
}

/// `plan` cut down to the `--target`s: each project to the targets among its deletes; the
/// projects none names are left out (and out of `only`). A target no project plans to delete
/// is refused, naming the planned deletes.
pub fn restrict_all(mut plan: ManyPlan, targets: &[String]) -> Result<ManyPlan> {
    if targets.is_empty() {
        return Ok(plan);
    }
    let mut named = vec![false; targets.len()];
    let (mut kept, mut unnamed) = (Vec::new(), Vec::new());
    for part in std::mem::take(&mut plan.projects) {
        let mine: Vec<String> = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| part.plan.answers_to(t))
            .map(|(i, t)| {
                named[i] = true;
                t.clone()
            })
            .collect();
        if mine.is_empty() {
            unnamed.push(part);
            continue;
        }
        let label = part.label;
        let restricted = part
            .plan
            .restrict(&mine)
            .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        kept.push(ProjectPlan {
            label,
            plan: restricted,
        });
    }
    if let Some(i) = named.iter().position(|n| !n) {
        let planned: Vec<String> = unnamed
            .iter()
            .flat_map(|p| {
                p.plan
                    .changes
                    .iter()
                    .map(move |c| format!("{} ({})", visible(&c.pool.name), p.label))
            })
            .collect();
        bail!(
            "--target {:?} is not a planned delete in any project; the other projects' plans delete {}; nothing was done",
            targets[i],
            if planned.is_empty() { "nothing".to_owned() } else { planned.join(", ") }
        );
    }
    plan.summary = total(kept.iter().map(|p| p.plan.summary));
    plan.only = kept.iter().map(|p| p.label.clone()).collect();
    plan.projects = kept;
    Ok(plan)
}

/// `max_deletes` per project (the file's ceiling, or `--max-deletes` in its place, and the
/// project's own lower one) and for the whole file.
pub fn check_max_deletes(plan: &ManyPlan, loaded: &LoadedConfig, flag: Option<u32>) -> Result<()> {
    for part in &plan.projects {
        let entry = loaded
            .config
            .projects
            .iter()
            .find(|e| e.label() == part.label);
        let own = entry.and_then(|e| e.max_deletes).map(|m| m.0);
        let ceiling = flag.or(loaded.config.max_deletes.map(|m| m.0));
        let limit = match (ceiling, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(limit) = limit {
            if part.plan.changes.len() > limit as usize {
                bail!(
                    "refused: {} deletes {} pools, more than its limit ({limit}); nothing was saved or deleted",
                    part.label,
                    part.plan.changes.len()
                );
            }
        }
    }
    if let Some(limit) = flag.or(loaded.config.max_deletes.map(|m| m.0)) {
        let deletes = plan.deletes();
        if deletes > limit as usize {
            bail!(
                "refused: the plan above deletes {deletes} pools in all, more than {} allows for the whole file ({limit}); nothing was saved or deleted. If this is intended, pass --max-deletes {deletes}",
                if flag.is_some() { "--max-deletes" } else { "max_deletes in the config" }
            );
        }
    }
    Ok(())
}

//! `poolform apply FILE` of an announcement (`plan --notice`): bound to its identity, endpoint
//! and projects (not to the config's bytes: teams add keep entries during the notice); applied
//! only between `not_before` and one notice later, by each project's API clock; and then only
//! to the pools both announced and called for by the config current now, each other announced
//! pool dropped with its reason. It is its own review: no prompt.

use crate::api::connection::{ProjectSource, Resolved};
use crate::api::ClientOptions;
use crate::cli::args::ApplyArgs;
use crate::cli::context::LoadedConfig;
use crate::cli::output;
use crate::cli::pipeline::{self, Reached};
use crate::cli::render;
use crate::core::announcement::{Announcement, Due};
use crate::core::authorize;
use crate::core::caps;
use crate::core::escape::visible;
use crate::core::narrowing::{self, Dropped, Narrowed};
use crate::core::plan::{Plan, ProjectPlan};
use crate::core::projects::Project;
use crate::core::run_end::RunEnd;
use crate::core::time::Clock;
use anyhow::{anyhow, bail, Result};
use std::sync::Arc;
use std::time::Instant;

/// What an announcement comes to: not due (how the run ends), or due, with each project's
/// part narrowed to what is still called for (beside the project, its listing kept), and the
/// announced pools dropped.
pub enum Announced {
    NotDue(RunEnd),
    Due {
        announcement: Announcement,
        parts: Vec<(Reached, ProjectPlan)>,
        dropped: Vec<Dropped>,
        judged_at: Instant,
    },
}

/// An announcement bound before any call: its notice, each part beside its project (resolved),
/// and the pools of the parts whose project left the file.
struct Bound {
    notice: Announcement,
    pairs: Vec<(ProjectPlan, Project, Resolved)>,
    dropped: Vec<Dropped>,
}

/// Checks the announcement against itself and the config (its kind, the notice it asks for,
/// its caps), cuts it to `--only` and the `--target`s, and binds each part to the endpoint,
/// identity and project this run resolves for it.
fn bind_all(plan: Plan, plan_file: &str, loaded: &LoadedConfig, args: &ApplyArgs) -> Result<Bound> {
    let Some(notice) = plan.announcement else {
        bail!("internal error (a bug in poolform): {plan_file} is not an announcement");
    };
    let plan = plan.checked(plan_file)?;
    let file = visible(&loaded.source).into_owned();
    authorize::check_kind(&plan, &visible(plan_file), &file, &loaded.config)?;
    let plan = plan
        .select_projects(&args.projects.only)
        .map_err(|e| anyhow!("{}: {e}", visible(plan_file)))?;
    let plan = pipeline::restrict(plan, &args.target, &[])?;
    let what = format!("the announcement in {plan_file}");
    caps::check_config(&plan, &what, &loaded.config, args.max_deletes)?;
    let flags = pipeline::run_flags(&args.connection, &args.projects)?;
    let selected = pipeline::select(loaded, &flags, &args.projects.only)?;
    if let Some((label, needed)) = narrowing::notice_too_short(notice.notice, &selected) {
        bail!(
            "{} gives {} of notice, but {file} now asks for {needed}{}: announce again with `poolform plan --notice {needed} -o FILE`; nothing was sent",
            visible(plan_file),
            notice.notice,
            label.map(|l| format!(" in {l}")).unwrap_or_default()
        );
    }
    let resolved = pipeline::resolve_all(selected, &flags, &loaded.source)?;
    let (pairs, dropped) = match_projects(plan, resolved);
    for (part, project, r) in &pairs {
        let known = match &r.project {
            ProjectSource::Known(p) => Some(p),
            ProjectSource::LookUp { .. } => None,
        };
        let identity = r.identity();
        bind_part(
            part,
            plan_file,
            loaded,
            project,
            &r.endpoint_text(),
            known,
            &identity,
        )?;
    }
    Ok(Bound {
        notice,
        pairs,
        dropped,
    })
}

/// Binds the announcement to the config (`loaded`), reaches its projects, and (when it is
/// due by every project's API clock) narrows each project's part to what is still called for.
pub async fn prepare(
    plan: Plan,
    plan_file: &str,
    loaded: &LoadedConfig,
    args: &ApplyArgs,
    options: &ClientOptions,
) -> Result<Announced> {
    let Bound {
        notice,
        pairs,
        mut dropped,
    } = bind_all(plan, plan_file, loaded, args)?;
    let (parts, resolved): (Vec<ProjectPlan>, Vec<(Project, Resolved)>) =
        pairs.into_iter().map(|(part, p, r)| (part, (p, r))).unzip();
    let reached = pipeline::connect_all(resolved, options).await?;
    for (r, part) in reached.iter().zip(&parts) {
        let c = r.client.connection();
        bind_part(
            part,
            plan_file,
            loaded,
            &r.project,
            &c.endpoint_text(),
            Some(&c.project_id),
            &c.identity,
        )?;
    }
    let judged_at = Instant::now();
    let source: Arc<str> = Arc::from(loaded.source.as_str());
    let tasks = reached
        .into_iter()
        .zip(parts)
        .map(|(reached, part)| {
            let source = source.clone();
            async move {
                let label = reached.project.label().map(str::to_owned);
                replan(reached, part, &source)
                    .await
                    .map_err(|e| pipeline::in_project(label.as_deref(), e))
            }
        })
        .collect();
    let mut listed = Vec::new();
    for done in pipeline::at_once(tasks).await {
        listed.push(done??);
    }
    if let Some(end) = judge_due(&notice, &listed, plan_file, args)? {
        return Ok(Announced::NotDue(end));
    }
    let mut parts = Vec::with_capacity(listed.len());
    let mut unannounced = Vec::new();
    for l in listed {
        unannounced.extend(l.narrowed.unannounced);
        dropped.extend(l.narrowed.dropped);
        let mut reached = l.reached;
        reached.live = Some(l.live);
        parts.push((reached, l.narrowed.part));
    }
    say_applying(plan_file, &notice, &parts, &dropped, &unannounced);
    Ok(Announced::Due {
        announcement: notice,
        parts,
        dropped,
        judged_at,
    })
}

/// Checks a part of a saved plan (an announcement's, or a plain plan's) against what this run
/// resolves for its project: its endpoint, its identity, and its project id once it is known.
#[allow(clippy::too_many_arguments)] // what a binding is checked against, each named
pub(super) fn bind_part(
    part: &ProjectPlan,
    plan_file: &str,
    loaded: &LoadedConfig,
    project: &Project,
    endpoint: &str,
    known: Option<&crate::core::model::ProjectId>,
    identity: &crate::core::plan::Identity,
) -> Result<()> {
    let target = authorize::Target {
        config_file: &loaded.source,
        endpoint,
        project_id: known,
        identity,
    };
    authorize::check_binding(part, plan_file, &target)
        .map_err(|e| pipeline::in_project(project.label(), e.into()))
}

/// Each announced part beside the project of the config it is for, matched by endpoint and
/// project id (by label, at the same endpoint, for a project still to be looked up at IAM:
/// its id is bound once it is known). A project found by its id or label alone is paired too,
/// and its binding refuses the other endpoint. A part whose project is no longer in the file
/// is dropped, every pool of it with that reason.
fn match_projects(
    plan: Plan,
    resolved: Vec<(Project, Resolved)>,
) -> (Vec<(ProjectPlan, Project, Resolved)>, Vec<Dropped>) {
    let mut candidates: Vec<Option<(Project, Resolved)>> = resolved.into_iter().map(Some).collect();
    let mut pairs = Vec::new();
    let mut dropped = Vec::new();
    for part in plan.projects {
        let found = candidates.iter().position(|c| {
            c.as_ref().is_some_and(|(project, r)| {
                r.endpoint_text() == part.endpoint.trim_end_matches('/')
                    && match &r.project {
                        ProjectSource::Known(id) => *id == part.project_id,
                        ProjectSource::LookUp { .. } => project.label() == part.label.as_deref(),
                    }
            })
        });
        // The same project at another endpoint is not another project: bound, and refused.
        let found = found.or_else(|| {
            candidates.iter().position(|c| {
                c.as_ref().is_some_and(|(project, r)| match &r.project {
                    ProjectSource::Known(id) => *id == part.project_id,
                    ProjectSource::LookUp { .. } => project.label() == part.label.as_deref(),
                })
            })
        });
        match found.and_then(|i| candidates[i].take()) {
            Some((project, r)) => pairs.push((part, project, r)),
            None => dropped.extend(narrowing::drop_project(&part)),
        }
    }
    (pairs, dropped)
}

/// A project listed now, and its announced part narrowed to what is still called for.
struct Listed {
    reached: Reached,
    live: crate::core::model::Live,
    clock: Option<Clock>,
    label: Option<String>,
    narrowed: Narrowed,
}

/// Lists a project now and plans it again with the config current now.
async fn replan(reached: Reached, announced: ProjectPlan, source: &str) -> Result<Listed> {
    let live = pipeline::list(
        &reached.client,
        &reached.project,
        source,
        "nothing was deleted",
    )
    .await?;
    let fresh = pipeline::plan_one(&reached.client, &reached.project, &live)?;
    let narrowed = narrowing::narrow(&announced, fresh, &reached.project.rules, source, &live)?;
    Ok(Listed {
        clock: live.clock(),
        label: reached.project.label().map(str::to_owned),
        reached,
        live,
        narrowed,
    })
}

/// Whether the announcement is due by every project's clock: not yet (exit 1, or 0 with
/// `--if-due`: `Some(end)`), too late (refused), or due (`None`).
fn judge_due(
    notice: &Announcement,
    listed: &[Listed],
    plan_file: &str,
    args: &ApplyArgs,
) -> Result<Option<RunEnd>> {
    let mut early = None;
    for l in listed {
        let Some(clock) = l.clock else {
            bail!("internal error (a bug in poolform): a listing without a clock");
        };
        let whose = l
            .label
            .as_deref()
            .map(|l| format!(" in {l}"))
            .unwrap_or_default();
        match notice.due(clock.now) {
            Due::Due => {}
            Due::Lapsed { late } => bail!(
                "{} is too old to apply: announced {}, it could be applied from {} until {}, and the API's clock{whose} says {} ({late} late). Announce again with `poolform plan --notice {} -o FILE`; nothing was sent",
                visible(plan_file),
                notice.announced_at,
                notice.not_before,
                notice.valid_until,
                clock.now,
                notice.notice
            ),
            Due::Early { wait } => {
                early.get_or_insert((wait, clock.now, whose));
            }
        }
    }
    let Some((wait, now, whose)) = early else {
        return Ok(None);
    };
    let message = format!(
        "{} is not due yet: its pools may be deleted on or after {}, in {wait} (the API's clock{whose} says {now}); nothing was sent",
        visible(plan_file),
        notice.not_before
    );
    if args.if_due {
        output::stderr_line(&format!("{message}. Not due: exiting 0 (--if-due)."));
        return Ok(Some(RunEnd::Completed));
    }
    bail!("{message}. A scheduled job passes --if-due to exit 0 until then")
}

/// Says what the announcement comes to before any DELETE: what is deleted, what was dropped
/// and why, and what is called for now but was never announced.
fn say_applying(
    plan_file: &str,
    notice: &Announcement,
    parts: &[(Reached, ProjectPlan)],
    dropped: &[Dropped],
    unannounced: &[crate::core::model::PoolRef],
) {
    let deletes: usize = parts.iter().map(|(_, p)| p.changes.len()).sum();
    output::stderr_line(&format!(
        "Applying the announcement {} (announced {}, due {}): {} to delete, {} dropped.",
        visible(plan_file),
        notice.announced_at,
        notice.not_before,
        deletes,
        dropped.len()
    ));
    for d in dropped {
        output::stderr_line(&visible(&format!(
            "  dropped {}: {}",
            render::dropped_pool(d),
            render::drop_reason(d)
        )));
    }
    for pool in unannounced {
        output::stderr_line(&visible(&format!(
            "  not announced: {} ({}): the config calls for its deletion now, but only what was announced is deleted; announce again to delete it",
            pool.name, pool.id
        )));
    }
}

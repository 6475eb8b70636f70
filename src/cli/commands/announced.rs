//! `poolform apply FILE` of an announcement (`plan --notice`): bound to its identity, endpoint
//! and projects (not to the config's bytes: teams add keep entries during the notice); applied
//! only between `not_before` and one notice later, by each project's API clock; and then only
//! to the pools both announced and called for by the config current now, each other announced
//! pool dropped with its reason. It is its own review: no prompt.

use super::apply::{approved, config_arg, paced, Prepared, Ready};
use crate::api::connection::{ProjectSource, Resolved};
use crate::apply::StopSignal;
use crate::cli::args::ApplyArgs;
use crate::cli::context::{load_config, LoadedConfig};
use crate::cli::output;
use crate::cli::pipeline::{self, Reached};
use crate::cli::render;
use crate::core::announcement::{self, Announcement, Dropped, Due};
use crate::core::authorize;
use crate::core::caps;
use crate::core::escape::visible;
use crate::core::plan::{Plan, ProjectPlan};
use crate::core::projects::Project;
use crate::core::run_end::RunEnd;
use crate::core::time::Clock;
use anyhow::{anyhow, bail, Result};
use std::sync::Arc;
use std::time::Instant;

/// Reads the config, binds the announcement to it, reaches its projects, and (when it is due
/// by every project's API clock) narrows each project's part to what is still called for.
pub async fn prepare(
    plan: Plan,
    plan_file: String,
    args: &ApplyArgs,
    interrupt: &Arc<StopSignal>,
) -> Result<(Prepared, Vec<Dropped>)> {
    let Some(notice) = plan.announcement else {
        bail!("internal error (a bug in poolform): {plan_file} is not an announcement");
    };
    let loaded = load_config(&config_arg(args), interrupt).await?;
    let file = visible(&loaded.source).into_owned();
    authorize::check_kind(&plan, &visible(&plan_file), &file, &loaded.config)?;
    let plan = plan
        .select_projects(&args.projects.only)
        .map_err(|e| anyhow!("{}: {e}", visible(&plan_file)))?;
    let plan = pipeline::restrict(plan, &args.target, &[])?;
    let what = format!("the announcement in {plan_file}");
    caps::check_config(&plan, &what, &loaded.config, args.max_deletes)?;
    let flags = pipeline::run_flags(&args.connection, &args.projects)?;
    let selected = pipeline::select(&loaded, &flags, &args.projects.only)?;
    if let Some((label, needed)) = announcement::notice_too_short(notice.notice, &selected) {
        bail!(
            "{} gives {} of notice, but {file} now asks for {needed}{}: announce again with `poolform plan --notice {needed} -o FILE`; nothing was sent",
            visible(&plan_file),
            notice.notice,
            label.map(|l| format!(" in {l}")).unwrap_or_default()
        );
    }
    let resolved = pipeline::resolve_all(selected, &flags, &loaded.source)?;
    let (pairs, mut dropped) = match_projects(plan, resolved);
    for (part, project, r) in &pairs {
        let known = match &r.project {
            ProjectSource::Known(p) => Some(p),
            ProjectSource::LookUp { .. } => None,
        };
        let identity = r.identity();
        bind_part(part, &plan_file, &loaded, project, &r.endpoint_text(), known, &identity)?;
    }
    let (parts, resolved): (Vec<ProjectPlan>, Vec<(Project, Resolved)>) =
        pairs.into_iter().map(|(part, p, r)| (part, (p, r))).unzip();
    let reached = pipeline::connect_all(resolved, &paced(args, interrupt)).await?;
    for (r, part) in reached.iter().zip(&parts) {
        let c = r.client.connection();
        bind_part(
            part,
            &plan_file,
            &loaded,
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
            async move { replan(reached, part, &source).await }
        })
        .collect();
    let mut listed = Vec::new();
    for done in pipeline::at_once(tasks).await {
        listed.push(done??);
    }
    if let Some(end) = judge_due(&notice, &listed, &plan_file, args)? {
        return Ok((Prepared::Ended(end), Vec::new()));
    }
    let mut ready = Vec::with_capacity(listed.len());
    let mut unannounced = 0;
    for l in listed {
        unannounced += l.narrowed.unannounced;
        dropped.extend(l.narrowed.dropped);
        let mut reached = l.reached;
        reached.live = Some(l.live);
        ready.push(approved(reached, l.narrowed.part, &source, judged_at)?);
    }
    say_applying(&plan_file, &notice, &ready, &dropped, unannounced);
    Ok((Prepared::Run(ready), dropped))
}

/// Checks an announced part against what this run resolves for its project: its endpoint,
/// its identity, and its project id once it is known.
fn bind_part(
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
/// its id is bound once it is known). A part whose project is no longer in the file is
/// dropped, every pool of it with that reason.
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
        match found.and_then(|i| candidates[i].take()) {
            Some((project, r)) => pairs.push((part, project, r)),
            None => dropped.extend(announcement::drop_project(&part)),
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
    narrowed: announcement::Narrowed,
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
    let narrowed =
        announcement::narrow(&announced, fresh, &reached.project.rules, source, &live)?;
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
    ready: &[Ready],
    dropped: &[Dropped],
    unannounced: usize,
) {
    let deletes: usize = ready.iter().map(|r| r.work.steps.len()).sum();
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
    if unannounced > 0 {
        output::stderr_line(&format!(
            "Note: {} the config calls for now {} not announced, and {} not deleted: announce again to delete {}.",
            render::plural(unannounced, "pool", "pools"),
            if unannounced == 1 { "was" } else { "were" },
            if unannounced == 1 { "is" } else { "are" },
            if unannounced == 1 { "it" } else { "them" },
        ));
    }
}

//! `poolform apply`: which kind of file it is given (a single-project config or plan goes to
//! `apply`), and the apply of a file with `projects:`: every selected project planned (or its
//! part of a saved plan bound and re-checked) before any DELETE anywhere; one confirmation;
//! the projects' deletes run at once, sharing `--parallelism`; one report with a section per
//! project, ending as the worst of them.

use super::apply::{
    acknowledge_signals, approve, config_arg, judge, max_judgement_age, parallelism, recheck,
    Prepared,
};
use crate::api::connection::ProjectSource;
use crate::api::Client;
use crate::apply::{self, ApplyOptions, Observer, StopSignal, Work};
use crate::cli::args::{ApplyArgs, ApplyFormat, GlobalArgs};
use crate::cli::context::{
    client_options, load_config, style, styled, LoadedConfig, MAX_PLAN_BYTES,
};
use crate::cli::files::read_input;
use crate::cli::jsonl::{Batch, JsonLines};
use crate::cli::many::{self, Reached};
use crate::cli::output;
use crate::cli::progress::Progress;
use crate::cli::render::{self, Style, View};
use crate::core::authorize::{self, Target};
use crate::core::escape::visible;
use crate::core::many_plan::ManyPlan;
use crate::core::many_report::{ManyReport, ProjectReport};
use crate::core::model::Live;
use crate::core::plan::Plan;
use crate::core::run_end::RunEnd;
use anyhow::{bail, Result};
use std::sync::Arc;
use std::time::Instant;

/// Runs `poolform apply`: a many-project plan or config here, a single-project one in
/// `apply`.
pub async fn run(
    args: &ApplyArgs,
    global: &GlobalArgs,
    interrupt: &Arc<StopSignal>,
) -> Result<RunEnd> {
    use super::apply::Start;
    match &args.plan_file {
        Some(path) => match read_saved(path, interrupt).await? {
            Saved::Many(text) => run_saved(path, args, global, interrupt, text).await,
            Saved::One(plan) => {
                super::apply::run(args, global, interrupt, Start::Saved(path.clone(), plan)).await
            }
        },
        None => {
            let loaded = load_config(&config_arg(args), interrupt).await?;
            if loaded.config.is_many() {
                return run_fresh(args, global, interrupt, loaded).await;
            }
            super::apply::run(args, global, interrupt, Start::Fresh(Box::new(loaded))).await
        }
    }
}

/// One project ready to run: its label, its client and its deletes.
struct Ready {
    label: String,
    client: Client,
    work: Work,
}

/// No saved plan: plan every project, show, ask once, re-check each, then run.
async fn run_fresh(
    args: &ApplyArgs,
    global: &GlobalArgs,
    interrupt: &Arc<StopSignal>,
    loaded: LoadedConfig,
) -> Result<RunEnd> {
    let style = style(global.color);
    let judged_at = Instant::now();
    let (plan, reached) = many::plan_projects(
        &loaded,
        &args.connection,
        &args.projects,
        &args.target,
        &client_options(interrupt, args.rate_limit),
        args.auto_approve,
        "nothing was planned or deleted",
    )
    .await?;
    show(&plan, args, style);
    if !plan.failures.is_empty() {
        bail!(
            "{} of {} projects could not be planned; nothing was deleted in any project",
            plan.failures.len(),
            plan.failures.len() + plan.projects.len()
        );
    }
    many::check_max_deletes(&plan, &loaded, args.max_deletes)?;
    let deletes = plan.deletes();
    if deletes == 0 {
        output::stderr_line("No changes. Nothing to delete.");
        return Ok(RunEnd::Completed);
    }
    let what = format!(
        "{} in {} projects",
        render::plural(deletes, "pool", "pools"),
        plan.projects.len()
    );
    if let Some(end) = approve(args, deletes, &what, interrupt).await? {
        return Ok(end);
    }
    // Both lists are in file order, with the same projects (no failures; those --target
    // leaves out are out of both).
    let parts: Vec<((Reached, Option<Live>), Plan)> = reached
        .into_iter()
        .zip(plan.projects.into_iter().map(|p| p.plan))
        .collect();
    let ready = if args.auto_approve {
        approved(parts, judged_at)?
    } else {
        let parts = parts.into_iter().map(|((r, _), plan)| (r, plan)).collect();
        recheck_all(parts, "the plan shown above", style, args).await?
    };
    execute(ready, args, style, interrupt).await
}

/// Approved in advance: each project's plan was made from the very listing kept beside it.
fn approved(parts: Vec<((Reached, Option<Live>), Plan)>, judged_at: Instant) -> Result<Vec<Ready>> {
    let mut ready = Vec::with_capacity(parts.len());
    for (i, ((r, live), plan)) in parts.into_iter().enumerate() {
        let live = live.ok_or_else(|| {
            anyhow::anyhow!("internal error (a bug in poolform) while authorizing {}: its listing was not kept; nothing was deleted", r.project.label)
        })?;
        let authorized =
            authorize::authorize(&plan, "the plan", &r.loaded.config, &r.loaded.source, &live)?;
        // Said once for the run: a signal stops every project alike.
        if i == 0 {
            acknowledge_signals(&r.client);
        }
        ready.push(Ready {
            label: r.project.label,
            client: r.client,
            work: Work {
                steps: authorized.steps,
                settled: Vec::new(),
                judge: judge(&r.loaded),
                judged_at,
            },
        });
    }
    Ok(ready)
}

/// A saved many-project plan: bound to the config, then per project to its endpoint, project
/// and identity (before any call carries credentials); re-checked; then run.
async fn run_saved(
    path: &std::path::Path,
    args: &ApplyArgs,
    global: &GlobalArgs,
    interrupt: &Arc<StopSignal>,
    text: String,
) -> Result<RunEnd> {
    let style = style(global.color);
    let plan_file = path.display().to_string();
    let plan = ManyPlan::parse_json(&text, &plan_file)?;
    drop(text);
    let plan = many::restrict_all(plan, &args.target)?;
    let loaded = load_config(&config_arg(args), interrupt).await?;
    if plan.config_sha256 != loaded.sha256 {
        return Err(authorize::Mismatch::Config {
            plan_file: visible(&plan_file).into_owned(),
            config_file: visible(&loaded.source).into_owned(),
            planned: plan.config_sha256,
            now: loaded.sha256,
        }
        .into());
    }
    let mut only: Vec<String> = plan.projects.iter().map(|p| p.label.clone()).collect();
    if !args.projects.only.is_empty() {
        if let Some(extra) = args.projects.only.iter().find(|o| !only.contains(o)) {
            bail!(
                "--only {extra:?} is not a project of {}; its projects are {}",
                visible(&plan_file),
                only.join(", ")
            );
        }
        only.retain(|l| args.projects.only.contains(l));
    }
    let (resolved, parts): (Vec<_>, Vec<Plan>) = bind(&plan, &plan_file, &loaded, args, &only)?
        .into_iter()
        .map(|(project, r, part)| ((project, r), part))
        .unzip();
    let options = client_options(interrupt, args.rate_limit);
    let reached = many::connect_all(&loaded, resolved, &options).await?;
    let mut bound = Vec::with_capacity(reached.len());
    // In the order bind gave them: a project looked up at IAM is checked once its id is known.
    for (r, part) in reached.into_iter().zip(parts) {
        let c = r.client.connection();
        let identity = c.identity.clone();
        authorize::check_binding(
            &part,
            &plan_file,
            &target(&loaded, &c.endpoint_text(), Some(&c.project_id), &identity),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", r.project.label))?;
        bound.push((r, part));
    }
    let what = format!("the plan in {plan_file}");
    let ready = recheck_all(bound, &what, style, args).await?;
    let steps: usize = ready.iter().map(|r| r.work.steps.len()).sum();
    let settled: usize = ready.iter().map(|r| r.work.settled.len()).sum();
    output::stderr_line(&format!(
        "Applying the saved plan {} (made {}) in {}: {steps} to delete, {settled} already gone.",
        visible(&plan_file),
        visible(&plan.created_at),
        render::plural(ready.len(), "project", "projects"),
    ));
    execute(ready, args, style, interrupt).await
}

/// Resolves each selected project and checks its part of the plan binds to it (endpoint,
/// identity, and the project id when the file names it), before any call; each with its part.
fn bind(
    plan: &ManyPlan,
    plan_file: &str,
    loaded: &LoadedConfig,
    args: &ApplyArgs,
    only: &[String],
) -> Result<
    Vec<(
        crate::core::projects::Project,
        crate::api::connection::Resolved,
        Plan,
    )>,
> {
    let selected = many::select(loaded, &args.connection, only)?;
    let allowed = many::allowed_agencies(&args.projects);
    let mut resolved = Vec::with_capacity(selected.len());
    for project in selected {
        let part = plan
            .projects
            .iter()
            .find(|p| p.label == project.label)
            .map(|p| &p.plan);
        let Some(part) = part else {
            bail!(
                "{} has no part for {}; nothing was sent",
                visible(plan_file),
                project.label
            );
        };
        let r = many::resolve_project(&args.connection, &project, &loaded.source, &allowed)
            .map_err(|e| anyhow::anyhow!("{}: {e:#}", project.label))?;
        let known = match &r.project {
            ProjectSource::Known(p) => Some(p.clone()),
            ProjectSource::LookUp { .. } => None,
        };
        let (endpoint, identity) = (r.endpoint_text(), r.identity());
        authorize::check_binding(
            part,
            plan_file,
            &target(loaded, &endpoint, known.as_ref(), &identity),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", project.label))?;
        let part = part.clone();
        resolved.push((project, r, part));
    }
    Ok(resolved)
}

fn target<'a>(
    loaded: &'a LoadedConfig,
    endpoint: &'a str,
    project: Option<&'a crate::core::model::ProjectId>,
    identity: &'a crate::core::plan::Identity,
) -> Target<'a> {
    Target {
        config_file: &loaded.source,
        config_sha256: &loaded.sha256,
        endpoint,
        project_id: project,
        identity,
    }
}

/// A saved plan file: of several projects (its text, checked later), or of one (read, not
/// yet checked against itself).
pub enum Saved {
    Many(String),
    One(Box<Plan>),
}

/// Reads a saved plan file once, and says which kind it is.
pub async fn read_saved(path: &std::path::Path, stop: &StopSignal) -> Result<Saved> {
    let input = read_input(path, MAX_PLAN_BYTES, stop).await?;
    if ManyPlan::is_many_json(&input.text) {
        return Ok(Saved::Many(input.text));
    }
    Ok(Saved::One(Box::new(Plan::parse_json(
        &input.text,
        &input.name,
    )?)))
}

/// Where the plan goes: stdout for human output; else stderr (stdout carries the report).
fn show(plan: &ManyPlan, args: &ApplyArgs, style: Style) {
    if args.format == ApplyFormat::Human {
        output::stdout(&render::many_plan(
            plan,
            render::Format::Human,
            &styled(style),
        ));
    } else {
        output::stderr(&render::many_plan(
            plan,
            render::Format::Human,
            &View::PLAIN,
        ));
    }
}

/// Re-lists every project and checks its plan against it, all at once; any refusal refuses
/// the whole apply before a DELETE anywhere.
async fn recheck_all(
    parts: Vec<(Reached, Plan)>,
    what: &str,
    style: Style,
    args: &ApplyArgs,
) -> Result<Vec<Ready>> {
    let mut tasks = Vec::with_capacity(parts.len());
    for (i, (r, plan)) in parts.into_iter().enumerate() {
        let what = format!("{what} ({})", r.project.label);
        let parallelism = parallelism(args);
        // Said once for the run: a signal stops every project alike.
        if i == 0 {
            acknowledge_signals(&r.client);
        }
        let task = tokio::spawn(async move {
            let prepared = recheck(&plan, &what, &r.loaded, r.client, style, parallelism).await;
            (r.project.label, prepared)
        });
        tasks.push(task);
    }
    let mut ready = Vec::with_capacity(tasks.len());
    let mut refusals = Vec::new();
    for task in tasks {
        let (label, prepared) = task.await?;
        match prepared {
            Ok(Prepared::Run { client, work, .. }) => ready.push(Ready {
                label,
                client,
                work,
            }),
            Ok(Prepared::Ended(_)) => {}
            Err(e) => refusals.push(format!("{label}: {e:#}")),
        }
    }
    if !refusals.is_empty() {
        bail!(
            "the plan is refused in {} of {} projects, so nothing was deleted in any:\n  {}",
            refusals.len(),
            refusals.len() + ready.len(),
            refusals.join("\n  ")
        );
    }
    Ok(ready)
}

/// Runs every project's deletes at once (each with its share of `--parallelism`), then
/// reports them together.
async fn execute(
    ready: Vec<Ready>,
    args: &ApplyArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<RunEnd> {
    if let Some(signal) = interrupt.signal() {
        output::stderr_line("Interrupted before any DELETE was sent.");
        return Ok(RunEnd::Interrupted(signal));
    }
    let share = parallelism(args).div_ceil(ready.len().max(1)).max(1);
    let options = ApplyOptions {
        parallelism: share,
        wait_blocked: args.wait_blocked,
        verify_timeout: args.verify_timeout,
        max_judgement_age: max_judgement_age()?,
        ..ApplyOptions::default()
    };
    let total: usize = ready
        .iter()
        .map(|r| r.work.steps.len() + r.work.settled.len())
        .sum();
    let Some(first) = ready.first() else {
        return Ok(RunEnd::Completed);
    };
    let progress = Arc::new(Progress::new(total, first.client.listing_counts().clone()));
    let jsonl = args.format == ApplyFormat::Jsonl;
    if jsonl {
        // Every project's deletes are announced before any is sent, as a single run's are.
        for r in &ready {
            super::apply::announce(&r.work, None, Batch::for_project(&r.label));
        }
    }
    let mut tasks = Vec::with_capacity(ready.len());
    for r in ready {
        let observer: Arc<dyn Observer> = if jsonl {
            Arc::new(crate::apply::Tee(
                progress.clone(),
                JsonLines::for_project(&r.label),
            ))
        } else {
            progress.clone()
        };
        for settled in &r.work.settled {
            observer.step_finished(settled);
        }
        let (options, observer) = (options.clone(), observer.clone());
        tasks.push(tokio::spawn(async move {
            let mut report = apply::apply(&r.client, r.work, &options, observer).await;
            let c = r.client.connection();
            report.acted_as = Some(crate::core::report::ActedAs {
                project_id: c.project_id.clone(),
                endpoint: c.endpoint_text(),
                identity: c.identity.clone(),
            });
            ProjectReport {
                label: r.label,
                report,
            }
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await?);
    }
    progress.finish();
    Ok(print_report(&ManyReport::new(reports), args, style))
}

/// Prints the report in the format asked for; how the run ended (failed when the report
/// could not be written, said on stderr instead).
fn print_report(report: &ManyReport, args: &ApplyArgs, style: Style) -> RunEnd {
    match args.format {
        ApplyFormat::Jsonl => {
            for part in &report.projects {
                JsonLines::for_project(&part.label).summary(&part.report);
            }
        }
        ApplyFormat::Human => output::stdout(&render::many_report(report, false, &styled(style))),
        ApplyFormat::Json => output::stdout(&report.to_json()),
        ApplyFormat::Markdown => output::stdout(&render::many_report(report, true, &View::PLAIN)),
    }
    if let Some(why) = output::take_stdout_failure() {
        for part in &report.projects {
            output::stderr_line(&visible(&format!(
                "{}: {}",
                part.label,
                render::lost_report(&part.report, &why)
            )));
        }
        return RunEnd::Failed;
    }
    report.end
}
